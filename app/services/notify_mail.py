"""Notification mail: one mail per item for the kinds a user opted into, or one digest a day.

Sending happens in a worker (worker/notify_tasks.py), never in a web request. Each mail is
*claimed* first by a conditional UPDATE in a transaction of its own (`pending` → `sending`,
`digest` day moved), committed before the SMTP conversation: a Celery retry or a second
delivery of the task finds nothing to claim, so a user gets a mail at most once. A send that
fails puts the item back to `pending` (tried again later, up to `notification_mail_tries`)
or, for a digest, gives the day back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import translate
from app.models import Notification, NotificationPrefs, User, utcnow
from app.services.notifications import message

#: a pending mail older than this has lost its task (broker down at the time): the sweep resends it
STALE_PENDING = timedelta(minutes=5)
DIGEST_MAX_ITEMS = 50


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def site_base(settings: Settings) -> str:
    """The site's configured address (mail is sent only when there is one: app.mail)."""
    return settings.public_url.rstrip("/")


def _locale(user: User, settings: Settings) -> str:
    return user.locale or settings.default_locale


def _footer(locale: str, base: str) -> str:
    return translate(locale, "You get this mail because you asked for it on your account page; "
                             "change it there: {link}", link=f"{base}/account#notifications")


def claim_item_mail(session: Session, notification_id: int, settings: Settings) -> Mail | None:
    """Take one item's mail for sending (None: not wanted, already sent, or being sent)."""
    claimed = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.mail_state == "pending")
        .values(mail_state="sending", mail_tries=Notification.mail_tries + 1)
        .returning(Notification.user_id)
    ).scalar_one_or_none()
    if claimed is None:
        return None
    item = session.get(Notification, notification_id)
    user = session.get(User, claimed)
    assert item is not None and user is not None
    if not user.email or not user.is_active:
        item.mail_state = "none"
        return None
    locale, base = _locale(user, settings), site_base(settings)
    text = message(locale, item.kind, item.params)
    body = f"{text}\n\n{base}{item.link}\n\n-- \n{_footer(locale, base)}\n"
    return Mail(user.email, translate(locale, "Camp: {what}", what=text)[:200], body)


def item_mail_done(session: Session, notification_id: int, sent: bool, settings: Settings) -> bool:
    """Record the outcome; True when the mail should be tried again later."""
    item = session.get(Notification, notification_id)
    if item is None or item.mail_state != "sending":
        return False
    if sent:
        item.mail_state = "sent"
        return False
    again = item.mail_tries < settings.notification_mail_tries
    item.mail_state = "pending" if again else "failed"
    return again


def stale_pending(session: Session, now: datetime, limit: int = 200) -> list[int]:
    """Items whose mail task never ran (the broker was away when they were made). A mail that
    failed once is tried again by its own task's delayed copy, not here."""
    return list(session.scalars(select(Notification.id).where(
        Notification.mail_state == "pending", Notification.mail_tries == 0,
        Notification.created_at < now - STALE_PENDING)
        .order_by(Notification.id).limit(limit)))


# --- the daily digest -------------------------------------------------------------------------


def local_hour(settings: Settings, now: datetime | None = None) -> int:
    return (now or utcnow()).astimezone(ZoneInfo(settings.default_timezone)).hour


def today(settings: Settings, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(settings.default_timezone)).date()


def digest_users(session: Session, day: date) -> list[int]:
    """Users who want a digest, have not had today's, and have unread items waiting for one."""
    waiting = select(Notification.id).where(
        Notification.user_id == NotificationPrefs.user_id, Notification.mail_state == "digest",
        Notification.read_at.is_(None)).exists()
    return list(session.scalars(select(NotificationPrefs.user_id).where(
        NotificationPrefs.digest.is_(True),
        or_(NotificationPrefs.last_digest_on.is_(None), NotificationPrefs.last_digest_on < day),
        waiting).order_by(NotificationPrefs.user_id)))


@dataclass(frozen=True)
class Digest:
    mail: Mail
    user_id: int
    previous_day: date | None
    item_ids: list[int]


def claim_digest(session: Session, user_id: int, day: date, settings: Settings) -> Digest | None:
    """Take `user_id`'s digest of `day` (None: sent already today, or nothing unread to send)."""
    prefs = session.get(NotificationPrefs, user_id)
    user = session.get(User, user_id)
    if prefs is None or user is None or not user.email or not user.is_active:
        return None
    previous = prefs.last_digest_on
    moved = session.execute(
        update(NotificationPrefs)
        .where(NotificationPrefs.user_id == user_id, NotificationPrefs.digest.is_(True),
               or_(NotificationPrefs.last_digest_on.is_(None), NotificationPrefs.last_digest_on < day))
        .values(last_digest_on=day).returning(NotificationPrefs.user_id)
    ).scalar_one_or_none()
    if moved is None:
        return None
    items = list(session.scalars(select(Notification).where(
        Notification.user_id == user_id, Notification.mail_state == "digest", Notification.read_at.is_(None))
        .order_by(Notification.id).limit(DIGEST_MAX_ITEMS)))
    if not items:
        return None
    for item in items:
        item.mail_state = "sent"
    locale, base = _locale(user, settings), site_base(settings)
    lines = [f"- {message(locale, i.kind, i.params)}\n  {base}{i.link}" for i in items]
    intro = translate(locale, "Your unread notifications on Camp ({n}):", n=len(items))
    body = f"{intro}\n\n" + "\n".join(lines) + f"\n\n{base}/inbox\n\n-- \n{_footer(locale, base)}\n"
    subject = translate(locale, "Camp: {n} unread notifications", n=len(items))
    return Digest(Mail(user.email, subject, body), user_id, previous, [i.id for i in items])


def digest_failed(session: Session, digest: Digest, day: date) -> None:
    """The digest could not be sent: its items wait again and the day is given back."""
    session.execute(update(Notification).where(
        Notification.id.in_(digest.item_ids), Notification.mail_state == "sent").values(mail_state="digest"))
    session.execute(update(NotificationPrefs).where(
        NotificationPrefs.user_id == digest.user_id, NotificationPrefs.last_digest_on == day)
        .values(last_digest_on=digest.previous_day))
