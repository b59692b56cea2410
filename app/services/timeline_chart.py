"""Scores over time as inline SVG: one coloured line of points per homework (no JavaScript).

Like `chart.py`, every text that goes into the picture is escaped here; the caller passes
translated, formatted labels. Each point carries a <title> (read by screen readers and shown
as a tooltip), and the legend names each series.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 56
COLOURS = ("#2563eb", "#d04a4a", "#15803d", "#b45309", "#7c3aed", "#0891b2", "#be185d", "#4b5563")


@dataclass(frozen=True)
class Point:
    at: datetime
    score: float
    label: str  # e.g. "7-1 #12: 1.0 (2026-11-28 10:00)"


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def timeline_chart(series: Mapping[str, Sequence[Point]], *, title: str, start_label: str = "",
                   end_label: str = "") -> Markup:
    """Points of every series on one time axis; y from min(0, lowest) to max(1, highest)."""
    points = [p for ps in series.values() for p in ps]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#888"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#888"/>',
    ]
    if points:
        t0 = min(p.at for p in points).timestamp()
        t1 = max(p.at for p in points).timestamp()
        low, high = min(0.0, *(p.score for p in points)), max(1.0, *(p.score for p in points))

        def xy(p: Point) -> tuple[float, float]:
            x = LEFT + (plot_w / 2 if t1 == t0 else plot_w * (p.at.timestamp() - t0) / (t1 - t0))
            return x, TOP + plot_h * (1 - (p.score - low) / (high - low))

        axis = 'text-anchor="end" font-size="11"'
        parts += [
            f'<text x="{LEFT - 6}" y="{TOP + 10}" {axis}>{escape(_fmt(high))}</text>',
            f'<text x="{LEFT - 6}" y="{TOP + plot_h}" {axis}>{escape(_fmt(low))}</text>',
            f'<text x="{LEFT}" y="{TOP + plot_h + 16}" font-size="11">{escape(start_label)}</text>',
            f'<text x="{LEFT + plot_w}" y="{TOP + plot_h + 16}" text-anchor="end" font-size="11">'
            f"{escape(end_label)}</text>",
        ]
        for i, (name, series_points) in enumerate(series.items()):
            colour = COLOURS[i % len(COLOURS)]
            ordered = sorted(series_points, key=lambda p: p.at)
            coords = [xy(p) for p in ordered]
            if len(coords) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
            for (x, y), p in zip(coords, ordered, strict=True):
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
                             f"<title>{escape(p.label)}</title></circle>")
            lx = LEFT + (i % 6) * 100
            ly = HEIGHT - 20 + (i // 6) * 14
            parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{colour}"/>'
                         f'<text x="{lx + 14}" y="{ly}" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
