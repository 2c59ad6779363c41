"""Load on the HTTP API over loopback: batched ingest throughput, single-event POST latency at a
steady rate, and `GET /v1/batteries/{code}` latency at a steady rate.

The server runs in a subprocess (`python -m battrace.api`, uvicorn, one process; then, for
batched throughput again, `--workers 2`) on a fresh SQLite store with a signing key, as
deployed. The load generator is a small asyncio HTTP/1.1 client over keep-alive connections
(no dependency, a few microseconds per request), so the client steals little of the machine's
two cores. Rates are open-loop: requests are sent on a
fixed schedule and latency is measured from the *scheduled* send time, so a stalled server
cannot hide its queueing (no coordinated omission). Everything is bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from battrace import bootstrap
from battrace.bench._report import Figure
from battrace.bench.data import AUTOMAKER, MAKER, REGULATOR
from battrace.config import Settings
from battrace.identity import DEFAULT_TABLES, build_vin
from battrace.ledger.keys import init_key_dir
from battrace.services import apikeys
from battrace.sim.build import CST, event
from battrace.store.sql import SqlStore

HOST = "127.0.0.1"
MODEL = "LOAD-EV"
BATCH = 1000
#: packs for the throughput runs (5 events each), seconds of each steady-rate run
SCALES = {
    "small": {"packs": 8_000, "seconds": 4.0},
    "medium": {"packs": 40_000, "seconds": 10.0},
    "large": {"packs": 200_000, "seconds": 20.0},
}
#: each steady-rate run is repeated; the figure is the median run's p99 (the machine may be
#: shared, and one run's tail is one unlucky scheduling away from another's)
REPEATS = 3
#: processes of the multi-process server measured for batched throughput, and the reporters'
#: connections it serves (the kernel hashes each connection to one worker's socket: with few
#: connections one worker may get most of them, as with few clients in real life)
WORKERS = 2
WORKER_CONNECTIONS = 16
POST_RATE = 200
GET_RATE = 1000
#: the enterprise's full view (key check, state, history, links) costs several queries
FULL_RATE = 250


# ---------------------------------------------------------------- data
def registry(now: dt.datetime) -> list[dict[str, Any]]:
    """A regulator, a battery maker (code 001), an automaker and its model."""
    t = now.isoformat()

    def reg(eid: str, kind: str, **f: Any) -> dict[str, Any]:
        return event(kind, eid, t, REGULATOR, **f)

    return [
        reg("r1", "enterprise_registered", enterprise=REGULATOR, name="MIIT",
            roles=["regulator"], region="110000"),
        reg("r2", "enterprise_registered", enterprise=MAKER, name="Maker",
            roles=["battery_maker"], region="320500"),
        reg("r3", "enterprise_registered", enterprise=AUTOMAKER, name="Auto",
            roles=["automaker"], region="440300"),
        reg("r4", "manufacturer_code_assigned", enterprise=MAKER, manufacturer_code="001"),
        reg("r5", "vehicle_model_registered", model=MODEL, automaker=AUTOMAKER,
            swap_model=False),
    ]  # fmt: skip


def pack_code(i: int, day: dt.date) -> str:
    """The i-th pack code made on `day` (serials wrap into the trace field past 9,999,999)."""
    return f"001PB01T{i // 9_999_999:06d}{DEFAULT_TABLES.encode_date(day)}{i % 9_999_999 + 1:07d}"


def production_day(now: dt.datetime) -> dt.date:
    """The CST date of the packs `lifecycles(…, now, …)` produces (50 minutes before `now`:
    not `now`'s own date when midnight in Beijing falls in between)."""
    return (now - dt.timedelta(minutes=50)).astimezone(CST).date()


def lifecycles(
    packs: range, now: dt.datetime, tag: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The maker's events (produced, shipped) and the automaker's (received, installed, sold)
    for `packs`, timed within the last hour so no reporting deadline is missed, in China
    Standard Time (a code's production date is the maker's local date of production)."""
    day = production_day(now)
    t = [(now - dt.timedelta(minutes=50 - 10 * h)).astimezone(CST).isoformat() for h in range(5)]
    maker: list[dict[str, Any]] = []
    auto: list[dict[str, Any]] = []
    for i in packs:
        code = pack_code(i, day)
        vin = build_vin(f"LSVLD{i:011d}")
        maker += [
            event("produced", f"{tag}p{i}", t[0], MAKER, battery=code, chemistry="LFP",
                  rated_capacity_ah=150, nominal_voltage_v=350, energy_kwh=52.5, mass_kg=350),
            event("shipped", f"{tag}s{i}", t[1], MAKER, battery=code, to=AUTOMAKER),
        ]  # fmt: skip
        auto += [
            event("received", f"{tag}r{i}", t[2], AUTOMAKER, battery=code),
            event("installed", f"{tag}i{i}", t[3], AUTOMAKER, battery=code, vin=vin,
                  vehicle_model=MODEL),
            event("vehicle_sold", f"{tag}v{i}", t[4], AUTOMAKER, vin=vin,
                  certificate_date=day.isoformat(), location={"region": "440300"}),
        ]  # fmt: skip
    return maker, auto


def batches(events: list[dict[str, Any]], size: int = BATCH) -> list[list[dict[str, Any]]]:
    """Events cut into batches."""
    return [events[i : i + size] for i in range(0, len(events), size)]


# ---------------------------------------------------------------- a small HTTP/1.1 client
class Conn:
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes | None = None, token: str | None = None
    ) -> tuple[int, bytes]:
        """Send a request; the status and body of the response."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port, limit=1 << 22)
        assert self.reader is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
        if token is not None:
            head.append(f"Authorization: Bearer {token}")
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + (body or b""))
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        data = await self.reader.readexactly(length) if length else b""
        return status, data

    async def close(self) -> None:
        """Close the connection."""
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


@dataclass
class Steady:
    """What a steady-rate run measured."""

    latencies_ms: list[float]
    errors: int
    seconds: float
    #: what went wrong: HTTP status or exception name -> count
    failures: dict[str, int]

    def pct(self, q: float) -> float:
        """The q-th percentile latency (ms)."""
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else 0.0

    @property
    def rate(self) -> float:
        """Requests completed per second."""
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0


async def steady(
    port: int,
    rate: float,
    seconds: float,
    make: Any,
    *,
    max_conns: int = 64,
) -> Steady:
    """Send `make(i) -> (method, path, body, token)` at `rate` per second for `seconds`;
    latency from each request's scheduled time to its response's last byte."""
    idle: list[Conn] = []
    opened = 0
    latencies: list[float] = []
    errors = 0
    failures: dict[str, int] = {}
    n = int(rate * seconds)
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()
    limiter = asyncio.Semaphore(max_conns)

    async def one(i: int, due: float) -> None:
        nonlocal opened, errors
        async with limiter:
            reused = bool(idle)
            conn = idle.pop() if idle else Conn(port)
            method, path, body, token = make(i)
            try:
                try:
                    status, data = await conn.request(method, path, body, token)
                except (OSError, asyncio.IncompleteReadError):
                    if not reused:
                        raise
                    # the server closes keep-alive connections idle for 5 s: open a new one
                    await conn.close()
                    conn = Conn(port)
                    status, data = await conn.request(method, path, body, token)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors += 1
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                await conn.close()
                return
            latencies.append((loop.time() - due) * 1000)
            if status >= 400:
                errors += 1
                key = f"{status} {data[:120]!r}"
                failures[key] = failures.get(key, 0) + 1
            idle.append(conn)

    start = loop.time() + 0.05
    i = 0
    while i < n:
        # send everything that is due, then sleep until the next one (a sleep lasts at least
        # about a millisecond, so one request per wake-up would fall behind the schedule)
        now = loop.time()
        while i < n and start + i / rate <= now:
            task = asyncio.create_task(one(i, start + i / rate))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        if i < n:
            await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
    if tasks:
        await asyncio.wait(tasks, timeout=seconds + 30)
    elapsed = loop.time() - start
    for conn in idle:
        await conn.close()
    return Steady(latencies, errors, elapsed, failures)


async def throughput(
    port: int, streams: list[list[tuple[list[dict[str, Any]], str]]], *, receipts: bool
) -> tuple[float, int]:
    """POST every stream's batches (each as its reporter's key) in order, one connection per
    stream, the streams concurrently; events/s and events rejected. A stream is one slice of
    the packs, so every event follows the events it depends on, as a real reporter's do."""
    rejected = 0
    total = sum(len(evs) for stream in streams for evs, _ in stream)
    path = "/v1/events" if receipts else "/v1/events?receipts=false"
    bodies = [[(orjson.dumps({"events": evs}), token) for evs, token in st] for st in streams]

    async def send(stream: list[tuple[bytes, str]]) -> None:
        nonlocal rejected
        conn = Conn(port)
        for body, token in stream:
            status, data = await conn.request("POST", path, body, token)
            if status != 200:
                raise RuntimeError(f"batch refused: {status} {data[:300]!r}")
            rejected += orjson.loads(data)["rejected"]
        await conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(send(st) for st in bodies))
    return total / (time.perf_counter() - t0), rejected


def streams_of(
    packs: range, now: dt.datetime, tag: str, tokens: dict[str, str], n: int
) -> list[list[tuple[list[dict[str, Any]], str]]]:
    """`n` streams over slices of `packs`: each the maker's batches, then the automaker's."""
    out = []
    step = -(-len(packs) // n)
    for k in range(n):
        part = packs[k * step : (k + 1) * step]
        maker, auto = lifecycles(part, now, f"{tag}-{k}")
        out.append(
            [(b, tokens[MAKER]) for b in batches(maker)]
            + [(b, tokens[AUTOMAKER]) for b in batches(auto)]
        )
    return out


# ---------------------------------------------------------------- the server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def server(db_url: str, key_dir: Path, log: Path, workers: int = 1) -> Iterator[tuple[int, int]]:
    """`python -m battrace.api` on a free loopback port (its port and pid); stopped after."""
    port = _free_port()
    env = os.environ | {"BATTRACE_KEY_DIR": str(key_dir)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "battrace.api", "--host", HOST, "--port", str(port),
             "--db", db_url, "--no-access-log", "--log-level", "warning",
             "--workers", str(workers)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection((HOST, port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the API did not start: {log.read_text()[-2000:]}"
                    ) from None
                time.sleep(0.1)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _store(tmp: Path, name: str, now: dt.datetime) -> tuple[str, Path, str]:
    url = f"sqlite:///{tmp / name}.db"
    store = SqlStore.open(url, create=True)
    key_dir = tmp / f"{name}-keys"
    init_key_dir(key_dir, "battrace.example/log")
    regulator = apikeys.issue(store, enterprise=REGULATOR, role="regulator", now=now).token
    store.close()
    return url, key_dir, regulator


def _in_process(tmp: Path, jobs: list[list[dict[str, Any]]], now: dt.datetime, name: str) -> float:
    """Events per second of the same batches through the Ingestor directly."""
    url, key_dir, _ = _store(tmp, name, now)
    settings = Settings(database_url=url, key_dir=key_dir)
    store = bootstrap.open_store(settings)
    ingestor = bootstrap.make_ingestor(settings, store)
    ingestor.ingest(registry(now))
    t0 = time.perf_counter()
    n = 0
    for evs in jobs:
        ingestor.ingest(evs)
        n += len(evs)
    rate = n / (time.perf_counter() - t0)
    store.close()
    return rate


# ---------------------------------------------------------------- the run
def run(scale: str = "small") -> list[Figure]:
    """Throughput and latency figures of the API on this machine."""
    cfg = SCALES[scale]
    return measure(packs=int(cfg["packs"]), seconds=float(cfg["seconds"]))


def measure(*, packs: int, seconds: float) -> list[Figure]:
    """Start a server on a fresh store and measure: throughput over `packs` lifecycles, each
    steady-rate run for `seconds`; then batched throughput again on a server of `WORKERS`
    processes (another fresh store)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="battrace-api-load-") as d:
        tmp = Path(d)
        url, key_dir, regulator = _store(tmp, "api", now)
        with server(url, key_dir, tmp / "server.log") as (port, _):
            figures = asyncio.run(_measure(tmp, port, regulator, packs, seconds, now))
        url, key_dir, regulator = _store(tmp, "workers", now)
        with server(url, key_dir, tmp / "workers.log", workers=WORKERS) as (port, _):
            figures += asyncio.run(_measure_workers(port, regulator, packs, now))
        return figures


async def _bootstrap(port: int, regulator: str, now: dt.datetime) -> dict[str, str]:
    """The registry (as the regulator), and a key for the maker and the automaker."""
    conn = Conn(port)
    status, data = await conn.request(
        "POST", "/v1/events", orjson.dumps({"events": registry(now)}), regulator
    )
    assert status == 200 and orjson.loads(data)["accepted"] == 5, data[:500]
    tokens = {}
    for who in (MAKER, AUTOMAKER):
        body = orjson.dumps({"enterprise": who, "role": "enterprise", "label": "load"})
        status, data = await conn.request("POST", "/v1/keys", body, regulator)
        assert status == 201, data
        tokens[who] = orjson.loads(data)["key"]
    await conn.close()
    return tokens


async def _measure_workers(port: int, regulator: str, packs: int, now: dt.datetime) -> list[Figure]:
    tokens = await _bootstrap(port, regulator, now)
    quarter = packs // 4
    rates, rejected = [], 0
    for k in range(2):
        streams = streams_of(
            range(k * quarter, (k + 1) * quarter), now, f"w{k}", tokens, WORKER_CONNECTIONS
        )
        rate, rej = await throughput(port, streams, receipts=True)
        rates.append(rate)
        rejected += rej
    best = max(rates)
    return [
        Figure("api_load",
               f"batched ingest over HTTP, 1,000-event batches, with receipts, {WORKERS} worker "
               "processes", best, "events/s", "≥ 20,000", best >= 20_000,
               f"`battrace serve --workers {WORKERS}`, {WORKER_CONNECTIONS} connections; "
               "best of 2; "
               f"{rejected} rejected in all runs"),
    ]  # fmt: skip


async def _measure(
    tmp: Path, port: int, regulator: str, packs: int, seconds: float, now: dt.datetime
) -> list[Figure]:
    tokens = await _bootstrap(port, regulator, now)

    # 1. batched ingest, best of two runs each way, fresh packs every run, over two
    #    connections (each its own slice of the packs: the maker's batches, then the
    #    automaker's, since custody needs that order)
    quarter = packs // 4
    jobs = [
        streams_of(range(k * quarter, (k + 1) * quarter), now, f"t{k}", tokens, 2) for k in range(4)
    ]
    rates: dict[bool, list[float]] = {True: [], False: []}
    rejected = 0
    for k, job in enumerate(jobs):
        rate, rej = await throughput(port, job, receipts=k % 2 == 0)
        rates[k % 2 == 0].append(rate)
        rejected += rej
    with_receipts, without = max(rates[True]), max(rates[False])
    inproc = max(
        [
            await asyncio.to_thread(
                _in_process, tmp, [b for stream in jobs[k] for b, _ in stream], now, f"in{k}"
            )
            for k in (0, 1)
        ]
    )

    # 2. single-event POSTs at a steady rate (each a new pack, with its receipt)
    per_run = int(POST_RATE * seconds) + 1
    singles, _ = lifecycles(range(packs, packs + REPEATS * per_run), now, "c")
    produced = [e for e in singles if e["type"] == "produced"]
    post = [
        await steady(
            port,
            POST_RATE,
            seconds,
            lambda i, r=r: (
                "POST",
                "/v1/events",
                orjson.dumps({"events": [produced[r * per_run + i]]}),
                tokens[MAKER],
            ),
        )
        for r in range(REPEATS)
    ]

    # 3. reads at a steady rate: the public view, and the automaker's full view with history
    day = production_day(now)
    codes = [f"/v1/batteries/{pack_code(i, day)}" for i in range(0, packs, max(1, packs // 997))]
    public = [
        await steady(port, GET_RATE, seconds, lambda i: ("GET", codes[i % len(codes)], None, None))
        for _ in range(REPEATS)
    ]
    full = [
        await steady(
            port,
            FULL_RATE,
            seconds,
            lambda i: ("GET", codes[i % len(codes)], None, tokens[AUTOMAKER]),
        )
        for _ in range(REPEATS)
    ]

    p99 = _p99(post), _p99(public), _p99(full)
    return [
        Figure("api_load",
               "batched ingest over HTTP, 1,000-event batches, with receipts, one process",
               with_receipts, "events/s", "≥ 20,000", with_receipts >= 20_000,
               f"{with_receipts / inproc:.0%} of in-process ingest; best of 2; "
               f"{rejected} rejected in all runs"),
        Figure("api_load", "batched ingest over HTTP, receipts=false", without, "events/s",
               note=f"{without / inproc:.0%} of in-process ingest; best of 2"),
        Figure("api_load", "in-process ingest, same batches, fresh SQLite store", inproc,
               "events/s", note="Ingestor.ingest with a signed checkpoint per batch; best of 2"),
        Figure("api_load", f"single-event POST p99 at {POST_RATE} req/s", p99[0], "ms",
               "≤ 50", p99[0] <= 50 and not _errors(post), _note(post)),
        Figure("api_load", f"GET /v1/batteries/{{code}} p99 at {GET_RATE:,} req/s (public)",
               p99[1], "ms", "≤ 20", p99[1] <= 20 and not _errors(public), _note(public)),
        Figure("api_load",
               f"GET /v1/batteries/{{code}} p99 at {FULL_RATE} req/s (enterprise, full view)",
               p99[2], "ms", note=_note(full) + " · key check, state and history"),
    ]  # fmt: skip


def _p99(runs: list[Steady]) -> float:
    return sorted(r.pct(99) for r in runs)[len(runs) // 2]


def _errors(runs: list[Steady]) -> int:
    return sum(r.errors for r in runs)


def _note(runs: list[Steady]) -> str:
    """Median of the runs' p99, their range, the median p50, rate and errors."""
    p99s = sorted(r.pct(99) for r in runs)
    p50 = sorted(r.pct(50) for r in runs)[len(runs) // 2]
    rate = min(r.rate for r in runs)
    failures: dict[str, int] = {}
    for r in runs:
        for k, n in r.failures.items():
            failures[k] = failures.get(k, 0) + n
    why = f" ({', '.join(f'{k}: {n}' for k, n in sorted(failures.items()))})" if failures else ""
    return (
        f"median of {len(runs)} runs of {runs[0].seconds:.0f} s (p99 {p99s[0]:.1f}–"
        f"{p99s[-1]:.1f} ms); p50 {p50:.1f} ms; ≥ {rate:,.0f} req/s served; "
        f"{_errors(runs)} errors{why}"
    )


if __name__ == "__main__":  # pragma: no cover - `python -m battrace.bench.api_load [scale]`
    from battrace.bench._report import markdown

    print(markdown(run(sys.argv[1] if len(sys.argv) > 1 else "small")))
