"""Group commit: the events of concurrent requests go into one ingest transaction.

The Ingestor is not thread-safe and a store takes one writer at a time, so writes are
serialised by a lock. Each ingest transaction has a fixed cost (locking the log head, signing
a checkpoint, a durable commit); a request that arrives while another one's transaction runs
waits in a queue, and whichever request gets the lock next ingests *everything* queued as one
batch (up to a cap). Under load many single-event requests share one transaction; alone, a
request is ingested at once. Results are exactly those of ingesting the requests one after
another in arrival order: a batch is processed in order, with the same idempotency and custody
checks between its events. Receipts are computed after the lock is released, so they overlap
with the next transaction.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from battrace.ledger.documents import make_receipt
from battrace.ledger.merkle import Frontier
from battrace.services import log as log_service
from battrace.services.ingest import EventResult, Ingestor
from battrace.store.sql import SqlStore

Receipt = dict[str, Any] | None


@dataclass(eq=False)
class _Job:
    raws: list[Any]
    receipts: bool
    taken: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    results: list[EventResult] = field(default_factory=list)
    proofs: list[Receipt] = field(default_factory=list)
    error: BaseException | None = None


class GroupCommit:
    """Serialises writes to the store and batches concurrent ones."""

    def __init__(self, ingestor: Ingestor, store: SqlStore, *, max_events: int = 10_000) -> None:
        self.ingestor = ingestor
        self.store = store
        self.max_events = max_events
        #: held while the Ingestor runs (and by anything else that must not interleave)
        self.lock = threading.Lock()
        self._mutex = threading.Lock()
        self._queue: deque[_Job] = deque()

    def submit(self, raws: list[Any], *, receipts: bool) -> tuple[list[EventResult], list[Receipt]]:
        """Ingest `raws` (one result each, in order) and their receipts (None when not asked
        for, or not accepted)."""
        job = _Job(raws, receipts)
        with self._mutex:
            self._queue.append(job)
        while not job.taken:
            with self.lock:
                if job.taken:  # ingested by the request that held the lock before us
                    break
                batch = self._take()
                start, checkpoint = self._ingest(batch)
            self._finish(batch, start, checkpoint)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.results, job.proofs

    def _take(self) -> list[_Job]:
        """Queued jobs in arrival order, up to the cap (always at least one)."""
        batch: list[_Job] = []
        total = 0
        with self._mutex:
            while self._queue and (
                not batch or total + len(self._queue[0].raws) <= self.max_events
            ):
                job = self._queue.popleft()
                job.taken = True
                batch.append(job)
                total += len(job.raws)
        return batch

    def _ingest(self, batch: list[_Job]) -> tuple[Frontier | None, str | None]:
        raws = [raw for job in batch for raw in job.raws]
        try:
            results = self.ingestor.ingest(raws)
        except BaseException as exc:
            for job in batch:
                job.error = exc
            return None, None
        at = 0
        for job in batch:
            job.results = results[at : at + len(job.raws)]
            at += len(job.raws)
        return self.ingestor.last_start, self.ingestor.last_checkpoint

    def _finish(self, batch: list[_Job], start: Frontier | None, checkpoint: str | None) -> None:
        try:
            if start is not None and any(job.receipts for job in batch):
                results = [r for job in batch for r in job.results]
                raws = [raw for job in batch for raw in job.raws]
                proofs = self.receipts(results, raws, start, checkpoint)
                at = 0
                for job in batch:
                    n = len(job.raws)
                    job.proofs = proofs[at : at + n] if job.receipts else [None] * n
                    at += n
            else:
                for job in batch:
                    job.proofs = [None] * len(job.raws)
        except BaseException as exc:
            for job in batch:
                job.error = job.error or exc
        finally:
            for job in batch:
                job.done.set()

    def receipts(
        self, results: list[EventResult], raws: list[Any], start: Frontier, checkpoint: str | None
    ) -> list[Receipt]:
        """Receipts for a batch: proofs computed in memory when the batch's new leaves are
        exactly its accepted results; otherwise (a correction's replacement takes a leaf of
        its own, without a result) from the stored tree, against the batch's checkpoint."""
        new = sorted(
            r.seq
            for r in results
            if r.status == "accepted" and r.seq is not None and r.seq >= start.size
        )
        if new == list(range(start.size, start.size + len(new))):
            return log_service.receipts_for_batch(results, raws, start=start, checkpoint=checkpoint)
        size = int(checkpoint.split("\n", 2)[1]) if checkpoint is not None else None
        out: list[Receipt] = []
        for r, raw in zip(results, raws, strict=True):
            if r.status != "accepted" or r.seq is None or r.leaf_hash is None:
                out.append(None)
                continue
            out.append(
                make_receipt(
                    event=raw,
                    recorded_at=r.recorded_at or "",
                    reporter=r.reporter or "",
                    leaf_index=r.seq,
                    leaf_hash=r.leaf_hash,
                    checkpoint=checkpoint if size is not None else None,
                    inclusion_proof=(
                        log_service.inclusion(self.store, r.seq, size) if size is not None else None
                    ),
                )
            )
        return out
