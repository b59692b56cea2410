"""Checking uploaded files before they are stored: size, kind, and that images really are images."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

from PIL import Image, UnidentifiedImageError

from app.errors import Invalid, TooLarge, UnsupportedMedia
from app.i18n import megabytes
from app.oversized_form import FORM_ROOM_BYTES
from app.services.images import MAX_IMAGE_BYTES, strip_metadata
from app.services.notebooks import read_notebook
from grader import catalog

#: code packages; a notebook is one too (kind "code": private to its author and the staff,
#: handed to the grader), after `read_notebook` accepted it
CODE_SUFFIXES = {".py": "text/x-python", ".zip": "application/zip",
                 catalog.NOTEBOOK_SUFFIX: catalog.NOTEBOOK_CONTENT_TYPE}
IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif"}
MAX_FILES = 10
MAX_IMAGE_PIXELS = 40_000_000


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    data: bytes
    kind: str  # "image" | "code"
    content_type: str


@dataclass(frozen=True)
class UploadLimits:
    """What a reply may carry, as the form says it beside the file picker (sizes in MB as shown)."""

    files: int
    file_mb: str
    image_mb: str
    request_mb: str
    unpacked_mb: str
    notebook_mb: str


def upload_limits(max_upload_bytes: int) -> UploadLimits:
    return UploadLimits(MAX_FILES, megabytes(max_upload_bytes),
                        megabytes(min(MAX_IMAGE_BYTES, max_upload_bytes)),
                        megabytes(max_upload_bytes + FORM_ROOM_BYTES),
                        megabytes(catalog.PACKAGE_UNPACKED_BYTES),
                        megabytes(min(catalog.NOTEBOOK_BYTES, max_upload_bytes)))


def clean_filename(name: str) -> str:
    """The last path part of a browser-given name, printable, at most 120 characters."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = "".join(c for c in unicodedata.normalize("NFC", base) if c.isprintable())
    base = base.strip().lstrip(".")
    if not base:
        raise Invalid("A file has no usable name")
    return base[-120:]


def check_file(name: str, data: bytes, max_bytes: int) -> CheckedFile:
    filename = clean_filename(name)
    if len(data) > max_bytes:
        raise TooLarge.file(filename, len(data), max_bytes)
    if not data:
        raise Invalid("The file {name} is empty", name=filename)
    suffix = PurePosixPath(filename).suffix.lower()
    if suffix == catalog.NOTEBOOK_SUFFIX:
        read_notebook(filename, data)  # refused here, with the reason, if it cannot be read or shown
    if suffix in CODE_SUFFIXES:
        return CheckedFile(filename, data, "code", CODE_SUFFIXES[suffix])
    if suffix in IMAGE_SUFFIXES:
        if len(data) > MAX_IMAGE_BYTES:
            raise TooLarge.file(filename, len(data), MAX_IMAGE_BYTES)
        content_type = _image_type(filename, data)
        fmt = next(f for f, t in IMAGE_FORMATS.items() if t == content_type)
        return CheckedFile(filename, strip_metadata(filename, data, fmt), "image", content_type)
    raise UnsupportedMedia(
        "The file {name} is not accepted: upload images (PNG, JPEG, WebP, GIF), code (.py, .zip) or "
        "notebooks (.ipynb)",
        name=filename,
    )


def _image_type(filename: str, data: bytes) -> str:
    """Decode the whole image: a file that only claims to be an image is refused."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise TooLarge("The image {name} has too many pixels", name=filename)
            img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UnsupportedMedia(
            "The file {name} is not a valid PNG, JPEG, WebP or GIF image", name=filename
        ) from None
    if fmt not in IMAGE_FORMATS:
        raise UnsupportedMedia(
            "The file {name} is not a valid PNG, JPEG, WebP or GIF image", name=filename
        )
    return IMAGE_FORMATS[fmt]


def check_files(files: list[tuple[str, bytes]], max_bytes: int) -> list[CheckedFile]:
    if len(files) > MAX_FILES:
        raise Invalid("At most {n} files per reply", n=MAX_FILES)
    return [check_file(name, data, max_bytes) for name, data in files]
