"""Helpers of the reply box: the Markdown preview, rendered exactly as the thread renders replies.

A preview is rendered afresh each time (nothing is stored), and some texts take markdown-it
seconds (64 KB of `[`: about 3 s of a core). So a preview is heavy work: it runs in the thread
pool two at a time per process (`app.offload`), and one account has at most one preview being
rendered; another one meanwhile is refused (429), so that one account sending previews in
parallel cannot fill the thread pool and stall every page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import JSONResponse

from app.deps import CsrfChecked, CurrentUser
from app.errors import CampError
from app.i18n import lazy
from app.offload import run_heavy
from app.rich_text import render_markdown

router = APIRouter()
MAX_TEXT = 65536
#: accounts with a preview being rendered in this process
_rendering: set[int] = set()


class PreviewBusy(CampError):
    status_code = 429
    code = "busy"


@router.post("/markdown/preview", dependencies=[CsrfChecked])
async def markdown_preview(user: CurrentUser,
                           text: Annotated[str, Form(max_length=MAX_TEXT)] = "") -> JSONResponse:
    """`{"html": ...}`: the text as a reply shows it (images by file name appear once posted)."""
    account = user.id
    if account in _rendering:
        raise PreviewBusy(lazy("Your previous preview is still being prepared; try again in a moment"))
    _rendering.add(account)
    try:
        html = await run_heavy(render_markdown, text)
    finally:
        _rendering.discard(account)
    return JSONResponse({"html": str(html)}, headers={"cache-control": "no-store"})
