"""Writes behind the caller (PostgreSQL): a large batch's appends and projection upserts run in
a thread of their own, in the batch's transaction, while the next events are decided. They
must give the same results and the same store as writing in line, and a write that fails
there must fail the whole batch."""

from __future__ import annotations

import sqlite3
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from battrace.services import ingest as ingest_module
from battrace.store import writer as writer_module
from battrace.store.sql import SqlStore
from tests.services.test_ingest_ahead import ingest, mixed_lines
from tests.services.test_writer import _battery, _event_row


def _spy_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the threads the log rows were written from."""
    names: list[str] = []
    real = writer_module.Writer._insert_events

    def spy(self: writer_module.Writer, rows: object) -> None:
        names.append(threading.current_thread().name)
        real(self, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(writer_module.Writer, "_insert_events", spy)
    return names


def test_writes_behind_run_in_a_thread_and_later_reads_see_them(store: SqlStore, monkeypatch):
    names = _spy_threads(monkeypatch)
    interval = sys.getswitchinterval()
    with store.writer() as w:
        w.write_behind()
        w.insert_events([_event_row(s) for s in range(50)])
        w.upsert_batteries([_battery(f"K{i}", "h") for i in range(30)])
        assert len(w.existing([("R" * 18, f"e{s}") for s in range(60)])) == 50
        assert len(w.load_batteries([f"K{i}" for i in range(40)])) == 30
    assert sys.getswitchinterval() == interval  # put back when the writer closed
    if store.dialect == "postgresql":
        assert names and all(n.startswith("battrace-writer") for n in names)
    else:  # SQLite's work is this process's CPU: it stays in line (Writer.write_behind)
        assert names == [threading.current_thread().name]


def test_a_write_that_fails_behind_fails_the_batch(store: SqlStore):
    refused = (sqlite3.IntegrityError, psycopg.errors.IntegrityError)
    with pytest.raises(refused), store.writer() as w:  # noqa: PT012
        w.write_behind()
        w.insert_events([_event_row(1)])
        w.upsert_batteries([_battery("A", "h")])
        w.insert_events([_event_row(1)])  # the same leaf again: refused by the database
        w.upsert_batteries([_battery("B", "h")])
    with store.writer() as w:  # nothing of the batch stayed, and the store goes on
        assert w.existing([("R" * 18, "e1")]) == {} and w.load_batteries(["A", "B"]) == {}
        w.insert_events([_event_row(1)])
    with store.writer() as w:
        assert set(w.existing([("R" * 18, "e1")])) == {("R" * 18, "e1")}


@contextmanager
def _two_schemas(pg_url: str) -> Iterator[tuple[str, str]]:
    names = [f"bt_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for n in names:
            conn.execute(f"CREATE SCHEMA {n}")
    host = pg_url.split("://", 1)[1]
    try:
        a, b = (f"postgresql+psycopg://{host}?options=-csearch_path%3D{n}" for n in names)
        yield a, b
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            for n in names:
                conn.execute(f"DROP SCHEMA {n} CASCADE")


@pytest.mark.postgres
@pytest.mark.slow
def test_writing_behind_gives_the_results_and_store_of_writing_in_line(
    pg_url, tmp_path, monkeypatch
):
    """One batch of ~1,500 lines with refused events, duplicates, a reused id, a late event
    (refolds its code's timeline from the store) and a correction (savepoint, reads)."""
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(mixed_lines()) + b"\n")
    names = _spy_threads(monkeypatch)
    with _two_schemas(pg_url) as (url_behind, url_inline):
        behind = ingest(url_behind, path, ahead=False, batch_size=5000)
        assert len(names) >= 2, "no rows were handed over mid-batch"
        assert all(n.startswith("battrace-writer") for n in names), "nothing ran behind"
        least = ingest_module.WRITE_BEHIND_MIN
        monkeypatch.setattr(ingest_module, "WRITE_BEHIND_MIN", 10**9)
        names.clear()
        inline = ingest(url_inline, path, ahead=False, batch_size=5000)
        assert names and not any(n.startswith("battrace-writer") for n in names)
    tally, seen, rows, root = behind
    assert tally.accepted > least and tally.rejected >= 6 and tally.duplicates >= 1
    assert seen == inline[1]
    assert rows == inline[2]
    assert root == inline[3]
