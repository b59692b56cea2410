"""The jobs behind notifications, each in its own units of work: one item's mail, the daily
digests, erasing old prize claims. Workers run them (worker/notify_tasks.py); so do the
`camp notify digest` and `camp claims erase` commands and the sweeper (worker/sweeper.py).
Never called from a web request: SMTP may be slow or away.
"""

from __future__ import annotations

import logging
from datetime import datetime

from app.config import get_settings
from app.db import session_scope
from app.mail import mail_configured, send_mail
from app.models import utcnow
from app.services import notify_mail, prize_claims

log = logging.getLogger(__name__)


def send_item_mail(notification_id: int) -> bool:
    """Send one item's mail if it is still pending; True when it should be tried again later."""
    settings = get_settings()
    if not mail_configured(settings):
        return False  # stays pending: sent once an SMTP server is configured
    with session_scope() as session:
        mail = notify_mail.claim_item_mail(session, notification_id, settings)
    if mail is None:
        return False
    try:
        send_mail(settings, mail.to, mail.subject, mail.body)
        sent = True
    except OSError as exc:  # refused, timed out, TLS: smtplib's errors are OSErrors
        log.warning("mail of notification %s not sent: %s", notification_id, exc)
        sent = False
    with session_scope() as session:
        return notify_mail.item_mail_done(session, notification_id, sent, settings)


def send_digests(now: datetime | None = None) -> int:
    """Today's digest for everyone who wants one and has unread items; returns how many were sent.
    Safe to run any number of times a day: each user gets at most one digest per day."""
    settings = get_settings()
    if not mail_configured(settings):
        log.info("no SMTP server configured (CAMP_SMTP_HOST): no digests sent")
        return 0
    day = notify_mail.today(settings, now)
    with session_scope() as session:
        users = notify_mail.digest_users(session, day)
    sent = 0
    for user_id in users:
        with session_scope() as session:
            digest = notify_mail.claim_digest(session, user_id, day, settings)
        if digest is None:
            continue
        try:
            send_mail(settings, digest.mail.to, digest.mail.subject, digest.mail.body)
            sent += 1
        except OSError as exc:
            log.warning("digest of user %s not sent: %s", user_id, exc)
            with session_scope() as session:
                notify_mail.digest_failed(session, digest, day)
    return sent


def resend_stale_mail(now: datetime | None = None) -> list[int]:
    """Pending mails whose task was lost (the broker was away): their ids, to send again."""
    with session_scope() as session:
        return notify_mail.stale_pending(session, now or utcnow())


def erase_expired_claims(now: datetime | None = None) -> int:
    with session_scope() as session:
        return prize_claims.erase_expired(session, now or utcnow(), get_settings().claim_retention_days)
