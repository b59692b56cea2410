"""Rendered Markdown is stored once: a text that takes markdown-it seconds (64 KB of `[`) is
rendered the first time a page shows it, then read back, also by another process."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.stacks import Stack
from tests.support.web import add_user, api_token


def test_a_slow_text_is_rendered_once_for_every_view(embedded_client: TestClient, embedded: Stack,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from app import rendered_store

    calls: list[int] = []
    real = rendered_store.render_markdown

    def counting(text: str | None, attachments: object = ()) -> object:
        calls.append(len(text or ""))
        return real(text, attachments)  # type: ignore[arg-type]

    monkeypatch.setattr(rendered_store, "render_markdown", counting)
    bearer = {"Authorization": f"Bearer {api_token(embedded, add_user(embedded))}"}
    text = "作业9-1：" + "[" * 60_000
    posted = embedded_client.post("/api/v1/courses/dl-bootcamp/assignments/9-1/submissions",
                                  headers=bearer, data={"text": text})
    assert posted.status_code == 201, posted.text
    page = f"/courses/dl-bootcamp/assignments/9-1?page={-(-posted.json()['floor'] // 50)}"
    for _ in range(3):
        assert embedded_client.get(page, headers=bearer).status_code == 200
        rendered_store._stored.cache_clear()  # as if the next view came to another process
    assert sum(1 for n in calls if n >= 60_000) == 1
    stored = list((embedded.data_dir / "rendered").glob("*/*.html"))
    assert any("[[[[" in path.read_text() for path in stored)
