"""Markdown replies: useful formatting renders, XSS attempts render inert. Checked on the HTML
itself (parsed), both from the renderer and from the thread page a browser would get."""

from __future__ import annotations

from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from app.rich_text import render_markdown
from tests.support.stacks import Stack
from tests.support.thread import account, png_with_gps

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;avascript&#58;alert(1))",
    "<javascript:alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "<svg onload=alert(1)><script>alert(2)</script></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+PC9zdmc+)",
    "![x](javascript:alert(1))",
    "<iframe src=javascript:alert(1)></iframe>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>x</details>",
    '[a](https://example.org "x\\" onmouseover=\\"alert(1)")',
    '![a" onerror="alert(1)](shot.png)',
    "`<script>alert(1)</script>` and\n\n```html\n<script>alert(1)</script>\n```",
    "<!-- <script>alert(1)</script> -->",
    "<style>body{display:none}</style>",
    "<form action=https://evil.example><input name=p></form>",
]
BAD_TAGS = {"script", "svg", "iframe", "math", "style", "form", "input", "object", "embed", "details", "animate"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))


def assert_inert(html: str) -> None:
    parser = Tags()
    parser.feed(html)
    for tag, attrs in parser.found:
        assert tag not in BAD_TAGS, html
        for name, value in attrs.items():
            assert not name.startswith("on"), html
            cleaned = "".join(value.split()).lower()
            assert not cleaned.startswith(BAD_SCHEMES), html
        if tag == "a" and "href" in attrs:
            assert {"nofollow", "noopener"} <= set(attrs.get("rel", "").split()), html
        if tag == "img":
            assert attrs["src"].startswith("/files/"), html


SHOT = SimpleNamespace(id=7, filename="shot.png", kind="image")


@pytest.mark.parametrize("attack", ATTACKS)
def test_attacks_render_inert(attack: str) -> None:
    assert_inert(str(render_markdown(attack, [SHOT])))


def test_script_text_is_shown_not_run() -> None:
    html = str(render_markdown("<script>alert(1)</script>"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_markdown_that_students_use_still_renders() -> None:
    text = ("作业7-1:\n乘法:867041280\n加法:867041280\n\n- 第一点\n- 第二点\n\n1. one\n2. two\n\n"
            "```python\nprint('hi')\n```\n\n**粗体** `code` [飞桨](https://www.paddlepaddle.org.cn)\n\n![loss](shot.png)")
    html = str(render_markdown(text, [SHOT]))
    assert "作业7-1:<br>\n乘法:867041280<br>" in html  # single newlines are kept, as in the forum
    assert "<ul>\n<li>第一点</li>" in html and "<ol>\n<li>one</li>" in html
    assert "<pre><code>print(&#39;hi&#39;)\n</code></pre>" in html or "<pre><code>print('hi')\n</code></pre>" in html
    assert "<strong>粗体</strong>" in html and "<code>code</code>" in html
    assert '<a href="https://www.paddlepaddle.org.cn" rel="nofollow noopener noreferrer">飞桨</a>' in html
    assert '<img class="shot" src="/files/7" alt="loss" loading="lazy">' in html
    assert_inert(html)


def test_an_image_that_is_not_an_attachment_becomes_a_link() -> None:
    html = str(render_markdown("![tracker](https://evil.example/pixel.png)"))
    assert "<img" not in html and 'href="https://evil.example/pixel.png"' in html
    assert_inert(html)


def test_attacks_posted_as_replies_render_inert_on_the_page(client: TestClient, stack: Stack) -> None:
    _, auth = account(stack)
    text = "作业8：\n\n" + "\n\n".join(ATTACKS)
    created = client.post("/api/v1/courses/dl-bootcamp/assignments/8/submissions", data={"text": text},
                          files={"files": ("shot.png", png_with_gps(), "image/png")}, headers=auth)
    assert created.status_code == 201, created.text
    floor = created.json()["floor"]
    # read by its author: homework 8 has a lottery, so others see it sealed until the deadline
    page = client.get(f"/courses/dl-bootcamp/assignments/8?page={-(-floor // 50)}", headers=auth)
    reply = page.text.split(f'id="floor-{floor}"')[1].split('<div class="actions">')[0]
    body = reply.split('<div class="text md">')[1].split('<div class="verdict"')[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "/files/" in body
    assert_inert(body)
    assert "<script" not in reply and "<svg" not in reply
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
