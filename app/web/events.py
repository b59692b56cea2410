"""Server-sent events: a submission's status, pushed until it reaches a final state."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.db import get_sessionmaker
from app.deps import get_locale
from app.i18n import STATUS_LABELS, translate
from app.models import FINAL_STATUSES, Submission

router = APIRouter()
POLL_SECONDS = 0.5
MAX_STREAM_SECONDS = 300  # the browser's EventSource reconnects by itself after this


def _snapshot(submission_id: int, locale: str) -> dict[str, object] | None:
    with get_sessionmaker()() as session:
        s = session.get(Submission, submission_id)
        if s is None:
            return None
        messages = s.messages or {}
        return {
            "id": s.id,
            "status": s.status,
            "status_label": translate(locale, STATUS_LABELS[s.status]),
            "verdict": s.verdict,
            "score": s.score,
            "message": messages.get(locale) or messages.get("en") or "",
            "final": s.status in FINAL_STATUSES,
        }




@router.get("/submissions/{submission_id}/events")
async def submission_events(submission_id: int, request: Request) -> StreamingResponse:
    locale = get_locale(request)

    async def stream() -> AsyncIterator[str]:
        last = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAX_STREAM_SECONDS
        while loop.time() < deadline and not await request.is_disconnected():
            snap = await run_in_threadpool(_snapshot, submission_id, locale)
            if snap is None:
                yield "event: gone\ndata: {}\n\n"
                return
            if snap != last:
                yield f"data: {json.dumps(snap, ensure_ascii=False)}\n\n"
                last = snap
            if snap["final"]:
                return
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})
