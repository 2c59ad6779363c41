"""Streaming a JSONL file of any size through the ingestor in bounded memory."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from battrace.services.batch import fewer_collections
from battrace.services.ingest import Ahead, EventResult, Ingestor, NotAsDecided
from battrace.services.ingest_ahead import CheckAhead, worth_a_helper
from battrace.store.writer import Reader

DEFAULT_BATCH = 5000


@dataclass
class Tally:
    """Running totals of a file ingest."""

    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    flags: dict[str, int] = field(default_factory=dict)

    def add(self, r: EventResult) -> None:
        """Count one result."""
        if r.status == "accepted":
            self.accepted += 1
        elif r.status == "duplicate":
            self.duplicates += 1
        else:
            self.rejected += 1
        for rule in r.flags:
            self.flags[rule] = self.flags.get(rule, 0) + 1


def batches(fh: BinaryIO, size: int) -> Iterator[tuple[list[tuple[int, bytes]], int]]:
    """Non-blank lines with their line numbers, `size` at a time, and the bytes read so far."""
    chunk: list[tuple[int, bytes]] = []
    read = 0
    for lineno, line in enumerate(fh, start=1):
        read += len(line)
        if line.strip():
            chunk.append((lineno, line))
            if len(chunk) >= size:
                yield chunk, read
                chunk = []
    if chunk:
        yield chunk, read


def ingest_file(
    ingestor: Ingestor,
    path: Path,
    *,
    batch_size: int = DEFAULT_BATCH,
    on_batch: Callable[[list[tuple[int, EventResult]], int], None] | None = None,
    ahead: bool | None = False,
) -> Tally:
    """Ingest `path` batch by batch (one transaction each); report each committed batch to
    `on_batch` as (line number, result) pairs with the bytes read so far.

    `ahead`: check the next batch in a helper process while this one commits (None: when the
    file is large and a second core is free; see `services.ingest_ahead`). The results are
    the same either way; the helper costs about 100 MB of memory, so it is asked for.
    """
    if ahead is None:
        ahead = worth_a_helper(path.stat().st_size)
    tally = Tally()
    # The collector stays calmed for the whole file, not only inside each batch: between
    # batches the next one is already decoded (and, ahead, checked), and a collection there
    # scanned all of it (one per batch, 4-6 µs/event). A file ingest is its own process.
    with path.open("rb") as fh, fewer_collections():
        if not ahead:
            for chunk, read in batches(fh, batch_size):
                raws = [ingestor.parse_line(line) for _, line in chunk]
                _count(tally, on_batch, chunk, read, ingestor.ingest(raws))
            return tally
        with (
            CheckAhead(ingestor.validation, path) as helper,
            _Pipeline(ingestor, tally, on_batch, overlap=_overlap(ingestor)) as pipeline,
        ):
            checked: tuple[Any, ...] | None = None  # a batch checked, not committed yet
            start = 0
            for chunk, read in batches(fh, batch_size):
                helper.submit([line for _, line in chunk], start, read, ingestor.clock())
                start = read
                if checked is not None:  # the helper checks this chunk while that commits
                    pipeline.commit(*checked)
                checked = (chunk, read, *helper.result())
            if checked is not None:
                pipeline.commit(*checked)
    return tally


def _overlap(ingestor: Ingestor) -> bool:
    """Write each batch in a thread while the next is decided (`_Pipeline`): on PostgreSQL,
    where the server does the writing on the other core and this process only waits."""
    if os.environ.get("BATTRACE_OVERLAP") in ("0", "1"):  # tests try both ways on both engines
        return os.environ["BATTRACE_OVERLAP"] == "1"
    return ingestor.store.dialect == "postgresql"


class _Pipeline:
    """Commits checked batches in order, and with `overlap`, writes each in a thread of its
    own while this thread decides the next (`Ingestor.decide_ahead`) and decodes the one
    after: the database works while this process decides. A batch is counted and reported
    only once its transaction has committed; one that could not be decided ahead, or whose
    write found the store other than its decisions assumed, is committed the plain way
    (`Ingestor.commit`) once the batch before it has committed."""

    def __init__(
        self,
        ingestor: Ingestor,
        tally: Tally,
        on_batch: Callable[[list[tuple[int, EventResult]], int], None] | None,
        *,
        overlap: bool,
    ) -> None:
        self.ingestor = ingestor
        self.tally = tally
        self.on_batch = on_batch
        self.overlap = overlap
        self._stack = ExitStack()
        self._pool: ThreadPoolExecutor | None = None
        self._reader: Reader | None = None
        #: the batch being written: what was decided, its lines and the write
        self._flight: tuple[Ahead, list[tuple[int, bytes]], int, Future[list[EventResult]]] | None
        self._flight = None

    def __enter__(self) -> _Pipeline:
        if self.overlap:
            self._reader = self._stack.enter_context(self.ingestor.store.reader())
            self._pool = self._stack.enter_context(
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="battrace-write")
            )
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                self._land()
        finally:  # on an error the write in flight still ends (committed or rolled back)
            self._stack.close()

    def commit(
        self,
        chunk: list[tuple[int, bytes]],
        read: int,
        raws: list[Any],
        checked: list[Any],
        now: dt.datetime,
    ) -> None:
        """Commit a batch the helper checked (it may still be in flight on return)."""
        ahead = None
        if self._reader is not None:
            after = self._flight[0] if self._flight is not None else None
            ahead = self.ingestor.decide_ahead(raws, checked, now, reader=self._reader, after=after)
        if not self._land():
            ahead = None  # decided on top of a batch that was not written as decided
        if ahead is None:
            self._count(chunk, read, self.ingestor.commit(raws, checked, now))
            return
        assert self._pool is not None
        self._flight = (ahead, chunk, read, self._pool.submit(self.ingestor.write_ahead, ahead))

    def _land(self) -> bool:
        """Wait for the batch in flight and report it; False when it had to be committed
        again the plain way."""
        if self._flight is None:
            return True
        ahead, chunk, read, write = self._flight
        self._flight = None
        try:
            results = write.result()
        except NotAsDecided:
            self._count(chunk, read, self.ingestor.commit(ahead.raws, ahead.checked, ahead.now))
            return False
        self._count(chunk, read, results)
        return True

    def _count(self, chunk: list[tuple[int, bytes]], read: int, results: list[EventResult]) -> None:
        _count(self.tally, self.on_batch, chunk, read, results)


def _count(
    tally: Tally,
    on_batch: Callable[[list[tuple[int, EventResult]], int], None] | None,
    chunk: list[tuple[int, bytes]],
    read: int,
    results: list[EventResult],
) -> None:
    for r in results:
        tally.add(r)
    if on_batch is not None:
        on_batch([(n, r) for (n, _), r in zip(chunk, results, strict=True)], read)
