"""Helpers of the reply box: the Markdown preview, rendered exactly as the thread renders replies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import JSONResponse

from app.deps import CsrfChecked, CurrentUser
from app.rich_text import render_markdown

router = APIRouter()
MAX_TEXT = 65536


@router.post("/markdown/preview", dependencies=[CsrfChecked])
def markdown_preview(user: CurrentUser, text: Annotated[str, Form(max_length=MAX_TEXT)] = "") -> JSONResponse:
    """`{"html": ...}`: the text as a reply shows it (images by file name appear once posted)."""
    return JSONResponse({"html": str(render_markdown(text))}, headers={"cache-control": "no-store"})
