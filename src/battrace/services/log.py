"""The tamper-evident log as a service: checkpoints, proofs, receipts, bundles, verification."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from battrace.errors import NotFound
from battrace.ledger.batch import batch_inclusion_proofs_hex
from battrace.ledger.checkpoint import Checkpoint, CheckpointError, open_checkpoint, sign_checkpoint
from battrace.ledger.documents import (
    bundle_entry,
    leaf_data_from_canonical,
    make_bundle,
    make_receipt,
)
from battrace.ledger.keys import NoteSigner, NoteVerifier
from battrace.ledger.merkle import (
    Frontier,
    ProofError,
    TreeRebuilder,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
)
from battrace.services.common import rfc3339
from battrace.services.ingest import EventResult
from battrace.store.sql import SqlStore
from battrace.store.writer import Writer


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed tree head as stored."""

    size: int
    root: bytes
    timestamp_us: int
    note: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form (the note is what verifiers check)."""
        return {
            "tree_size": self.size,
            "root_hash": self.root.hex(),
            "timestamp": rfc3339(self.timestamp_us),
            "note": self.note,
        }


def _row(r: Any) -> StoredCheckpoint:
    return StoredCheckpoint(int(r[0]), bytes(r[1]), int(r[2]), r[3])


def latest_checkpoint(store: SqlStore) -> StoredCheckpoint | None:
    """The newest signed checkpoint."""
    rows = store.checkpoint_rows(latest=True)
    return _row(rows[0]) if rows else None


def checkpoint_at(store: SqlStore, size: int) -> StoredCheckpoint:
    """The checkpoint of exactly this tree size; NotFound otherwise."""
    rows = store.checkpoint_rows(size=size)
    if not rows:
        raise NotFound(f"no checkpoint at tree size {size}")
    return _row(rows[0])


def cut_checkpoint(
    store: SqlStore, *, signer: NoteSigner, origin: str, now: dt.datetime
) -> StoredCheckpoint:
    """Sign the current tree head on demand (returns the existing one if nothing was added)."""
    with store.writer() as w:
        return _cut(w, signer=signer, origin=origin, now=now)


def _cut(w: Writer, *, signer: NoteSigner, origin: str, now: dt.datetime) -> StoredCheckpoint:
    from battrace.domain.events import to_us

    size = w.head.tree_size
    frontier = Frontier.from_bytes(w.head.frontier) if size else Frontier()
    root = frontier.root()
    note = sign_checkpoint(Checkpoint(origin, size, root, now), signer)
    now_us = to_us(now)
    if not w.insert_checkpoint(size, root, now_us, note):
        row = w._exec(
            "SELECT tree_size, root_hash, timestamp_us, note FROM checkpoints WHERE tree_size = ?",
            (size,),
        ).fetchone()
        return _row(row)
    return StoredCheckpoint(size, root, now_us, note)


def inclusion(store: SqlStore, leaf_index: int, size: int) -> list[bytes]:
    """Inclusion proof of a leaf in the tree of `size`."""
    _check_range(store, leaf_index, size)
    return inclusion_proof(leaf_index, size, store.get_nodes)


def consistency(store: SqlStore, old_size: int, new_size: int) -> list[bytes]:
    """Consistency proof between two tree sizes."""
    size = store.tree_size()
    if not 0 <= old_size <= new_size <= size:
        why = (
            f"the first size ({old_size:,}) is larger than the second ({new_size:,})"
            if old_size > max(new_size, -1)
            else f"the log holds {size:,} leaves"
            if new_size > size
            else "sizes cannot be negative"
        )
        raise NotFound(
            f"no consistency proof from size {old_size:,} to {new_size:,}: {why} (a proof needs "
            "0 ≤ first ≤ second ≤ the log's size)"
        )
    return consistency_proof(old_size, new_size, store.get_nodes)


def _check_range(store: SqlStore, index: int, size: int) -> None:
    total = store.tree_size()
    if not 0 <= index < size <= total:
        raise NotFound(f"leaf {index} is not in a tree of size {size} (log size {total})")


def receipts_for_batch(
    results: list[EventResult],
    raws: list[Any],
    *,
    start: Frontier,
    leaves: Sequence[bytes],
    blobs: Sequence[bytes] | None = None,
    checkpoint: str | None,
) -> list[dict[str, Any] | None]:
    """A receipt per accepted result of the last batch (None for the others), with inclusion
    proofs computed in memory against the checkpoint cut after the batch. `leaves` are all the
    leaf hashes the batch appended (`Ingestor.last_leaves`: a correction's replacement takes a
    leaf of its own); `blobs` the Merkle nodes each leaf completed (`Ingestor.last_blobs`), so
    that they are not hashed twice."""
    proofs: dict[int, list[str]] = {}
    if checkpoint is not None and leaves:
        batch = batch_inclusion_proofs_hex(start, leaves, blobs)
        proofs = {start.size + i: p for i, p in enumerate(batch)}
    out: list[dict[str, Any] | None] = []
    for r, raw in zip(results, raws, strict=True):
        if r.status != "accepted" or r.seq is None or r.leaf_hash is None:
            out.append(None)
            continue
        proof = proofs.get(r.seq)
        out.append(
            make_receipt(
                event=raw,
                recorded_at=r.recorded_at or "",
                reporter=r.reporter or "",
                leaf_index=r.seq,
                leaf_hash=r.leaf_hash,
                checkpoint=checkpoint if proof is not None else None,
                inclusion_proof=proof,
            )
        )
    return out


def receipt(store: SqlStore, reporter: str, event_id: str) -> dict[str, Any]:
    """A receipt for a stored event against the latest checkpoint that covers it."""
    stored = store.event_by_key(reporter, event_id)
    if stored is None:
        raise NotFound(f"{reporter} reported no event {event_id!r}")
    cp = latest_checkpoint(store)
    covered = cp is not None and cp.size > stored.seq
    return make_receipt(
        event=orjson.loads(stored.payload),
        recorded_at=rfc3339(stored.recorded_us),
        reporter=stored.reporter,
        leaf_index=stored.seq,
        leaf_hash=stored.leaf_hash,
        checkpoint=cp.note if covered and cp else None,
        inclusion_proof=inclusion(store, stored.seq, cp.size) if covered and cp else None,
    )


def bundle(store: SqlStore, code: str, *, previous_size: int | None = None) -> dict[str, Any]:
    """The code's history with an inclusion proof per event against the latest checkpoint
    (and a consistency proof from an older checkpoint, if asked)."""
    cp = latest_checkpoint(store)
    if cp is None:
        raise NotFound("no checkpoint yet: run `battrace checkpoint`")
    rows = [s for s, _ in store.history(code=code) if s.seq < cp.size]
    if not rows:
        raise NotFound(f"no event names {code} in the checkpointed log")
    entries = [
        bundle_entry(
            event=orjson.loads(s.payload),
            recorded_at=rfc3339(s.recorded_us),
            reporter=s.reporter,
            leaf_index=s.seq,
            leaf_hash=s.leaf_hash,
            inclusion_proof=inclusion(store, s.seq, cp.size),
        )
        for s in rows
    ]
    previous = None
    proof = None
    if previous_size is not None:
        previous = checkpoint_at(store, previous_size).note
        proof = consistency(store, previous_size, cp.size)
    return make_bundle(
        code=code,
        checkpoint=cp.note,
        entries=entries,
        previous_checkpoint=previous,
        consistency_proof=proof,
    )


# ---------------------------------------------------------------- full verification
@dataclass
class Problem:
    """One thing `verify` found wrong."""

    kind: str
    message: str
    leaf_index: int | None = None
    expected: str | None = None
    actual: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class VerifyReport:
    """The outcome of recomputing the whole log."""

    leaves: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "ok": self.ok,
            "leaves": self.leaves,
            "checkpoints": self.checkpoints,
            "seconds": round(self.seconds, 3),
            "leaves_per_second": round(self.leaves / self.seconds) if self.seconds else None,
            "problems": [p.as_dict() for p in self.problems],
        }


MAX_PROBLEMS = 100


def verify_log(
    store: SqlStore,
    verifier: NoteVerifier | None,
    *,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Recompute every leaf hash and the tree from the stored events; check every stored node,
    every checkpoint (signature and root) and the head. Detects rows changed, deleted, inserted
    or reordered."""
    import time

    t0 = time.perf_counter()
    report = VerifyReport()
    cps = [_row(r) for r in store.checkpoint_rows()]
    report.checkpoints = len(cps)
    due = iter(cps)
    next_cp = next(due, None)
    tree = TreeRebuilder()
    expected_index = 0
    problems = report.problems

    def check_checkpoints_at(size: int) -> None:
        nonlocal next_cp
        while next_cp is not None and next_cp.size <= size:
            if next_cp.size == size:
                _check_checkpoint(next_cp, tree.root(), verifier, problems)
            next_cp = next(due, None)

    check_checkpoints_at(0)
    for seq, reporter, recorded_us, payload, stored_hash, blob in store.log_rows():
        seq = int(seq)
        if seq != expected_index:
            kind = "missing" if seq > expected_index else "duplicate"
            problems.append(
                Problem(
                    kind,
                    f"log position {expected_index} is {kind}: the next stored row is {seq}",
                    leaf_index=expected_index,
                )
            )
            break
        data = leaf_data_from_canonical(
            payload.encode(), recorded_at=rfc3339(int(recorded_us)), reporter=reporter
        )
        actual = leaf_hash(data)
        stored = bytes(stored_hash)
        if actual != stored:
            problems.append(
                Problem(
                    "leaf",
                    f"leaf {seq}: the stored event does not hash to its leaf",
                    leaf_index=seq,
                    expected=stored.hex(),
                    actual=actual.hex(),
                )
            )
        try:
            tree.add(actual, stored_blob=bytes(blob))
        except ProofError as exc:
            problems.append(Problem("nodes", str(exc), leaf_index=seq))
        expected_index += 1
        check_checkpoints_at(expected_index)
        if progress is not None and expected_index % 100_000 == 0:
            progress(expected_index)
        if len(problems) >= MAX_PROBLEMS:
            break
    report.leaves = expected_index
    if next_cp is not None and not problems:
        problems.append(
            Problem(
                "checkpoint",
                f"checkpoint of size {next_cp.size} is beyond the "
                f"{expected_index} stored leaves: rows were deleted",
                leaf_index=expected_index,
            )
        )
    size, frontier = store.head()
    if not problems and size != expected_index:
        problems.append(
            Problem(
                "head",
                f"the head says {size} leaves, the log holds {expected_index}",
                expected=str(size),
                actual=str(expected_index),
            )
        )
    if not problems and size and Frontier.from_bytes(frontier).root() != tree.root():
        problems.append(Problem("head", "the head's frontier does not match the recomputed tree"))
    report.seconds = time.perf_counter() - t0
    return report


def _check_checkpoint(
    cp: StoredCheckpoint, root: bytes, verifier: NoteVerifier | None, problems: list[Problem]
) -> None:
    if verifier is not None:
        try:
            signed = open_checkpoint(cp.note, verifier)
        except CheckpointError as exc:
            problems.append(Problem("signature", f"checkpoint {cp.size}: {exc}"))
            return
        if signed.size != cp.size or signed.root_hash != cp.root:
            problems.append(
                Problem(
                    "checkpoint",
                    f"checkpoint {cp.size}: the stored size/root differ from the signed note",
                    expected=signed.root_hash.hex(),
                    actual=cp.root.hex(),
                )
            )
            return
    if root != cp.root:
        problems.append(
            Problem(
                "root",
                f"tree size {cp.size}: the recomputed root differs from the signed "
                "checkpoint: an event before it was changed, removed, inserted or reordered",
                leaf_index=cp.size - 1,
                expected=cp.root.hex(),
                actual=root.hex(),
            )
        )
