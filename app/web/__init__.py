"""Server-rendered pages (Jinja2), zh-CN by default."""

from fastapi import APIRouter

from app.web import (  # noqa: F401 (student registers a template global)
    account,
    admin,
    auth,
    compose,
    course_editor,
    course_thread,
    draws,
    events,
    files,
    inbox,
    integrity,
    leaderboard,
    pages,
    reviews,
    search,
    staff,
    student,
    thread,
    thread_events,
)

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
router.include_router(account.router)
router.include_router(inbox.router)
router.include_router(pages.router)
router.include_router(files.router)
router.include_router(events.router)
router.include_router(thread_events.router)
router.include_router(leaderboard.router)
router.include_router(draws.router)
router.include_router(course_thread.router)
router.include_router(thread.router)
router.include_router(compose.router)
router.include_router(reviews.router)
router.include_router(integrity.router)
router.include_router(search.router)
router.include_router(course_editor.router)
router.include_router(staff.router)
router.include_router(admin.router)
