"""Sending e-mail (password-reset links) through the SMTP server named in the settings."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from app.config import Settings


def mail_configured(settings: Settings) -> bool:
    """Mail goes out only with a server and the site's own address for its links."""
    return bool(settings.smtp_host and settings.public_url)


def one_line(text: str) -> str:
    """A header value on one line: a homework or draw title with a line break in it (the course
    check accepts any text there) made the mail library refuse the whole mail."""
    return " ".join(text.split())


def send_mail(settings: Settings, to: str, subject: str, body: str) -> None:
    """Blocking: call it from the thread pool (sync handlers run there)."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_from, to, one_line(subject)
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)
