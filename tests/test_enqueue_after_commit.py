"""The queue never learns of a row the database does not have: ids are sent after commit only."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import redis
from sqlalchemy import select

from tests.support.stacks import REDIS_TEST_URL, Stack, delete_prefixed, new_key_prefix
from tests.support.web import add_user

PREFIX = new_key_prefix()


def isolated_env(pg_stack: Stack) -> dict[str, str]:
    """The PostgreSQL stack's settings with broker keys no worker listens to."""
    return {**pg_stack.env, "CAMP_BROKER_KEY_PREFIX": PREFIX}


@pytest.fixture
def isolated(pg_stack: Stack) -> Stack:
    delete_prefixed(PREFIX)
    stack = Stack("pg-isolated", isolated_env(pg_stack), pg_stack.data_dir)
    with stack.active():
        yield stack
    delete_prefixed(PREFIX)


def queued_ids(queue: str = "cpu") -> list[int]:
    """Submission ids waiting in a Redis queue (kombu keeps base64 JSON `[args, kwargs, embed]`)."""
    ids = []
    for raw in redis.Redis.from_url(REDIS_TEST_URL).lrange(PREFIX + queue, 0, -1):
        args, _kwargs, _embed = json.loads(base64.b64decode(json.loads(raw)["body"]))
        ids.append(args[0])
    return ids


def test_id_is_sent_only_after_commit_and_never_after_rollback(isolated: Stack) -> None:
    from app.db import get_sessionmaker
    from app.models import User
    from app.services.courses import get_assignment
    from app.services.submissions import submit

    name = add_user(isolated)
    with get_sessionmaker()() as session:
        user = session.scalar(select(User).where(User.name == name))
        assignment = get_assignment(session, "dl-bootcamp", "1-1")
        rolled_back = submit(session, assignment, user, "作业1-1：回滚", [])
        assert queued_ids() == []  # flushed, not committed: nothing sent
        session.rollback()
        assert queued_ids() == []

        kept = submit(session, assignment, user, "作业1-1：提交", [])
        assert queued_ids() == []
        session.commit()
        assert queued_ids() == [kept.id]
        assert rolled_back.id != kept.id or rolled_back.floor != kept.floor


def test_gpu_homework_goes_to_the_gpu_queue(isolated: Stack) -> None:
    from app.db import get_sessionmaker
    from app.models import User
    from app.services.courses import get_assignment
    from app.services.submissions import submit

    name = add_user(isolated)
    with get_sessionmaker()() as session:
        user = session.scalar(select(User).where(User.name == name))
        s = submit(session, get_assignment(session, "dl-bootcamp", "6-2"), user, "作业6-2：模型", [])
        session.commit()
    assert queued_ids("gpu") == [s.id] and queued_ids("cpu") == []


def test_broker_down_still_commits_and_the_sweep_sends_it_later(pg_stack: Stack) -> None:
    """With the broker unreachable the reply is saved and stays `queued`; the sweep sends it later."""
    dead = Stack("pg-dead-broker", {**pg_stack.env, "CAMP_BROKER_URL": "redis://127.0.0.1:1/0"}, pg_stack.data_dir)
    with dead.active():
        from app.db import get_sessionmaker
        from app.models import Submission, User
        from app.services.courses import get_assignment
        from app.services.submissions import submit

        name = add_user(dead)
        with get_sessionmaker()() as session:
            user = session.scalar(select(User).where(User.name == name))
            s = submit(session, get_assignment(session, "dl-bootcamp", "1-1"), user, "作业1-1：ok", [])
            session.commit()
        with get_sessionmaker()() as session:
            assert session.get(Submission, s.id).status == "queued"

    with Stack("pg-back", isolated_env(pg_stack), pg_stack.data_dir).active():
        from app.config import get_settings
        from app.db import session_scope
        from worker.tasks import requeue_stale

        delete_prefixed(PREFIX)
        stale = timedelta(seconds=get_settings().sweep_stale_queued_seconds + 1)
        with session_scope() as session:
            row = session.get(Submission, s.id)
            row.queued_at = row.queued_at - stale
        assert requeue_stale() >= 1
        assert s.id in queued_ids()
