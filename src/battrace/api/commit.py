"""Group commit: one writer thread owns the Ingestor; the events of concurrent requests go
into one ingest transaction.

The Ingestor is not thread-safe and a store takes one writer at a time, so all writes go
through one thread. Each ingest transaction has a fixed cost (locking the log head, signing a
checkpoint, a durable commit); requests that arrive while a transaction runs wait in a queue,
and the writer ingests *everything* queued as the next batch (up to a cap). Under load many
single-event requests share one transaction; alone, a request is ingested at once. Results
are exactly those of ingesting the requests one after another in arrival order: a batch is
processed in order, with the same idempotency and custody checks between its events.

Requests wait on a future, not in a thread of the pool, so a burst of writes never starves
the reads.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from battrace.ledger.merkle import Frontier
from battrace.services import log as log_service
from battrace.services.ingest import EventResult, Ingestor
from battrace.store.sql import SqlStore

log = logging.getLogger("battrace.api")
Receipt = dict[str, Any] | None
Outcome = tuple[list[EventResult], list[Receipt]]
_Job = tuple[list[Any], bool, "Future[Outcome]"]
#: events per request, and per ingest transaction of the group commit (`ApiOptions` default)
MAX_BATCH_EVENTS = 10_000


class GroupCommit:
    """The store's one writer, batching concurrent submissions."""

    def __init__(
        self, ingestor: Ingestor, store: SqlStore, *, max_events: int = MAX_BATCH_EVENTS
    ) -> None:
        self.ingestor = ingestor
        self.store = store
        self.max_events = max_events
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._held: _Job | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------ callers
    def submit(self, raws: list[Any], *, receipts: bool) -> Future[Outcome]:
        """Queue `raws` for ingest; the future gives a result per event, in order, and their
        receipts (None when not asked for, or not accepted)."""
        self._start()
        future: Future[Outcome] = Future()
        self._queue.put((raws, receipts, future))
        return future

    def ingest(self, raws: list[Any], *, receipts: bool) -> Outcome:
        """`submit` and wait."""
        return self.submit(raws, receipts=receipts).result()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what is queued, then stop the writer."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _start(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="battrace-writer", daemon=True
                    )
                    self._thread.start()

    # ------------------------------------------------------------ the writer
    def _run(self) -> None:
        while True:
            first = self._held or self._queue.get()
            self._held = None
            if first is None:
                return
            batch = [first]
            total = len(first[0])
            stop = False
            while True:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                if total + len(job[0]) > self.max_events:
                    self._held = job  # the next batch starts with it
                    break
                batch.append(job)
                total += len(job[0])
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[_Job]) -> None:
        live = [job for job in batch if job[2].set_running_or_notify_cancel()]
        if not live:
            return
        raws = [raw for job in live for raw in job[0]]
        try:
            results = self.ingestor.ingest(raws)
        except BaseException as exc:  # every request of the batch learns why
            log.exception("ingest batch of %d events failed", len(raws))
            for _, _, future in live:
                future.set_exception(exc)
            return
        start, checkpoint = self.ingestor.last_start, self.ingestor.last_checkpoint
        leaves, blobs = self.ingestor.last_leaves, self.ingestor.last_blobs
        if any(want for _, want, _ in live):
            # receipts are built beside the next transaction (that one waits on the disk)
            self._receipts_pool().submit(
                self._settle, live, results, raws, start, leaves, blobs, checkpoint
            )
        else:
            self._settle(live, results, raws, None, [], [], None)

    def _receipts_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="battrace-receipts")
        return self._pool

    def _settle(
        self,
        live: list[_Job],
        results: list[EventResult],
        raws: list[Any],
        start: Frontier | None,
        leaves: list[bytes],
        blobs: list[bytes],
        checkpoint: str | None,
    ) -> None:
        try:
            proofs: list[Receipt] = [None] * len(raws)
            if start is not None:
                proofs = self.receipts(results, raws, start, leaves, blobs, checkpoint)
        except BaseException as exc:
            log.exception("receipts of a batch of %d events failed", len(raws))
            for _, _, future in live:
                future.set_exception(exc)
            return
        at = 0
        for job_raws, want, future in live:
            n = len(job_raws)
            future.set_result((results[at : at + n], proofs[at : at + n] if want else [None] * n))
            at += n

    def receipts(
        self,
        results: list[EventResult],
        raws: list[Any],
        start: Frontier,
        leaves: list[bytes],
        blobs: list[bytes],
        checkpoint: str | None,
    ) -> list[Receipt]:
        """Receipts for a batch, with proofs computed in memory (`log.receipts_for_batch`)."""
        return log_service.receipts_for_batch(
            results, raws, start=start, leaves=leaves, blobs=blobs, checkpoint=checkpoint
        )
