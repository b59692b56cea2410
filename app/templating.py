"""The one Jinja environment: autoescaping, strict undefined, gettext, and Camp's filters."""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError

from app import paging
from app.config import PROJECT_ROOT
from app.db import session_scope
from app.deps import get_locale
from app.errors import CampError
from app.i18n import (
    LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    SUPPORTED,
    VERDICT_LABELS,
    chip_of,
    translate,
)
from app.rendered_store import stored_markdown, stored_notebook
from app.services import notifications, visibility
from app.services.course_staff import is_course_staff
from app.services.uploads import upload_limits
from grader.catalog import NOTEBOOK_CONTENT_TYPE


def new_form_token() -> str:
    """A fresh token for one rendering of a reply form: a form posted twice (a retry after a lost
    answer, a double click) files one reply (app/services/idempotency.py)."""
    return secrets.token_urlsafe(24)


@pass_context
def _gettext(ctx: Context, message: str, **params: Any) -> str:
    if any(isinstance(value, Markup) for value in params.values()):
        # markup among the values (`nobreak`): escape the sentence and the other values, keep it
        return Markup(escape(translate(ctx["locale"], message))).format(**params)
    return translate(ctx["locale"], message, **params)


@pass_context
def _localtime(ctx: Context, value: datetime | None, zone: str | None = None,
               fmt: str = "yyyy-MM-dd HH:mm") -> str:
    if value is None:
        return ""
    tz = ZoneInfo(zone or ctx.get("timezone") or ctx["site_timezone"])
    return format_datetime(value.astimezone(tz), fmt, tzinfo=tz, locale=_babel(ctx["locale"]))


@pass_context
def _number(ctx: Context, value: float | int | None, digits: int = 4) -> str:
    if value is None:
        return "—"
    return format_decimal(round(value, digits), locale=_babel(ctx["locale"]))


@pass_context
def _shown(ctx: Context, submission: Any) -> visibility.Shown:
    """What the viewing user may see of a reply (the rules live in `visibility`)."""
    return visibility.shown(ctx.get("user"), submission, ctx["locale"])


@pass_context
def _unread(ctx: Context) -> int:
    """The viewer's unread inbox items, for the header: one indexed count, once per request.
    The header of a logged-in page is never cached (only other people's replies are shared,
    app/web/thread_cache.py), so nobody sees another's count."""
    viewer, request = ctx.get("user"), ctx.get("request")
    if viewer is None or request is None:
        return 0
    cached = getattr(request.state, "unread_count", None)
    if cached is None:
        try:
            with session_scope() as session:
                cached = notifications.unread_count(session, viewer.id)
        except SQLAlchemyError:  # an error page about the database itself still renders
            cached = 0
        request.state.unread_count = cached
    return int(cached)


#: a rendered notebook larger than this is a link to its own page, not part of the thread page
#: (a staff view of 50 notebook replies would otherwise weigh tens of megabytes)
NOTEBOOK_INLINE_CHARS = 300_000


@pass_context
def _notebook(ctx: Context, attachment: Any, inline: bool = True) -> Markup:
    """A `.ipynb` attachment shown as static HTML (rendered once, app/rendered_store.py)."""
    locale = ctx["locale"]
    try:
        html = stored_notebook(attachment.sha256, attachment.filename, locale)
    except (CampError, OSError):
        text = translate(locale, "This notebook cannot be shown; download it instead.")
        return Markup('<p class="nb-note muted">') + text + Markup("</p>")
    if not inline or len(html) <= NOTEBOOK_INLINE_CHARS:
        return html
    text = translate(locale, "Open the notebook ({kb} KB shown on a page of its own)",
                     kb=len(html) // 1024)
    return Markup('<p><a data-role="notebook-link" href="/files/{}/notebook">{}</a></p>').format(
        int(attachment.id), text)


def _nobreak(value: str) -> Markup:
    """A time inside running text kept on one line: on a phone "2026-12-15 12:00" split after
    a hyphen of its date. Passed to `_()`, it stays markup inside the escaped sentence."""
    return Markup('<span class="time">{}</span>').format(value)


def _babel(locale: str) -> str:
    return "zh_Hans_CN" if locale == "zh_CN" else "en"


@lru_cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(PROJECT_ROOT / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(_=_gettext, gettext=_gettext, LANG_LABELS=LABELS, LANGS=SUPPORTED,
                       STATUS_LABELS=STATUS_LABELS, ROLE_LABELS=ROLE_LABELS,
                       VERDICT_LABELS=VERDICT_LABELS, chip_of=chip_of, shown=_shown,
                       floor_url=paging.floor_url,
                       form_token=new_form_token, unread_count=_unread,
                       BADGE_MAX=notifications.BADGE_MAX, course_staff=is_course_staff)
    env.globals.update(_page_helpers())
    env.filters.update(localtime=_localtime, number=_number, markdown=stored_markdown, nobreak=_nobreak,
                       notebook=_notebook)
    env.globals.update(NOTEBOOK_TYPE=NOTEBOOK_CONTENT_TYPE)
    return env


def _page_helpers() -> dict[str, Any]:
    """Helpers templates call, defined beside the pages they serve. Imported here, when the
    environment is first built, not registered by those modules on import: a template never
    silently loses a block because some module was not imported."""
    from app.services.entries import REASONS
    from app.web.draws import describe_rule, rewards_of, winners_line
    from app.web.student import my_submissions_view

    return {"rewards_of": rewards_of, "winners_line": winners_line, "describe_rule": describe_rule,
            "EXCLUSION_REASONS": REASONS, "my_submissions_view": my_submissions_view}


def base_context(request: Request) -> dict[str, Any]:
    """What every template may use, taken from the request (a stream keeps it after the
    request's own work is done)."""
    return {
        "request": request,
        "user": getattr(request.state, "viewer", None),
        "locale": get_locale(request),
        "csrf_token": request.session.get("csrf", ""),
        "timezone": None,  # a course's zone, when the page is about one
        "site_timezone": request.app.state.settings.default_timezone,
        "upload_limits": upload_limits(request.app.state.settings.max_upload_bytes),
    }


def render(request: Request, template: str, status_code: int = 200, /, **context: Any) -> HTMLResponse:
    return HTMLResponse(fragment(template, base_context(request), **context), status_code=status_code)


def fragment(template: str, base: dict[str, Any], /, **context: Any) -> str:
    """A template rendered to text with a `base_context` (pages, and pieces pushed to a page)."""
    return environment().get_template(template).render({**base, **context})
