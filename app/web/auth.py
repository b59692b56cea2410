"""Register, log in, log out, choose a language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.deps import LANG_COOKIE, CsrfChecked, OptionalUser, SessionDep, get_locale
from app.errors import CampError
from app.i18n import normalize, translate
from app.security import new_csrf_token
from app.services.accounts import add_user, authenticate
from app.services.like_review import DEVICE_COOKIE, new_device_id, note_sign_up
from app.templating import render
from app.web.navigation import redirect, safe_next

router = APIRouter()


def _log_in(request: Request, user_id: int) -> None:
    # A fresh CSRF token at log-in stops a token planted before log-in from being reused.
    request.session.clear()
    request.session.update(user_id=user_id, csrf=new_csrf_token())


@router.get("/register")
def register_page(request: Request, user: OptionalUser, next: str = "/") -> Response:
    return render(request, "register.html", next=safe_next(next), error=None, name="")


@router.post("/register", dependencies=[CsrfChecked])
def register(
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    password2: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    locale = get_locale(request)
    if password != password2:
        error = translate(locale, "The two passwords differ")
        return render(request, "register.html", 422, next=safe_next(next), error=error, name=name)
    try:
        user = add_user(session, name, password)
    except CampError as exc:
        error = translate(locale, exc.message, **exc.params)
        return render(request, "register.html", exc.status_code, next=safe_next(next), error=error,
                      name=name)
    _log_in(request, user.id)
    # where the account came from, for the staff's suspicious-like report (like_review)
    device = request.cookies.get(DEVICE_COOKIE) or new_device_id()
    note_sign_up(session, user, request.client.host if request.client else "", device)
    response = redirect(safe_next(next))
    response.set_cookie(DEVICE_COOKIE, device, max_age=5 * 365 * 24 * 3600, httponly=True, samesite="lax")
    return response


@router.get("/login")
def login_page(request: Request, user: OptionalUser, next: str = "/") -> Response:
    return render(request, "login.html", next=safe_next(next), error=None, name="")


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    user = authenticate(session, name, password)
    if user is None:
        error = translate(get_locale(request), "Wrong name or password")
        return render(request, "login.html", 401, next=safe_next(next), error=error, name=name)
    _log_in(request, user.id)
    return redirect(safe_next(next))


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request) -> Response:
    request.session.clear()
    return redirect("/")


@router.get("/lang/{locale}")
def choose_language(locale: str, request: Request, session: SessionDep, user: OptionalUser,
                    next: str = "/") -> RedirectResponse:
    chosen = normalize(locale) or request.app.state.settings.default_locale
    if user is not None:
        user.locale = chosen
    response = redirect(safe_next(next))
    response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax")
    return response
