"""Replies are Markdown: rendered by markdown-it-py with raw HTML off, then sanitised by nh3.

Two layers, so one mistake does not make XSS: markdown-it escapes any HTML the student typed
(`<script>`, `<img onerror=…>`, `<svg onload=…>` come out as text) and refuses `javascript:`
links; nh3 then keeps only a short list of tags and attributes, only http(s)/mailto or
relative links, puts `rel="nofollow noopener noreferrer"` on every link, and lets images
point only at Camp's own `/files/N` (a Markdown image naming an attachment, `![loss](loss.png)`,
shows that attachment; any other image becomes a plain link).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markupsafe import Markup, escape

TAGS = {"p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "img"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "loading", "class"},
              "ol": {"start"}}
LINK_REL = "nofollow noopener noreferrer"


class NamedFile(Protocol):
    id: int
    filename: str
    kind: str


def _attribute(tag: str, name: str, value: str) -> str | None:
    if tag == "img" and name == "src" and not value.startswith("/files/"):
        return None
    if tag == "img" and name == "class" and value != "shot":
        return None
    return value


@lru_cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                       link_rel=LINK_REL, attribute_filter=_attribute, strip_comments=True)


def _image_rule(_renderer: Any, tokens: Sequence[Token], idx: int, options: Any,
                env: Mapping[str, Any]) -> str:
    """`![alt](name)`: the attachment called `name`, or a link for anything else."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = "".join(child.content for child in token.children or [])
    files: Mapping[str, int] = env.get("images", {})
    if src in files:
        return f'<img class="shot" src="/files/{files[src]}" alt="{escape(alt)}" loading="lazy">'
    return f'<a href="{escape(src)}">{escape(alt or src)}</a>'


_OPERAND_BEFORE = set("0123456789)")
_OPERAND_AFTER = set("0123456789(")


def _arithmetic_star(state: StateInline, silent: bool) -> bool:
    """`*` between numbers is multiplication, not emphasis: `10*64*224*224*27` and the seed's
    `((224+2-3)/1+1)*10*3*64*9` keep every `*` (CommonMark would make `*64*` italic)."""
    pos = state.pos
    src = state.src
    if src[pos] != "*" or pos == 0 or pos + 1 >= state.posMax:
        return False
    if src[pos - 1] not in _OPERAND_BEFORE or src[pos + 1] not in _OPERAND_AFTER:
        return False
    if not silent:
        state.push("text", "", 0).content = "*"
    state.pos += 1
    return True


@lru_cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _image_rule)
    md.inline.ruler.before("emphasis", "arithmetic_star", _arithmetic_star)
    return md


def render_markdown(text: str | None, attachments: Iterable[NamedFile] = ()) -> Markup:
    """Safe HTML for a reply's Markdown; `attachments` lets `![x](name.png)` show an upload.

    Pages show replies through `app.rendered_store`, which renders each text once and keeps it."""
    images = {f.filename: f.id for f in attachments if f.kind == "image"}
    html = _parser().render(text or "", {"images": images})
    return Markup(_cleaner().clean(html))
