"""Reading multipart uploads with a size cap, so a huge file is refused before it is read whole."""

from __future__ import annotations

from fastapi import Request, UploadFile

from app.errors import TooLarge
from app.offload import run_heavy
from app.rendered_store import prerender_notebook
from app.services.uploads import CheckedFile, check_files, clean_filename
from grader.catalog import NOTEBOOK_CONTENT_TYPE

CHUNK = 1024 * 1024


async def checked_uploads(request: Request, files: list[UploadFile] | None) -> list[CheckedFile]:
    """The one way a handler takes a reply's files: read under the site's size cap, then checked
    (images decoded and re-encoded) in the thread pool, off the event loop."""
    max_bytes = request.app.state.settings.max_upload_bytes
    checked = await run_heavy(check_files, await read_uploads(files or [], max_bytes), max_bytes)
    for item in checked:
        if item.content_type == NOTEBOOK_CONTENT_TYPE:  # rendered now, so no page view pays for it
            await run_heavy(prerender_notebook, item.filename, item.data)
    return checked


async def read_uploads(files: list[UploadFile], max_bytes: int) -> list[tuple[str, bytes]]:
    result = []
    for upload in files:
        if not upload.filename and upload.size in (0, None):
            continue  # an empty <input type=file> sends a nameless, empty part
        result.append((upload.filename or "", await _read_capped(upload, max_bytes)))
    return result


async def _read_capped(upload: UploadFile, max_bytes: int) -> bytes:
    if upload.size is not None and upload.size > max_bytes:
        raise TooLarge.file(clean_filename(upload.filename or "?"), upload.size, max_bytes)
    parts, total = [], 0
    while chunk := await upload.read(CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise TooLarge.file(clean_filename(upload.filename or "?"), total, max_bytes)
        parts.append(chunk)
    return b"".join(parts)

