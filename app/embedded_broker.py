"""The embedded broker: kombu's SQLAlchemy transport, polled as often as the settings say.

kombu reads `polling_interval` from the transport options (once a second by default, which
makes a prefork worker take about one task a second), but its SQLAlchemy channel hands every
transport option it does not know to `create_engine`, which refuses `polling_interval`. This
transport is kombu's own with a channel that keeps the transport's options out of the engine's.
Celery selects it with `broker_transport` (app/queue.py), so nothing of kombu is changed for
anyone else in the process.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import sqlalchemy
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

#: transport options kombu's SQLAlchemy transport consumes itself (its channel leaves out all
#: but the first when it builds the engine); whatever else is given goes to `create_engine`
TRANSPORT_OPTIONS = frozenset({
    "polling_interval", "queue_tablename", "message_tablename", "callback", "errback", "max_retries",
    "interval_start", "interval_step", "interval_max", "retry_errors",
})


class Channel(sqlalchemy.Channel):
    def _engine_from_config(self) -> Engine:
        client: Any = self.connection.client
        options = {k: v for k, v in client.transport_options.items() if k not in TRANSPORT_OPTIONS}
        return create_engine(client.hostname, **options)


class Transport(sqlalchemy.Transport):
    Channel = Channel


#: the import path Celery's `broker_transport` takes
TRANSPORT = f"{__name__}:Transport"
