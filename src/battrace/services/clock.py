"""The platform's clock: the one place services read the time (tests pass their own).

A module of its own so that the commands which only need "now" (`battrace checkpoint`,
`battrace keys issue`) do not load the ingest path to get it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)
