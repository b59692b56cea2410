"""One counter that every commit changing page content moves (PostgreSQL; see page_cache).

A deferred trigger on the content tables (installed by the `0006_page_versions` migration)
adds one to `version` when a transaction that wrote any of them commits, inside that same
transaction, so the counter and the data become visible together. Tables whose writes never
show on a page (API token use, worker heartbeats) have no trigger.
"""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

#: tables whose writes do not change any page (no trigger)
UNTRACKED_TABLES = frozenset({"api_tokens", "worker_heartbeats", "page_versions", "auth_throttle",
                            "notifications", "notification_prefs", "prize_claims",
                              "reply_rates"})


class PageVersion(Base):
    __tablename__ = "page_versions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
