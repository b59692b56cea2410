"""Draws in the database: commit -> freeze -> reveal (or abort), each step audited.

The pure protocol (`app.draws`) decides; this module loads a draw row, locks it, runs the
pure step, and writes the result back with an UPDATE that only succeeds from the expected
status. Two admins acting at once therefore get one result: the row lock (PostgreSQL) or
SQLite's single writer makes the second one see the new status and fail with a conflict.
The seed is generated here, stored in the row, and published only by reveal or abort.

A draw is replaced by a new one (`replace_draw`) once aborted, or once revealed when winners
withdraw: the replacement then carries the withdrawal, draws as many as withdrew by the same
kind of rule, and its list is the revealed draw's frozen list without any of its winners.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import draws as pure
from app.draws import (
    DrawError,
    DrawRecord,
    Entry,
    Excluded,
    Withdrawal,
    record_to_json,
    rule_from_json,
    winner_from_json,
    withdrawal_from_json,
)
from app.errors import CampError, Conflict, Forbidden, Invalid, NotFound
from app.models import Assignment, AuditEntry, Course, Draw, Submission, User, utcnow
from app.services import notifications
from app.services.audit import record as audit
from app.services.course_lock import lock_course
from app.services.draw_signing import sign_record
from app.services.entries import (
    EntrySet,
    Exclusion,
    Options,
    RewardSpec,
    collect_entries,
    eligibility_text,
    parse_reward,
    with_course_rules,
)

#: DrawError codes that mean "not now / not in this state" rather than "bad input"
CONFLICT_CODES = frozenset({
    "state.wrong_status", "replace.not_aborted", "freeze.before_commit", "reveal.before_freeze",
    "abort.too_early", "seed.mismatch", "seed.malformed", "replace.withdrawn_on_aborted",
    "replace.fixed_ranks", "freeze.after_beacon", "reveal.beacon_not_yet", "abort.after_beacon",
})
#: a replacement's announced freeze time, unless the admin gives one: its list is known already
REPLACEMENT_FREEZE_DELAY = timedelta(minutes=10)


class DrawRefused(CampError):
    """A `DrawError` as an HTTP error; the message is already in the reader's language."""

    def __init__(self, exc: DrawError, locale: str) -> None:
        super().__init__(exc.message(locale))
        self.code = exc.code
        self.status_code = 409 if exc.code in CONFLICT_CODES else 422


def get_draw(session: Session, draw_id: int, *, lock: bool = False) -> Draw:
    query = select(Draw).where(Draw.id == draw_id)
    if lock:
        query = query.with_for_update()
    draw = session.scalar(query)
    if draw is None:
        raise NotFound("No draw {id}", id=draw_id)
    return draw


def _names(session: Session, draw: Draw) -> tuple[Assignment, Course]:
    assignment = session.get(Assignment, draw.assignment_id)
    assert assignment is not None
    return assignment, assignment.course


#: what the pure record names otherwise than the row, or holds in another form
_CONVERTED = frozenset({"draw_id", "course", "assignment", "rule", "committed_at", "replaces_draw_id", "seed",
                        "winners", "withdrawal", "version", "late"})
#: the rest: the row keeps it under the same name, as it is
_AS_STORED = tuple(f.name for f in fields(DrawRecord)
                   if f.name not in _CONVERTED and f.name in Draw.__table__.c)


def to_record(session: Session, draw: Draw) -> DrawRecord:
    """The pure record of a row; the seed only once revealed or aborted."""
    assignment, course = _names(session, draw)
    return DrawRecord(
        draw_id=draw.id,
        course=course.slug,
        assignment=assignment.code,
        rule=rule_from_json(draw.rule),
        committed_at=draw.created_at,
        replaces_draw_id=draw.replaces_id,
        seed=draw.seed if draw.status in ("revealed", "aborted") else None,
        winners=tuple(winner_from_json(w) for w in draw.winners or []),
        withdrawal=None if draw.withdrawal is None else withdrawal_from_json(
            draw.withdrawal, version=draw.version or 2),
        version=draw.version or 0,
        late=bool(draw.late),
        **{name: getattr(draw, name) for name in _AS_STORED},
    )


def public_record(session: Session, draw: Draw) -> dict[str, Any]:
    """The record as served: a version 3 record signed with the site's Ed25519 key."""
    return sign_record(record_to_json(to_record(session, draw)))


def criteria_of(options: Options) -> dict[str, Any]:
    """Every eligibility option as the record's `criteria`: scalars only (a decimal as its
    canonical text, the accounts whose likes the staff excluded as their ids, comma-separated)."""
    criteria: dict[str, Any] = {}
    for name, value in options.to_json().items():
        if isinstance(value, float):
            value = pure.canonical_score(value)
        elif isinstance(value, list):  # excluded_likers: [{"id", "name", "reason"}, ...]
            value = ",".join(str(item["id"]) for item in value)
        criteria[name] = value
    return criteria


def reward_spec(assignment: Assignment, rule_index: int | None,
                rule: dict[str, Any] | None) -> RewardSpec:
    if (rule_index is None) == (rule is None):
        raise Invalid("Give either rule_index (a reward rule of the homework) or an explicit rule")
    if rule is not None:
        return with_course_rules(parse_reward(rule), assignment)
    rules = assignment.reward_rules or []
    if rule_index is None or not 0 <= rule_index < len(rules):
        raise NotFound("Homework {code} has no reward rule {index}", code=assignment.code,
                       index=rule_index)
    return with_course_rules(parse_reward(rules[rule_index]), assignment)


def _check_no_live_draw(session: Session, assignment: Assignment, rule_index: int) -> None:
    live = session.scalar(select(Draw.id).where(
        Draw.assignment_id == assignment.id, Draw.rule_index == rule_index, Draw.status != "aborted"))
    if live is not None:
        raise Conflict("Reward rule {index} already has draw {id}; abort it before drawing again",
                       index=rule_index, id=live)


def _check_no_twin(session: Session, assignment: Assignment, rule_index: int | None, kind: str) -> None:
    """No two draws of one kind run side by side on a homework when either is an explicit rule.
    Otherwise an admin commits the homework's lottery and an explicit twin for the same prize
    (another freeze time, so another drand round), learns both results once both rounds are out
    (the admin holds both seeds), reveals the one a friend wins and leaves the other frozen: a
    lottery cannot be aborted after its round, but nothing made anyone reveal it. The homework's
    own rules keep their own check (`_check_no_live_draw`): two rules of one kind may run at once."""
    query = select(Draw.id, Draw.rule).where(Draw.assignment_id == assignment.id,
                                             Draw.status.in_(("committed", "frozen")))
    if rule_index is not None:
        query = query.where(Draw.rule_index.is_(None))
    for draw_id, rule in session.execute(query.order_by(Draw.id)):
        if rule.get("kind") == kind:
            raise Conflict("Draw {id} of homework {code} ({kind}) is not revealed yet: another {kind} draw "
                           "cannot run beside it, or one result could be kept and the other withheld; "
                           "reveal or abort draw {id} first", id=draw_id, code=assignment.code, kind=kind)


def _may_conflict(replaces: DrawRecord | None) -> bool:
    """Whether a new draw of a reward rule must check for a live draw of the same rule: a new
    draw, or one replacing a plain aborted draw. A replacement for withdrawn winners runs while
    the revealed draw holds the rule, and the protocol refuses any other replacement itself."""
    return replaces is None or (replaces.status == "aborted" and replaces.withdrawal is None)


def _replaced(session: Session, draw_id: int) -> tuple[Draw, DrawRecord]:
    """The draw to replace, locked; refused if another draw replaced it already."""
    old = get_draw(session, draw_id, lock=True)
    newer = replaced_by(session, old)
    if newer is not None:
        raise Conflict("Draw {id} was already replaced by draw {new}", id=draw_id, new=newer)
    return old, to_record(session, old)


def _eligibility(spec: RewardSpec, replaces: DrawRecord | None, withdrawn: Sequence[int]) -> str:
    """The record's eligibility text; a replacement for withdrawn winners says whom it leaves out."""
    base = eligibility_text(spec.rule, spec.options)
    if replaces is None:
        return base
    if replaces.status == "aborted":
        return replaces.eligibility if replaces.withdrawal is not None else base
    if not withdrawn:
        return base  # refused by the protocol
    text = replaces.eligibility
    zh, en = text.split(" / ", 1) if " / " in text else (text, text)
    drawn = replaces.draw_id
    return (f"{zh}；抽奖 {drawn} 的冻结名单去掉其全部中奖者（含放弃者） / "
            f"{en}; draw {drawn}'s frozen list without any of its winners (those who withdrew included)")


@dataclass(frozen=True)
class NewDraw:
    """What a commit writes besides the seed: the rule and how its entries are chosen."""

    spec: RewardSpec
    rule_index: int | None
    freeze_at: datetime
    prize: str


def _insert(session: Session, assignment: Assignment, actor: User, new: NewDraw, now: datetime,
            replaces: DrawRecord | None = None, withdrawn: Sequence[int] = (),
            reason: str | None = None, late: bool = False, withdrawn_by: str = "staff") -> Draw:
    """Store a committed draw; the pure step checks the times and the replacement (on refusal
    the request rolls back)."""
    seed, spec = pure.new_seed(), new.spec
    row = Draw(
        assignment_id=assignment.id, rule=spec.rule.to_json(), rule_index=new.rule_index,
        options=spec.options.to_json(), title=spec.title, prize=new.prize,
        eligibility=_eligibility(spec, replaces, withdrawn), status="committed", seed=seed,
        commitment=pure.commitment_of(seed), freeze_at=new.freeze_at,
        replaces_id=None if replaces is None else replaces.draw_id, created_by_id=actor.id,
        created_at=now,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # SQLite has no row lock: the unique replaces_id decides the race
        raise Conflict("Draw {id} was already replaced", id=row.replaces_id) from None
    published = pure.v3.commit(
        draw_id=row.id, course=assignment.course.slug, assignment=assignment.code,
        rule=spec.rule, seed=seed, committed_at=now, freeze_at=row.freeze_at,
        deadline=assignment.due_at, criteria=criteria_of(spec.options), late=late,
        eligibility=row.eligibility, prize=row.prize, replaces=replaces, withdrawn=withdrawn,
        withdrawal_reason=reason, withdrawn_by=withdrawn_by,
    )
    row.freeze_at = published.freeze_at
    row.withdrawal = None if published.withdrawal is None else published.withdrawal.to_json()
    row.version, row.deadline, row.late = 3, published.deadline, published.late
    row.criteria, row.beacon_round = dict(published.criteria or {}), published.beacon_round
    row.metadata_hash, row.commitment = published.metadata_hash, published.commitment
    audit(session, actor, "draw.commit", f"draw:{row.id}", {
        "course": published.course, "assignment": published.assignment,
        "rule": published.rule.to_json(), "options": row.options, "prize": row.prize,
        "commitment": published.commitment, "freeze_at": pure.format_time(published.freeze_at),
        "replaces_draw_id": row.replaces_id, "withdrawal": row.withdrawal, "version": 3,
        "metadata_hash": published.metadata_hash, "beacon_round": published.beacon_round,
        "late": published.late,
    })
    return row


def _hold_homework(session: Session, assignment: Assignment) -> None:
    """Take the course lock (app/services/course_lock.py), then read the homework again: the
    commit publishes the deadline and rule as they are, and a load of the course waits for it."""
    lock_course(session, assignment.course_id, shared=True)
    session.refresh(assignment)


def commit_draw(
    session: Session,
    assignment: Assignment,
    actor: User,
    *,
    rule_index: int | None = None,
    rule: dict[str, Any] | None = None,
    freeze_at: datetime | None = None,
    prize: str | None = None,
    replaces_id: int | None = None,
    late: bool = False,
    now: datetime | None = None,
) -> Draw:
    """Publish the commitment (seed and metadata, record version 3) for a new draw; the seed
    stays in the row. After the homework's deadline only a declared `late` draw is accepted.
    `replaces_id`: an aborted draw (with a rule of one's choice; see `replace_draw` for the
    same rule, and for a revealed draw whose winners withdrew)."""
    now = (now or utcnow()).replace(microsecond=0)
    _hold_homework(session, assignment)
    spec = reward_spec(assignment, rule_index, rule)
    replaces = None if replaces_id is None else _replaced(session, replaces_id)[1]
    if _may_conflict(replaces):
        if rule_index is not None:
            _check_no_live_draw(session, assignment, rule_index)
        _check_no_twin(session, assignment, rule_index, spec.rule.kind)
    new = NewDraw(spec, rule_index, freeze_at or assignment.due_at, prize or spec.prize)
    return _insert(session, assignment, actor, new, now, replaces, late=late)


def _replacement_spec(old: Draw, record: DrawRecord, withdrawn: int) -> RewardSpec:
    """A revealed draw is replaced by the same kind of rule for as many as withdrew; an
    aborted one by its own rule."""
    if record.status == "revealed":
        rule = pure.replacement_rule(record, max(1, withdrawn))
    else:
        rule = record.rule
    return RewardSpec(rule, Options.from_json(old.options), old.title, old.prize)


def replace_draw(
    session: Session,
    draw_id: int,
    actor: User,
    *,
    withdrawn: Sequence[int] = (),
    reason: str | None = None,
    freeze_at: datetime | None = None,
    prize: str | None = None,
    withdrawn_by: str = "staff",
    now: datetime | None = None,
) -> Draw:
    """Commit the draw that replaces draw `draw_id`: for a revealed draw, its `withdrawn`
    winners (entry ids) gave up their prize for `reason`; an aborted draw is drawn again with
    its rule (and the withdrawal it carried). The announced freeze time defaults to
    REPLACEMENT_FREEZE_DELAY after now."""
    now = (now or utcnow()).replace(microsecond=0)
    old, record = _replaced(session, draw_id)
    assignment, _ = _names(session, old)
    _hold_homework(session, assignment)
    spec = _replacement_spec(old, record, len(withdrawn))
    if old.rule_index is not None and _may_conflict(record):
        _check_no_live_draw(session, assignment, old.rule_index)
    default_freeze = max(now + REPLACEMENT_FREEZE_DELAY, assignment.due_at)
    new = NewDraw(spec, old.rule_index, freeze_at or default_freeze, prize or old.prize)
    late = now >= assignment.due_at  # a replacement is committed knowing its list
    row = _insert(session, assignment, actor, new, now, record, withdrawn, reason, late=late,
                  withdrawn_by=withdrawn_by)
    if record.status == "revealed" and row.withdrawal is not None:
        audit(session, actor, "draw.withdraw", f"draw:{old.id}", {
            "withdrawn": row.withdrawal["withdrawn_entry_ids"], "reason": row.withdrawal["reason"],
            "excluded": row.withdrawal["excluded_entry_ids"], "replacement_draw_id": row.id,
        })
    return row


def _write(session: Session, draw: Draw, expected: tuple[str, ...], **values: Any) -> None:
    """UPDATE only from an expected status; anything else means someone else got there first."""
    result = session.execute(
        update(Draw).where(Draw.id == draw.id, Draw.status.in_(expected)).values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("Another admin changed this draw at the same moment; reload the page")
    session.refresh(draw)


def _winner_exclusion(winner: dict[str, Any], withdrawal: Withdrawal) -> Exclusion:
    gave_up = winner["entry_id"] in withdrawal.withdrawn
    params: dict[str, Any] = {"draw_id": withdrawal.draw_id}
    if gave_up:
        params["reason"] = withdrawal.reason
    return Exclusion(winner["entry_id"], winner["floor"], winner["name"],
                     "withdrew" if gave_up else "prize_kept", params)


def replacement_entries(session: Session, withdrawal: Withdrawal) -> EntrySet:
    """The revealed draw's list without its winners, and why each reply is left out: its own
    exclusions, plus its winners (keeping the prize, or withdrawn)."""
    source = get_draw(session, withdrawal.draw_id)
    entries = pure.replacement_entries(to_record(session, source), withdrawal)
    excluded = [Exclusion(**e) for e in source.excluded or []]
    excluded += [_winner_exclusion(w, withdrawal) for w in source.winners or []]
    excluded.sort(key=lambda e: e.floor)
    return EntrySet(entries, excluded, 0)


def preview_entries(session: Session, draw: Draw, at: datetime | None = None) -> EntrySet:
    if draw.withdrawal is not None:
        return replacement_entries(session, withdrawal_from_json(draw.withdrawal, version=draw.version or 2))
    assignment, _ = _names(session, draw)
    return collect_entries(session, assignment, rule_from_json(draw.rule),
                           Options.from_json(draw.options), at or utcnow())


def freeze_draw(
    session: Session,
    draw_id: int,
    actor: User,
    *,
    early_freeze_reason: str | None = None,
    public_value_source: str | None = None,
    allow_pending: bool = False,
    now: datetime | None = None,
) -> Draw:
    """Freeze the entry list now and publish it with its hash."""
    now = now or utcnow()
    draw = get_draw(session, draw_id, lock=True)
    current = to_record(session, draw)
    if current.status != "committed":
        raise DrawError("state.wrong_status", expected="committed", status=current.status)
    found = preview_entries(session, draw, now)
    if found.pending and not allow_pending:
        raise Conflict("{n} replies are still being graded; freeze when they are done, or leave "
                       "them out explicitly (allow_pending)", n=found.pending)
    if current.version == 3:  # the beacon round was named at commit: no public value source
        excluded = [Excluded(e.submission_id, e.floor, e.reason) for e in found.excluded]
        frozen = pure.v3.freeze(current, found.entries, excluded, frozen_at=now,
                                early_freeze_reason=early_freeze_reason)
    else:
        frozen = pure.freeze(current, found.entries, frozen_at=now,
                             early_freeze_reason=early_freeze_reason,
                             public_value_source=public_value_source)
    _write(session, draw, ("committed",), status="frozen", frozen_at=frozen.frozen_at,
           early_freeze_reason=frozen.early_freeze_reason,
           public_value_source=frozen.public_value_source, frozen_list=frozen.frozen_list,
           list_hash=frozen.list_hash, entry_count=frozen.entry_count,
           excluded=[e.to_json() for e in found.excluded], excluded_list=frozen.excluded_list,
           excluded_hash=frozen.excluded_hash, excluded_count=frozen.excluded_count)
    audit(session, actor, "draw.freeze", f"draw:{draw.id}", {
        "frozen_at": pure.format_time(now), "list_hash": frozen.list_hash,
        "entry_count": frozen.entry_count, "excluded": len(found.excluded),
        "early_freeze_reason": frozen.early_freeze_reason,
        "public_value_source": frozen.public_value_source,
    })
    return draw


def reveal_draw(session: Session, draw_id: int, actor: User, *, public_value: str | None = None,
                beacon_signature: str | None = None, now: datetime | None = None) -> Draw:
    """Reveal with the stored seed (checked against the commitment) and store the winners. A
    version 3 lottery takes the drand signature of its committed round (`beacon_signature`)."""
    draw = get_draw(session, draw_id, lock=True)
    current = to_record(session, draw)
    if current.version == 3:
        revealed = pure.v3.reveal(current, seed=draw.seed, revealed_at=now or utcnow(),
                                  beacon_signature=beacon_signature)
    else:
        revealed = pure.reveal(current, seed=draw.seed, revealed_at=now or utcnow(),
                               public_value=public_value)
    assert revealed.revealed_at is not None
    _write(session, draw, ("frozen",), status="revealed", revealed_at=revealed.revealed_at,
           public_value=revealed.public_value, key=revealed.key,
           beacon_signature=revealed.beacon_signature,
           winners=[w.to_json() for w in revealed.winners])
    entry = audit(session, actor, "draw.reveal", f"draw:{draw.id}", {
        "revealed_at": pure.format_time(revealed.revealed_at), "seed": revealed.seed,
        "public_value": revealed.public_value, "key": revealed.key,
        "beacon_round": revealed.beacon_round, "beacon_signature": revealed.beacon_signature,
        "winners": [w.entry_id for w in revealed.winners],
    })
    _keep_head(session, draw, entry)
    assignment, _course = _names(session, draw)
    notifications.won(session, draw.id, draw.title or draw.prize, assignment.code, draw.winners or [])
    return draw


def _keep_head(session: Session, draw: Draw, entry: AuditEntry) -> None:
    """A version 3 record carries the audit chain head at its reveal or abort."""
    if draw.version == 3:
        draw.audit_head = {"seq": entry.id, "hash": entry.hash}
        session.flush()


def abort_draw(session: Session, draw_id: int, actor: User, *, reason: str,
               now: datetime | None = None) -> Draw:
    """Stop a draw before reveal; it stays public with its reason and its seed."""
    draw = get_draw(session, draw_id, lock=True)
    aborted = pure.abort(to_record(session, draw), reason=reason, seed=draw.seed,
                         aborted_at=now or utcnow())
    _write(session, draw, ("committed", "frozen"), status="aborted", aborted_at=aborted.aborted_at,
           abort_reason=aborted.abort_reason)
    assert aborted.aborted_at is not None
    entry = audit(session, actor, "draw.abort", f"draw:{draw.id}", {
        "aborted_at": pure.format_time(aborted.aborted_at), "reason": aborted.abort_reason,
        "seed": aborted.seed,
    })
    _keep_head(session, draw, entry)
    return draw


def draws_of(session: Session, assignment: Assignment) -> list[Draw]:
    return list(session.scalars(
        select(Draw).where(Draw.assignment_id == assignment.id).order_by(Draw.id.desc())))


def replaced_by(session: Session, draw: Draw) -> int | None:
    return session.scalar(select(Draw.id).where(Draw.replaces_id == draw.id))


def withdrawal_from(session: Session, draw: Draw) -> dict[str, Any] | None:
    """The withdrawal (record JSON) of this draw's winners, as its replacement recorded it."""
    newer = session.scalar(select(Draw).where(Draw.replaces_id == draw.id))
    if newer is None or newer.withdrawal is None or newer.withdrawal["draw_id"] != draw.id:
        return None
    return newer.withdrawal


@dataclass(frozen=True)
class EntryView:
    """What staff see of a draw's entries: the frozen list once frozen, else a live preview."""

    frozen: bool
    entries: list[Entry]
    excluded: list[Exclusion]
    pending: int


def entry_view(session: Session, draw: Draw) -> EntryView:
    if draw.frozen_list is not None:
        rule = rule_from_json(draw.rule)
        entries = list(pure.decode_entries(draw.frozen_list, rule))
        excluded = [Exclusion(**e) for e in draw.excluded or []]
        return EntryView(True, entries, excluded, 0)
    found = preview_entries(session, draw)
    return EntryView(False, found.entries, found.excluded, found.pending)


def withdraw_own_prize(session: Session, draw_id: int, user: User, *, reason: str,
                       now: datetime | None = None) -> Draw:
    """A winner of revealed draw `draw_id` gives up their prize from their own account: the
    replacement (for their winning entries) is committed at once, `withdrawn_by: winner`."""
    from app.models import Submission

    old = get_draw(session, draw_id)
    if old.status != "revealed":
        raise DrawError("state.wrong_status", expected="revealed", status=old.status)
    ids = [w["entry_id"] for w in old.winners or []]
    mine = sorted(session.scalars(select(Submission.id).where(
        Submission.id.in_(ids), Submission.author_id == user.id)))
    if not mine:
        raise Forbidden("You are not a winner of draw {id}", id=draw_id)
    return replace_draw(session, draw_id, user, withdrawn=mine, reason=reason,
                        withdrawn_by="winner", now=now)


def status_counts(session: Session) -> dict[tuple[int, str], int]:
    """(assignment id, draw status) -> how many draws, over the whole site."""
    rows = session.execute(select(Draw.assignment_id, Draw.status, func.count())
                           .group_by(Draw.assignment_id, Draw.status))
    return {(assignment_id, status): n for assignment_id, status, n in rows}


def own_floors(session: Session, draw: Draw, user: User) -> list[tuple[int, int]]:
    """(submission id, floor) of the user's replies to the draw's homework, in floor order."""
    rows = session.execute(select(Submission.id, Submission.floor).where(
        Submission.assignment_id == draw.assignment_id, Submission.author_id == user.id)
        .order_by(Submission.floor))
    return [(sid, floor) for sid, floor in rows]


def own_among(session: Session, submission_ids: list[int], user: User) -> set[int]:
    """Which of these submissions are the user's."""
    return set(session.scalars(select(Submission.id).where(
        Submission.id.in_(submission_ids), Submission.author_id == user.id)))
