"""The embedded broker polls at the interval the settings give, through a transport option,
without changing kombu's SQLAlchemy transport for anyone else in the process."""

from __future__ import annotations

from pathlib import Path

import kombu.transport.sqlalchemy
from celery import Celery

from app.config import Settings
from app.queue import celery_config


def test_the_poll_interval_is_a_transport_option_and_messages_pass(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, embedded_poll_seconds=0.05)
    config = celery_config(settings)
    assert config["broker_transport_options"] == {"polling_interval": 0.05}
    app = Celery("embedded-broker-test")
    app.conf.update(config)
    with app.connection_for_write() as connection:
        assert connection.transport.polling_interval == 0.05
        queue = connection.SimpleQueue("camp-test")
        queue.put({"submission": 7})  # the channel builds its engine: the option stays out of it
        message = queue.get(timeout=10)
        assert message.payload == {"submission": 7}
        message.ack()
        queue.close()
    assert (tmp_path / "broker.sqlite3").exists()
    assert kombu.transport.sqlalchemy.Transport.polling_interval == 1.0  # kombu's own is untouched


def test_a_configured_broker_gets_no_polling_option(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, broker_url="redis://127.0.0.1:6379/14", secret_key="k" * 40)
    config = celery_config(settings)
    assert config["broker_transport"] is None and "polling_interval" not in config["broker_transport_options"]
