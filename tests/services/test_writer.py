"""The write transaction's bulk statements, on both backends (PostgreSQL for real).

PostgreSQL upserts go through a temporary staging table and `COPY`, and reads of many keys
through one array parameter; SQLite uses `executemany` and chunks of placeholders. These tests
pin what both must do: a batch that upserts twice, a rolled-back batch, more keys than one
chunk of placeholders.
"""

from __future__ import annotations

import sqlite3

import pytest

from battrace.domain.lifecycle import Battery, Vehicle
from battrace.domain.vocab import State
from battrace.store.engine import make_engine
from battrace.store.sql import SqlStore
from battrace.store.writer import CHUNK


def _battery(code: str, holder: str, *, seq: int = 1) -> Battery:
    return Battery(
        code=code,
        product_type="P",
        battery_type="B",
        chemistry="LFP",
        manufacturer="001",
        state=State.IN_STOCK,
        holder=holder,
        mass_g=None if seq % 2 else 420_000,
        since_us=seq,
        last_us=seq,
        first_seq=seq,
        last_seq=seq,
    )


def _event_row(seq: int) -> tuple[object, ...]:
    return (seq, "R" * 18, f"e{seq}", "produced", f"C{seq}", None, seq, seq, "{}", b"\0" * 32, b"")


def test_a_batch_that_upserts_twice_keeps_the_last_state(store: SqlStore) -> None:
    with store.writer() as w:
        w.upsert_batteries([_battery("A", "h1"), _battery("B", "h1")])
        w.upsert_batteries([_battery("A", "h2", seq=2), _battery("C", "h1")])
        w.upsert_vehicles([Vehicle(vin="V1", model="M", automaker="X", last_us=1)])
        w.upsert_vehicles([Vehicle(vin="V1", model="M", automaker="Y", last_us=2)])
    with store.writer() as w:
        got = w.load_batteries(["A", "B", "C", "missing"])
        assert {c: (b.holder, b.last_seq, b.mass_g) for c, b in got.items()} == {
            "A": ("h2", 2, 420_000),
            "B": ("h1", 1, None),
            "C": ("h1", 1, None),
        }
        assert w.load_vehicles(["V1"])["V1"].automaker == "Y"
        w.upsert_batteries([_battery("A", "h3", seq=3)])  # a second transaction stages again
    with store.writer() as w:
        assert w.load_batteries(["A"])["A"].holder == "h3"


def _crash_mid_batch(store: SqlStore) -> None:
    with store.writer() as w:
        w.upsert_batteries([_battery("A", "h1")])
        raise RuntimeError("crash mid-batch")


def test_a_rolled_back_batch_leaves_nothing_staged(store: SqlStore) -> None:
    with pytest.raises(RuntimeError):
        _crash_mid_batch(store)
    with store.writer() as w:
        assert w.load_batteries(["A"]) == {}
        w.upsert_batteries([_battery("B", "h1")])
    with store.writer() as w:
        assert set(w.load_batteries(["A", "B"])) == {"B"}


def test_reads_of_more_keys_than_one_chunk(store: SqlStore) -> None:
    n = CHUNK * 2 + 7
    with store.writer() as w:
        w.insert_events([_event_row(s) for s in range(n)])
        w.upsert_batteries([_battery(f"K{i:05d}", "h") for i in range(n)])
    with store.writer() as w:
        keys = [("R" * 18, f"e{s}") for s in range(n)] + [("R" * 18, "nope"), ("X", "e1")]
        found = w.existing(keys)
        assert len(found) == n
        assert found[("R" * 18, "e5")].seq == 5
        assert len(w.load_batteries([f"K{i:05d}" for i in range(n + 3)])) == n
        assert w.existing([]) == {} and w.load_batteries([]) == {}


def test_upserts_after_a_savepoint_rolled_back_the_first_one(store: SqlStore) -> None:
    """A refused correction rolls back to its savepoint: whatever the writer made or staged
    after it (on PostgreSQL, the staging table itself) is gone, and the batch goes on."""
    with store.writer() as w:
        w.savepoint()
        w.upsert_batteries([_battery("A", "h1")])
        w.rollback_to_savepoint()
        w.upsert_batteries([_battery("B", "h1")])
        w.savepoint()
        w.upsert_batteries([_battery("B", "h2", seq=2)])
        w.rollback_to_savepoint()
        w.upsert_batteries([_battery("C", "h1")])
    with store.writer() as w:
        got = w.load_batteries(["A", "B", "C"])
        assert {c: b.holder for c, b in got.items()} == {"B": "h1", "C": "h1"}


def test_sqlite_binds_bytes_none_and_bool_without_the_adaptation_protocol() -> None:
    """A SQLite engine registers pass-through adapters (the driver's protocol path raised and
    cleared an AttributeError per such value); what SQLite stores must not change."""
    make_engine("sqlite://").dispose()
    for t in (bytes, type(None), bool):
        assert (t, sqlite3.PrepareProtocol) in sqlite3.adapters
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a, b, c, d)")
    conn.execute("INSERT INTO t VALUES (?, ?, ?, ?)", (None, b"\0\1", True, False))
    row = conn.execute("SELECT a, typeof(a), b, typeof(b), c, typeof(c), d FROM t").fetchone()
    assert row == (None, "null", b"\0\1", "blob", 1, "integer", 0)
    conn.close()
