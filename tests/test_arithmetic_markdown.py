"""A conv op count written as arithmetic keeps its `*`: `10*64*224*224*27` lost two of them to
CommonMark's emphasis (`*64*` became italic) in the homework thread."""

from __future__ import annotations

import pytest

from app.rich_text import render_markdown


@pytest.mark.parametrize("text", [
    "10*64*224*224*27",
    "乘法:((224+2-3)/1+1)*10*3*64*9=867041280次",
    "作业7-1：乘法 224*224*64*27，加法 (27-1)*224*224*64",
])
def test_stars_between_numbers_stay(text: str) -> None:
    html = str(render_markdown(text))
    assert "<em>" not in html and html.count("*") == text.count("*"), html


def test_emphasis_and_code_are_unchanged() -> None:
    assert str(render_markdown("a *b* c")) == "<p>a <em>b</em> c</p>\n"
    assert str(render_markdown("**粗体** 与 2*3")) == "<p><strong>粗体</strong> 与 2*3</p>\n"
    assert str(render_markdown("`10*64*2`")) == "<p><code>10*64*2</code></p>\n"
