"""Math in replies, rendered on the server as MathML (no script, no CDN): `$x^2$` inline and
`$$\\frac{a}{b}$$` as a block. Browsers draw MathML natively; nh3 keeps only MathML's
presentation elements (`MATH_TAGS`).

`$` opens math only when the next character is not a space and the closing `$` is not followed
by a digit, so prices ("$5 and $6") stay text. A formula latex2mathml cannot read, or one longer
than `MAX_FORMULA`, is shown as code, as written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from latex2mathml.converter import convert
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markupsafe import escape

MAX_FORMULA = 2000
MATH_TAGS = {"math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup",
             "mfrac", "msqrt", "mroot", "munder", "mover", "munderover", "mtable", "mtr", "mtd",
             "mstyle", "mpadded", "mphantom", "menclose", "semantics", "annotation", "merror"}
MATH_ATTRIBUTES = {"display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace",
                   "accent", "accentunder", "movablelimits", "form", "columnalign", "rowspacing",
                   "columnspacing", "linethickness", "notation", "width", "minsize", "maxsize",
                   "symmetric", "largeop", "scriptlevel", "displaystyle"}


def _math(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if src[start] != "$":
        return False
    marker = "$$" if src.startswith("$$", start) else "$"
    begin = start + len(marker)
    end = src.find(marker, begin)
    while end != -1 and src[end - 1] == "\\":
        end = src.find(marker, end + 1)
    if end == -1 or end == begin or end > state.posMax:
        return False
    body = src[begin:end]
    if marker == "$" and (body[0].isspace() or body[-1].isspace()
                          or (end + 1 < len(src) and src[end + 1].isdigit())):
        return False
    if not silent:
        token = state.push("math", "math", 0)
        token.content, token.markup = body, marker
    state.pos = end + len(marker)
    return True


def _render(_renderer: Any, tokens: Sequence[Token], idx: int, options: Any,
            env: Mapping[str, Any]) -> str:
    token = tokens[idx]
    display = "block" if token.markup == "$$" else "inline"
    if len(token.content) <= MAX_FORMULA:
        try:
            return str(convert(token.content, display=display))
        except Exception:  # any formula it cannot read (or too deep for it): shown as written
            pass
    return f"<code>{escape(token.markup + token.content + token.markup)}</code>"


def enable_math(md: MarkdownIt) -> None:
    """Before `escape` and emphasis: `\\,` and `*` inside a formula belong to the formula."""
    md.inline.ruler.before("escape", "math", _math)
    md.add_render_rule("math", _render)
