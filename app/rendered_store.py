"""Rendered Markdown and notebooks, stored once:
`DATA_DIR/rendered/<sha256>.html`, shared by every web process
that shares the data directory (docker-compose mounts one volume for all of them).

Some texts take markdown-it seconds (64 KB of `[`: ten such replies made every view of their
page take 9.6 s). A text is rendered the first time a page shows it, then read back; the key
covers the text, the attachments it may show and `RENDERER`, so a change of the renderer or of
an edited reply's text renders anew. A small in-memory LRU saves the file read for hot texts.

Notebook attachments are stored the same way, keyed by the file's SHA-256, the reader's language
(the notes inside are translated) and both renderers' versions. They are rendered while their
upload is handled (`prerender_notebook`); a page that finds none (a renderer change) reads the
notebook from the blob store and renders it once.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

from app import storage
from app.config import get_settings
from app.i18n import SUPPORTED
from app.rich_text import NamedFile, render_markdown
from app.services.notebook_render import render_notebook
from app.services.notebooks import read_notebook

#: bump when app/rich_text.py renders differently, so stored pages are not reused
RENDERER = "3"  # 2: `*` between numbers stays a multiplication; 3: math as MathML
#: bump when app/services/notebook_render.py renders differently
NOTEBOOK_RENDERER = "2"  # 2: budgets for image bytes and outputs


def stored_markdown(text: str | None, attachments: Iterable[NamedFile] = ()) -> Markup:
    files = list(attachments)
    images = tuple(sorted((f.filename, f.id) for f in files if f.kind == "image"))
    key = hashlib.sha256(json.dumps([RENDERER, text or "", images]).encode()).hexdigest()
    return _stored(get_settings().data_dir / "rendered", key, text or "", images)


def stored_notebook(sha256: str, filename: str, locale: str) -> Markup:
    """A stored `.ipynb` attachment as static HTML (app/services/notebook_render.py). Not kept
    in memory as well: a rendering can be megabytes, and the file read is cheap."""
    path = _notebook_path(sha256, locale)
    try:
        return Markup(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        pass
    html = str(render_notebook(read_notebook(filename, storage.get(sha256)), locale))
    _write(path, path.stem, html)
    return Markup(html)


def prerender_notebook(filename: str, data: bytes) -> None:
    """Render an uploaded notebook in every language while its upload is handled (in the thread
    pool), so that no page view pays for it: the worst budgeted notebook takes seconds."""
    sha256 = hashlib.sha256(data).hexdigest()
    notebook = None
    for locale in SUPPORTED:
        path = _notebook_path(sha256, locale)
        if not path.exists():
            notebook = notebook or read_notebook(filename, data)
            _write(path, path.stem, str(render_notebook(notebook, locale)))


def _notebook_path(sha256: str, locale: str) -> Path:
    key = hashlib.sha256(json.dumps(["notebook", NOTEBOOK_RENDERER, RENDERER, sha256, locale])
                         .encode()).hexdigest()
    return get_settings().data_dir / "rendered" / key[:2] / f"{key}.html"


@lru_cache(maxsize=512)
def _stored(folder: Path, key: str, text: str, images: tuple[tuple[str, int], ...]) -> Markup:
    path = folder / key[:2] / f"{key}.html"
    try:
        return Markup(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        pass
    html = str(render_markdown(text, [_File(name, file_id) for name, file_id in images]))
    _write(path, key, html)
    return Markup(html)


def _write(path: Path, key: str, html: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{key}.{secrets.token_hex(4)}")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)  # whole or absent: a reader never sees half a page


class _File:
    kind = "image"

    def __init__(self, filename: str, file_id: int) -> None:
        self.filename, self.id = filename, file_id
