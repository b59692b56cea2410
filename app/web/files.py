"""Serving stored attachments: images inline, code only to its author and the staff (rules in
`visibility`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from app import storage
from app.deps import OptionalUser, SessionDep
from app.errors import NotFound
from app.models import Attachment
from app.services import visibility
from app.templating import render
from grader.catalog import NOTEBOOK_CONTENT_TYPE

router = APIRouter()
#: bytes read and sent at a time
CHUNK = 64 * 1024


@router.get("/files/{attachment_id}")
def attachment(attachment_id: int, session: SessionDep, user: OptionalUser) -> Response:
    item = session.get(Attachment, attachment_id)
    if item is None:
        raise NotFound("This file does not exist")
    visibility.check_file(user, item.submission, item.kind)
    # The content type is the one Camp decided when it checked the file, never the uploader's.
    media_type = item.content_type if item.kind == "image" else "application/octet-stream"
    disposition = "inline" if item.kind == "image" else "attachment"
    blob = storage.open_blob(item.sha256)
    return StreamingResponse(
        _chunks(blob),
        media_type=media_type,
        headers={
            "content-disposition": f"{disposition}; filename*=UTF-8''{quote(item.filename)}",
            "cache-control": "private, max-age=3600",
            "content-length": str(os.fstat(blob.fileno()).st_size),
        },
    )


def _chunks(blob: BinaryIO) -> Iterator[bytes]:
    """The file a piece at a time, each sent when the client has taken the one before: a whole
    file handed over at once waited in the process's memory for a client that read nothing (20
    connections to a 10 MB image held 200 MB)."""
    with blob:
        while chunk := blob.read(CHUNK):
            yield chunk


@router.get("/files/{attachment_id}/notebook")
def notebook_page(attachment_id: int, request: Request, session: SessionDep,
                  user: OptionalUser) -> HTMLResponse:
    """A notebook attachment on a page of its own (the thread shows large ones as a link here)."""
    item = session.get(Attachment, attachment_id)
    if item is None or item.content_type != NOTEBOOK_CONTENT_TYPE:
        raise NotFound("This file does not exist")
    visibility.check_file(user, item.submission, item.kind)
    return render(request, "notebook.html", attachment=item, submission=item.submission)
