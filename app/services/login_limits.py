"""The log-in and registration limits, on top of `throttle`: which keys, which policies, which words.

A wrong password counts against the account (its name key, whether or not it exists, so the
answers do not tell which names do) and against the address it came from. The user is told why
an attempt was refused and for how long, in a 429 with Retry-After.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import LazyText, lazy
from app.names import name_key
from app.services import throttle
from app.services.throttle import Policy


@dataclass(frozen=True)
class Refused:
    message: LazyText
    params: dict[str, int]
    retry_after: int


def _account(settings: Settings) -> Policy:
    return Policy(free=settings.login_free_failures, lock_after=settings.login_lock_failures,
                  lock_seconds=settings.login_lock_minutes * 60)


def _address(settings: Settings) -> Policy:
    return Policy(free=settings.login_address_lock_failures // 2,
                  lock_after=settings.login_address_lock_failures,
                  lock_seconds=settings.login_lock_minutes * 60)


def _registration(settings: Settings) -> Policy:
    limit = settings.registrations_per_address_per_hour
    return Policy(free=limit, lock_after=limit, lock_seconds=3600)


def _keys(name: str, address: str) -> tuple[str, str]:
    return f"login:name:{name_key(name)[:150]}", f"login:addr:{address[:100]}"


def login_refused(session: Session, settings: Settings, name: str, address: str) -> Refused | None:
    """Before checking a password: is this attempt refused? A refused attempt still counts."""
    account_key, address_key = _keys(name, address)
    account = throttle.refusal(session, account_key, _account(settings))
    by_address = throttle.refusal(session, address_key, _address(settings))
    if account is None and by_address is None:
        return None
    if by_address is None or not by_address.locked:
        throttle.count_failure(session, address_key, _address(settings))
    if account is not None and not account.locked:
        throttle.count_failure(session, account_key, _account(settings))
    if account is not None and account.locked:
        return Refused(lazy("Too many wrong passwords: this account is locked for {minutes} minutes. "
                            "Try again later, or reset the password."),
                       {"minutes": account.minutes}, account.seconds)
    if by_address is not None and by_address.locked:
        return Refused(lazy("Too many failed log-ins from your network address: log-ins from it are "
                            "paused for {minutes} minutes."), {"minutes": by_address.minutes},
                       by_address.seconds)
    wait = max(r.seconds for r in (account, by_address) if r is not None)
    return Refused(lazy("Too many wrong passwords: wait {seconds} seconds before the next try."),
                   {"seconds": wait}, wait)


def login_failed(session: Session, settings: Settings, name: str, address: str) -> None:
    account_key, address_key = _keys(name, address)
    throttle.count_failure(session, account_key, _account(settings))
    throttle.count_failure(session, address_key, _address(settings))


def login_succeeded(session: Session, name: str, address: str) -> None:
    throttle.clear(session, _keys(name, address)[0])


# A browser that logged in to an account before (a signed "known device" cookie, set by the
# log-in page) is counted on its own key instead of the account's and the address's. Someone
# typing wrong passwords for a name, or a classmate behind the same campus NAT, then cannot
# lock the account's owner out of their own browser; guessing from that browser is still slowed
# and locked like any other (OWASP's "device cookies" against lock-out attacks).


def _device_key(device: str, user_id: int) -> str:
    return f"login:device:{device[:64]}:{user_id}"


def known_device_refused(session: Session, settings: Settings, device: str, user_id: int) -> Refused | None:
    refusal = throttle.refusal(session, _device_key(device, user_id), _account(settings))
    if refusal is None:
        return None
    throttle.count_failure(session, _device_key(device, user_id), _account(settings))
    if refusal.locked:
        return Refused(lazy("Too many wrong passwords: this account is locked for {minutes} minutes. "
                            "Try again later, or reset the password."),
                       {"minutes": refusal.minutes}, refusal.seconds)
    return Refused(lazy("Too many wrong passwords: wait {seconds} seconds before the next try."),
                   {"seconds": refusal.seconds}, refusal.seconds)


def known_device_failed(session: Session, settings: Settings, device: str, user_id: int) -> None:
    throttle.count_failure(session, _device_key(device, user_id), _account(settings))


def known_device_succeeded(session: Session, device: str, user_id: int) -> None:
    throttle.clear(session, _device_key(device, user_id))


def registration_refused(session: Session, settings: Settings, address: str) -> Refused | None:
    refusal = throttle.refusal(session, f"register:addr:{address[:100]}", _registration(settings))
    if refusal is None:
        return None
    return Refused(lazy("Too many new accounts from your network address: try again in {minutes} minutes."),
                   {"minutes": refusal.minutes}, refusal.seconds)


def registered(session: Session, settings: Settings, address: str) -> None:
    throttle.count_failure(session, f"register:addr:{address[:100]}", _registration(settings))


def reset_refused(session: Session, address: str) -> Refused | None:
    """Reset mails: five per address per hour (each one is a mail someone receives)."""
    refusal = throttle.refusal(session, f"reset:addr:{address[:100]}", RESET_POLICY)
    if refusal is None:
        return None
    return Refused(lazy("Too many reset requests from your network address: try again in {minutes} "
                        "minutes."), {"minutes": refusal.minutes}, refusal.seconds)


def reset_requested(session: Session, address: str) -> None:
    throttle.count_failure(session, f"reset:addr:{address[:100]}", RESET_POLICY)


RESET_POLICY = Policy(free=5, lock_after=5, lock_seconds=3600)
