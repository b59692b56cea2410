"""Chinese first, English available: every visible string is in the catalog and translated."""

from __future__ import annotations

import io

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from tests.support.stacks import PROJECT_ROOT
from tests.support.web import register

KEYWORDS = {
    "_": None, "translate": (2,), "lazy": None,
    **{name: None for name in ("NotAuthenticated", "Forbidden", "NotFound", "Conflict", "TooLarge",
                               "UnsupportedMedia", "Invalid", "CampError", "translatable")},
}


def extracted_msgids() -> set[str]:
    method_map = [("app/**.py", "python"), ("grader/catalog.py", "python"), ("grader/formats.py", "python"),
                  ("templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), method_map=method_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def zh_catalog() -> dict[str, str]:
    data = (PROJECT_ROOT / "locales/zh_CN/LC_MESSAGES/messages.po").read_bytes()
    return {m.id: m.string for m in read_po(io.BytesIO(data)) if m.id}


def test_every_visible_string_has_a_chinese_translation() -> None:
    catalog = zh_catalog()
    missing = sorted(m for m in extracted_msgids() if not catalog.get(m))
    assert not missing, f"untranslated (run `make messages` and translate): {missing}"


def test_translations_keep_their_placeholders() -> None:
    import re

    for msgid, msgstr in zh_catalog().items():
        if msgstr:
            assert set(re.findall(r"\{\w+\}", msgid)) == set(re.findall(r"\{\w+\}", msgstr)), msgid


def test_pages_are_chinese_by_default_and_english_on_request(embedded_client: TestClient) -> None:
    client = embedded_client
    page = client.get("/courses/dl-bootcamp/assignments/1-1", headers={"Accept-Language": "en-US"})
    assert '<html lang="zh-CN">' in page.text and "回复格式" in page.text and "登录" in page.text
    switched = client.get("/lang/en?next=/courses/dl-bootcamp/assignments/1-1", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/courses/dl-bootcamp/assignments/1-1"
    page = client.get("/courses/dl-bootcamp/assignments/1-1")
    assert '<html lang="en">' in page.text and "Reply format" in page.text and "回复格式" not in page.text


def test_the_choice_is_remembered_for_the_account(embedded_client: TestClient) -> None:
    client = embedded_client
    register(client)
    client.get("/lang/en")
    client.cookies.delete("camp_lang")
    assert "My submissions" in client.get("/").text


def test_no_untranslated_english_on_chinese_pages(embedded_client: TestClient) -> None:
    """Scan rendered zh-CN pages for any English msgid of the catalog shown as-is."""
    client = embedded_client
    register(client)
    catalog = zh_catalog()
    visible = [m for m in catalog if len(m) > 3 and "{" not in m and m != catalog[m]]
    for path in ("/", "/courses/dl-bootcamp", "/courses/dl-bootcamp/assignments/7-1", "/me/submissions"):
        text = client.get(path).text
        leaks = [m for m in visible if f">{m}<" in text or f">{m} " in text]
        assert not leaks, (path, leaks)
