"""Streaming a JSONL file of any size through the ingestor in bounded memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from battrace.services.ingest import EventResult, Ingestor

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
) -> Tally:
    """Ingest `path` batch by batch (one transaction each); report each committed batch to
    `on_batch` as (line number, result) pairs with the bytes read so far."""
    tally = Tally()
    with path.open("rb") as fh:
        for chunk, read in batches(fh, batch_size):
            results = ingestor.ingest([ingestor.parse_line(line) for _, line in chunk])
            for r in results:
                tally.add(r)
            if on_batch is not None:
                on_batch([(n, r) for (n, _), r in zip(chunk, results, strict=True)], read)
    return tally
