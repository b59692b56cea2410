"""The one place that reads the environment.

With nothing configured Camp runs *embedded*: SQLite and a SQLite-backed Celery broker in
`var/`, and a worker started next to the web server. Production sets `CAMP_DATABASE_URL`
(PostgreSQL) and `CAMP_BROKER_URL` (Redis) and must then set a real `CAMP_SECRET_KEY`.
There is no built-in secret: embedded, Camp generates one the first time and keeps it in the data
directory (`secret_key`, readable by its owner only), so no two installations share it.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET_FILE = "secret_key"
#: scheme, host (and port), optional path; nothing a link could be bent with
PUBLIC_URL_PATTERN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~\-/]*)?$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAMP_", extra="ignore")

    data_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    broker_url: str = ""
    #: prefix for every Redis key of the broker, so several Camps (or test runs) share one Redis
    broker_key_prefix: str = ""
    #: signs session cookies; empty = embedded only: generated once per data directory
    secret_key: str = ""
    #: Ed25519 key (64 hex characters) that signs draw records; empty = derived from secret_key
    draw_signing_key: str = ""
    #: seconds between broker polls for the embedded SQLite broker (kombu's default is 1 s)
    embedded_poll_seconds: float = 0.1
    default_locale: str = "zh_CN"
    default_timezone: str = "Asia/Shanghai"
    max_text_bytes: int = Field(default=64 * 1024, ge=1)
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    session_max_age_seconds: int = 14 * 24 * 3600
    #: set behind HTTPS so the session cookie is never sent in clear (also turns on HSTS)
    secure_cookies: bool = False
    #: addresses or networks (comma-separated) of the reverse proxies in front of `camp serve`:
    #: a request from one of them is counted against the client its X-Forwarded-For names (the
    #: last address there that is not a proxy); anyone else's X-Forwarded-For is ignored. Empty:
    #: uvicorn's own `FORWARDED_ALLOW_IPS`, else the local host. `*` lets every client pick the
    #: address its per-address limits count against.
    trusted_proxies: str = ""
    #: limits for student code, per grading run (the grader's own defaults cover the rest)
    grading_wall_seconds: float = Field(default=120.0, gt=0)
    grading_memory_mb: int = Field(default=4096, ge=256)
    #: GPU index a worker hands to the sandbox (set on GPU workers, e.g. "0"); empty for CPU
    gpu: str = ""
    #: sandbox slots (docs/grading.md): slot i runs as uid `sandbox_uid_first + i`; at most
    #: `sandbox_uid_count` sandboxes run at once on one machine, whatever the worker concurrency
    sandbox_uid_first: int = Field(default=60000, ge=1000)
    sandbox_uid_count: int = Field(default=64, ge=1)
    #: cgroup directory (under the worker's own cgroup) holding one group per run
    sandbox_cgroup_name: str = Field(default="camp-sandbox", pattern=r"^[A-Za-z0-9_-]+$")
    #: auto | v2 | v1 | none (none: rlimits only, with a warning in the log and /healthz)
    sandbox_cgroups: str = Field(default="auto", pattern=r"^(auto|v2|v1|none)$")
    #: warm sandboxes (docs/grading.md): each grading process of a worker serving a code queue
    #: keeps this many sandboxes started ahead of need, each used for one run; 0 = always cold
    warm_pool_size: int = Field(default=2, ge=0, le=64)
    #: modules a warm sandbox imports before it waits (comma-separated; numpy always)
    warm_pool_imports: str = Field(
        default="numpy,paddle", pattern=r"^\s*(?:[A-Za-z_][\w.]*\s*(?:,\s*[A-Za-z_][\w.]*\s*)*)?,?\s*$"
    )
    #: the most memory (MiB) the waiting sandboxes of one process may hold together; 0 = no cap
    #: (a sandbox that imported paddle holds about 300 MiB, charged to its run's memory limit)
    warm_pool_memory_mb: int = Field(default=0, ge=0)
    #: a grading waits this long for a sandbox that is still warming up before it starts cold
    warm_pool_wait_seconds: float = Field(default=10.0, ge=0)
    # The grading pipeline (docs/pipeline.md). Each bound is above the one before it:
    # sandbox wall time < soft time limit < hard time limit < claim lease.
    #: Celery raises in the task after this long: an infrastructure failure, retried (default wall + 60 s)
    grading_soft_time_limit_seconds: float | None = Field(default=None, gt=0)
    #: Celery kills the grading process after this long (default soft limit + 30 s)
    grading_time_limit_seconds: float | None = Field(default=None, gt=0)
    #: a claim not finished within this long is abandoned and graded again (default hard limit + 60 s)
    grading_lease_seconds: float | None = Field(default=None, gt=0)
    #: tries per grading round (submission or rejudge), counting lost workers; then `failed` for the staff
    grading_max_attempts: int = Field(default=3, ge=1)
    #: Redis hands an unacknowledged message to another worker after this long; keep it above the
    #: hard time limit (a shorter one only costs duplicate deliveries, which cannot claim)
    broker_visibility_timeout_seconds: int = Field(default=3600, ge=1)
    #: how often the sweeper (`camp sweeper`) looks for work that is stuck
    sweep_interval_seconds: float = Field(default=5.0, gt=0)
    #: a queued submission not picked up for this long has its id sent to the broker again
    sweep_stale_queued_seconds: float = Field(default=60.0, gt=0)
    #: how often each worker writes its heartbeat row
    worker_heartbeat_seconds: float = Field(default=5.0, gt=0)
    #: a worker whose heartbeat missed this many beats is dead: the sweep frees its claims
    worker_heartbeat_misses: int = Field(default=3, ge=2)
    #: how long a claim keeps trying while the database is away before the message goes back
    #: to the queue (the grading has not started: nothing is lost by giving up)
    claim_patience_seconds: float = Field(default=60.0, gt=0)
    #: how long a finished grading keeps its result and tries to store it while the database is
    #: away (a realistic outage: a failover, a restart, a full disk being cleared)
    store_patience_seconds: float = Field(default=900.0, gt=0)
    #: an upload whose reply never committed is deleted by the sweep after this long
    orphan_upload_grace_seconds: float = Field(default=3600.0, gt=0)
    #: /healthz reports `degraded` when the data directory has less free space than this
    min_free_disk_mb: int = Field(default=512, ge=0)
    #: when set, /metrics asks for `Authorization: Bearer <this token>`
    metrics_token: str = ""
    #: SMTP server for password-reset mail; empty: no mail (admins reset passwords instead)
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "camp@localhost"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    #: the site's address as users reach it (`https://camp.example.org`), for links in mail;
    #: required with `smtp_host`: a link built from the request's Host header could point anywhere
    #: (notification mail and digests are written by workers, which have no request at all)
    public_url: str = ""
    #: the hour (site time zone) from which the sweeper sends the day's notification digests
    digest_hour: int = Field(default=8, ge=0, le=23)
    #: tries of one notification mail before it is marked failed (the inbox item stays)
    notification_mail_tries: int = Field(default=3, ge=1)
    #: prize winners' delivery details (name, address, phone) are erased this many days after
    #: they were given (`camp claims erase`; the sweeper runs it too)
    claim_retention_days: int = Field(default=90, ge=1)
    # Log-in and registration limits (app/services/throttle.py).
    #: wrong passwords for one account before each try must wait longer (1 s, 2 s, 4 s, ...)
    login_free_failures: int = Field(default=5, ge=1)
    #: wrong passwords (or tries that did not wait) that lock an account for `login_lock_minutes`
    login_lock_failures: int = Field(default=20, ge=2)
    #: the same from one address, whatever the accounts
    login_address_lock_failures: int = Field(default=50, ge=2)
    login_lock_minutes: int = Field(default=15, ge=1)
    #: new accounts from one address per hour
    registrations_per_address_per_hour: int = Field(default=10, ge=2)
    # Reply rate per account (app/services/reply_rate.py); the course's staff are exempt.
    #: replies (and course-thread posts) one account may post in a minute, and in an hour
    replies_per_minute: int = Field(default=10, ge=1)
    replies_per_hour: int = Field(default=100, ge=1)
    #: argon2id cost of a new password hash: passes and memory (KiB); the defaults are argon2-cffi's
    #: (RFC 9106's low-memory choice). A hash keeps its own cost, so changing these affects new
    #: hashes only. The test suite lowers them: it makes thousands of accounts.
    password_hash_iterations: int = Field(default=3, ge=1)
    password_hash_memory_kib: int = Field(default=64 * 1024, ge=64)
    #: a request's line and headers must arrive within this many seconds of the connection's
    #: opening or the previous response, or the connection is closed (app/http_timeouts.py)
    request_head_seconds: float = Field(default=20.0, gt=0)
    #: an answer the client takes nothing of for this long (its connection's buffer full) ends
    #: the connection
    send_idle_seconds: float = Field(default=60.0, gt=0)
    # Request bodies are read before a request takes an admission slot (app/body_reader.py).
    #: slowest average upload rate accepted (bytes/s), after a grace period; slower ones get 408
    body_min_rate_bytes: int = Field(default=10_000, ge=1)
    body_grace_seconds: float = Field(default=10.0, gt=0)
    #: longest wait for the next piece of a body
    body_idle_seconds: float = Field(default=10.0, gt=0)
    #: bodies read at once from one address (429 beyond)
    uploads_per_client: int = Field(default=4, ge=1)
    # Event streams of the live panel (app/live.py, app/web/events.py).
    #: a stream reads its submission again at least this often even when no change was
    #: announced: what a lost announcement costs at most
    live_fallback_seconds: float = Field(default=5.0, gt=0)
    #: a waiting submission's place and ETA are read again at most this often while its queue moves
    live_queue_refresh_seconds: float = Field(default=1.0, gt=0)
    #: without Redis: how often a web process with open streams reads the database's version
    live_version_poll_seconds: float = Field(default=0.1, gt=0)
    #: event streams open at once per account, or per address when not logged in (429 beyond)
    streams_per_client: int = Field(default=6, ge=1)
    #: requests one web process handles at once (the rest wait their turn); keep it below the
    #: database pool (30 connections per process, app/db.py) and the thread pool (40)
    max_concurrent_requests: int = Field(default=24, ge=1, le=30)

    @property
    def embedded(self) -> bool:
        """True when neither the database nor the broker is configured."""
        return not self.database_url and not self.broker_url

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'camp.sqlite3'}"

    @property
    def effective_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{self.data_dir / 'broker.sqlite3'}"

    @property
    def soft_time_limit(self) -> float:
        return self.grading_soft_time_limit_seconds or self.grading_wall_seconds + 60

    @property
    def time_limit(self) -> float:
        return self.grading_time_limit_seconds or self.soft_time_limit + 30

    @property
    def lease_seconds(self) -> float:
        return self.grading_lease_seconds or self.time_limit + 60

    @model_validator(mode="after")
    def _limits_in_order(self) -> Settings:
        bounds = [("CAMP_GRADING_WALL_SECONDS", self.grading_wall_seconds),
                  ("CAMP_GRADING_SOFT_TIME_LIMIT_SECONDS", self.soft_time_limit),
                  ("CAMP_GRADING_TIME_LIMIT_SECONDS", self.time_limit),
                  ("CAMP_GRADING_LEASE_SECONDS", self.lease_seconds)]
        for (low_name, low), (high_name, high) in itertools.pairwise(bounds):
            if not low < high:
                raise ValueError(f"{low_name} ({low:g}) must be less than {high_name} ({high:g})")
        return self

    @model_validator(mode="after")
    def _public_url(self) -> Settings:
        if self.public_url and not PUBLIC_URL_PATTERN.match(self.public_url):
            raise ValueError("CAMP_PUBLIC_URL must be an http(s) address with no query or fragment, "
                             "for example https://camp.example.org")
        if self.smtp_host and not self.public_url:
            raise ValueError("CAMP_PUBLIC_URL must be set when CAMP_SMTP_HOST is: password-reset links "
                             "are never built from the address a request names (its Host header)")
        return self

    @model_validator(mode="after")
    def _trusted_proxies(self) -> Settings:
        """uvicorn takes what it cannot read as an address for a name it never matches: a typo
        would quietly count every client as the proxy (one address for the whole site)."""
        if self.trusted_proxies.strip() == "*":
            return self
        for item in (part.strip() for part in self.trusted_proxies.split(",")):
            try:
                if item:
                    ipaddress.ip_network(item)
            except ValueError:
                raise ValueError(f"CAMP_TRUSTED_PROXIES: {item!r} is not an IP address or network "
                                 "(such as 172.30.57.0/24; host names are not looked up)") from None
        return self

    @model_validator(mode="after")
    def _secret(self) -> Settings:
        if self.embedded and not self.secret_key:
            self.secret_key = embedded_secret(self.data_dir)
        if not self.secret_key:
            raise ValueError(
                "CAMP_SECRET_KEY must be set to a long random value outside the embedded mode "
                '(for example: python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )
        if not self.embedded and len(self.secret_key) < 32:
            raise ValueError("CAMP_SECRET_KEY must be at least 32 characters long")
        return self


def embedded_secret(data_dir: Path) -> str:
    """The data directory's own random secret, created on first use (mode 0600).

    Written to a temporary file, then hard-linked into place: two processes starting at once
    agree on one secret, and neither reads a half-written file.
    """
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    """Reading the settings has no side effects: whoever writes under the data directory
    creates what it needs (the embedded database and broker, uploads, the spool)."""
    return Settings()
