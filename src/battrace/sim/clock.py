"""The clock of the platform a simulated stream is ingested into.

A simulated world ends on `SimParams.end`, but its late reports are recorded up to weeks after
that day, and `--keep-recorded-at` refuses a record time after the platform's own clock (a
back-fill records the past). While those reports still lie ahead of the real clock, the
simulated platform's clock is the stream's latest record time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson

from battrace.services.clock import Clock, utc_now

_FIELD = b'"recorded_at":"'


def latest_record(events: Path) -> dt.datetime | None:
    """The latest `recorded_at` of a JSONL stream (None if it has none)."""
    latest: dt.datetime | None = None
    with events.open("rb") as fh:
        for line in fh:
            if _FIELD not in line:
                continue
            stamp = orjson.loads(line).get("recorded_at")
            if isinstance(stamp, str):
                moment = dt.datetime.fromisoformat(stamp)
                if latest is None or moment > latest:
                    latest = moment
    return latest


def platform_clock(events: Path) -> Clock:
    """The real clock, or the stream's latest record time while that is still ahead of it."""
    latest = latest_record(events)
    if latest is None:
        return utc_now
    floor = latest.astimezone(dt.UTC)
    return lambda: max(utc_now(), floor)
