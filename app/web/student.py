"""The student's "my submissions" page: a filter by homework and a chart of scores over time.

The page's route lists the submissions; the template asks for this view through the Jinja
global `my_submissions_view(submissions)` (registered below), which reads `?homework=` from
the request.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from app.i18n import translate
from app.models import Status, Submission
from app.services import visibility
from app.services.timeline_chart import Point, timeline_chart


@dataclass(frozen=True)
class MySubmissions:
    submissions: list[Submission]
    #: (value for ?homework=, label) of every homework I submitted to
    choices: list[tuple[str, str]]
    selected: str
    chart: Markup | None


def homework_key(s: Submission) -> str:
    return f"{s.assignment.course.slug}/{s.assignment.code}"


def _when(s: Submission, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return s.created_at.astimezone(ZoneInfo(s.assignment.course.timezone)).strftime(fmt)


def scores_chart(submissions: Sequence[Submission], locale: str,
                 viewer: visibility.Person | None) -> Markup | None:
    """Scores as the viewer may see them (before the deadline: the public split's)."""
    values = {s.id: visibility.shown_score(visibility.sight(viewer, s), s) for s in submissions}
    scored = [s for s in submissions if s.status == Status.scored.value and values[s.id] is not None]
    if not scored:
        return None
    series: dict[str, list[Point]] = defaultdict(list)
    for s in sorted(scored, key=lambda s: s.created_at):
        value = float(values[s.id] or 0)
        label = f"{s.assignment.code} #{s.floor}: {value:.4g} ({_when(s)})"
        series[s.assignment.code].append(Point(s.created_at, value, label))
    first = min(scored, key=lambda s: s.created_at)
    last = max(scored, key=lambda s: s.created_at)
    return timeline_chart(series, title=translate(locale, "My scores over time ({n} graded)", n=len(scored)),
                          start_label=_when(first, "%m-%d %H:%M"), end_label=_when(last, "%m-%d %H:%M"))


@pass_context
def my_submissions_view(ctx: Context, submissions: Sequence[Submission]) -> MySubmissions:
    request: Any = ctx["request"]
    labels = {homework_key(s): f"{s.assignment.code} · {s.assignment.title}" for s in submissions}
    choices = sorted(labels.items())
    selected = request.query_params.get("homework", "")
    if selected not in dict(choices):
        selected = ""
    shown = [s for s in submissions if not selected or homework_key(s) == selected]
    return MySubmissions(shown, choices, selected, scores_chart(shown, ctx["locale"], ctx.get("user")))

