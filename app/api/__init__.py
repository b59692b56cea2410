"""JSON API under /api/v1, authenticated by session cookie (with CSRF) or Bearer token."""

from fastapi import APIRouter

from app.api import (
    account,
    admin,
    courses,
    draw_log,
    draws,
    health,
    integrity,
    leaderboard,
    metrics,
    notifications,
    replies,
    reviews,
    search,
    staff,
    submissions,
    thread,
)
from app.api.error_docs import ERROR_RESPONSES

router = APIRouter()
router.include_router(health.router, responses=ERROR_RESPONSES)
router.include_router(metrics.router, responses=ERROR_RESPONSES)
router.include_router(courses.router, prefix="/api/v1", responses=ERROR_RESPONSES)
router.include_router(submissions.router, prefix="/api/v1", responses=ERROR_RESPONSES)
router.include_router(admin.router, prefix="/api/v1", responses=ERROR_RESPONSES)
router.include_router(account.router, prefix="/api/v1", responses=ERROR_RESPONSES)
router.include_router(notifications.router, prefix="/api/v1", responses=ERROR_RESPONSES)
router.include_router(leaderboard.router, prefix="/api/v1", responses=ERROR_RESPONSES)
router.include_router(draws.router, prefix="/api/v1", responses=ERROR_RESPONSES)
router.include_router(draw_log.router, responses=ERROR_RESPONSES)
router.include_router(replies.router, prefix="/api/v1", responses=ERROR_RESPONSES)
router.include_router(thread.router, prefix="/api/v1", responses=ERROR_RESPONSES)
router.include_router(reviews.router, prefix="/api/v1", responses=ERROR_RESPONSES)
router.include_router(search.router, prefix="/api/v1", responses=ERROR_RESPONSES)
router.include_router(staff.router, prefix="/api/v1", responses=ERROR_RESPONSES)
router.include_router(integrity.router, prefix="/api/v1", responses=ERROR_RESPONSES)
