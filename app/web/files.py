"""Serving stored attachments: images inline, code only to its author and the staff (rules in
`visibility`)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app import storage
from app.deps import OptionalUser, SessionDep
from app.errors import NotFound
from app.models import Attachment
from app.services import visibility
from app.templating import render
from grader.catalog import NOTEBOOK_CONTENT_TYPE

router = APIRouter()


@router.get("/files/{attachment_id}")
def attachment(attachment_id: int, session: SessionDep, user: OptionalUser) -> Response:
    item = session.get(Attachment, attachment_id)
    if item is None:
        raise NotFound("This file does not exist")
    visibility.check_file(user, item.submission, item.kind)
    # The content type is the one Camp decided when it checked the file, never the uploader's.
    media_type = item.content_type if item.kind == "image" else "application/octet-stream"
    disposition = "inline" if item.kind == "image" else "attachment"
    return Response(
        storage.get(item.sha256),
        media_type=media_type,
        headers={
            "content-disposition": f"{disposition}; filename*=UTF-8''{quote(item.filename)}",
            "cache-control": "private, max-age=3600",
        },
    )


@router.get("/files/{attachment_id}/notebook")
def notebook_page(attachment_id: int, request: Request, session: SessionDep,
                  user: OptionalUser) -> HTMLResponse:
    """A notebook attachment on a page of its own (the thread shows large ones as a link here)."""
    item = session.get(Attachment, attachment_id)
    if item is None or item.content_type != NOTEBOOK_CONTENT_TYPE:
        raise NotFound("This file does not exist")
    visibility.check_file(user, item.submission, item.kind)
    return render(request, "notebook.html", attachment=item, submission=item.submission)
