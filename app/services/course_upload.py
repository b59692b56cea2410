"""Reading a course file that an admin uploads, with every problem located for the page
(the checks themselves are app/services/course_check.py, shared with the CLI and the editor)."""

from __future__ import annotations

import yaml

from app.config import get_settings
from app.i18n import lazy
from app.services.course_check import CourseFileError, Problem, check_course
from app.services.courses import CourseSpec, load_yaml

__all__ = ["MAX_COURSE_FILE_BYTES", "CourseFileError", "Problem", "parse_course_bytes", "raw_course_bytes"]

MAX_COURSE_FILE_BYTES = 1024 * 1024


def raw_course_bytes(data: bytes) -> object:
    """The YAML data of an uploaded course file (not yet validated)."""
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
    return raw


def parse_course_bytes(data: bytes) -> CourseSpec:
    """An uploaded course file, through the one validation (app/services/course_check.py)."""
    return check_course(raw_course_bytes(data), get_settings().default_timezone)
