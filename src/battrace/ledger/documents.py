"""Receipts and history bundles that anyone can verify offline with the log's public key.

A leaf commits to one accepted event, when the platform recorded it and who reported it:

    leaf_data = canonical_bytes({"event": event, "recorded_at": recorded_at, "reporter": uscc})
    leaf hash = SHA-256(0x00 || leaf_data)

Hashes travel as lowercase hex; checkpoints as signed-note text (see `checkpoint.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, cast

from battrace.ledger.canonical import CanonicalizationError, canonical_bytes
from battrace.ledger.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from battrace.ledger.keys import NoteVerifier
from battrace.ledger.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion

__all__ = [
    "BUNDLE_FORMAT",
    "RECEIPT_FORMAT",
    "Check",
    "VerificationReport",
    "bundle_entry",
    "event_leaf_hash",
    "leaf_data",
    "leaf_data_from_canonical",
    "make_bundle",
    "make_receipt",
    "verify_document",
]

RECEIPT_FORMAT = "battrace-receipt/v1"
BUNDLE_FORMAT = "battrace-bundle/v1"
_HEX = frozenset("0123456789abcdef")


def leaf_data(event: Mapping[str, Any], *, recorded_at: str, reporter: str) -> bytes:
    """The bytes a leaf commits to: the canonical JSON of event, record time and reporter."""
    return canonical_bytes({"event": event, "recorded_at": recorded_at, "reporter": reporter})


def leaf_data_from_canonical(event_json: bytes, *, recorded_at: str, reporter: str) -> bytes:
    """`leaf_data` from the event's canonical JSON object bytes, without a second pass."""
    return b"".join(
        (
            b'{"event":',
            event_json,
            b',"recorded_at":',
            _json_string(recorded_at),
            b',"reporter":',
            _json_string(reporter),
            b"}",
        )
    )


def _json_string(text: str) -> bytes:
    """JCS bytes of a string; record times and USCCs need no escaping (the common case)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return b'"' + text.encode() + b'"'
    return canonical_bytes(text)


def event_leaf_hash(event: Mapping[str, Any], *, recorded_at: str, reporter: str) -> bytes:
    """The Merkle leaf hash of one logged event."""
    return leaf_hash(leaf_data(event, recorded_at=recorded_at, reporter=reporter))


# ------------------------------------------------------------------ builders


def bundle_entry(
    *,
    event: Mapping[str, Any],
    recorded_at: str,
    reporter: str,
    leaf_index: int,
    inclusion_proof: Sequence[bytes] | Sequence[str] | None,
    leaf_hash: bytes | None = None,
) -> dict[str, Any]:
    """One logged event with its proof (hashes, or their hex as batch receipts compute them);
    `leaf_hash` defaults to the recomputed one."""
    if leaf_hash is None:
        leaf_hash = event_leaf_hash(event, recorded_at=recorded_at, reporter=reporter)
    return {
        "event": dict(event),
        "recorded_at": recorded_at,
        "reporter": reporter,
        "leaf_index": leaf_index,
        "leaf_hash": leaf_hash.hex(),
        "inclusion_proof": _hexes(inclusion_proof),
    }


def _hexes(proof: Sequence[bytes] | Sequence[str] | None) -> list[str] | None:
    if proof is None:
        return None
    if proof and isinstance(proof[0], str):
        return list(cast("Sequence[str]", proof))
    return [h.hex() for h in cast("Sequence[bytes]", proof)]


def make_receipt(
    *,
    event: Mapping[str, Any],
    recorded_at: str,
    reporter: str,
    leaf_index: int,
    leaf_hash: bytes | None = None,
    checkpoint: str | None = None,
    inclusion_proof: Sequence[bytes] | Sequence[str] | None = None,
) -> dict[str, Any]:
    """A receipt for one event; without a checkpoint it is a promise, not yet a proof."""
    entry = bundle_entry(
        event=event,
        recorded_at=recorded_at,
        reporter=reporter,
        leaf_index=leaf_index,
        inclusion_proof=inclusion_proof,
        leaf_hash=leaf_hash,
    )
    return {"format": RECEIPT_FORMAT, **entry, "checkpoint": checkpoint}


def make_bundle(
    *,
    code: str,
    checkpoint: str,
    entries: Iterable[Mapping[str, Any]],
    previous_checkpoint: str | None = None,
    consistency_proof: Sequence[bytes] | None = None,
) -> dict[str, Any]:
    """A battery's history: entries made by `bundle_entry`, all proven against `checkpoint`."""
    bundle: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "code": code,
        "checkpoint": checkpoint,
        "entries": [dict(e) for e in entries],
    }
    if previous_checkpoint is not None:
        bundle["previous_checkpoint"] = previous_checkpoint
        bundle["consistency_proof"] = [h.hex() for h in consistency_proof or ()]
    return bundle


# ------------------------------------------------------------------ verification


@dataclass(frozen=True, slots=True)
class Check:
    """One verification step and what it found."""

    name: str
    ok: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"check": self.name, "ok": self.ok, "message": self.message}


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """Every check made on a document; it verifies only when there are checks and all pass."""

    kind: str
    checks: tuple[Check, ...]
    checkpoint: Checkpoint | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        """True when every check passed (fail closed: no checks is no pass)."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        """The checks that failed."""
        return tuple(c for c in self.checks if not c.ok)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "ok": self.ok,
            "checkpoint": None if self.checkpoint is None else self.checkpoint.as_dict(),
            "checks": [c.as_dict() for c in self.checks],
        }


class _Malformed(Exception):
    """A field of the document has the wrong shape (reported as a failed check)."""


def verify_document(
    doc: Any, verifier: NoteVerifier, *, previous_checkpoint: str | None = None
) -> VerificationReport:
    """Check a receipt or bundle offline; never raises on a bad document."""
    kind = doc.get("format") if isinstance(doc, Mapping) else None
    if kind not in (RECEIPT_FORMAT, BUNDLE_FORMAT):
        fail = Check("format", False, f"not a battrace receipt or bundle (format {kind!r})")
        return VerificationReport("unknown", (fail,))
    checks: list[Check] = []
    try:
        entries = [doc] if kind == RECEIPT_FORMAT else _entries(doc)
        note = doc.get("checkpoint")
        if note is not None and not isinstance(note, str):
            raise _Malformed("'checkpoint' must be signed-note text or null")
        if kind == BUNDLE_FORMAT and not isinstance(doc.get("code"), str):
            raise _Malformed("'code' must be a string")
        if not isinstance(doc.get("previous_checkpoint", ""), str):
            raise _Malformed("'previous_checkpoint' must be signed-note text")
        if not isinstance(doc.get("consistency_proof") or [], list):
            raise _Malformed("'consistency_proof' must be a list of hex hashes")
        parsed = [_entry(e, i) for i, e in enumerate(entries)]
    except _Malformed as exc:
        return VerificationReport(str(kind), (Check("format", False, str(exc)),))
    checks.append(Check("format", True, f"{kind} with {len(parsed)} event(s)"))

    checkpoint = _check_checkpoint(note, verifier, checks)
    for entry in parsed:
        _check_entry(entry, checkpoint, checks)
    if kind == BUNDLE_FORMAT:
        indexes = [e.leaf_index for e in parsed]
        in_order = all(a < b for a, b in pairwise(indexes))
        checks.append(
            Check("log order", in_order, "entries are in log order without repeats")
            if in_order
            else Check("log order", False, f"entries are not in strict log order: {indexes}")
        )
    if checkpoint is not None:
        _check_consistency(doc, previous_checkpoint, checkpoint, verifier, checks)
    return VerificationReport(str(kind), tuple(checks), checkpoint)


@dataclass(frozen=True, slots=True)
class _Entry:
    label: str
    event: Mapping[str, Any]
    recorded_at: str
    reporter: str
    leaf_index: int
    leaf_hash: bytes
    proof: list[bytes] | None


def _entries(doc: Mapping[str, Any]) -> list[Any]:
    entries = doc.get("entries")
    if not isinstance(entries, list):
        raise _Malformed("'entries' must be a list")
    return entries


def _entry(raw: Any, position: int) -> _Entry:
    where = f"entry {position}"
    if not isinstance(raw, Mapping):
        raise _Malformed(f"{where} is not an object")
    event, index = raw.get("event"), raw.get("leaf_index")
    if not isinstance(event, Mapping):
        raise _Malformed(f"{where}: 'event' must be an object")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise _Malformed(f"{where}: 'leaf_index' must be a non-negative integer")
    for name in ("recorded_at", "reporter"):
        if not isinstance(raw.get(name), str):
            raise _Malformed(f"{where}: {name!r} must be a string")
    proof = raw.get("inclusion_proof")
    if proof is not None and not isinstance(proof, list):
        raise _Malformed(f"{where}: 'inclusion_proof' must be a list of hex hashes or null")
    return _Entry(
        label=f"leaf {index}",
        event=event,
        recorded_at=raw["recorded_at"],
        reporter=raw["reporter"],
        leaf_index=index,
        leaf_hash=_hex32(raw.get("leaf_hash"), f"{where}: 'leaf_hash'"),
        proof=None if proof is None else [_hex32(h, f"{where}: proof hash") for h in proof],
    )


def _hex32(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 64 or not _HEX.issuperset(value):
        raise _Malformed(f"{what} must be 64 lowercase hex digits")
    return bytes.fromhex(value)


def _check_checkpoint(
    note: str | None, verifier: NoteVerifier, checks: list[Check]
) -> Checkpoint | None:
    if note is None:
        checks.append(
            Check(
                "checkpoint",
                False,
                "no checkpoint yet: the receipt was issued before the next checkpoint; "
                "fetch a fresh receipt to get a proof",
            )
        )
        return None
    try:
        checkpoint = open_checkpoint(note, verifier)
    except CheckpointError as exc:
        checks.append(Check("checkpoint", False, str(exc)))
        return None
    checks.append(
        Check(
            "checkpoint",
            True,
            f"signed by {verifier.name}+{verifier.key_id:08x}: log {checkpoint.origin}, "
            f"size {checkpoint.size}, root {checkpoint.root_hash.hex()}, "
            f"at {checkpoint.as_dict()['timestamp']}",
        )
    )
    return checkpoint


def _check_entry(entry: _Entry, checkpoint: Checkpoint | None, checks: list[Check]) -> None:
    try:
        computed = event_leaf_hash(
            entry.event, recorded_at=entry.recorded_at, reporter=entry.reporter
        )
    except CanonicalizationError as exc:
        checks.append(Check(f"{entry.label}: event hash", False, str(exc)))
        return
    if computed != entry.leaf_hash:
        checks.append(
            Check(
                f"{entry.label}: event hash",
                False,
                f"the event does not hash to the stated leaf hash: stated "
                f"{entry.leaf_hash.hex()}, computed {computed.hex()}",
            )
        )
        return
    checks.append(Check(f"{entry.label}: event hash", True, f"leaf hash {computed.hex()}"))
    if checkpoint is None:
        return
    if entry.proof is None:
        checks.append(Check(f"{entry.label}: inclusion", False, "no inclusion proof"))
        return
    try:
        verify_inclusion(
            computed, entry.leaf_index, checkpoint.size, entry.proof, checkpoint.root_hash
        )
    except ProofError as exc:
        checks.append(Check(f"{entry.label}: inclusion", False, str(exc)))
        return
    checks.append(
        Check(f"{entry.label}: inclusion", True, f"included in the tree of size {checkpoint.size}")
    )


def _check_consistency(
    doc: Mapping[str, Any],
    held: str | None,
    checkpoint: Checkpoint,
    verifier: NoteVerifier,
    checks: list[Check],
) -> None:
    carried = doc.get("previous_checkpoint")
    if held is None and carried is None:
        return
    try:
        old = _previous(held, carried, verifier)
        if old.origin != checkpoint.origin:
            raise ProofError(
                f"the older checkpoint is for log {old.origin!r}, not {checkpoint.origin!r}"
            )
        if old.size > checkpoint.size:
            raise ProofError(
                f"your checkpoint (size {old.size}) is newer than the document's "
                f"(size {checkpoint.size}); ask for a newer document"
            )
        raw_proof = doc.get("consistency_proof")
        if raw_proof is None:
            if old.size not in (0, checkpoint.size):
                raise ProofError(
                    f"the document carries no consistency proof from size {old.size} "
                    f"to {checkpoint.size}; ask the platform for one"
                )
            raw_proof = []
        if not isinstance(raw_proof, list):
            raise _Malformed("'consistency_proof' must be a list of hex hashes")
        proof = [_hex32(h, "consistency proof hash") for h in raw_proof]
        verify_consistency(old.size, checkpoint.size, old.root_hash, checkpoint.root_hash, proof)
    except (CheckpointError, ProofError, _Malformed) as exc:
        checks.append(Check("consistency", False, str(exc)))
        return
    checks.append(
        Check(
            "consistency",
            True,
            f"the log of size {checkpoint.size} extends the one of size {old.size} "
            "without rewriting it",
        )
    )


def _previous(held: str | None, carried: Any, verifier: NoteVerifier) -> Checkpoint:
    """The older checkpoint to prove consistency from: the one the reader holds, if any."""
    if carried is not None and not isinstance(carried, str):
        raise _Malformed("'previous_checkpoint' must be signed-note text")
    try:
        theirs = None if carried is None else open_checkpoint(carried, verifier)
    except CheckpointError as exc:
        raise CheckpointError(f"the document's previous checkpoint: {exc}") from None
    if held is None:
        assert theirs is not None
        return theirs
    try:
        old = open_checkpoint(held, verifier)
    except CheckpointError as exc:
        raise CheckpointError(f"your previous checkpoint: {exc}") from None
    if theirs is not None and (theirs.size, theirs.root_hash) != (old.size, old.root_hash):
        raise ProofError(
            f"the document proves consistency from size {theirs.size}, "
            f"not from your checkpoint of size {old.size}"
        )
    return old
