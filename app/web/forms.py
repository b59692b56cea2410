"""Turning a refused form into a page that keeps what the student typed."""

from __future__ import annotations

from fastapi import Request

from app.deps import get_locale
from app.errors import CampError
from app.i18n import translate


def error_text(request: Request, exc: CampError) -> str:
    return translate(get_locale(request), exc.message, **exc.params)
