"""Math in replies: `$…$` and `$$…$$` become MathML on the server (no script, no CDN); prices,
code and unreadable formulas stay text, and nothing in a formula becomes markup."""

from __future__ import annotations

from app.rich_text import render_markdown


def test_inline_and_block_math_are_mathml() -> None:
    html = str(render_markdown(r"面积 $\frac{a}{b}$，卷积 $$10*64*224*224*27$$"))
    assert '<math display="inline"><mrow><mfrac>' in html
    assert '<math display="block">' in html and html.count("<mo>*</mo>") == 4
    assert "<script" not in html and "cdn" not in html.lower()


def test_prices_code_and_broken_formulas_stay_text() -> None:
    assert str(render_markdown("costs $5 and $6 each")) == "<p>costs $5 and $6 each</p>\n"
    assert str(render_markdown("`$x$`")) == "<p><code>$x$</code></p>\n"
    assert str(render_markdown(r"$\frac{$")) == "<p><code>$\\frac{$</code></p>\n"


def test_a_formula_cannot_carry_markup_or_exhaust_the_renderer() -> None:
    html = str(render_markdown("$<script>alert(1)</script><img src=x onerror=alert(1)>$"))
    assert "<script" not in html and "<img" not in html and "onerror=" not in html
    deep = str(render_markdown("$" + "{" * 900 + "x" + "}" * 900 + "$"))
    assert "<math" in deep or "<code>" in deep
    long = str(render_markdown("$" + "x+" * 2000 + "x$"))
    assert long.startswith("<p><code>$x+")
