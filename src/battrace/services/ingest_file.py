"""Streaming a JSONL file of any size through the ingestor in bounded memory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from battrace.config import DEFAULT_BATCH
from battrace.services.batch import MAX_LINE, decode_line, fewer_collections
from battrace.services.ingest import EventResult, Ingestor
from battrace.services.ingest_ahead import CheckAhead, worth_a_helper

__all__ = ["Tally", "batches", "ingest_file", "ingest_stream"]

#: a batch is cut early once its lines hold this much (only lines near `MAX_LINE` get there)
MAX_BATCH_BYTES = 32 << 20


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


def batches(
    fh: BinaryIO, size: int, *, max_line: int = MAX_LINE, max_bytes: int = MAX_BATCH_BYTES
) -> Iterator[tuple[list[tuple[int, bytes | None]], int]]:
    """Non-blank lines with their line numbers, `size` at a time (or fewer, once they hold
    `max_bytes`), and the bytes read so far. A line longer than `max_line` is skipped unread and
    given as None: memory stays bounded whatever the file holds (one without a newline, say)."""
    chunk: list[tuple[int, bytes | None]] = []
    read = held = lineno = 0
    while True:
        line = fh.readline(max_line + 1)
        if not line:
            break
        lineno += 1
        read += len(line)
        item: bytes | None = line
        if len(line) > max_line and not line.endswith(b"\n"):
            item = None
            while line and not line.endswith(b"\n"):  # skip the rest of the line
                line = fh.readline(1 << 16)
                read += len(line)
        if item is None or item.strip():
            chunk.append((lineno, item))
            held += len(item) if item is not None else 0
            if len(chunk) >= size or held >= max_bytes:
                yield chunk, read
                chunk, held = [], 0
    if chunk:
        yield chunk, read


def ingest_stream(
    ingestor: Ingestor,
    fh: BinaryIO,
    *,
    batch_size: int = DEFAULT_BATCH,
    on_batch: Callable[[list[tuple[int, EventResult]], int], None] | None = None,
) -> Tally:
    """`ingest_file` of an open binary stream (standard input, a pipe from a decompressor),
    checked in this process: the helper reads byte ranges of a file, which a pipe has not."""
    tally = Tally()
    with fewer_collections():  # for the whole stream: see `ingest_file`
        for chunk, read in batches(fh, batch_size):
            raws = [decode_line(line) for _, line in chunk]
            _count(tally, on_batch, chunk, read, ingestor.ingest(raws))
    return tally


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
    the same either way; the helper holds about 80 MB. `battrace ingest` passes None unless
    told `--no-check-ahead`.
    """
    if ahead is None:
        ahead = worth_a_helper(path.stat().st_size)
    tally = Tally()
    # The collector stays calmed for the whole file, not only inside each batch: between
    # batches the next one is already decoded (and, ahead, checked), and a collection there
    # scanned all of it (one per batch, 4-6 µs/event). A file ingest is its own process.
    with path.open("rb") as fh:
        if not ahead:
            return ingest_stream(ingestor, fh, batch_size=batch_size, on_batch=on_batch)
        with fewer_collections(), CheckAhead(ingestor.validation, path) as helper:
            checked: tuple[Any, ...] | None = None  # a batch checked, not committed yet
            start = 0
            for chunk, read in batches(fh, batch_size):
                helper.submit([line for _, line in chunk], start, read, ingestor.clock())
                start = read
                if checked is not None:  # the helper checks this chunk while that commits
                    _commit(ingestor, tally, on_batch, *checked)
                checked = (chunk, read, *helper.result())
            if checked is not None:
                _commit(ingestor, tally, on_batch, *checked)
    return tally


def _commit(
    ingestor: Ingestor,
    tally: Tally,
    on_batch: Callable[[list[tuple[int, EventResult]], int], None] | None,
    chunk: list[tuple[int, bytes | None]],
    read: int,
    raws: list[Any],
    checked: list[Any],
    now: dt.datetime,
) -> None:
    """Commit a batch the helper checked."""
    _count(tally, on_batch, chunk, read, ingestor.commit(raws, checked, now))


def _count(
    tally: Tally,
    on_batch: Callable[[list[tuple[int, EventResult]], int], None] | None,
    chunk: list[tuple[int, bytes | None]],
    read: int,
    results: list[EventResult],
) -> None:
    for r in results:
        tally.add(r)
    if on_batch is not None:
        on_batch([(n, r) for (n, _), r in zip(chunk, results, strict=True)], read)
