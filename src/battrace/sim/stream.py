"""Running a simulation: generate per vehicle, bucket by month on disk, sort each month, stream out.

Why buckets: a vehicle's events span up to its lifetime (years), so generating vehicle by
vehicle yields events far out of time order, and a heap over all live vehicles would hold
most of the country in memory. Instead each event line goes, with a fixed-width time prefix,
into the bucket of its month (in memory, spilled to a temporary file per month once the
buffers pass `spill_bytes`). Afterwards each month is read, sorted (plain byte sort on the
prefix: C speed) and appended to the output. Memory is bounded by the spill size plus the
largest month; the output is in event-time order, which is what ingest likes best.

Ties are harmless: one code's (and one vehicle's) events are strictly increasing in time, so
equal times only ever join events about different subjects.
"""

from __future__ import annotations

import contextlib
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from battrace.domain.calendar import WorkingCalendar
from battrace.domain.policy import Policy
from battrace.sim.country import build_country
from battrace.sim.emit import Emitter, Labels, WorkDays
from battrace.sim.factory import Ctx
from battrace.sim.fleet import Fleet
from battrace.sim.params import SimParams

#: phase ("generate" | "sort"), done, total
Progress = Callable[[str, int, int], None]
SPILL_BYTES = 96 * 1024 * 1024
_PREFIX = 10


@dataclass
class SimResult:
    """What a run produced, and how fast."""

    params: SimParams
    out: Path
    labels: Path | None
    vehicles: int
    events: int
    by_type: dict[str, int]
    labels_by_rule: dict[str, int]
    generate_seconds: float
    sort_seconds: float
    enterprises: int
    regions: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Wall time of the whole run."""
        return self.generate_seconds + self.sort_seconds

    @property
    def events_per_second(self) -> float:
        """Events written per second of wall time."""
        return self.events / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        p = self.params
        return {
            "out": str(self.out),
            "labels": str(self.labels) if self.labels else None,
            "params": {
                "vehicles": p.vehicles,
                "years": f"{p.first_year}-{p.last_year}",
                "regions": p.regions,
                "cells": p.cells,
                "violation_rate": p.violation_rate,
                "seed": p.seed,
                "end": p.end.isoformat(),
            },
            "vehicles_sold": self.vehicles,
            "enterprises": self.enterprises,
            "events": self.events,
            "events_by_type": dict(sorted(self.by_type.items())),
            "violations_by_rule": dict(sorted(self.labels_by_rule.items())),
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events_per_second),
        }


class Buckets:
    """Event lines by month, in memory and spilled to one temporary file per month.

    A line is `TTTTTTTTTT{json}\n`: its time in minutes as 10 digits, so a plain byte sort is a
    time sort.
    """

    def __init__(self, directory: Path, *, spill_bytes: int = SPILL_BYTES) -> None:
        self.dir = directory
        self.spill_bytes = spill_bytes
        self.buf: dict[int, list[bytes]] = {}
        self.size = 0
        self.spilled: set[int] = set()

    def spill(self) -> None:
        """Append every buffer to its month's file."""
        for bucket, lines in self.buf.items():
            with (self.dir / f"{bucket}.part").open("ab") as fh:
                fh.write(b"".join(lines))
            self.spilled.add(bucket)
        self.buf.clear()
        self.size = 0

    def merge(self, out: BinaryIO, progress: Progress | None = None) -> None:
        """Write every month, sorted by time, to `out` (without the sort keys)."""
        months = sorted(self.spilled | set(self.buf))
        for i, bucket in enumerate(months):
            lines = self.buf.pop(bucket, [])
            if bucket in self.spilled:
                path = self.dir / f"{bucket}.part"
                lines += path.read_bytes().splitlines(keepends=True)
                path.unlink()
            lines.sort()
            out.write(b"".join([line[_PREFIX:] for line in lines]))
            if progress is not None:
                progress("sort", i + 1, len(months))


def run(
    params: SimParams,
    out: Path,
    *,
    labels: Path | None = None,
    progress: Progress | None = None,
    policy: Policy | None = None,
    calendar: WorkingCalendar | None = None,
    spill_bytes: int = SPILL_BYTES,
) -> SimResult:
    """Generate the run's events into `out` (JSONL, event-time order) and its labels."""
    policy = policy or Policy.default()
    calendar = calendar or WorkingCalendar.default()
    rng = random.Random(params.seed)
    country = build_country(
        rng,
        regions=params.regions,
        violation_rate=params.violation_rate,
        first_year=params.first_year,
        automakers=params.automakers,
    )
    t0 = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=out.parent)))
        fh = stack.enter_context(out.open("wb"))
        lf = stack.enter_context(labels.open("wb")) if labels is not None else None
        buckets = Buckets(tmp, spill_bytes=spill_bytes)
        lab = Labels(lf)
        emitter = Emitter(
            rng=rng,
            end=params.end,
            policy=policy,
            workdays=WorkDays(calendar),
            roles=country.roles,
            late_rate=params.violation_rate,
            labels=lab,
            sink=buckets,
        )
        registry = country.registry_events()
        for ev in registry:
            ev["recorded_at"] = ev["time"]
            fh.write(orjson.dumps(ev) + b"\n")
        ctx = Ctx(rng, params, country, emitter, lab, policy, emitter.wd)
        fleet = Fleet(ctx)
        vehicles = fleet.run(
            None if progress is None else (lambda n: progress("generate", n, params.vehicles))
        )
        t1 = time.perf_counter()
        buckets.merge(fh, progress)
    t2 = time.perf_counter()
    by_type = dict(emitter.counts)
    for ev in registry:
        by_type[ev["type"]] = by_type.get(ev["type"], 0) + 1
    return SimResult(
        params=params,
        out=out,
        labels=labels,
        vehicles=vehicles,
        events=emitter.n + len(registry),
        by_type=by_type,
        labels_by_rule=dict(lab.counts),
        generate_seconds=t1 - t0,
        sort_seconds=t2 - t1,
        enterprises=len(country.roles),
        regions=len(country.regions),
    )
