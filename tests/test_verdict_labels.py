"""Verdict names are words in the reader's language on the staff dashboard (its table and its
filter), while the filter still sends the verdict's key."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.i18n import VERDICT_LABELS, translate
from tests.support.homework import homework_with_replies
from tests.support.stacks import Stack
from tests.support.staff import staff_client

ALL_VERDICTS = ("accepted", "wrong", "format_error", "not_understood", "time_limit", "memory_limit",
                "runtime_error", "bad_output", "bad_package")


def test_every_verdict_has_a_label_in_both_languages() -> None:
    assert set(VERDICT_LABELS) == set(ALL_VERDICTS)
    for key, label in VERDICT_LABELS.items():
        zh = translate("zh_CN", label)
        assert zh and zh != label and zh != key, key
        assert translate("en", label) == label


def test_dashboard_shows_verdict_names_not_keys(client: TestClient, stack: Stack) -> None:
    staff_client(client, stack)
    slug, _ids = homework_with_replies()
    url = f"/staff/courses/{slug}/assignments/7-1"
    page = client.get(url).text
    assert '<option value="wrong">答案错误</option>' in page
    assert '<td data-verdict="wrong">答案错误</td>' in page
    assert ">wrong<" not in page
    filtered = client.get(url, params={"verdict": "wrong"}).text
    assert '<option value="wrong" selected>答案错误</option>' in filtered
    english = client.get(url, params={"lang": "en"}).text
    assert '<td data-verdict="wrong">Wrong answer</td>' in english
