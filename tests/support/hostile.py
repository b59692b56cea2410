"""Hostile inputs shared by the abuse tests and bench/abuse.py."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def animated_gif(frames: int, side: int) -> bytes:
    """A small file that is a lot of work: `frames` frames of `side`² pixels, a square moving."""
    images = []
    for i in range(frames):
        frame = Image.new("P", (side, side), 0)
        ImageDraw.Draw(frame).rectangle([i % side, i % side, i % side + 20, i % side + 20], fill=i % 250 + 1)
        images.append(frame)
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=40, loop=0)
    return out.getvalue()
