"""The inbox, e-mail preferences, the prize claim form and the admins' list of claims.

Every change is a POST with the CSRF token (opening an item marks it read, so it is a small
form, not a link); an item id that is not the user's answers 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app import paging
from app.deps import AdminUser, CsrfChecked, CurrentUser, SessionDep, get_locale
from app.errors import CampError
from app.i18n import translate
from app.services import notifications, prize_claims
from app.templating import render
from app.web.account import account_view
from app.web.navigation import redirect, safe_next

router = APIRouter()
Line = Annotated[str, Form(max_length=300)]


@router.get("/inbox")
def inbox_page(request: Request, session: SessionDep, user: CurrentUser, page: int = 1) -> Response:
    total = notifications.count(session, user.id)
    pages = paging.page_count(total, paging.INBOX_PAGE)
    page = max(1, min(page, pages))
    items = notifications.inbox(session, user.id, get_locale(request),
                                offset=(page - 1) * paging.INBOX_PAGE)
    return render(request, "inbox.html", items=items, page=page, pages=pages, total=total)


@router.post("/inbox/{item_id}/open", dependencies=[CsrfChecked])
def open_item(item_id: int, session: SessionDep, user: CurrentUser) -> Response:
    return redirect(safe_next(notifications.mark_read(session, user.id, item_id), "/inbox"))


@router.post("/inbox/{item_id}/read", dependencies=[CsrfChecked])
def read_item(item_id: int, session: SessionDep, user: CurrentUser) -> Response:
    notifications.mark_read(session, user.id, item_id)
    return redirect("/inbox")


@router.post("/inbox/read-all", dependencies=[CsrfChecked])
def read_all(session: SessionDep, user: CurrentUser) -> Response:
    notifications.mark_all_read(session, user.id)
    return redirect("/inbox")


@router.post("/account/notifications", dependencies=[CsrfChecked])
def save_prefs(request: Request, session: SessionDep, user: CurrentUser,
               kinds: Annotated[list[str] | None, Form()] = None,
               digest: Annotated[str, Form(max_length=5)] = "") -> Response:
    try:
        notifications.save_prefs(session, user, (kinds or [])[:20], digest == "1")
    except CampError as exc:
        session.rollback()
        return account_view(request, session, user, exc.status_code,
                            prefs_error=translate(get_locale(request), exc.message, **exc.params))
    return redirect("/account?prefs_saved=1#notifications")


# --- the prize claim form ---------------------------------------------------------------------


def _claim_page(request: Request, session: SessionDep, draw_id: int, user: CurrentUser,
                status: int = 200, **extra: object) -> Response:
    ctx = prize_claims.context_for(session, draw_id, user)
    claim = ctx.claim
    form = {"full_name": claim.full_name if claim else "", "address": claim.address if claim else "",
            "phone": claim.phone if claim else ""}
    context = {"error": None, "saved": False, "form": form, **extra}
    return render(request, "claim.html", status, ctx=ctx, claim=claim,
                  retention_days=request.app.state.settings.claim_retention_days, **context)


@router.get("/prizes/{draw_id}/claim")
def claim_page(request: Request, session: SessionDep, draw_id: int, user: CurrentUser,
               saved: int = 0) -> Response:
    return _claim_page(request, session, draw_id, user, saved=bool(saved))


@router.post("/prizes/{draw_id}/claim", dependencies=[CsrfChecked])
def claim_submit(request: Request, session: SessionDep, draw_id: int, user: CurrentUser,
                 full_name: Line = "", address: Annotated[str, Form(max_length=2000)] = "",
                 phone: Annotated[str, Form(max_length=100)] = "") -> Response:
    try:
        prize_claims.submit_claim(session, draw_id, user, full_name, address, phone)
    except CampError as exc:
        if exc.status_code != 422:
            raise
        session.rollback()
        typed = {"full_name": full_name, "address": address, "phone": phone}
        return _claim_page(request, session, draw_id, user, 422, form=typed,
                           error=translate(get_locale(request), exc.message, **exc.params))
    return redirect(f"/prizes/{draw_id}/claim?saved=1")


@router.get("/admin/claims")
def admin_claims(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    return render(request, "admin_claims.html", rows=prize_claims.claims(session),
                  retention_days=request.app.state.settings.claim_retention_days)


@router.get("/admin/claims.csv")
def admin_claims_csv(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    body = prize_claims.claims_csv(session, admin, request.app.state.settings.default_timezone)
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "content-disposition": 'attachment; filename="prize-claims.csv"', "cache-control": "no-store"})
