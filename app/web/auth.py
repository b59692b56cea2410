"""Register, log in, log out, choose a language."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer

from app.addresses import address_key
from app.deps import LANG_COOKIE, CsrfChecked, OptionalUser, SessionDep, get_locale
from app.errors import CampError, Invalid
from app.i18n import normalize, translate
from app.models import User
from app.names import looks_like_staff
from app.security import new_csrf_token
from app.services import login_limits
from app.services.accounts import add_user, authenticate, end_sessions, find_user
from app.services.like_review import DEVICE_COOKIE, new_device_id, note_sign_up
from app.services.login_limits import Refused
from app.templating import render
from app.web.navigation import redirect, safe_next

router = APIRouter()
Text = Annotated[str, Form(max_length=300)]


def log_in(request: Request, user: User) -> None:
    # A fresh CSRF token at log-in stops a token planted before log-in from being reused; the
    # session version lets log-out, a password change, a role change or a disable end it.
    request.session.clear()
    request.session.update(user_id=user.id, sv=user.session_version, csrf=new_csrf_token())


def client_address(request: Request) -> str:
    """The peer address (uvicorn puts a trusted proxy's X-Forwarded-For there); IPv6 by its /64."""
    return address_key(request.client.host if request.client else None)


def refused_page(request: Request, template: str, refused: Refused, **context: object) -> Response:
    error = translate(get_locale(request), refused.message, **refused.params)
    response = render(request, template, 429, error=error, **context)
    response.headers["retry-after"] = str(refused.retry_after)
    return response


@router.get("/register")
def register_page(request: Request, user: OptionalUser, next: str = "/") -> Response:
    return render(request, "register.html", next=safe_next(next), error=None, name="", email="")


@router.post("/register", dependencies=[CsrfChecked])
def register(
    request: Request,
    session: SessionDep,
    name: Text,
    password: Text,
    password2: Text,
    email: Text = "",
    next: Text = "/",
) -> Response:
    locale, settings = get_locale(request), request.app.state.settings
    form = {"next": safe_next(next), "name": name, "email": email}
    if refused := login_limits.registration_refused(session, settings, client_address(request)):
        return refused_page(request, "register.html", refused, **form)
    if password != password2:
        error = translate(locale, "The two passwords differ")
        return render(request, "register.html", 422, error=error, **form)
    try:
        if looks_like_staff(name):  # staff accounts are made by an admin (`camp user add`)
            raise Invalid("The name {name} is kept for Camp's staff; choose another", name=name.strip()[:40])
        user = add_user(session, name, password, email=email)
    except CampError as exc:
        error = translate(locale, exc.message, **exc.params)
        return render(request, "register.html", exc.status_code, error=error, **form)
    login_limits.registered(session, settings, client_address(request))
    log_in(request, user)
    # where the account came from, for the staff's suspicious-like report (like_review)
    device = request.cookies.get(DEVICE_COOKIE) or new_device_id()
    note_sign_up(session, user, client_address(request), device)
    response = redirect(safe_next(next))
    response.set_cookie(DEVICE_COOKIE, device, max_age=5 * 365 * 24 * 3600, httponly=True, samesite="lax")
    return _remember_device(response, request, user)


@router.get("/login")
def login_page(request: Request, user: OptionalUser, next: str = "/") -> Response:
    return render(request, "login.html", next=safe_next(next), error=None, name="")


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    session: SessionDep,
    name: Text,
    password: Text,
    next: Text = "/",
) -> Response:
    settings, address = request.app.state.settings, client_address(request)
    form = {"next": safe_next(next), "name": name}
    device, known = _known_device(request, settings.secret_key)
    owner = find_user(session, name) if known else None
    mine = owner.id if owner is not None and owner.id in known else None  # this browser's account
    if mine is not None:
        refused = login_limits.known_device_refused(session, settings, device, mine)
    else:
        refused = login_limits.login_refused(session, settings, name, address)
    if refused:
        return refused_page(request, "login.html", refused, **form)
    user = authenticate(session, name, password)
    if user is None:
        if mine is not None:
            login_limits.known_device_failed(session, settings, device, mine)
        else:
            login_limits.login_failed(session, settings, name, address)
        error = translate(get_locale(request), "Wrong name or password")
        return render(request, "login.html", 401, error=error, **form)
    login_limits.login_succeeded(session, name, address)
    login_limits.known_device_succeeded(session, device, user.id)
    log_in(request, user)
    return _remember_device(redirect(safe_next(next)), request, user)


#: this browser logged in to these accounts before (signed): its wrong passwords are counted on
#: their own, so nobody else's can lock it out (app/services/login_limits.py)
KNOWN_COOKIE = "camp_known"
KNOWN_DAYS = 180
KNOWN_ACCOUNTS = 5


def _remember_device(response: Response, request: Request, user: User) -> Response:
    """This browser now knows `user`'s account (kept with up to four others it knew)."""
    settings = request.app.state.settings
    device, known = _known_device(request, settings.secret_key)
    accounts = [user.id, *(uid for uid in known if uid != user.id)][:KNOWN_ACCOUNTS]
    value = _known_serializer(settings.secret_key).dumps({"d": device, "u": accounts})
    response.set_cookie(KNOWN_COOKIE, value, max_age=KNOWN_DAYS * 24 * 3600, httponly=True,
                        samesite="lax", secure=settings.secure_cookies)
    return response


def _known_serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="camp.known-device")


def _known_device(request: Request, secret: str) -> tuple[str, set[int]]:
    """(this browser's device id, the accounts it logged in to); a new id when it has none."""
    try:
        data = _known_serializer(secret).loads(request.cookies.get(KNOWN_COOKIE, ""))
    except BadSignature:
        data = None
    if isinstance(data, dict) and isinstance(data.get("d"), str) and isinstance(data.get("u"), list):
        return data["d"][:64], {u for u in data["u"] if type(u) is int}
    return secrets.token_urlsafe(16), set()


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    """Ends this session and every other of the account: a copied cookie stops working too."""
    if user is not None:
        end_sessions(user)
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
