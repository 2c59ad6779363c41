"""How fast a full audit (BT-021 … BT-025) runs over a national-scale store.

The store is synthetic and written with bulk inserts (`bench.audit_data`), not through ingest or
the simulator: the audit only reads projections and the log. The figure to meet: a full audit of
1 million batteries (~10 million events) on SQLite in at most 60 s. Two runs are timed: the
first writes every finding (on a fresh store), the second finds them all again (the steady state
of a daily audit). BT-023 runs on a second connection alongside the other rules, so its seconds
overlap theirs.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from battrace.bench import audit_data
from battrace.bench._report import Figure
from battrace.domain.calendar import WorkingCalendar
from battrace.domain.policy import Policy
from battrace.services.audit import AuditReport, audit
from battrace.store.sql import SqlStore

#: packs per scale; 1.2 M packs make ~1.6 M codes (with parts and products) and ~10 M events
SIZES = {"small": 20_000, "medium": 200_000, "large": 1_200_000}
TARGET_S = 60.0


def bench_audit(store_url: str, *, batteries: int = SIZES["large"]) -> list[Figure]:
    """Audit the store at `store_url` twice as of the synthetic store's last day (building it
    first with `batteries` packs when it is empty); events/s and seconds per rule."""
    store = SqlStore.open(store_url, create=True)
    try:
        events = store.tree_size()
        note = "existing store"
        if events == 0:
            t0 = time.perf_counter()
            events = audit_data.build(store, batteries)
            note = f"synthetic store built in {time.perf_counter() - t0:.0f} s (bulk inserts)"
            _say(note)
        codes = sum(store.counts()["batteries"].values())
        runs = [_run(store, label) for label in ("first run", "repeat run")]
    finally:
        store.close()
    backend = store_url.split(":", 1)[0].split("+", 1)[0]
    figures = []
    for label, report in runs:
        total = report.seconds
        target = TARGET_S if backend == "sqlite" and codes >= 1_000_000 else None
        figures.append(
            Figure(
                "audit",
                f"full audit, {label} ({backend})",
                total,
                "s",
                f"<= {TARGET_S:.0f} s at 1 M batteries (SQLite)" if target else "",
                (total <= target) if target else None,
                f"{codes:,} codes, {events:,} events; {note}",
            )
        )
        figures.append(Figure("audit", f"events audited per second, {label}", events / total,
                              "events/s"))  # fmt: skip
        for r in report.runs:
            figures.append(
                Figure(
                    "audit",
                    f"{r.rule} {r.as_dict()['name']}, {label}",
                    r.seconds,
                    "s",
                    note=f"{r.found:,} open (new {r.new:,}, kept {r.kept:,}, withdrawn "
                    f"{r.withdrawn:,})",
                )
            )
    return figures


def run(scale: str = "small") -> list[Figure]:
    """The benchmark at a scale, on a fresh SQLite store in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="battrace-audit-") as tmp:
        return bench_audit(f"sqlite:///{Path(tmp) / 'audit.db'}", batteries=SIZES[scale])


def _run(store: SqlStore, label: str) -> tuple[str, AuditReport]:
    now = dt.datetime.combine(audit_data.AS_OF + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
    report = audit(
        store,
        as_of=audit_data.AS_OF,
        policy=Policy.default(),
        calendar=WorkingCalendar.default(),
        now=now,
        with_findings=False,
    )
    per_rule = ", ".join(f"{r.rule} {r.seconds:.1f} s" for r in report.runs)
    _say(f"audit {label}: {report.seconds:.1f} s ({per_rule})")
    return label, report


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
