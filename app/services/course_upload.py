"""Reading a course file that an admin uploads, with every problem located for the page."""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from pydantic import ValidationError

from app.i18n import LazyText, lazy
from app.services.courses import CourseSpec, load_yaml

MAX_COURSE_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Problem:
    where: str
    message: str


class CourseFileError(Exception):
    """The file cannot be loaded: a translated summary and the located problems."""

    def __init__(self, summary: LazyText, problems: list[Problem] | None = None) -> None:
        super().__init__(summary)
        self.summary = summary
        self.problems = problems or []


def _where(loc: tuple[int | str, ...], raw: object) -> str:
    """`assignments[3] (7-1).due` from pydantic's location, naming the homework by its code."""
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int):
            code = node[item].get("code") if isinstance(node, list) and item < len(node) and \
                isinstance(node[item], dict) else None
            parts[-1] += f"[{item}]" + (f" ({code})" if code else "")
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(file)"


def parse_course_bytes(data: bytes) -> CourseSpec:
    if len(data) > MAX_COURSE_FILE_BYTES:
        raise CourseFileError(lazy("The course file is too large (at most 1 MB)"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CourseFileError(lazy("The course file is not UTF-8 text")) from None
    try:
        raw = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "(file)"  # line:column
        problem = str(getattr(exc, "problem", None) or exc)
        raise CourseFileError(lazy("The course file is not valid YAML"), [Problem(where, problem)]) from None
    if not isinstance(raw, dict):
        raise CourseFileError(lazy("A course file is a YAML mapping with slug, title and assignments"))
    try:
        return CourseSpec.model_validate(raw)
    except ValidationError as exc:
        problems = [Problem(_where(tuple(e["loc"]), raw), e["msg"]) for e in exc.errors()]
        raise CourseFileError(lazy("The course file is not valid"), problems) from None
