"""The shared page-links macro: ends and neighbours shown, the rest elided, hrefs from the caller."""

from __future__ import annotations

import re


def render_pager(page: int, pages: int) -> str:
    from app.templating import environment

    template = environment().from_string(
        '{% from "macros.html" import pager with context %}'
        "{% call(p) pager(page, pages) %}/x?page={{ p }}&amp;q=1{% endcall %}"
    )
    return template.render(locale="en", page=page, pages=pages, csrf_token="")


def test_one_page_shows_no_links() -> None:
    assert "<nav" not in render_pager(1, 1)


def test_long_runs_are_elided_around_the_current_page() -> None:
    html = render_pager(10, 30)
    links = [int(n) for n in re.findall(r'href="/x\?page=(\d+)&amp;q=1"', html)]
    assert links == [1, 2, 3, 8, 9, 11, 12, 28, 29, 30]
    assert "<strong>10</strong>" in html and html.count("…") == 2
