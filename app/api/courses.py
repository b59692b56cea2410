"""Courses and their homework."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.schemas import AssignmentOut, CourseOut
from app.deps import SessionDep
from app.services.courses import get_assignment, get_course, list_courses

router = APIRouter(tags=["courses"])


@router.get("/courses")
def courses(session: SessionDep) -> list[CourseOut]:
    return [CourseOut.of(c) for c in list_courses(session)]


@router.get("/courses/{slug}/assignments")
def assignments(slug: str, session: SessionDep) -> list[AssignmentOut]:
    return [AssignmentOut.of(a) for a in get_course(session, slug).assignments]


@router.get("/courses/{slug}/assignments/{code}")
def assignment(slug: str, code: str, session: SessionDep) -> AssignmentOut:
    return AssignmentOut.of(get_assignment(session, slug, code))
