"""The in-app inbox: items made where the event happens, read only by their owner.

Kinds: a reply was **graded**, or **failed** (runtime or format error, or grading that broke for
good), **reviewed** by the staff, **replied** to, **quoted**, or **won** a published draw.

Each item is made in the same transaction as its event, under a key that names the event
(`graded:<submission>:<attempt>`, `reviewed:<submission>`, `won:<draw>:<entry>`, ...) and is
unique per user: an event handled twice (a Celery retry, a form sent again) makes one item
(`INSERT ... ON CONFLICT DO NOTHING` on both databases, so a race never aborts the event's own
transaction). A review saved again renews its item (unread again, new time) instead of adding one.

A reply is a reply *to your reply* when it names your floor the way the forum always did:
`回复 #12`, `@#12`, `reply to #12`, or `#12 name` with your name (the seed's `#820 thunder95`);
a quote is the `> #12 name：` block the quote link writes. Writing in a thread is not enough
(a homework thread has thousands of repliers: every reply would notify all of them). Only
someone who may read the new reply is told of it (sealed and hidden replies tell nobody).

Items keep plain values (`params`) and are written in the reader's language when shown.
Whether an item is also mailed is decided when it is made, from the owner's preferences:
`pending` (a worker sends it, `app.queue.enqueue_mail`), `digest` (the daily digest) or `none`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import after_commit
from app.errors import Invalid, NotFound
from app.i18n import VERDICT_LABELS, lazy, translate
from app.models import Notification, NotificationPrefs, Submission, User, utcnow
from app.paging import INBOX_PAGE, floor_url
from app.queue import enqueue_mail
from app.services import visibility
from grader import catalog

KINDS = ("graded", "failed", "reviewed", "replied", "quoted", "won")
KIND_LABELS = {
    "graded": lazy("My reply was graded"),
    "failed": lazy("My reply failed (runtime or format error)"),
    "reviewed": lazy("My reply was reviewed"),
    "replied": lazy("Someone replied to my reply"),
    "quoted": lazy("Someone quoted my reply"),
    "won": lazy("I won a prize draw"),
}
MESSAGES = {
    "graded": lazy("Your reply #{floor} to homework {code} was graded: {verdict}"),
    "failed": lazy("Your reply #{floor} to homework {code} was not accepted: {verdict}"),
    "failed_infra": lazy("Grading your reply #{floor} to homework {code} failed; the staff were told"),
    "reviewed": lazy("{actor} reviewed your reply #{floor} to homework {code}"),
    "replied": lazy("{actor} replied to your reply #{floor} in homework {code}"),
    "quoted": lazy("{actor} quoted your reply #{floor} in homework {code}"),
    "won": lazy("You won a prize in “{title}” (homework {code}): tell us where to send it"),
    "won_untitled": lazy("You won a prize in draw #{draw} of homework {code}: tell us where to send it"),
}
#: verdicts about the reply's form or its code crashing: `failed`; the rest are grades
FAILED_VERDICTS = frozenset({catalog.FORMAT_ERROR, catalog.NOT_UNDERSTOOD}) | catalog.SANDBOX_VERDICTS
#: people one reply can notify by quoting or answering their floors: a reply naming thousands of
#: floors (`回复#1 回复#2 …`) would otherwise put an item, and a mail, in the whole class's inbox
MAX_TOLD_PER_REPLY = 10
#: the header shows at most this, then "99+"
BADGE_MAX = 99

_QUOTE = re.compile(r"^>\s*#(\d{1,7})\s")
_REPLY_TO = re.compile(r"(?:回复|答复|@|\breply to\b|\bre:)\s*#(\d{1,7})(?!\d)", re.IGNORECASE)
_FLOOR_NAME = re.compile(r"#(\d{1,7})[ \t\u3000]+(\S{1,64})")


# --- making items -----------------------------------------------------------------------------


def notify(session: Session, user_id: int, kind: str, key: str, params: dict[str, Any], link: str,
           *, renew: bool = False) -> int | None:
    """Add the item `key` for `user_id` once; return its id when this call made (or renewed) it.
    One statement: whether it is mailed is read from the owner's preferences inside the INSERT."""
    values = {"user_id": user_id, "kind": kind, "key": key[:120], "params": params, "link": link[:500],
              "now": utcnow()}
    row = session.execute(_notify_statement(session.get_bind().dialect.name, renew), values).one_or_none()
    if row is None:
        return None
    made, mail_state = row
    if mail_state == "pending":
        after_commit(session, lambda: enqueue_mail(made))
    return int(made)


@lru_cache(maxsize=4)
def _notify_statement(dialect: str, renew: bool) -> Any:
    """`notify`'s upsert, built once per dialect with bound parameters: building it for every
    item cost a cheap grading about a tenth of its CPU."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    user_id, kind = bindparam("user_id", type_=Integer), bindparam("kind", type_=String)
    # on the table, not the mapped class: the ORM's DML path costs twice the statement's CPU
    table = cast(Table, Notification.__table__)
    statement = insert(table).values(
        user_id=user_id, kind=kind, key=bindparam("key"),
        params=bindparam("params", type_=Notification.params.type), link=bindparam("link"),
        created_at=bindparam("now"), read_at=None, mail_state=_mail_state(user_id, kind), mail_tries=0)
    if renew:
        new = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=["user_id", "key"],
            set_={"params": new.params, "link": new.link, "created_at": new.created_at, "read_at": None,
                  "mail_state": new.mail_state, "mail_tries": 0})
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["user_id", "key"])
    return statement.returning(table.c.id, table.c.mail_state)


def _mail_state(user_id: ColumnElement[int], kind: ColumnElement[str]) -> ColumnElement[str]:
    """SQL: `pending` or `digest` when the owner has an address and wants `kind` by mail, else
    `none` (no preferences row: no mail). Kinds are this module's fixed words (no LIKE wildcards)."""
    comma = literal(",")
    prefs, users = cast(Table, NotificationPrefs.__table__).c, cast(Table, User.__table__).c
    wanted = (comma + prefs.email_kinds + comma).contains(comma + kind + comma)
    chosen = (
        select(case((prefs.digest, literal("digest")), else_=literal("pending")))
        .join_from(NotificationPrefs.__table__, User.__table__, users.id == prefs.user_id)
        .where(prefs.user_id == user_id, users.email.is_not(None), users.email != "", wanted)
        .scalar_subquery()
    )
    return func.coalesce(chosen, literal("none"))


def _about(s: Submission) -> dict[str, Any]:
    a = s.assignment
    return {"floor": s.floor, "code": a.code, "course": a.course.slug, "submission": s.id}


def graded_columns() -> list[Any]:
    """What `graded` needs of a reply, as SQL correlated to the submission: the verdict's UPDATE
    returns them (RETURNING), so the notice costs no statement of its own to look them up."""
    # written out: SQLAlchemy drops the table names of columns inside RETURNING on SQLite, which
    # makes `id` ambiguous in a subquery it builds
    code = literal_column("(SELECT assignments.code FROM assignments"
                          " WHERE assignments.id = submissions.assignment_id)", String)
    slug = literal_column("(SELECT courses.slug FROM courses"
                          " JOIN assignments ON assignments.course_id = courses.id"
                          " WHERE assignments.id = submissions.assignment_id)", String)
    c = cast(Table, Submission.__table__).c  # the table's: the ORM's DML path costs twice the CPU
    return [c.id, c.floor, c.author_id, c.status, c.verdict, code.label("code"), slug.label("slug")]


def graded(session: Session, s: Any, attempt: int) -> None:
    """The worker stored a verdict (or gave up) for attempt `attempt`: tell the author. `s` is
    the row of `graded_columns()` the verdict's UPDATE returned."""
    params: dict[str, Any] = {"floor": s.floor, "code": s.code, "course": s.slug, "submission": s.id}
    if s.status == "failed":
        kind, params["reason"] = "failed", "infrastructure"
    else:
        kind = "failed" if s.verdict in FAILED_VERDICTS else "graded"
        params["verdict"] = s.verdict or ""
    notify(session, s.author_id, kind, f"graded:{s.id}:{attempt}", params,
           floor_url(params["course"], params["code"], s.floor))


def reviewed(session: Session, submission: Submission, staff: User) -> None:
    if staff.id == submission.author_id:
        return
    params = {**_about(submission), "actor": staff.name}
    notify(session, submission.author_id, "reviewed", f"reviewed:{submission.id}", params,
           floor_url(params["course"], params["code"], submission.floor), renew=True)


def referenced_floors(text: str, names_by_floor: dict[int, str] | None = None) -> tuple[set[int], set[int]]:
    """(quoted floors, replied-to floors) named in a reply's text. `#N name` counts only when
    `names_by_floor` says floor N is `name`'s."""
    quoted: set[int] = set()
    replied: set[int] = set()
    for line in text.splitlines():
        stripped = line.strip()
        if match := _QUOTE.match(stripped):
            quoted.add(int(match[1]))
            continue
        if stripped.startswith(">"):
            continue  # the rest of a quote: the quoted reply's words, not this one's
        replied.update(int(m[1]) for m in _REPLY_TO.finditer(line))
        if names_by_floor:
            for m in _FLOOR_NAME.finditer(line):
                floor, name = int(m[1]), m[2].rstrip("：:，,。.")
                if names_by_floor.get(floor) == name:
                    replied.add(floor)
    return quoted, replied - quoted


def replied(session: Session, reply: Submission) -> None:
    """A new reply: tell the authors of the floors it quotes or answers (not its own author)."""
    if "#" not in reply.text:
        return
    candidates = {int(n) for n in re.findall(r"#(\d{1,7})", reply.text)}
    candidates = {n for n in candidates if 0 < n < reply.floor}
    if not candidates:
        return
    rows = session.execute(
        select(Submission.floor, Submission.id, User)
        .join(User, User.id == Submission.author_id)
        .where(Submission.assignment_id == reply.assignment_id, Submission.floor.in_(candidates),
               Submission.hidden.is_(False))
    ).all()
    names = {floor: user.name for floor, _sid, user in rows}
    quoted, answered = referenced_floors(reply.text, names)
    told: set[int] = set()
    for floor, _sid, user in sorted(rows, key=lambda r: r[0]):
        kind = "quoted" if floor in quoted else "replied" if floor in answered else None
        if kind is None or user.id == reply.author_id or user.id in told or not user.is_active:
            continue
        if len(told) >= MAX_TOLD_PER_REPLY:
            break
        if not visibility.sight(user, reply).body:  # sealed or hidden: they may not read it yet
            continue
        told.add(user.id)
        params = {**_about(reply), "floor": floor, "actor": reply.author.name, "from_floor": reply.floor}
        notify(session, user.id, kind, f"{kind}:{reply.id}", params,
               floor_url(params["course"], params["code"], reply.floor))


def won(session: Session, draw_id: int, title: str, code: str, winners: Sequence[dict[str, Any]]) -> None:
    """A draw was published: each winner gets an item that leads to the claim form."""
    entry_ids = [int(w["entry_id"]) for w in winners if "entry_id" in w]
    if not entry_ids:
        return
    authors = dict(session.execute(
        select(Submission.id, Submission.author_id).where(Submission.id.in_(entry_ids))).all())
    for winner in winners:
        author = authors.get(int(winner.get("entry_id", 0)))
        if author is None:
            continue
        params = {"draw": draw_id, "title": title, "code": code, "floor": winner.get("floor"),
                  "place": winner.get("place")}
        notify(session, author, "won", f"won:{draw_id}:{winner['entry_id']}", params,
               f"/prizes/{draw_id}/claim")


# --- reading them -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    id: int
    kind: str
    text: str
    #: a path on this site: the reply, or the claim form of a won prize
    link: str
    created_at: datetime
    unread: bool


def message(locale: str, kind: str, params: dict[str, Any]) -> str:
    values = {k: v for k, v in params.items() if isinstance(v, str | int | float)}
    values.setdefault("floor", "?")
    values.setdefault("code", "?")
    values.setdefault("actor", "?")
    values.setdefault("title", "?")
    verdict = str(params.get("verdict") or "")
    values["verdict"] = translate(locale, VERDICT_LABELS.get(verdict, verdict)) if verdict else "?"
    values.setdefault("draw", "?")
    msgid = MESSAGES.get(kind, kind)
    if kind == "failed" and params.get("reason") == "infrastructure":
        msgid = MESSAGES["failed_infra"]
    elif kind == "won" and not params.get("title"):
        msgid = MESSAGES["won_untitled"]
    try:
        return translate(locale, msgid, **values)
    except (KeyError, IndexError, ValueError):  # a catalog entry that lost a placeholder
        return translate("en", msgid, **values)


def unread_count(session: Session, user_id: int) -> int:
    """One statement on the (user_id, read_at, id) index: cheap enough for every page's header."""
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def inbox(session: Session, user_id: int, locale: str, offset: int = 0,
          limit: int = INBOX_PAGE) -> list[Item]:
    rows = session.scalars(select(Notification).where(Notification.user_id == user_id)
                           .order_by(Notification.id.desc()).offset(offset).limit(limit))
    return [Item(n.id, n.kind, message(locale, n.kind, n.params), n.link, n.created_at, n.read_at is None)
            for n in rows]


def count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.user_id == user_id)) or 0


def _own(session: Session, user_id: int, item_id: int) -> Notification:
    """The item, only for its owner: anyone else's id answers as if it did not exist."""
    item = session.get(Notification, item_id) if 0 < item_id < 2**31 else None
    if item is None or item.user_id != user_id:
        raise NotFound("No notification {id}", id=item_id)
    return item


def mark_read(session: Session, user_id: int, item_id: int) -> str:
    """Mark one of the user's items read; returns where it leads."""
    item = _own(session, user_id, item_id)
    if item.read_at is None:
        item.read_at = utcnow()
        session.flush()
    return item.link


def mark_all_read(session: Session, user_id: int) -> int:
    done = session.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)).values(read_at=utcnow()))
    return int(getattr(done, "rowcount", 0) or 0)


# --- preferences ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prefs:
    kinds: frozenset[str]
    digest: bool


def prefs_of(session: Session, user_id: int) -> Prefs:
    row = session.get(NotificationPrefs, user_id)
    if row is None:
        return Prefs(frozenset(), False)
    return Prefs(frozenset(k for k in row.email_kinds.split(",") if k in KINDS), row.digest)


def save_prefs(session: Session, user: User, kinds: Iterable[str], digest: bool) -> Prefs:
    chosen = set(kinds)
    if unknown := chosen - set(KINDS):
        raise Invalid("Unknown kind of notification: {kinds}", kinds=", ".join(sorted(unknown))[:100])
    if chosen and not user.email:
        raise Invalid("Save an e-mail address first: notifications are mailed to it")
    row = session.get(NotificationPrefs, user.id)
    if row is None:
        row = NotificationPrefs(user_id=user.id)
        session.add(row)
    row.email_kinds = ",".join(k for k in KINDS if k in chosen)
    row.digest = digest
    session.flush()
    return Prefs(frozenset(chosen), digest)
