"""The write side of the store: one transaction per ingest batch, on the raw driver connection.

The hot path (thousands of events per second) talks to the driver directly — sqlite3
`executemany`, psycopg `COPY` — because SQLAlchemy's per-row work would dominate it; the SQL
here is plain and portable. Writers are serialised by a lock on the log head (SQLite:
`BEGIN IMMEDIATE`; PostgreSQL: `SELECT … FOR UPDATE`), which also makes the Merkle leaf
sequence gap-free: the database enforces the rest (`UNIQUE(event_id, reporter)`,
`PRIMARY KEY(seq)`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from battrace.domain.lifecycle import Battery, Vehicle
from battrace.domain.registry import Registry
from battrace.store.rows import (
    BATTERY_COLUMNS,
    EVENT_COLUMNS,
    EVENT_PG_TYPES,
    STORED_EVENT_COLUMNS,
    VEHICLE_COLUMNS,
    StoredEvent,
    battery_from_row,
    battery_row,
    stored_event,
    vehicle_from_row,
    vehicle_row,
)

CHUNK = 500


def is_key_conflict(exc: BaseException) -> bool:
    """True when `exc` is the database refusing a second log row with a stored idempotency
    key (`uq_events_key`: the same reporter and event id)."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "events.event_id" in str(exc)
    try:
        from psycopg import errors
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(exc, errors.UniqueViolation) and exc.diag.constraint_name == "uq_events_key"


@dataclass(slots=True)
class Head:
    """The log head as locked by a writer."""

    tree_size: int
    frontier: bytes
    registry_version: int


def _chunks(items: Sequence[Any], n: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


class Writer:
    """A write transaction holding the log-head lock. Use through `SqlStore.writer()`."""

    def __init__(self, dbapi_conn: Any, dialect: str) -> None:
        self.conn = dbapi_conn
        self.dialect = dialect
        self.pg = dialect == "postgresql"
        self.cur = dbapi_conn.cursor()
        self.head = self._lock_head()

    # ------------------------------------------------------------ plumbing
    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.pg else sql

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self.cur.execute(self._sql(sql), params)
        return self.cur

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cur.executemany(self._sql(sql), rows)

    def _lock_head(self) -> Head:
        if self.pg:
            row = self._exec(
                "SELECT tree_size, frontier, registry_version FROM log_head WHERE id = 1 FOR UPDATE"
            ).fetchone()
        else:
            self.cur.execute("BEGIN IMMEDIATE")
            row = self._exec(
                "SELECT tree_size, frontier, registry_version FROM log_head WHERE id = 1"
            ).fetchone()
        return Head(int(row[0]), bytes(row[1]), int(row[2]))

    def commit(self) -> None:
        """Make the batch durable (the acknowledgement point)."""
        self.conn.commit() if self.pg else self.cur.execute("COMMIT")

    def rollback(self) -> None:
        """Abandon the batch."""
        if self.pg:
            self.conn.rollback()
        else:
            self.cur.execute("ROLLBACK")

    def savepoint(self) -> None:
        """Mark a point to roll back to (corrections are all-or-nothing)."""
        self._exec("SAVEPOINT battrace_sp")

    def rollback_to_savepoint(self) -> None:
        """Undo everything since `savepoint()`."""
        self._exec("ROLLBACK TO SAVEPOINT battrace_sp")
        self._exec("RELEASE SAVEPOINT battrace_sp")

    def release_savepoint(self) -> None:
        """Keep everything since `savepoint()`."""
        self._exec("RELEASE SAVEPOINT battrace_sp")

    # ------------------------------------------------------------ reads inside the transaction
    def _select_in(self, sql: str, values: Sequence[Any]) -> Iterator[Any]:
        """Rows of `sql` (ending in `IN_VALUES` for the column compared) for these values:
        one statement with an array on PostgreSQL (a fixed text the server plans once; a list
        of placeholders costs psycopg more to parse than the query costs to run), chunks of
        placeholders on SQLite."""
        if not values:
            return
        if self.pg:
            yield from self._exec(sql.replace("IN_VALUES", "= ANY(?)"), (list(values),))
            return
        for chunk in _chunks(values):
            marks = ",".join("?" * len(chunk))
            yield from self._exec(sql.replace("IN_VALUES", f"IN ({marks})"), chunk).fetchall()

    def existing(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StoredEvent]:
        """Stored events with these idempotency keys."""
        wanted = set(keys)
        ids = sorted({k[1] for k in wanted})
        out: dict[tuple[str, str], StoredEvent] = {}
        cols = ", ".join(STORED_EVENT_COLUMNS)
        for r in self._select_in(f"SELECT {cols} FROM events WHERE event_id IN_VALUES", ids):
            ev = stored_event(r)
            if ev.key in wanted:
                out[ev.key] = ev
        return out

    def load_batteries(self, codes: Iterable[str]) -> dict[str, Battery]:
        """Current states of these codes (absent codes are missing from the result)."""
        cols = ", ".join(BATTERY_COLUMNS)
        sql = f"SELECT {cols} FROM batteries WHERE code IN_VALUES"
        return {r[0]: battery_from_row(r) for r in self._select_in(sql, sorted(set(codes)))}

    def load_vehicles(self, vins: Iterable[str]) -> dict[str, Vehicle]:
        """Current states of these vehicles."""
        cols = ", ".join(VEHICLE_COLUMNS)
        sql = f"SELECT {cols} FROM vehicles WHERE vin IN_VALUES"
        return {r[0]: vehicle_from_row(r) for r in self._select_in(sql, sorted(set(vins)))}

    def timeline(self, *, code: str | None = None, vin: str | None = None) -> list[StoredEvent]:
        """Every event touching a code or a vehicle that still counts, in event-time order."""
        cols = ", ".join(f"e.{c}" for c in STORED_EVENT_COLUMNS)
        live = "NOT EXISTS (SELECT 1 FROM withdrawals w WHERE w.target_seq = e.seq)"
        if code is not None:
            sql = (
                f"SELECT {cols} FROM events e WHERE e.code = ? AND {live} UNION "
                f"SELECT {cols} FROM event_codes c JOIN events e ON e.seq = c.seq "
                f"WHERE c.code = ? AND {live}"
            )
            rows = self._exec(sql, (code, code)).fetchall()
        else:
            rows = self._exec(f"SELECT {cols} FROM events e WHERE e.vin = ? AND {live}", (vin,))
            rows = rows.fetchall()
        return sorted((stored_event(r) for r in rows), key=lambda e: (e.time_us, e.seq))

    def event_by_key(self, reporter: str, event_id: str) -> StoredEvent | None:
        """One stored event by its idempotency key."""
        cols = ", ".join(STORED_EVENT_COLUMNS)
        r = self._exec(
            f"SELECT {cols} FROM events WHERE event_id = ? AND reporter = ?", (event_id, reporter)
        ).fetchone()
        return stored_event(r) if r else None

    def is_withdrawn(self, seq: int) -> bool:
        """True when a correction withdrew the event at `seq`."""
        return (
            self._exec("SELECT 1 FROM withdrawals WHERE target_seq = ?", (seq,)).fetchone()
            is not None
        )

    def withdrawn_among(self, seqs: Sequence[int]) -> dict[int, int]:
        """Of these log positions, those a correction withdrew, with the correction's."""
        rows = self._select_in(
            "SELECT target_seq, correction_seq FROM withdrawals WHERE target_seq IN_VALUES",
            sorted(set(seqs)),
        )
        return {int(t): int(c) for t, c in rows}

    def registry_events(self) -> list[StoredEvent]:
        """All registry facts that still count, in log order (to rebuild the registry)."""
        from battrace.domain.vocab import REGISTRY_TYPES

        cols = ", ".join(f"e.{c}" for c in STORED_EVENT_COLUMNS)
        marks = ",".join("?" * len(REGISTRY_TYPES))
        rows = self._exec(
            f"SELECT {cols} FROM events e WHERE e.type IN ({marks}) AND NOT EXISTS "
            "(SELECT 1 FROM withdrawals w WHERE w.target_seq = e.seq) ORDER BY e.seq",
            sorted(t.value for t in REGISTRY_TYPES),
        )
        return [stored_event(r) for r in rows.fetchall()]

    # ------------------------------------------------------------ writes
    def insert_events(self, rows: Sequence[Sequence[Any]]) -> None:
        """Append log rows (EVENT_COLUMNS order)."""
        if not rows:
            return
        if self.pg:
            sql = f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
            with self.cur.copy(sql) as cp:
                cp.set_types(EVENT_PG_TYPES)
                for row in rows:
                    cp.write_row(row)
        else:
            marks = ",".join("?" * len(EVENT_COLUMNS))
            self._many(f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({marks})", rows)

    def insert_event_codes(self, rows: Sequence[tuple[str, int]]) -> None:
        """Index secondary codes of events: (code, seq)."""
        if not rows:
            return
        if self.pg:
            with self.cur.copy("COPY event_codes (code, seq) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
        else:
            self._many("INSERT INTO event_codes (code, seq) VALUES (?, ?)", rows)

    def upsert_batteries(self, states: Iterable[Battery]) -> None:
        """Write the final state of each code touched by the batch."""
        self._upsert("batteries", BATTERY_COLUMNS, [battery_row(b) for b in states])

    def upsert_vehicles(self, states: Iterable[Vehicle]) -> None:
        """Write the final state of each vehicle touched by the batch."""
        self._upsert("vehicles", VEHICLE_COLUMNS, [vehicle_row(v) for v in states])

    def _upsert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert or replace rows by their first column (the table's primary key).

        PostgreSQL: `COPY` into a temporary table emptied at commit, then one
        `INSERT … SELECT … ON CONFLICT` (psycopg's `executemany` sends a statement per row,
        about 4× slower here); SQLite: `executemany` (in process, no round trips)."""
        if not rows:
            return
        cols = ", ".join(columns)
        sets = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
        conflict = f"ON CONFLICT ({columns[0]}) DO UPDATE SET {sets}"
        if not self.pg:
            marks = ",".join("?" * len(columns))
            self._many(f"INSERT INTO {table} ({cols}) VALUES ({marks}) {conflict}", rows)
            return
        stage = f"battrace_stage_{table}"
        # Made, or found, on every call: a savepoint rolled back (a refused correction) may
        # have taken a table made after it. Left empty after every call, so whatever a
        # rollback restores is empty too; emptied at commit so that dead rows never pile up
        # (PostgreSQL does not vacuum temporary tables).
        self._exec(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} "
            f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        with self.cur.copy(f"COPY {stage} ({cols}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
        self._exec(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} {conflict}")
        self._exec(f"DELETE FROM {stage}")

    def add_stats(self, deltas: dict[tuple[int, str], list[int]]) -> None:
        """Add per-day event counts and retirements to `event_stats`."""
        rows = [(d, t, n, r) for (d, t), (n, r) in deltas.items() if n or r]
        self._many(
            "INSERT INTO event_stats (day, type, events, retirements) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (day, type) DO UPDATE SET events = event_stats.events + excluded.events,"
            " retirements = event_stats.retirements + excluded.retirements",
            rows,
        )
        emptied = [(d, t) for d, t, n, r in rows if n < 0 or r < 0]  # a correction took back
        if emptied:  # the last event of a day and type: no row, as a rebuild would leave it
            self._many(
                "DELETE FROM event_stats WHERE day = ? AND type = ? AND events = 0"
                " AND retirements = 0",
                emptied,
            )

    def oblige_unobligated(self, manufacturer_code: str, enterprise: str) -> None:
        """Codes of `manufacturer_code` that nobody is obligated for (parts freed by
        dismantling before the code had an owner) take its new owner."""
        self._exec(
            "UPDATE batteries SET obligated = ? WHERE manufacturer = ? AND obligated IS NULL",
            (enterprise, manufacturer_code),
        )

    def delete_battery(self, code: str) -> None:
        """Drop a code's projection (a correction withdrew its registration)."""
        self._exec("DELETE FROM batteries WHERE code = ?", (code,))

    def delete_vehicle(self, vin: str) -> None:
        """Drop a vehicle's projection (a correction withdrew every event about it)."""
        self._exec("DELETE FROM vehicles WHERE vin = ?", (vin,))

    def insert_withdrawals(self, rows: Sequence[tuple[int, int]]) -> None:
        """Record corrections: (target_seq, correction_seq)."""
        self._many("INSERT INTO withdrawals (target_seq, correction_seq) VALUES (?, ?)", rows)

    def write_registry(self, reg: Registry) -> None:
        """Rewrite the registry projection (it is small and changes rarely)."""
        for table in (
            "enterprises",
            "manufacturer_codes",
            "qualifications",
            "outlets",
            "outlet_serves",
            "vehicle_models",
        ):
            self._exec(f"DELETE FROM {table}")
        self._many(
            "INSERT INTO enterprises (uscc, name, roles, region) VALUES (?, ?, ?, ?)",
            [
                (e.uscc, e.name, ",".join(sorted(e.roles)), e.region)
                for e in reg.enterprises.values()
            ],
        )
        self._many(
            "INSERT INTO manufacturer_codes (manufacturer_code, enterprise) VALUES (?, ?)",
            sorted(reg.manufacturer_codes.items()),
        )
        quals = {}
        for grants in reg.qualifications.values():
            for q in grants:  # the latest grant per (enterprise, scope, valid_from) wins
                quals[(q.enterprise, q.scope.value, q.valid_from.isoformat())] = (
                    q.valid_until.isoformat() if q.valid_until else None,
                    q.revoked_on.isoformat() if q.revoked_on else None,
                    q.granted_by,
                )
        self._many(
            "INSERT INTO qualifications (enterprise, scope, valid_from, valid_until, revoked_on, "
            "granted_by) VALUES (?, ?, ?, ?, ?, ?)",
            [(*k, *v) for k, v in quals.items()],
        )
        self._many(
            "INSERT INTO outlets (enterprise, region, address) VALUES (?, ?, ?)",
            [(o.enterprise, o.region, o.address) for o in reg.outlets.values()],
        )
        self._many(
            "INSERT INTO outlet_serves (outlet, party) VALUES (?, ?)",
            [(o.enterprise, p) for o in reg.outlets.values() for p in sorted(o.serves)],
        )
        self._many(
            "INSERT INTO vehicle_models (model, automaker, swap_model) VALUES (?, ?, ?)",
            [(m.model, m.automaker, m.swap_model) for m in reg.models.values()],
        )

    def insert_findings(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store findings raised at ingest."""
        if not rows:
            return
        cols = list(rows[0])
        marks = ",".join("?" * len(cols))
        # the same open finding again (a rejected event sent twice) is not a second finding
        self._many(
            f"INSERT INTO findings ({', '.join(cols)}) VALUES ({marks}) ON CONFLICT DO NOTHING",
            [tuple(r[c] for c in cols) for r in rows],
        )

    def withdraw_findings(self, trigger_seq: int, *, at_us: int, reason: str) -> int:
        """Withdraw the open findings raised by the event at `trigger_seq`."""
        cur = self._exec(
            "UPDATE findings SET status = 'withdrawn', withdrawn_us = ?, withdrawn_reason = ? "
            "WHERE trigger_seq = ? AND status = 'open'",
            (at_us, reason, trigger_seq),
        )
        return int(cur.rowcount or 0)

    def insert_checkpoint(self, size: int, root: bytes, timestamp_us: int, note: str) -> bool:
        """Store a signed checkpoint (one per tree size); False if that size already has one."""
        if self._exec("SELECT 1 FROM checkpoints WHERE tree_size = ?", (size,)).fetchone():
            return False
        self._exec(
            "INSERT INTO checkpoints (tree_size, root_hash, timestamp_us, note) "
            "VALUES (?, ?, ?, ?)",
            (size, root, timestamp_us, note),
        )
        return True

    def update_head(self, head: Head, *, now_us: int) -> None:
        """Store the new tree size, frontier and registry version."""
        self._exec(
            "UPDATE log_head SET tree_size = ?, frontier = ?, registry_version = ?, "
            "updated_us = ? WHERE id = 1",
            (head.tree_size, head.frontier, head.registry_version, now_us),
        )
        self.head = head
