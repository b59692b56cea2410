"""The account page (password, API tokens) and password reset by e-mail."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from starlette.background import BackgroundTask

from app.config import Settings
from app.deps import CsrfChecked, CurrentUser, SessionDep, get_locale
from app.errors import CampError
from app.i18n import translate
from app.input_guard import small_int
from app.mail import mail_configured, send_mail
from app.models import User
from app.services import login_limits, notifications
from app.services.accounts import change_password, find_user, set_password, validate_email
from app.services.password_reset import reset_token, user_for_reset_token
from app.services.tokens import MAX_TOKEN_DAYS, create_token, revoke_token, tokens_of
from app.templating import render
from app.web.auth import client_address, log_in, refused_page
from app.web.navigation import redirect

log = logging.getLogger(__name__)
router = APIRouter()
Text = Annotated[str, Form(max_length=300)]


def account_view(request: Request, session: SessionDep, user: User, status: int = 200,
                 **extra: object) -> Response:
    context = {"notice": None, "new_token": None, "password_error": None, "token_error": None,
               "email_error": None, "prefs_error": None, **extra}
    return render(request, "account.html", status, tokens=tokens_of(session, user), user_email=user.email,
                  prefs=notifications.prefs_of(session, user.id), NOTIFY_KINDS=notifications.KINDS,
                  NOTIFY_LABELS=notifications.KIND_LABELS, **context)


@router.get("/account")
def account_page(request: Request, session: SessionDep, user: CurrentUser, changed: int = 0,
                 email_saved: int = 0, prefs_saved: int = 0) -> Response:
    locale = get_locale(request)
    notice = translate(locale, "Password changed") if changed else None
    notice = translate(locale, "E-mail address saved") if email_saved else notice
    notice = translate(locale, "Notification settings saved") if prefs_saved else notice
    return account_view(request, session, user, notice=notice)


@router.post("/account/email", dependencies=[CsrfChecked])
def change_email_form(request: Request, session: SessionDep, user: CurrentUser, email: Text = "") -> Response:
    """Where reset links go; empty removes it."""
    try:
        user.email = validate_email(email)
    except CampError as exc:
        return account_view(request, session, user, exc.status_code,
                     email_error=translate(get_locale(request), exc.message, **exc.params))
    return redirect("/account?email_saved=1")


@router.post("/account/password", dependencies=[CsrfChecked])
def change_password_form(request: Request, session: SessionDep, user: CurrentUser, current: Text,
                         new: Text, new2: Text) -> Response:
    locale = get_locale(request)
    if new != new2:
        error = translate(locale, "The two passwords differ")
        return account_view(request, session, user, 422, password_error=error)
    try:
        change_password(session, user, current, new)
    except CampError as exc:
        session.rollback()
        return account_view(request, session, user, exc.status_code,
                     password_error=translate(locale, exc.message, **exc.params))
    log_in(request, user)  # this browser stays logged in; every other one is logged out
    return redirect("/account?changed=1")


@router.post("/account/tokens", dependencies=[CsrfChecked])
def create_token_form(request: Request, session: SessionDep, user: CurrentUser, label: Text,
                      days: Annotated[str, Form(max_length=10)] = "") -> Response:
    locale = get_locale(request)
    expires = small_int(days)
    if not label.strip() or (days.strip() and (expires is None or not 1 <= expires <= MAX_TOKEN_DAYS)):
        error = translate(locale, "A token needs a name, and days between 1 and {most}", most=MAX_TOKEN_DAYS)
        return account_view(request, session, user, 422, token_error=error)
    token = create_token(session, user, label, expires)
    response = account_view(request, session, user, new_token=token)
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CsrfChecked])
def revoke_token_form(token_id: int, session: SessionDep, user: CurrentUser) -> Response:
    revoke_token(session, token_id, user)
    return redirect("/account")


# --- password reset by e-mail -----------------------------------------------------------------


@router.get("/password/forgot")
def forgot_page(request: Request) -> Response:
    return render(request, "password_forgot.html", sent=False, error=None)


@router.post("/password/forgot", dependencies=[CsrfChecked])
def forgot(request: Request, session: SessionDep, name: Text) -> Response:
    """The same answer whether or not the account exists or has an address (no name probing)."""
    settings, address = request.app.state.settings, client_address(request)
    if refused := login_limits.reset_refused(session, address):
        return refused_page(request, "password_forgot.html", refused, sent=False)
    login_limits.reset_requested(session, address)
    user = find_user(session, name)
    response = render(request, "password_forgot.html", sent=True, error=None)
    if user is not None and user.email and user.is_active and mail_configured(settings):
        # the configured address, never the request's Host header: a forged Host would mail
        # the victim a working reset link that points at the attacker's site
        base = settings.public_url.rstrip("/")
        link = f"{base}/password/reset?token={reset_token(settings.secret_key, user)}"
        locale = user.locale or get_locale(request)
        body = translate(locale, "Someone (we hope you) asked to reset the password of {name} on Camp. "
                                 "Open this link within one hour to set a new one:\n\n{link}\n\n"
                                 "If it was not you, ignore this mail.", name=user.name, link=link)
        # sent after the answer has gone out: the page never waits for SMTP, and an account with
        # an address answers as fast as a name that does not exist (no probing by timing)
        response.background = BackgroundTask(_send_reset, settings, user.id, user.email,
                                             translate(locale, "Camp: reset your password"), body)
    return response


def _send_reset(settings: Settings, user_id: int, to: str, subject: str, body: str) -> None:
    try:
        send_mail(settings, to, subject, body)
    except OSError as exc:  # the page said nothing about the account either way
        log.error("reset mail to user %s not sent: %s", user_id, exc)


@router.get("/password/reset")
def reset_page(request: Request, token: Annotated[str, Query(max_length=500)] = "") -> Response:
    return render(request, "password_reset.html", token=token, error=None)


@router.post("/password/reset", dependencies=[CsrfChecked])
def reset(request: Request, session: SessionDep, token: Annotated[str, Form(max_length=500)],
          new: Text, new2: Text) -> Response:
    locale, settings = get_locale(request), request.app.state.settings
    user = user_for_reset_token(session, settings.secret_key, token)
    if user is None:
        error = translate(locale, "This link has expired or was already used; ask for a new one")
        return render(request, "password_reset.html", 400, token=token, error=error)
    if new != new2:
        error = translate(locale, "The two passwords differ")
        return render(request, "password_reset.html", 422, token=token, error=error)
    try:
        set_password(session, user, new, user, "reset by e-mail")
    except CampError as exc:
        session.rollback()
        return render(request, "password_reset.html", exc.status_code, token=token,
                      error=translate(locale, exc.message, **exc.params))
    log_in(request, user)
    return redirect("/account?changed=1")
