"""The one storage interface and its SQL implementation (SQLite and PostgreSQL)."""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, select, union
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.sql.elements import BindParameter

from battrace.domain.lifecycle import Battery, Vehicle
from battrace.errors import SchemaError, StoreError
from battrace.store import migrate
from battrace.store.engine import make_engine
from battrace.store.rows import (
    BATTERY_COLUMNS,
    STORED_EVENT_COLUMNS,
    VEHICLE_COLUMNS,
    StoredEvent,
    battery_from_row,
    stored_event,
    vehicle_from_row,
)
from battrace.store.schema import (
    batteries,
    checkpoints,
    event_codes,
    events,
    log_head,
    vehicles,
    withdrawals,
)
from battrace.store.writer import Writer

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: SQLite's own lock alone
    fcntl = None  # type: ignore[assignment]


class SqlStore:
    """A battrace store on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        database = engine.url.database if self.dialect == "sqlite" else None
        #: the SQLite file of the store (None: PostgreSQL, in-memory or a `file:` URI name)
        self.file: Path | None = (
            Path(database)
            if database and database != ":memory:" and not database.startswith("file:")
            else None
        )
        #: writers of an SQLite file queue on this lock file before `BEGIN IMMEDIATE`
        self._write_lock: Path | None = (
            Path(f"{self.file}-writer.lock") if fcntl is not None and self.file else None
        )
        self._session: ContextVar[Connection | None] = ContextVar(
            f"battrace_session_{id(self)}", default=None
        )

    # ------------------------------------------------------------ lifecycle
    @classmethod
    def open(cls, url: str, *, create: bool = False) -> SqlStore:
        """Open the store at `url`; with `create`, create or migrate it first."""
        store = cls(make_engine(url))
        if not create and store.file is not None and not store.file.exists():
            # SQLite would create an empty file on connecting: a read must leave nothing behind
            store.close()
            raise store._not_a_store()
        if create and store.file is not None:
            store.file.parent.mkdir(parents=True, exist_ok=True)  # `init --db new/dir/x.db`
        try:
            if create:
                migrate.upgrade(store.engine)
            else:
                store.check_schema()
        except OperationalError as exc:
            raise store._unwritable(exc.orig) or StoreError(
                f"cannot open store {url}: {exc.orig}"
            ) from exc
        return store

    def check_schema(self) -> None:
        """SchemaError unless the store is at this code's schema revision."""
        have = migrate.current_revision(self.engine)
        want = migrate.SCHEMA_HEAD
        if have is None:
            raise self._not_a_store()
        if have != want:
            raise SchemaError(
                f"store schema is {have}, this code needs {want}: run `battrace init`"
            )

    def _not_a_store(self) -> SchemaError:
        return SchemaError(
            f"{self.engine.url.render_as_string(hide_password=True)} is not a battrace "
            "store yet: run `battrace init`"
        )

    def _unwritable(self, exc: BaseException | None) -> StoreError | None:
        """One line that says why, when `exc` is SQLite or the writer lock failing to write
        the store's file or beside it (None: another failure, or not an SQLite file). SQLite
        said "attempt to write a readonly database" (ingest ended in a traceback) or, in a
        directory it cannot create the WAL's files in, "unable to open database file"."""
        if self.file is None or exc is None:
            return None
        if isinstance(exc, OSError):
            refused = exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
            readonly = False
        else:
            message = str(exc)
            readonly = "readonly database" in message
            refused = readonly or "unable to open database file" in message
        if not refused:
            return None
        folder = self.file.parent
        name = self.file.name
        beside = [folder / f"{name}-{end}" for end in ("wal", "shm", "writer.lock")]
        blocked = [p for p in (self.file, *beside) if p.exists() and not os.access(p, os.W_OK)]
        if folder.exists() and not os.access(folder, os.W_OK):
            blocked.append(folder)
        if not blocked and not readonly:
            return None
        names = [
            "the file"
            if p == self.file
            else f"its directory {folder.absolute()}"
            if p == folder
            else p.name
            for p in blocked
        ]
        what = (
            f"{' and '.join([', '.join(names[:-1]), names[-1]] if names[1:] else names)} "
            f"{'are' if names[1:] else 'is'} not writable"
            if names
            else "SQLite opened it read-only"
        )
        return StoreError(
            f"the store {self.file} cannot be written here: {what} (SQLite in WAL mode needs "
            f"to write the store, and to create {name}-wal and {name}-shm beside it even to "
            "read it); copy the store to a writable place"
        )

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[None]:
        """Run the reads inside on one connection (one checkout, one snapshot on PostgreSQL)."""
        if self._session.get() is not None:
            yield
            return
        with self.engine.connect() as conn:
            token = self._session.set(conn)
            try:
                yield
            finally:
                self._session.reset(token)

    @contextmanager
    def _connect(self, *, autocommit: bool = False) -> Iterator[Connection]:
        """The session's connection, or a fresh one (`autocommit`: for a single read
        statement; not on SQLite, whose connections begin their transactions themselves)."""
        conn = self._session.get()
        if conn is not None:
            yield conn
            return
        with self.engine.connect() as fresh:
            if autocommit:
                fresh = fresh.execution_options(isolation_level="AUTOCOMMIT")
            yield fresh

    @contextmanager
    def writer(self) -> Iterator[Writer]:
        """A write transaction with the log head locked; commits on success.

        On an SQLite file, writers first queue on an exclusive `flock` of `<db>-writer.lock`:
        SQLite's own lock makes a waiting writer poll with growing sleeps (up to 100 ms), which
        leaves the store idle between the processes of a multi-process server; the kernel's
        lock wakes the next writer the moment the last one commits."""
        with self._queue_for_writing(), self._write() as w:
            yield w

    @contextmanager
    def _queue_for_writing(self) -> Iterator[None]:
        if self._write_lock is None or fcntl is None:
            yield
            return
        try:
            fd = os.open(self._write_lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:  # a store copied with its WAL files into a read-only place
            if (unwritable := self._unwritable(exc)) is None:
                raise
            raise unwritable from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released with the descriptor
            yield
        finally:
            os.close(fd)

    @contextmanager
    def _write(self) -> Iterator[Writer]:
        raw = self.engine.raw_connection()
        try:
            w = Writer(raw.driver_connection, self.dialect)
            try:
                yield w
            except BaseException:
                w.rollback()
                raise
            w.commit()
        except SQLAlchemyError as exc:  # pragma: no cover - translated for the drivers
            raise StoreError(str(exc)) from exc
        except sqlite3.OperationalError as exc:  # the Writer speaks to the driver itself
            if (unwritable := self._unwritable(exc)) is None:
                raise
            raise unwritable from exc
        finally:
            raw.close()

    #: the tables reads of single codes go through (history, state, links)
    READ_TABLES = ("events", "event_codes", "batteries", "vehicles", "withdrawals")

    def settle(self) -> bool:
        """After a bulk load, on PostgreSQL: `VACUUM (ANALYZE)` of the read tables — planner
        statistics, hint bits and the visibility map for the fresh rows, so that the first
        reads do not pay for them (measured at 10 million events: `trace` p50 12 ms straight
        after the load, 2.2 ms after an 11 s VACUUM ANALYZE). True when it ran; nothing to do
        on SQLite."""
        if self.dialect != "postgresql":
            return False
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(self.READ_TABLES)}")
        return True

    # ------------------------------------------------------------ reads
    def tree_size(self) -> int:
        """Number of leaves in the log."""
        with self._connect() as c:
            return int(c.execute(select(log_head.c.tree_size)).scalar_one())

    def battery(self, code: str) -> Battery | None:
        """The current state of one code."""
        cols = [batteries.c[n] for n in BATTERY_COLUMNS]
        with self._connect() as c:
            row = c.execute(select(*cols).where(batteries.c.code == code)).first()
        return battery_from_row(row) if row else None

    def batteries_where(
        self, *, parent: str | None = None, successor: str | None = None
    ) -> list[str]:
        """Codes whose parent (components) or successor (inputs) is the given code."""
        col = batteries.c.parent if parent is not None else batteries.c.successor
        key = parent if parent is not None else successor
        with self._connect() as c:
            return sorted(c.execute(select(batteries.c.code).where(col == key)).scalars())

    def code_view(
        self, code: str
    ) -> tuple[list[tuple[StoredEvent, int | None]], Battery | None, list[str], list[str]]:
        """`history(code=…)`, the code's current state, its components (codes whose parent
        it is) and its inputs (codes whose successor it is), in one statement: one round trip
        and one snapshot. On PostgreSQL, outside a `session`, it runs in autocommit, so the
        pooled connection goes back without a rollback (that was a third round trip)."""
        with self._connect(autocommit=self.engine.dialect.name == "postgresql") as c:
            rows = c.execute(_code_view_query(), {"key": code}).all()
        history = _timeline(rows)
        if not rows:
            return history, None, [], []
        n = len(STORED_EVENT_COLUMNS) + 1  # the history part: event columns, correction seq
        first = rows[0]
        own = first[n : n + len(BATTERY_COLUMNS)]
        components, inputs = first[-2], first[-1]
        return (
            history,
            battery_from_row(own) if own[0] is not None else None,
            sorted(components.split(" ")) if components else [],
            sorted(inputs.split(" ")) if inputs else [],
        )

    def vehicle(self, vin: str) -> Vehicle | None:
        """The current state of one vehicle."""
        cols = [vehicles.c[n] for n in VEHICLE_COLUMNS]
        with self._connect() as c:
            row = c.execute(select(*cols).where(vehicles.c.vin == vin)).first()
        return vehicle_from_row(row) if row else None

    def history(
        self, *, code: str | None = None, vin: str | None = None
    ) -> list[tuple[StoredEvent, int | None]]:
        """Every event touching a code or vehicle in event-time order, with the seq of the
        correction that withdrew it (None while it counts)."""
        with self._connect() as c:
            if code is not None:
                rows = c.execute(_history_query("code"), {"key": code}).all()
            else:
                rows = c.execute(_history_query("vin"), {"key": vin}).all()
        return _timeline(rows)

    def events_by_seq(self, seqs: Sequence[int]) -> dict[int, StoredEvent]:
        """Stored events by log position."""
        cols = [events.c[n] for n in STORED_EVENT_COLUMNS]
        out: dict[int, StoredEvent] = {}
        with self._connect() as c:
            for i in range(0, len(seqs), 500):
                chunk = list(seqs[i : i + 500])
                for r in c.execute(select(*cols).where(events.c.seq.in_(chunk))):
                    out[int(r[0])] = stored_event(r)
        return out

    def counts(self) -> dict[str, Any]:
        """Quick totals: events, batteries by state, withdrawn events, checkpoints."""
        with self._connect() as c:
            by_state: dict[str, int] = dict(
                c.execute(select(batteries.c.state, func.count()).group_by(batteries.c.state)).all()
            )
            return {
                "events": int(c.execute(select(func.count()).select_from(events)).scalar_one()),
                "withdrawn": int(
                    c.execute(select(func.count()).select_from(withdrawals)).scalar_one()
                ),
                "batteries": {k: int(v) for k, v in by_state.items()},
                "checkpoints": int(
                    c.execute(select(func.count()).select_from(checkpoints)).scalar_one()
                ),
            }

    def is_live(self, seq: int) -> bool:
        """True while no correction has withdrawn the event at `seq`."""
        with self._connect() as c:
            return not c.execute(
                select(exists().where(and_(withdrawals.c.target_seq == seq)))
            ).scalar_one()

    def registry_events(self) -> list[StoredEvent]:
        """All registry facts that still count, in log order."""
        from battrace.domain.vocab import REGISTRY_TYPES

        cols = [events.c[n] for n in STORED_EVENT_COLUMNS]
        q = (
            select(*cols)
            .where(events.c.type.in_(sorted(t.value for t in REGISTRY_TYPES)))
            .where(~exists().where(withdrawals.c.target_seq == events.c.seq))
            .order_by(events.c.seq)
        )
        with self._connect() as c:
            return [stored_event(r) for r in c.execute(q)]

    def registry_history(self) -> list[tuple[StoredEvent, int | None]]:
        """Every registry fact in log order, with the log position of the correction that
        withdrew it (None while it counts): the registry as of any log position."""
        from battrace.domain.vocab import REGISTRY_TYPES

        cols = [events.c[n] for n in STORED_EVENT_COLUMNS]
        q = (
            select(*cols, withdrawals.c.correction_seq)
            .select_from(events.outerjoin(withdrawals, withdrawals.c.target_seq == events.c.seq))
            .where(events.c.type.in_(sorted(t.value for t in REGISTRY_TYPES)))
            .order_by(events.c.seq)
        )
        with self._connect() as c:
            return [
                (stored_event(r), None if r.correction_seq is None else int(r.correction_seq))
                for r in c.execute(q)
            ]

    # ------------------------------------------------------------ transparency log
    def get_nodes(self, ids: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Merkle nodes by (level, index) from the leaves' stored hashes and blobs."""
        from battrace.ledger.merkle import completing_leaf, node_from_blob

        wanted = {i: completing_leaf(i[0], i[1]) if i[0] else i[1] for i in ids}
        seqs = sorted(set(wanted.values()))
        rows: dict[int, tuple[bytes, bytes]] = {}
        with self._connect() as c:
            for k in range(0, len(seqs), 500):
                chunk = seqs[k : k + 500]
                q = select(events.c.seq, events.c.leaf_hash, events.c.nodes).where(
                    events.c.seq.in_(chunk)
                )
                for seq, lh, blob in c.execute(q):
                    rows[int(seq)] = (bytes(lh), bytes(blob))
        out = {}
        for node, seq in wanted.items():
            if seq in rows:
                lh, blob = rows[seq]
                if node[0] == 0:
                    out[node] = lh
                elif len(blob) >= node[0] * 32:
                    out[node] = node_from_blob(blob, node[0])
        return out

    def checkpoint_rows(self, *, size: int | None = None, latest: bool = False) -> list[Any]:
        """Stored checkpoints (tree_size, root_hash, timestamp_us, note), oldest first."""
        q = select(
            checkpoints.c.tree_size,
            checkpoints.c.root_hash,
            checkpoints.c.timestamp_us,
            checkpoints.c.note,
        )
        if size is not None:
            q = q.where(checkpoints.c.tree_size == size)
        if latest:
            q = q.order_by(checkpoints.c.tree_size.desc()).limit(1)
        else:
            q = q.order_by(checkpoints.c.tree_size)
        with self._connect() as c:
            return list(c.execute(q).all())

    def event_by_key(self, reporter: str, event_id: str) -> StoredEvent | None:
        """One stored event by its idempotency key."""
        cols = [events.c[n] for n in STORED_EVENT_COLUMNS]
        q = select(*cols).where(events.c.event_id == event_id, events.c.reporter == reporter)
        with self._connect() as c:
            row = c.execute(q).first()
        return stored_event(row) if row else None

    def log_rows(self, start: int = 0, chunk: int = 20_000) -> Iterator[tuple[Any, ...]]:
        """Every log row (seq, reporter, recorded_us, payload, leaf_hash, nodes) in order."""
        cols = (
            events.c.seq,
            events.c.reporter,
            events.c.recorded_us,
            events.c.payload,
            events.c.leaf_hash,
            events.c.nodes,
        )
        last = start - 1
        while True:
            q = select(*cols).where(events.c.seq > last).order_by(events.c.seq).limit(chunk)
            with self._connect() as c:
                rows = c.execute(q).all()
            if not rows:
                return
            yield from (tuple(r) for r in rows)
            last = int(rows[-1][0])

    def head(self) -> tuple[int, bytes]:
        """The log head's tree size and saved frontier."""
        with self._connect() as c:
            size, frontier = c.execute(select(log_head.c.tree_size, log_head.c.frontier)).one()
        return int(size), bytes(frontier)


# Statements of the hottest reads (`trace`, the battery page), built once: building a
# SQLAlchemy statement costs more Python than running it costs the database. The parameter
# keeps one statement text, which psycopg also prepares on the server after a few uses.


@cache
def _code_view_query() -> Select[Any]:
    """The history of a code (parameter `key`) as `_history_query("code")` has it, each row
    with the code's own `batteries` row (NULLs when it has none) and the codes whose parent
    it is (components) and whose successor it is (inputs), space-separated: what `trace`
    shows, in one statement."""
    b = batteries.c
    key: BindParameter[str] = bindparam("key")
    own = batteries.alias("own")
    components = (
        select(func.aggregate_strings(b.code, " "))
        .where((b.parent == key) & (b.code != key))
        .scalar_subquery()
    )
    inputs = (
        select(func.aggregate_strings(b.code, " "))
        .where((b.successor == key) & (b.code != key))
        .where(b.parent.is_(None) | (b.parent != key))
        .scalar_subquery()
    )
    return (
        _history_query("code")
        .add_columns(*[own.c[n] for n in BATTERY_COLUMNS], components, inputs)
        .outerjoin(own, own.c.code == key)
    )


def _timeline(rows: Sequence[Any]) -> list[tuple[StoredEvent, int | None]]:
    """Rows that start with the event columns and the withdrawing correction's seq, as
    (stored event, correction seq) in event-time order."""
    n = len(STORED_EVENT_COLUMNS)
    out = [(stored_event(r[:n]), r[n]) for r in rows]
    return sorted(out, key=lambda x: (x[0].time_us, x[0].seq))


@cache
def _history_query(by: str) -> Select[Any]:
    """Events touching a code (`by="code"`: as its subject or in `event_codes`) or a vehicle
    (`by="vin"`), with the seq of the correction that withdrew each (parameter `key`)."""
    cols = [events.c[n] for n in STORED_EVENT_COLUMNS]
    key: BindParameter[str] = bindparam("key")
    if by == "code":
        direct = select(events.c.seq).where(events.c.code == key)
        indirect = select(event_codes.c.seq).where(event_codes.c.code == key)
        seqs = union(direct, indirect).subquery()
        q = select(*cols, withdrawals.c.correction_seq).join(seqs, seqs.c.seq == events.c.seq)
    else:
        q = select(*cols, withdrawals.c.correction_seq).where(events.c.vin == key)
    return q.outerjoin(withdrawals, withdrawals.c.target_seq == events.c.seq)
