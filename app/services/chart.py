"""A score histogram as inline SVG, drawn on the server (no JavaScript needed).

Every text that goes into the picture is escaped here; the caller passes translated labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 16, 34


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int


def histogram(values: Sequence[float], bins: int = 20) -> list[Bin]:
    """`bins` equal-width bins from the smallest to the largest value (the last one closed)."""
    if not values:
        return []
    low, high = min(values), max(values)
    if math.isclose(low, high):
        return [Bin(low, high, len(values))]
    width = (high - low) / bins
    counts = [0] * bins
    for value in values:
        counts[min(int((value - low) / width), bins - 1)] += 1
    return [Bin(low + i * width, low + (i + 1) * width, n) for i, n in enumerate(counts)]


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def score_chart(values: Sequence[float], *, title: str, mine: float | None = None,
                mine_label: str = "", bins: int = 20) -> Markup:
    """An accessible SVG bar chart of `values`; a marker shows `mine` when given."""
    groups = histogram(values, bins)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    peak = max((b.count for b in groups), default=0) or 1
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#888"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end" font-size="11">{peak}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    slot = plot_w / max(len(groups), 1)
    for i, group in enumerate(groups):
        h = plot_h * group.count / peak
        x, y = LEFT + i * slot, TOP + plot_h - h
        tip = f"{_fmt(group.low)} – {_fmt(group.high)}: {group.count}"
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(slot - 2, 1):.1f}" height="{h:.1f}" '
            f'fill="#4a7bd0"><title>{escape(tip)}</title></rect>'
        )
    if groups:
        low, high = groups[0].low, groups[-1].high
        parts.append(f'<text x="{LEFT}" y="{HEIGHT - 14}" font-size="11">{escape(_fmt(low))}</text>')
        parts.append(
            f'<text x="{LEFT + plot_w}" y="{HEIGHT - 14}" text-anchor="end" font-size="11">'
            f"{escape(_fmt(high))}</text>"
        )
        if mine is not None and high > low:
            mx = LEFT + plot_w * (mine - low) / (high - low)
            parts.append(
                f'<line class="mine" x1="{mx:.1f}" y1="{TOP}" x2="{mx:.1f}" y2="{TOP + plot_h}" '
                f'stroke="#d04a4a" stroke-width="2"><title>{escape(mine_label)}</title></line>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
