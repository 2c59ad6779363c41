"""Transparency-log figures: tree maintenance share of ingest, proof latency, full verify.

The proof and verify figures run on a log written directly (leaves of small, valid canonical
events with their Merkle nodes), so that 10 million leaves take minutes, not hours.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

import orjson

from battrace import bootstrap
from battrace.bench._report import Figure
from battrace.bench.data import BENCH_ORIGIN, lifecycle_lines, write_jsonl
from battrace.config import Settings
from battrace.ledger.canonical import bench_canonical
from battrace.ledger.checkpoint import Checkpoint, sign_checkpoint
from battrace.ledger.keys import generate_signer, init_key_dir, parse_signer, parse_verifier
from battrace.ledger.merkle import Frontier
from battrace.services import log as log_service
from battrace.services.ingest import event_leaf
from battrace.services.ingest_file import ingest_file
from battrace.store.sql import SqlStore
from battrace.store.writer import Head

LEAVES = {"small": 200_000, "medium": 1_000_000, "large": 10_000_000}
INGEST_PACKS = {"small": 10_000, "medium": 40_000, "large": 100_000}


def tree_share(work: Path, packs: int) -> list[Figure]:
    """Per-event cost of leaf hashing + frontier append against the whole ingest per event."""
    path = work / "share.jsonl"
    n = write_jsonl(path, lifecycle_lines(packs))
    keys = work / "share-keys"
    init_key_dir(keys, BENCH_ORIGIN)
    settings = Settings(
        database_url=f"sqlite:///{work / 'share.db'}", key_dir=keys, log_origin=BENCH_ORIGIN
    )
    store = bootstrap.open_store(settings, create=True)
    ingestor = bootstrap.make_ingestor(settings, store, trusted=True)
    t0 = time.perf_counter()
    ingest_file(ingestor, path)
    per_event = (time.perf_counter() - t0) / n
    store.close()
    bodies = [
        orjson.dumps(orjson.loads(line), option=orjson.OPT_SORT_KEYS)
        for line in path.read_bytes().splitlines()
    ]
    frontier = Frontier()
    t0 = time.perf_counter()
    for body in bodies:
        frontier.append(event_leaf(body, 1_700_000_000_000_000, "91110000000000002L"))
    tree = (time.perf_counter() - t0) / len(bodies)
    share = tree / per_event
    return [
        Figure("log", "tree maintenance per event (leaf hash + frontier)", tree * 1e6, "µs"),
        Figure(
            "log",
            "tree maintenance / ingest time per event",
            share * 100,
            "%",
            "<= 10 %",
            share <= 0.10,
            f"ingest {per_event * 1e6:.0f} µs/event",
        ),
        Figure(
            "log",
            "RFC 8785 canonicalisation (reference writer)",
            bench_canonical(50_000),
            "events/s",
        ),
    ]


def synthetic_log(url: str, leaves: int) -> tuple[SqlStore, str]:
    """A store whose log holds `leaves` small events with correct hashes, nodes, a checkpoint."""
    store = SqlStore.open(url, create=True)
    signer_text, verifier_text = generate_signer(BENCH_ORIGIN)
    frontier = Frontier()
    reporter = "91110000000000002L"
    base_us = 1_700_000_000_000_000
    batch = 20_000
    with store.writer() as w:
        for start in range(0, leaves, batch):
            rows = []
            for seq in range(start, min(start + batch, leaves)):
                body = orjson.dumps(
                    {
                        "id": f"e{seq}",
                        "note": "benchmark",
                        "reporter": reporter,
                        "time": "2025-01-01T00:00:00+08:00",
                        "type": "disposed",
                    }
                )
                rec = base_us + seq
                lh = event_leaf(body, rec, reporter)
                rows.append(
                    (
                        seq,
                        reporter,
                        f"e{seq}",
                        "disposed",
                        None,
                        None,
                        rec,
                        rec,
                        body.decode(),
                        lh,
                        frontier.append(lh),
                    )
                )
            w.insert_events(rows)
        note = sign_checkpoint(
            Checkpoint("bench.example/log", leaves, frontier.root(), dt.datetime.now(dt.UTC)),
            parse_signer(signer_text),
        )
        w.insert_checkpoint(leaves, frontier.root(), base_us, note)
        w.update_head(Head(leaves, frontier.to_bytes(), 0), now_us=base_us)
    return store, verifier_text


def run(scale: str = "small") -> list[Figure]:
    """Tree share of ingest, inclusion-proof latency and verify rate at a scale (SQLite)."""
    leaves = LEAVES[scale]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="battrace-bench-") as tmp:
        work = Path(tmp)
        figures += tree_share(work, INGEST_PACKS[scale])
        t0 = time.perf_counter()
        store, verifier_text = synthetic_log(f"sqlite:///{work / 'log.db'}", leaves)
        build = time.perf_counter() - t0
        rng = random.Random(3)
        times = []
        for _ in range(2000):
            index = rng.randrange(leaves)
            t0 = time.perf_counter()
            log_service.inclusion(store, index, leaves)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p99 = times[int(len(times) * 0.99) - 1]
        figures += [
            Figure(
                "log",
                "inclusion proof p50",
                statistics.median(times),
                "ms",
                note=f"{leaves:,} leaves (log built in {build:.0f} s)",
            ),
            Figure("log", "inclusion proof p99", p99, "ms", "<= 2 ms", p99 <= 2),
        ]
        t0 = time.perf_counter()
        for _ in range(200):
            old = rng.randrange(1, leaves)
            log_service.consistency(store, old, leaves)
        figures.append(
            Figure("log", "consistency proof mean", (time.perf_counter() - t0) / 200 * 1000, "ms")
        )
        report = log_service.verify_log(store, parse_verifier(verifier_text))
        if not report.ok:
            raise RuntimeError(f"benchmark log does not verify: {report.problems[:3]}")
        rate = report.leaves / report.seconds
        figures.append(
            Figure(
                "log",
                "full verify (recompute every leaf, node, checkpoint)",
                rate,
                "events/s",
                "minutes for 10 M",
                10_000_000 / rate < 3600,
                f"10 M events ≈ {10_000_000 / rate / 60:.1f} min",
            )
        )
        store.close()
    return figures
