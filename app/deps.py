"""Request dependencies: the database session that owns the transaction, who is asking, in which language."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.db import session_scope
from app.errors import Forbidden, NotAuthenticated
from app.i18n import LANG_COOKIE, choose_locale
from app.models import Role, User
from app.security import same_token
from app.services.tokens import user_for_token

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def get_db() -> AsyncIterator[Session]:
    """One session per request: committed when the handler succeeds, rolled back otherwise.

    An async generator on purpose: its commit runs on the event loop right after an async
    handler returns, with no await in between. Committing from the thread pool (what a sync
    generator does) first yields to the loop, and another request's async handler, blocking
    the loop on a row lock this transaction holds (the homework's floor counter), would then
    wait forever for a commit that could no longer be scheduled: two concurrent replies to one
    homework hung the server.
    """
    with session_scope() as session:
        yield session


T = TypeVar("T")


async def committed_in_thread(session: Session, work: Callable[[], T]) -> T:
    """Run `work` and commit it, both in the thread pool; roll back there when it raises.

    For async handlers that write (posting a reply): the event loop never waits on the
    database (every statement of a reply on the loop made one web process serve one reply at
    a time, however many it had accepted), and no await falls between taking a row lock (the
    homework's floor counter) and its commit, so a second reply waits for that row in its own
    thread while the first one commits in another. The request's own commit (`get_db`) then
    finds nothing left to do."""

    def run() -> T:
        try:
            result = work()
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return result

    return await run_in_threadpool(run)


# scope="function": commit *before* the response is sent, so a 201 or a redirect is only ever
# answered for work that is in the database (FastAPI's default would commit afterwards).
SessionDep = Annotated[Session, Depends(get_db, scope="function")]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or ""


def get_optional_user(request: Request, session: SessionDep) -> User | None:
    token = bearer_token(request)
    if token is not None:
        user = user_for_token(session, token) if token else None
        if user is None:
            raise NotAuthenticated("The API token is missing, invalid or revoked")
        # Write the token's last use here, in the thread pool: flushed later by an async
        # handler, its row lock would be awaited on the event loop (see get_db).
        session.flush()
        request.state.auth = "token"
        _remember(request, user)
        return user
    request.state.auth = "cookie"
    user_id = request.session.get("user_id")
    user = session.get(User, user_id) if isinstance(user_id, int) and 0 < user_id < 2**31 else None
    if user is not None and (not user.is_active or request.session.get("sv") != user.session_version):
        # logged out elsewhere, password or role changed, account disabled: this cookie is over
        request.session.pop("user_id", None)
        request.session.pop("sv", None)
        user = None
    _remember(request, user)
    return user


@dataclass(frozen=True)
class Viewer:
    """Who is looking, as plain values: pages and error handlers may render after the session closed."""

    id: int
    name: str
    role: str
    locale: str | None

    @property
    def is_staff(self) -> bool:
        return Role(self.role).is_staff


def _remember(request: Request, user: User | None) -> None:
    request.state.viewer = Viewer(user.id, user.name, user.role, user.locale) if user else None


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


def get_current_user(user: OptionalUser) -> User:
    if user is None:
        raise NotAuthenticated("Please log in first")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: Role) -> object:
    allowed = {r.value for r in roles}

    def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Forbidden("This page is for {roles} only", roles=", ".join(sorted(allowed)))
        return user

    return Depends(check)


StaffUser = Annotated[User, require_role(Role.instructor, Role.admin)]
AdminUser = Annotated[User, require_role(Role.admin)]


async def check_csrf(request: Request) -> None:
    """Every unsafe request made with the session cookie must echo the session's CSRF token.

    Bearer-token requests are exempt: a browser never attaches that header on its own.
    """
    if request.method not in UNSAFE_METHODS or bearer_token(request) is not None:
        return
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("multipart/form-data", "application/x-www-form-urlencoded")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    if not same_token(request.session.get("csrf"), given):
        raise Forbidden("The form has expired or did not come from Camp; reload the page and try again")


CsrfChecked = Depends(check_csrf)


def get_locale(request: Request) -> str:
    viewer = getattr(request.state, "viewer", None)
    # pages follow the language picked on the site; API clients may say theirs
    api = request.url.path.startswith("/api/")
    return choose_locale(
        query=request.query_params.get("lang"),
        cookie=request.cookies.get(LANG_COOKIE),
        account=viewer.locale if viewer else None,
        accept_language=request.headers.get("accept-language") if api else None,
        default=request.app.state.settings.default_locale,
    )
