"""Every bad input is a 4xx: huge integers, NUL and lone surrogates, hostile JSON and course files.
Each case once made a 500 or a 503 ("cannot reach the database") or a 10 MB stored config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.stacks import Stack
from tests.support.web import add_user, api_token

BOARD = "/api/v1/courses/dl-bootcamp/assignments/6-2/leaderboard"
SUBMIT = "/api/v1/courses/dl-bootcamp/assignments/8/submissions"


@pytest.mark.parametrize("number", ["2147483648", "9223372036854775808", "9" * 40])
def test_huge_ids_are_404_and_huge_offsets_422(client: TestClient, stack: Stack, number: str) -> None:
    bearer = {"Authorization": f"Bearer {api_token(stack, add_user(stack, role='admin'))}"}
    for path in (f"/api/v1/submissions/{number}", f"/api/v1/draws/{number}/record",
                 f"/api/v1/submissions/{number}/likes", f"/api/v1/me/tokens/{number}"):
        method = "DELETE" if path.startswith("/api/v1/me/") else "GET"
        r = client.request(method, path, headers=bearer)
        assert r.status_code == 404 and r.json()["code"], (path, r.text)
    r = client.get(BOARD, params={"offset": number})
    assert r.status_code == 422 and "offset" in r.json()["detail"]
    r = client.get(BOARD, params={"offset": "-" + number})
    assert r.status_code == 422


def test_nul_and_lone_surrogates_are_refused_before_any_query(client: TestClient, stack: Stack) -> None:
    bearer = {"Authorization": f"Bearer {api_token(stack, add_user(stack))}"}
    assert client.get("/api/v1/courses/dl%00x").status_code == 422
    assert client.get("/admin/users", params={"q": "a\x00"}).status_code == 422
    r = client.post(SUBMIT, headers=bearer, data={"text": "作业8：\x00"})
    assert r.status_code == 422 and r.json()["code"] == "invalid"
    r = client.post("/api/v1/courses/dl-bootcamp/replies", headers={**bearer, "content-type": "application/json"},
                    content=b'{"text": "\\u0000"}')
    assert r.status_code == 422 and "不接受的字符" in r.json()["detail"]
    r = client.post("/api/v1/courses/dl-bootcamp/replies", headers={**bearer, "content-type": "application/json"},
                    content=b'{"text": "\\ud800"}')
    assert r.status_code == 422


@pytest.mark.slow  # builds and sends an 11.6 MB body
def test_hostile_json_is_refused_without_parsing_it_on_the_loop(embedded_client: TestClient,
                                                                 embedded: Stack) -> None:
    bearer = {"Authorization": f"Bearer {api_token(embedded, add_user(embedded))}",
              "content-type": "application/json"}
    url = "/api/v1/courses/dl-bootcamp/replies"
    deep = b"[" * 5000 + b"]" * 5000
    assert embedded_client.post(url, headers=bearer, content=deep).status_code == 422
    many = json.dumps({f"k{i}": i for i in range(50_000)}).encode()  # ~800 KB, 50,000 keys
    assert embedded_client.post(url, headers=bearer, content=many).status_code == 413
    huge = json.dumps({f"k{i}": i for i in range(1_000_000)}).encode()  # the 11.6 MB attack
    r = embedded_client.post(url, headers=bearer, content=huge)
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    r = embedded_client.post(url, headers=bearer, content=b'{"text": "x", "reply_to": 99999999999999999999}')
    assert r.status_code == 422


COURSE = "slug: bad-course\ntitle: t\n{zone}assignments:\n  - {{code: '1-1', title: t, opens: {opens}, due: +5d{grading}}}\n"


@pytest.mark.parametrize(("content", "expected"), [
    (COURSE.format(zone="timezone: Mars/Olympus\n", opens="-1d", grading=""), "Unknown time zone"),
    (COURSE.format(zone="", opens="+99999999d", grading=""), "Cannot read the time"),
    (COURSE.format(zone="", opens="+9999d", grading=""), "At most 3650 days"),
    (COURSE.format(zone="", opens="-1d@99:00", grading=""), "Cannot read the time"),
    (COURSE.format(zone="", opens="'0001-01-01T00:00'", grading=""), "between 1970 and 2200"),
    (COURSE.format(zone="", opens="-1d", grading=", grading: {kind: telepathy}"), "Unknown grading kind"),
    ("slug: x\ntitle: t\nbody: &a [1, 2]\nassignments: *a\n", "aliases (*name) are not accepted"),
    ("slug: x\ntitle: " + "[" * 100 + "]" * 100 + "\nassignments: []\n", "nested deeper than 20"),
])
def test_bad_course_files_are_4xx_with_their_place(embedded_client: TestClient, embedded: Stack,
                                                   tmp_path: Path, content: str, expected: str) -> None:
    from app.services.course_upload import CourseFileError, parse_course_bytes

    with pytest.raises(CourseFileError) as caught:
        parse_course_bytes(content.encode())
    problems = " ".join(f"{p.where} {p.message}" for p in caught.value.problems)
    assert expected in problems, problems
    if "aliases" in expected:
        assert "4:14" in problems  # line:column of the alias
    path = tmp_path / "course.yaml"
    path.write_text(content, encoding="utf-8")
    result = embedded.camp("course", "load", str(path))
    assert result.returncode == 1 and expected in result.stderr


def test_alias_bomb_is_refused() -> None:
    from app.services.course_upload import CourseFileError, parse_course_bytes

    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9))
    assert len(bomb) < 600
    with pytest.raises(CourseFileError):
        parse_course_bytes(bomb.encode())
