"""Attack replay against the notebook page: markup through every part of a notebook a student
controls (markdown cells and their attachments, code, every output type, metadata, prompts).
Already safe when tried: each piece is escaped or sanitised on its own."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser

S = "<script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)>"


def _hostile() -> bytes:
    html_as_png = base64.b64encode(b"<html><script>alert(4)</script></html>").decode()
    cells = [
        {"cell_type": "markdown", "metadata": {"tags": [S]}, "attachments": {"a.png": {"image/png": html_as_png}},
         "source": [f"# 标题 {S}\n", "![a](attachment:a.png) [x](javascript:alert(5)) <iframe src=//evil>\n"]},
        {"cell_type": "raw", "metadata": {}, "source": S},
        {"cell_type": "code", "execution_count": S, "metadata": {"name": S},
         "source": f"print('</code></pre>{S}')", "outputs": [
             {"output_type": "stream", "name": S, "text": ["\x1b[31m", S]},
             {"output_type": "display_data", "metadata": {}, "data": {"text/html": S, "text/plain": S}},
             {"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": S}},
             {"output_type": "display_data", "metadata": {}, "data": {"application/javascript": "alert(6)"}},
             {"output_type": "execute_result", "execution_count": 1, "metadata": {},
              "data": {"text/markdown": S + " [y](javascript:alert(7))"}},
             {"output_type": "display_data", "metadata": {}, "data": {"image/png": html_as_png}},
             {"output_type": "error", "ename": S, "evalue": S, "traceback": [S]},
         ]},
    ]
    doc = {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
           "metadata": {"language_info": {"name": S}, "kernelspec": {"language": S, "name": S}}}
    return json.dumps(doc).encode()


class _Tags(HTMLParser):
    """The elements of a page, its event-handler attributes, and its links that are not http(s)
    or a page of the site."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.handlers: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"{tag}.{name}")
            if name in ("href", "src", "action", "formaction") and value is not None \
                    and not re.match(r"(https?:|/|#)", value.strip()):
                self.links.append(f"{tag}.{name}={value}")


def test_markup_anywhere_in_a_notebook_stays_text() -> None:
    from app.services.notebook_render import render_notebook
    from app.services.notebooks import read_notebook

    page = str(render_notebook(read_notebook(f"{S}.ipynb", _hostile()), "zh_CN"))
    parser = _Tags()
    parser.feed(page)
    assert not {"script", "svg", "iframe", "img", "object", "embed", "style"} & parser.tags, parser.tags
    assert parser.handlers == [] and parser.links == [], (parser.handlers, parser.links)
    assert "&lt;script&gt;" in page  # shown as text, not dropped silently
