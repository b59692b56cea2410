"""Translations: English msgids, catalogs read from `locales/<lang>/LC_MESSAGES/messages.po`.

The .po files are the source of truth and are parsed at start-up, so a fresh clone needs no
compile step. English is the identity translation.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from babel.messages.pofile import read_po

from app.config import PROJECT_ROOT
from grader import catalog as grader_catalog

LOCALES_DIR = PROJECT_ROOT / "locales"
SUPPORTED = ("zh_CN", "en")
LABELS = {"zh_CN": "中文", "en": "English"}
STATUS_LABELS: dict[str, str] = {}  # filled below, once `lazy` exists
ROLE_LABELS: dict[str, str] = {}
VERDICT_LABELS: dict[str, str] = {}


@lru_cache
def catalog(locale: str) -> dict[str, str]:
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with Path(path).open("rb") as fh:
        po = read_po(fh, locale=locale)
    return {m.id: m.string for m in po
            if m.id and isinstance(m.id, str) and m.string and isinstance(m.string, str)}


def normalize(locale: str | None) -> str | None:
    """Map `zh`, `zh-CN`, `zh_cn`, `en-US` ... to a supported locale, or None."""
    if not locale:
        return None
    tag = locale.replace("-", "_").lower()
    if tag.startswith("zh"):
        return "zh_CN"
    if tag.startswith("en"):
        return "en"
    return None


#: the cookie that remembers the language picked in the header
LANG_COOKIE = "camp_lang"


def choose_locale(*, query: str | None, cookie: str | None, default: str, account: str | None = None,
                  accept_language: str | None = None) -> str:
    """The one rule for a request's language: `?lang=`, then the cookie, then the account's
    setting, then (API clients only pass it) the first Accept-Language tag, then the default."""
    first = (accept_language or "").split(",")[0].split(";")[0]
    return (normalize(query) or normalize(cookie) or normalize(account) or normalize(first)
            or default)


def scope_locale(scope: Mapping[str, Any], default: str) -> str:
    """`choose_locale` for ASGI middleware that answers before a Request exists (anonymous:
    the query and the cookie only)."""
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    header = dict(scope.get("headers", [])).get(b"cookie", b"").decode("latin-1")
    cookie = next((value for key, _, value in (part.strip().partition("=") for part in header.split(";"))
                   if key == LANG_COOKIE), None)
    return choose_locale(query=query.get("lang"), cookie=cookie, default=default)


def translate(locale: str, message: str, **params: Any) -> str:
    text = catalog(locale).get(message, message) if locale != "en" else message
    return text.format(**params) if params else text


class LazyText(str):
    """A msgid to translate later, when the reader's language is known (errors, flash notes)."""

    __slots__ = ()


def lazy(message: str) -> LazyText:
    return LazyText(message)


STATUS_LABELS.update(
    queued=lazy("Queued"),
    running=lazy("Grading"),
    scored=lazy("Graded"),
    failed=lazy("Grading failed"),
    rejected=lazy("Rejected"),
)
ROLE_LABELS.update(student=lazy("Student"), instructor=lazy("Instructor"), admin=lazy("Admin"))
# the grader's verdicts, labelled in its catalog; translated here like every other label
VERDICT_LABELS.update({verdict: lazy(label) for verdict, label in grader_catalog.VERDICT_LABELS.items()})


def chip_of(status: str, verdict: str | None) -> tuple[str, str]:
    """The status chip of a reply: its css key and label (an untranslated msgid). A graded run
    that crashed, timed out or ran out of memory is not a green "Graded": it shows its verdict,
    in red."""
    if status == "scored" and verdict in grader_catalog.SANDBOX_VERDICTS:
        return "crashed", VERDICT_LABELS[verdict]
    return status, STATUS_LABELS[status]


def megabytes(size: int) -> str:
    """A size as pages and errors say it: binary megabytes (as file managers count them), so a file
    a student's computer shows as 21 MB is never told it is under a "22.0 MB" limit."""
    return f"{round(size / 1024**2, 1):g}"
