"""A small cache of statistics keyed by the store's version.

Whole-store statistics (the overview, the flows, every scorecard) scan large tables; they only
change when events are logged or an audit runs. The version — the log's tree size and a
fingerprint of the findings table — is two indexed reads, so a page asks for it on every
request and recomputes only when the store moved on. Entries are per process and bounded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import func, select

from battrace.store.schema import findings, log_head
from battrace.store.sql import SqlStore

T = TypeVar("T")
MAX_ENTRIES = 64


def store_version(store: SqlStore) -> tuple[int, int, int, int]:
    """(tree size, registry version, findings rows, last finding change): moves on every
    ingest batch and every audit that changed a finding."""
    with store.engine.connect() as c:
        head = c.execute(select(log_head.c.tree_size, log_head.c.registry_version)).first()
        f = c.execute(
            select(
                func.count(),
                func.coalesce(func.max(findings.c.found_us), 0)
                + func.coalesce(func.max(findings.c.withdrawn_us), 0),
            )
        ).one()
    size, reg = (int(head[0]), int(head[1])) if head else (0, 0)
    return size, reg, int(f[0]), int(f[1])


class StatsCache:
    """Results of expensive read-only functions for the current store version."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, version: Hashable, compute: Callable[[], T]) -> T:
        """The cached result for (key, version), computing it once if needed (concurrent
        callers of the same key wait for the first instead of computing it again)."""
        full = (key, version)
        with self._lock:
            if full in self._items:
                self._items.move_to_end(full)
                self.hits += 1
                return self._items[full]  # type: ignore[no-any-return]
            gate = self._computing.setdefault(full, threading.Lock())
        with gate:
            with self._lock:
                if full in self._items:
                    self.hits += 1
                    return self._items[full]  # type: ignore[no-any-return]
            try:
                value = compute()
            finally:  # a failed computation leaves no gate behind
                with self._lock:
                    self._computing.pop(full, None)
            with self._lock:
                self.misses += 1
                self._items[full] = value
                while len(self._items) > self.max_entries:
                    self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything (tests, benchmarks of cold pages)."""
        with self._lock:
            self._items.clear()
