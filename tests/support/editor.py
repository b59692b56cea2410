"""Driving the course editor in tests: read a form's fields as the browser would submit them,
change some, review, save."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from httpx import Response


class _Fields(HTMLParser):
    """The successful controls of the first `<form data-role=...>`: inputs, textareas, selects."""

    def __init__(self, role: str) -> None:
        super().__init__(convert_charrefs=True)
        self.role, self.inside, self.fields = role, False, {}  # type: ignore[var-annotated]
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("data-role") == self.role:
            self.inside = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields[name] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self.fields.setdefault(self._select, value)
            if "selected" in a:
                self.fields[self._select] = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(page: str, role: str = "homework-form") -> dict[str, str]:
    parser = _Fields(role)
    parser.feed(page)
    fields: dict[str, str] = parser.fields
    for name, value in fields.items():  # a textarea's first newline is not part of its value
        if value.startswith("\n"):
            fields[name] = value[1:]
    return fields


def review(client: TestClient, slug: str, homework: str | None, **changes: str) -> Response:
    """Open a homework's form (a new one when `homework` is None), change fields, submit for review."""
    page = client.get(f"/staff/courses/{slug}/edit/" + (f"homework/{homework}" if homework else "new"))
    assert page.status_code == 200, page.text
    fields = form_fields(page.text)
    fields.update(changes)
    return client.post(f"/staff/courses/{slug}/edit/review", data=fields, follow_redirects=False)


def confirm(client: TestClient, slug: str, reviewed: Response) -> Response:
    """Press "save" on a review page."""
    fields = form_fields(reviewed.text, "confirm-save")
    assert "document" in fields, reviewed.text[:2000]
    return client.post(f"/staff/courses/{slug}/edit/save", data=fields, follow_redirects=False)


def problems(page: str) -> str:
    """The problem list of a refused form, as text."""
    block = page.split('data-role="editor-problems"', 1)[-1].split("</div>", 1)[0]
    return html.unescape(re.sub(r"<[^>]+>", " ", block))
