"""Server-rendered pages (Jinja2), zh-CN by default."""

from fastapi import APIRouter

from app.web import auth, draws, events, files, leaderboard, pages

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
router.include_router(pages.router)
router.include_router(files.router)
router.include_router(events.router)
router.include_router(leaderboard.router)
router.include_router(draws.router)
