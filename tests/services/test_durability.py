"""A killed ingest loses no acknowledged event, and re-running it stores nothing twice."""

import json
import os
import signal
import subprocess
import sys
import time

import orjson
import pytest
import sqlalchemy as sa

from battrace.store.schema import events
from battrace.store.sql import SqlStore
from tests.kit import simple_lifecycles

pytestmark = pytest.mark.slow


def battrace(*args, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "battrace", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        **kw,
    )


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(p) for p in fh.read().split()]


def _running(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_kill_9_midway_loses_no_acknowledged_event_and_a_rerun_stores_nothing_twice(
    tmp_path, store_url
):
    path = tmp_path / "events.jsonl"
    evs = simple_lifecycles(5000)  # 25,021 events
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in evs) + b"\n")
    SqlStore.open(store_url, create=True).close()
    env = dict(os.environ, BATTRACE_DATABASE_URL=store_url)
    proc = battrace("ingest", str(path), "--json", "--batch-size", "250", "--check-ahead", env=env)
    acknowledged = []
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while len(acknowledged) < 300 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith(b'{"id"'):
            acknowledged.append(json.loads(line.rstrip(b",\n")))
    helpers = _children(proc.pid)  # the checking helper (services.ingest_ahead)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert len(acknowledged) >= 300, "the ingest finished or stalled before it could be killed"
    assert helpers, "a file this size is checked ahead in a helper process"
    deadline = time.monotonic() + 10
    while any(_running(h) for h in helpers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(h) for h in helpers), "the helper outlived the killed ingest"

    store = SqlStore.open(store_url)
    with store.engine.connect() as c:
        stored = {(r, i) for r, i in c.execute(sa.select(events.c.reporter, events.c.event_id))}
    assert {(a["reporter"], a["id"]) for a in acknowledged if a["status"] == "accepted"} <= stored
    assert len(stored) < len(evs), "the kill came too late to test anything"

    rerun = battrace("ingest", str(path), "--json", env=env)
    out, _ = rerun.communicate(timeout=300)
    summary = json.loads(out)
    assert rerun.returncode == 0
    assert summary["accepted"] + summary["duplicates"] == len(evs)
    assert summary["duplicates"] >= len(stored) - 0  # everything stored before the kill
    with store.engine.connect() as c:
        count = c.execute(sa.select(sa.func.count()).select_from(events)).scalar_one()
    assert count == len(evs) == store.tree_size()
    store.close()


def test_sqlite_writers_queue_on_a_lock_file_the_kernel_hands_over(tmp_path):
    """Writers of one SQLite file, in any process, take turns on `<db>-writer.lock` (a
    waiting writer wakes when the lock is released, not after SQLite's polling sleeps)."""
    import fcntl
    import threading

    db = tmp_path / "b.db"
    store = SqlStore.open(f"sqlite:///{db}", create=True)
    lock = tmp_path / "b.db-writer.lock"
    order = []
    try:
        with store.writer():
            fd = os.open(lock, os.O_RDWR)
            try:
                with pytest.raises(BlockingIOError):  # held while the transaction runs
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(fd)
            other = SqlStore.open(f"sqlite:///{db}")

            def second():
                with other.writer():
                    order.append("second")

            t = threading.Thread(target=second)
            t.start()
            time.sleep(0.2)
            order.append("first")  # the second writer is still queued
        t.join(10)
        other.close()
        assert order == ["first", "second"]
        fd = os.open(lock, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once both committed
        finally:
            os.close(fd)
    finally:
        store.close()
    assert (lock.stat().st_mode & 0o777) == 0o600
