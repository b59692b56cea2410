"""Re-encoding uploaded images so that only pixels survive: no EXIF (GPS!), no text chunks, no
comments, nothing appended after the image data. Runs after `uploads` decoded the image once.

Orientation from EXIF is applied to the pixels first, so photos still look the way they were
taken. Animations (GIF, WebP, APNG) keep their frames and timing, within limits.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageOps, ImageSequence

from app.errors import TooLarge, UnsupportedMedia

MAX_IMAGE_BYTES = 10 * 1024 * 1024
#: an animation is re-encoded frame by frame: these bound that work (about 2 s of a core at most)
MAX_FRAMES = 200
MAX_ANIMATION_PIXELS = 30_000_000
#: per-frame info that carries rendering, not metadata
_KEEP = {"GIF": ("transparency", "background", "duration", "loop", "disposal"),
         "PNG": ("transparency",), "WEBP": ("duration", "loop", "background"), "JPEG": ()}
_SAVE = {"JPEG": {"quality": 90}, "WEBP": {"quality": 90}, "PNG": {}, "GIF": {}}


def strip_metadata(filename: str, data: bytes, fmt: str) -> bytes:
    """The image re-encoded in its own format with every metadata field dropped."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if getattr(img, "n_frames", 1) > 1:
                return _animation(filename, img, fmt)
            return _still(img, fmt)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise UnsupportedMedia(
            "The file {name} is not a valid PNG, JPEG, WebP or GIF image", name=filename
        ) from None


def _clean(frame: Image.Image, fmt: str) -> Image.Image:
    keep: dict[str | tuple[int, int], Any] = {k: frame.info[k] for k in _KEEP[fmt] if k in frame.info}
    copy = frame.copy()
    copy.info = keep
    return copy


def _still(img: Image.Image, fmt: str) -> bytes:
    upright = ImageOps.exif_transpose(img) if fmt in ("JPEG", "WEBP", "PNG") else img
    frame = _clean(upright, fmt)
    if fmt == "JPEG" and frame.mode not in ("RGB", "L", "CMYK"):
        frame = frame.convert("RGB")
    out = io.BytesIO()
    frame.save(out, fmt, **_SAVE[fmt], **{str(k): v for k, v in frame.info.items()})
    return out.getvalue()


def _animation(filename: str, img: Image.Image, fmt: str) -> bytes:
    frames_count: int = getattr(img, "n_frames", 1)
    if frames_count > MAX_FRAMES or frames_count * img.width * img.height > MAX_ANIMATION_PIXELS:
        raise TooLarge("The image {name} has too many frames", name=filename)
    frames = [_clean(frame, fmt) for frame in ImageSequence.Iterator(img)]
    durations = [f.info.get("duration", img.info.get("duration", 100)) for f in frames]
    options: dict[str, object] = {"save_all": True, "append_images": frames[1:], "duration": durations,
                                  "loop": img.info.get("loop", 0)}
    if fmt == "GIF" and "transparency" in img.info:
        options["transparency"] = img.info["transparency"]
    out = io.BytesIO()
    first = frames[0]
    first.info = {}
    first.save(out, fmt, **_SAVE[fmt], **options)
    return out.getvalue()
