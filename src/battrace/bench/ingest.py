"""Ingest throughput against the raw insert rate of the same engine, trace latency, memory.

The raw baseline writes rows of the same width into a table with the same keys as `events`
(primary key, unique idempotency key, the code and VIN indexes) with plain batched inserts
(SQLite `executemany`) or binary `COPY` (PostgreSQL), measured in the same run; ingest does
everything an accepted event costs: parsing, validation, custody and state machine,
compliance flags, canonical JSON, Merkle leaf and nodes, projections, a signed checkpoint per
batch.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from battrace import bootstrap
from battrace.bench._report import Figure
from battrace.bench.data import BENCH_ORIGIN, lifecycle_lines, write_jsonl
from battrace.config import Settings
from battrace.identity import DEFAULT_TABLES
from battrace.ledger.keys import init_key_dir
from battrace.services.ingest_ahead import worth_a_helper
from battrace.services.ingest_file import ingest_file
from battrace.services.trace import trace
from battrace.store.engine import fast_sqlite_binding
from battrace.store.rows import EVENT_PG_TYPES
from battrace.store.schema import events

PACKS = {"small": 20_000, "medium": 200_000, "large": 2_000_000}
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BATCH = 2000


@contextmanager
def pg_schema(url: str = PG_URL) -> Iterator[str | None]:
    """A throw-away schema on the PostgreSQL server (None when the server is unreachable)."""
    import psycopg

    plain = url.replace("+psycopg", "")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(plain, autocommit=True, connect_timeout=3) as c:
            c.execute(f"CREATE SCHEMA {schema}")
    except psycopg.Error:
        yield None
        return
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as c:
            c.execute(f"DROP SCHEMA {schema} CASCADE")


def server_cpu() -> float | None:
    """CPU seconds the PostgreSQL server processes on this machine have used so far (None when
    there are none to read: another machine, or no `/proc`). All its sessions count, so the
    figure is only clean on a server nothing else uses at the time; the kernel counts in
    ticks (10 ms), so only sums over many batches mean something."""
    total, found = 0.0, False
    tick = os.sysconf("SC_CLK_TCK")
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        if name.startswith(("postgres", "postmaster")):
            fields = stat[stat.rfind(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            found = True
    return total if found else None


def _local_server(url: sa.URL) -> bool:
    """True for a PostgreSQL server on this machine (whose processes `server_cpu` reads)."""
    return url.get_backend_name() == "postgresql" and url.host in (
        None,
        "localhost",
        "127.0.0.1",
        "::1",
    )


class CpuClock:
    """CPU seconds of this process, its waited-for children (the helper) and, on a local
    PostgreSQL server, the server's processes: everything an insert or an event cost.
    Reading the server's scans `/proc`, which costs this process CPU too: `start` reads the
    server before this process and `stop` after it, so neither scan is counted."""

    def __init__(self, server: bool) -> None:
        self.server = server
        self.seconds = 0.0
        self._own = 0.0
        self._srv: float | None = None

    @staticmethod
    def _own_cpu() -> float:
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + kids.ru_utime + kids.ru_stime

    def start(self) -> None:
        """Begin an interval."""
        self._srv = server_cpu() if self.server else None
        self._own = self._own_cpu()

    def stop(self) -> None:
        """End the interval and add what it used to `seconds`."""
        self.seconds += self._own_cpu() - self._own
        if self._srv is not None:
            self.seconds += (server_cpu() or self._srv) - self._srv


def raw_batches(path: Path) -> Iterator[list[tuple[Any, ...]]]:
    """Rows of the events table's width built from the file, a batch at a time (not timed)."""
    rows: list[tuple[Any, ...]] = []
    with path.open("rb") as fh:
        for seq, line in enumerate(fh):
            e = orjson.loads(line)
            rows.append(
                (
                    seq,
                    e["reporter"],
                    e["id"],
                    e["type"],
                    e.get("battery"),
                    e.get("vin"),
                    seq,
                    seq,
                    line.decode().rstrip("\n"),
                    os.urandom(32),
                    b"",
                )
            )
            if len(rows) == BATCH:
                yield rows
                rows = []
    if rows:
        yield rows


def raw_rate(url: str, path: Path) -> tuple[float, float]:
    """Rows/s of plain batched inserts (SQLite) or binary COPY (PostgreSQL), same keys, and
    the CPU seconds per row they cost (`CpuClock`)."""
    md = sa.MetaData()
    raw = events.to_metadata(md, name="raw_events")
    for ix in list(raw.indexes):  # index names must not clash with the real table's
        ix.name = sa.sql.quoted_name(f"raw_{ix.name}", quote=None)
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":
        fast_sqlite_binding()  # what our SQLite engines do: the same binding cost as ingest
    md.create_all(engine)
    cols = [c.name for c in raw.columns]
    dbapi = engine.raw_connection()
    conn: Any = dbapi.driver_connection
    elapsed, count = 0.0, 0
    clock = CpuClock(server=_local_server(engine.url))
    try:
        if engine.dialect.name == "sqlite":
            conn.isolation_level = None
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            marks = ",".join("?" * len(cols))
            for rows in raw_batches(path):
                clock.start()
                t0 = time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(f"INSERT INTO raw_events VALUES ({marks})", rows)
                conn.execute("COMMIT")
                elapsed += time.perf_counter() - t0
                clock.stop()
                count += len(rows)
        else:
            cur = conn.cursor()
            for rows in raw_batches(path):
                clock.start()
                t0 = time.perf_counter()
                with cur.copy(
                    f"COPY raw_events ({', '.join(cols)}) FROM STDIN (FORMAT BINARY)"
                ) as cp:
                    cp.set_types(EVENT_PG_TYPES)
                    for r in rows:
                        cp.write_row(r)
                conn.commit()
                elapsed += time.perf_counter() - t0
                clock.stop()
                count += len(rows)
    finally:
        dbapi.close()
        # Gone once measured: on PostgreSQL its fresh 10 M rows would draw autovacuum while
        # the `trace` latencies of the same run are taken (the large run of 2026-12-03).
        md.drop_all(engine)
        engine.dispose()
    return count / elapsed, clock.seconds / count


class _TimedRules:
    """The ingest-time rules, with the time spent in them added up."""

    def __init__(self, rules: Any) -> None:
        self.rules = rules
        self.policy_version = rules.policy_version
        self.seconds = 0.0

    def flags(self, ev: Any, ctx: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return self.rules.flags(ev, ctx)
        finally:
            self.seconds += time.perf_counter() - t0

    def rejected(self, raw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return self.rules.rejected(raw)
        finally:
            self.seconds += time.perf_counter() - t0


def ingest_rate(url: str, path: Path, keys: Path) -> tuple[float, int, float, float]:
    """Events/s of `battrace ingest` in process (trusted back-fill keeps the record times),
    the events accepted, the share of the time spent in the ingest-time flag rules, and the
    CPU seconds per event (`CpuClock`: this process, the helper, a local server)."""
    settings = Settings(database_url=url, key_dir=keys, log_origin=BENCH_ORIGIN)
    store = bootstrap.open_store(settings, create=True)
    ingestor = bootstrap.make_ingestor(settings, store, trusted=True)
    timed = _TimedRules(ingestor.rules)
    ingestor.rules = timed  # type: ignore[assignment]
    clock = CpuClock(server=_local_server(store.engine.url))
    clock.start()
    t0 = time.perf_counter()
    tally = ingest_file(ingestor, path, batch_size=BATCH, ahead=None)
    elapsed = time.perf_counter() - t0
    clock.stop()  # the helper was waited for: its CPU is in
    store.close()
    if tally.rejected:
        raise RuntimeError(f"benchmark data was rejected ({tally.rejected} events)")
    rules_share = timed.seconds / (elapsed - timed.seconds)
    return tally.accepted / elapsed, tally.accepted, rules_share, clock.seconds / tally.accepted


def settle(url: str) -> float:
    """`SqlStore.settle` after the bulk load, as an operator's `battrace ingest` does on
    PostgreSQL; seconds it took (0 on SQLite)."""
    store = bootstrap.open_store(Settings(database_url=url))
    t0 = time.perf_counter()
    try:
        ran = store.settle()
    finally:
        store.close()
    return time.perf_counter() - t0 if ran else 0.0


def trace_latency(url: str, packs: int, samples: int = 2000) -> tuple[float, float]:
    """p50 and p99 (ms) of `trace` for random codes, in process."""
    store = bootstrap.open_store(Settings(database_url=url))
    enc = DEFAULT_TABLES.encode_date
    rng = random.Random(7)
    start = dt.date(2018, 1, 2)
    times = []
    for _ in range(samples):
        i = rng.randrange(packs)
        day = start + dt.timedelta(days=i // 2000)
        code = f"001PB01TRACE01{enc(day)}{i % 2000 + 1:07d}"
        t0 = time.perf_counter()
        trace(store, code)
        times.append((time.perf_counter() - t0) * 1000)
    store.close()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def peak_memory_mb(url: str, path: Path, keys: Path) -> float:
    """Peak RSS (MB) of a `battrace ingest` process on the file, with any child's (the sum
    of both peaks: an upper bound of what they held at once)."""
    settings = Settings(database_url=url, key_dir=keys, log_origin=BENCH_ORIGIN)
    env = dict(os.environ, **settings.to_env())
    script = (
        "import resource, sys\n"
        "from battrace.cli import app\n"
        "sys.argv = ['battrace', 'ingest', sys.argv[1], '--keep-recorded-at']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "      + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(out.strip().splitlines()[-1]) / 1024


def run(scale: str = "small") -> list[Figure]:
    """All ingest figures at a scale (SQLite always; PostgreSQL when reachable)."""
    packs = PACKS[scale]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="battrace-bench-") as tmp:
        work = Path(tmp)
        path = work / "events.jsonl"
        n = write_jsonl(path, lifecycle_lines(packs))
        helped = worth_a_helper(path.stat().st_size)  # what `ingest_rate`'s ahead=None does
        keys = work / "keys"
        init_key_dir(keys, BENCH_ORIGIN)
        backends = [("SQLite", f"sqlite:///{work / 'ingest.db'}", f"sqlite:///{work / 'raw.db'}")]
        with pg_schema() as pg, pg_schema() as pg_raw:
            if pg is not None and pg_raw is not None:
                backends.append(("PostgreSQL", pg, pg_raw))
            for name, url, raw_url in backends:
                raw, raw_cpu = raw_rate(raw_url, path)
                rate, accepted, rules_share, cpu = ingest_rate(url, path, keys)
                ratio = rate / raw
                figures += [
                    Figure(
                        f"ingest {name}",
                        "raw insert rate (same keys)",
                        raw,
                        "rows/s",
                        note=f"{n:,} rows",
                    ),
                    Figure(
                        f"ingest {name}",
                        "ingest with full validation",
                        rate,
                        "events/s",
                        note=f"{accepted:,} events"
                        + ("; the next batch checked in a helper process" if helped else ""),
                    ),
                    Figure(
                        f"ingest {name}", "ingest / raw", ratio * 100, "%", ">= 30 %", ratio >= 0.30
                    ),
                    Figure(
                        f"ingest {name}",
                        "CPU per event / CPU per raw row",
                        cpu / raw_cpu,
                        "×",
                        note=f"{cpu * 1e6:.1f} µs against {raw_cpu * 1e6:.1f} µs, CPU of "
                        + ", ".join(
                            ["this process"]
                            + (["the helper"] if helped else [])
                            + (["the server"] if name == "PostgreSQL" else [])
                        )
                        + f"; {os.cpu_count() or 1} cores",
                    ),
                ]
                figures.append(
                    Figure(
                        f"ingest {name}",
                        "time added by ingest-time rules (BT-010…BT-020)",
                        rules_share * 100,
                        "%",
                        "<= 25 %",
                        rules_share <= 0.25,
                        "time inside the flag rules / the rest of ingest",
                    )
                )
                settled = settle(url)
                p50, p99 = trace_latency(url, packs)
                after = f"; after VACUUM (ANALYZE), {settled:.0f} s" if name == "PostgreSQL" else ""
                figures += [
                    Figure(f"trace {name}", "trace p50", p50, "ms", note=f"{n:,} events{after}"),
                    Figure(f"trace {name}", "trace p99", p99, "ms", "<= 5 ms", p99 <= 5),
                ]
        mem_url = f"sqlite:///{work / 'mem.db'}"
        bootstrap.open_store(Settings(database_url=mem_url), create=True).close()
        mb = peak_memory_mb(mem_url, path, keys)
        size_mb = path.stat().st_size / 1e6
        figures.append(
            Figure(
                "ingest SQLite",
                "peak memory (RSS)",
                mb,
                "MB",
                "<= 300 MB",
                mb <= 300,
                f"file of {size_mb:,.0f} MB; `battrace ingest` as it comes (the checking "
                f"helper {'included' if helped else 'not started: small file or one core'})",
            )
        )
    return figures
