"""The baseline bench/load.py divides Camp's pipeline by: the same shape and nothing else.

    POST /submit (form field `text`) → INSERT a row (status `queued`) → commit → Celery task
    over Redis with the id → the worker UPDATEs the row to `scored` with its `graded_at`.

No authentication, no routing, no grading, no events. Configured by BARE_DATABASE_URL (a
SQLAlchemy URL) and BARE_BROKER_URL. Web: `uvicorn bench.bare_pipeline:app`; worker:
`celery -A bench.bare_pipeline:celery_app worker -Q bare`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated

from celery import Celery
from fastapi import FastAPI, Form
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, insert, update

metadata = MetaData()
rows = Table(
    "bare_submissions", metadata,
    Column("id", Integer, primary_key=True),
    Column("text", String(200)),
    Column("status", String(16)),
    Column("created_at", DateTime(timezone=True)),
    Column("graded_at", DateTime(timezone=True)),
)

engine = create_engine(os.environ.get("BARE_DATABASE_URL", "sqlite:///bare.sqlite3"), pool_size=30)
celery_app = Celery("bare", broker=os.environ.get("BARE_BROKER_URL", "redis://127.0.0.1:6379/0"))
celery_app.conf.update(task_ignore_result=True, task_acks_late=True, worker_prefetch_multiplier=1,
                       task_default_queue="bare", broker_connection_retry_on_startup=True)
app = FastAPI()


def create_table() -> None:
    metadata.create_all(engine)


@app.post("/submit", status_code=201)
def submit(text: Annotated[str, Form()] = "") -> dict[str, object]:
    with engine.begin() as conn:
        sid = conn.execute(insert(rows).values(text=text[:200], status="queued",
                                               created_at=datetime.now(UTC)).returning(rows.c.id)).scalar_one()
    celery_app.send_task("bare.grade", args=[sid], queue="bare")
    return {"id": sid, "status": "queued"}


@celery_app.task(name="bare.grade")
def grade(sid: int) -> None:
    with engine.begin() as conn:
        conn.execute(update(rows).where(rows.c.id == sid)
                     .values(status="scored", graded_at=datetime.now(UTC)))
