"""The public side of draw integrity: the site's Ed25519 key at a well-known URL and the
draw-related audit entries with the signed chain head (docs/draws.md §11.6)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.deps import SessionDep
from app.draws.signing import ALG
from app.models import AuditEntry
from app.services import audit
from app.services.draw_signing import public_key, signed_head

router = APIRouter(tags=["draws"])


@router.get("/.well-known/camp-draw-key")
def draw_key() -> dict[str, Any]:
    """The key that signs version 3 draw records and audit-chain heads."""
    return {"alg": ALG, "public_key": public_key()}


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    """Everything its hash covers, so anyone can recompute it (`app.services.audit.entry_hash`)."""
    return {"seq": entry.id, "at": entry.at.isoformat(), "actor_id": entry.actor_id,
            "action": entry.action, "subject": entry.subject, "data": entry.data,
            "prev_hash": entry.prev_hash, "hash": entry.hash}


@router.get("/api/v1/audit/draws")
def draw_audit(session: SessionDep) -> dict[str, Any]:
    """Every `draw.*` entry of the audit log in chain order, and the signed head of the whole
    chain now. A record's `audit_head` must be listed here with the same hash, and its draw's
    entries before it; a cut or rewritten log no longer shows them."""
    entries = audit.entries_of(session, "draw.")
    last = audit.last_entry(session)
    head = None if last is None else signed_head(last.id, last.hash)
    return {"entries": [entry_json(e) for e in entries], "head": head}
