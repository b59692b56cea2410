"""A notebook shown inside a reply: static HTML, no scripts, nothing active.

Every piece is escaped or sanitised on its own, so nothing the notebook carries becomes markup:

* markdown cells go through the replies' own renderer (`app.rich_text`: markdown-it with raw
  HTML off, then nh3; math included), so `<script>`, `javascript:` links and `<svg onload>`
  come out as text or are dropped, exactly as in a reply;
* code cells are highlighted by Pygments (which escapes the code) or escaped plainly;
* outputs: stream text, `text/plain` and errors as escaped text with ANSI colour codes removed
  and long ones cut; PNG/JPEG images only after Pillow decoded them whole within size limits,
  re-encoded without metadata and shown as `data:` URLs (the site's CSP allows `img-src data:`);
  HTML, SVG and JavaScript outputs are never rendered: a note says so and their `text/plain`
  form, if any, is shown instead.

A budget bounds the page: texts are cut, images counted, and past the budget the rest of the
notebook is summarised by a note (the file itself stays downloadable for those who may see it).
Pages show notebooks through `app.rendered_store.stored_notebook`, which renders each file once.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape
from PIL import Image, UnidentifiedImageError
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from app.errors import CampError
from app.i18n import lazy, translate
from app.rich_text import render_markdown
from app.services.images import strip_metadata
from app.services.notebooks import Notebook

#: a text output or a code cell shown up to this many characters
MAX_TEXT_CHARS = 20_000
#: one output image: encoded bytes and pixels
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_IMAGE_PIXELS = 4_000_000
#: the whole rendering: images shown, pixels decoded, characters of HTML (past it the rest is
#: summarised). Measured on 2 busy cores: 50 images of 8 megapixels took 22 s to check and
#: re-encode, so the pixels are budgeted (24 MP: about 1.5 s), not only the count.
MAX_IMAGES = 50
MAX_PIXELS = 24_000_000
#: images are inlined as base64: their re-encoded bytes count against the page (4 MB of them)
MAX_IMAGE_TOTAL_BYTES = 4 * 1024 * 1024
MAX_HTML_CHARS = 3_000_000
#: Markdown is rendered as in a reply up to this many characters per cell and in all (a reply's
#: own cap); past it a cell is shown as plain text. Some texts take markdown-it ~50 µs a
#: character (64 KB of `[`: 3.4 s), and 2,000 such cells took 100 s before this budget.
MAX_MARKDOWN_CHARS = 64 * 1024
IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG"}
#: kinds of output never rendered as what they are (they could carry scripts or styles)
ACTIVE_TYPES = ("text/html", "image/svg+xml", "application/javascript", "text/javascript")

_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

CUT = lazy("… {n} more characters not shown")
ACTIVE = lazy("An HTML or script output is not shown here (Camp shows notebooks without active content).")
BAD_IMAGE = lazy("An image output is not shown: it is not a valid PNG or JPEG, or it is too large.")
TOO_MANY_IMAGES = lazy("More image outputs are not shown (at most {n} per notebook).")
REST = lazy("The rest of this notebook ({n} cells) is too long to show here.")
EMPTY = lazy("This notebook has no cells.")
MORE_OUTPUTS = lazy("The rest of this cell's outputs is too long to show here.")


@dataclass
class _Page:
    locale: str
    parts: list[str] = field(default_factory=list)
    size: int = 0
    images: int = 0
    pixels: int = 0
    image_bytes: int = 0
    markdown: int = 0

    def add(self, html: str) -> None:
        self.parts.append(html)
        self.size += len(html)

    def note(self, message: str, **params: Any) -> None:
        self.add(f'<p class="nb-note muted">{escape(translate(self.locale, message, **params))}</p>')


def render_notebook(notebook: Notebook, locale: str) -> Markup:
    """Static, sanitised HTML for a notebook that `read_notebook` accepted."""
    page = _Page(locale)
    python = notebook.language in ("python", "python3", "ipython", "ipython3")
    for index, cell in enumerate(notebook.cells):
        if page.size > MAX_HTML_CHARS:
            page.note(REST, n=len(notebook.cells) - index)
            break
        kind = cell["cell_type"]
        page.add(f'<div class="nb-cell nb-{kind}">')
        if kind == "markdown":
            _markdown(page, _text(cell.get("source", "")))
        elif kind == "raw":
            page.add(f'<pre class="nb-raw">{_plain(page, _text(cell.get("source", "")))}</pre>')
        else:
            _code_cell(page, cell, python)
        page.add("</div>")
    if not notebook.cells:
        page.note(EMPTY)
    return Markup('<div class="notebook" data-role="notebook">' + "".join(page.parts) + "</div>")


def _markdown(page: _Page, text: str, css: str = "text md") -> None:
    """As a reply's Markdown while the budget lasts, then as escaped plain text."""
    page.markdown += len(text)
    if page.markdown <= MAX_MARKDOWN_CHARS:
        page.add(f'<div class="{css}">{render_markdown(text)}</div>')
    else:
        page.add(f'<pre class="nb-raw">{_plain(page, text)}</pre>')


def _text(value: object) -> str:
    text = "".join(value) if isinstance(value, list) else str(value)
    return text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from JSON escapes


def _plain(page: _Page, text: str) -> str:
    """Escaped text without ANSI codes or control characters, cut at MAX_TEXT_CHARS."""
    text = _CONTROL.sub("", _ANSI.sub("", text))
    if len(text) <= MAX_TEXT_CHARS:
        return str(escape(text))
    cut = translate(page.locale, CUT, n=len(text) - MAX_TEXT_CHARS)
    return f"{escape(text[:MAX_TEXT_CHARS])}\n<span class=\"nb-cut\">{escape(cut)}</span>"


def _code_cell(page: _Page, cell: dict[str, Any], python: bool) -> None:
    source = _text(cell.get("source", ""))
    count = cell.get("execution_count")
    prompt = f"[{count}]" if type(count) is int else "[ ]"
    page.add(f'<div class="nb-prompt" aria-hidden="true">{escape(prompt)}</div>')
    if python and len(source) <= MAX_TEXT_CHARS:
        code = highlight(_CONTROL.sub("", source), PythonLexer(), HtmlFormatter(nowrap=True))
    else:
        code = _plain(page, source)
    page.add(f'<pre class="nb-input hl"><code>{code}</code></pre>')
    for output in cell.get("outputs", []):
        if page.size > MAX_HTML_CHARS:
            page.note(MORE_OUTPUTS)
            break
        _output(page, output)


def _output(page: _Page, output: dict[str, Any]) -> None:
    kind = output["output_type"]
    if kind == "stream":
        name = "stderr" if output.get("name") == "stderr" else "stdout"
        page.add(f'<pre class="nb-output nb-{name}">{_plain(page, _text(output.get("text", "")))}</pre>')
    elif kind == "error":
        lines = output.get("traceback") or [f"{output.get('ename', '')}: {output.get('evalue', '')}"]
        text = "\n".join(_text(x) for x in lines)
        page.add(f'<pre class="nb-output nb-error">{_plain(page, text)}</pre>')
    else:
        _rich(page, output.get("data", {}))


def _rich(page: _Page, data: dict[str, Any]) -> None:
    """A display_data / execute_result bundle: an image, else plain text; never HTML or SVG."""
    for mime, fmt in IMAGE_TYPES.items():
        if mime in data:
            if page.images >= MAX_IMAGES:
                if page.images == MAX_IMAGES:
                    page.note(TOO_MANY_IMAGES, n=MAX_IMAGES)
                page.images += 1
                return
            shown = _image(page, data[mime], fmt)
            if shown is None:
                page.note(BAD_IMAGE)
            else:
                page.images += 1
                page.add(f'<img class="nb-img" src="data:{mime};base64,{shown}" alt="output {page.images}">')
            return
    if "text/markdown" in data:
        _markdown(page, _text(data["text/markdown"]), "nb-output text md")
        return
    active = any(mime in data for mime in ACTIVE_TYPES)
    if "text/plain" in data:
        page.add(f'<pre class="nb-output">{_plain(page, _text(data["text/plain"]))}</pre>')
    if active:
        page.note(ACTIVE)


def _image(page: _Page, value: object, fmt: str) -> str | None:
    """The base64 of a re-encoded image, or None when it is not a whole, bounded PNG/JPEG (or the
    notebook's pixel budget is spent)."""
    raw = _text(value).replace("\n", "")
    if len(raw) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        return None
    try:
        data = base64.b64decode(raw, validate=True)
        with Image.open(io.BytesIO(data)) as img:
            pixels = img.width * img.height * getattr(img, "n_frames", 1)
            if img.format != fmt or pixels > MAX_IMAGE_PIXELS or page.pixels + pixels > MAX_PIXELS:
                return None
            page.pixels += pixels
            img.load()
        clean = strip_metadata("output", data, fmt)
        if page.image_bytes + len(clean) > MAX_IMAGE_TOTAL_BYTES:
            return None
        page.image_bytes += len(clean)
    except (binascii.Error, ValueError, OSError, SyntaxError, UnidentifiedImageError,
            Image.DecompressionBombError, CampError):
        return None
    return base64.b64encode(clean).decode("ascii")
