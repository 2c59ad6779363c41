"""A small signed log kept the way the store keeps it, for document and CLI tests."""

from datetime import UTC, datetime
from typing import Any

from battrace.ledger.canonical import SAMPLE_EVENT
from battrace.ledger.checkpoint import Checkpoint, sign_checkpoint
from battrace.ledger.documents import bundle_entry, event_leaf_hash, make_bundle, make_receipt
from battrace.ledger.keys import NoteSigner, NoteVerifier, generate_signer, parse_signer
from battrace.ledger.merkle import (
    Frontier,
    NodeId,
    completing_leaf,
    consistency_proof,
    inclusion_proof,
    node_from_blob,
)

ORIGIN = "battrace.example/log"
CODE = "001PB01ABC1234FC70000001"
REPORTER = "91350100M000100Y43"


def make_keys() -> tuple[NoteSigner, NoteVerifier]:
    signer = parse_signer(generate_signer(ORIGIN)[0])
    return signer, signer.verifier()


SIGNER, VERIFIER = make_keys()


class Log:
    """A tiny in-memory log: events, leaf hashes and blobs, as the store keeps them."""

    def __init__(self, events: int, *, salt: str = "") -> None:
        self.entries: list[tuple[dict[str, Any], str]] = []
        self.leaves: list[bytes] = []
        self.blobs: list[bytes] = []
        frontier = Frontier()
        for i in range(events):
            event = {**SAMPLE_EVENT, "id": f"e-{i}{salt}", "battery": CODE if i % 3 == 0 else "x"}
            recorded_at = f"2025-12-07T00:00:{i % 60:02d}.000000Z"
            self.entries.append((event, recorded_at))
            self.leaves.append(event_leaf_hash(event, recorded_at=recorded_at, reporter=REPORTER))
            self.blobs.append(frontier.append(self.leaves[-1]))
        self.frontier = frontier

    def get_nodes(self, ids: Any) -> dict[NodeId, bytes]:
        return {
            (lv, ix): self.leaves[ix]
            if lv == 0
            else node_from_blob(self.blobs[completing_leaf(lv, ix)], lv)
            for lv, ix in ids
        }

    def checkpoint(self, size: int) -> str:
        prefix = Frontier()
        for lh in self.leaves[:size]:
            prefix.append(lh)
        when = datetime(2025, 12, 7, 1, size % 60, tzinfo=UTC)
        return sign_checkpoint(Checkpoint(ORIGIN, size, prefix.root(), when), SIGNER)

    def receipt(self, index: int, size: int | None) -> dict[str, Any]:
        event, recorded_at = self.entries[index]
        return make_receipt(
            event=event,
            recorded_at=recorded_at,
            reporter=REPORTER,
            leaf_index=index,
            checkpoint=None if size is None else self.checkpoint(size),
            inclusion_proof=None if size is None else inclusion_proof(index, size, self.get_nodes),
        )

    def bundle(self, size: int, *, previous: int | None = None) -> dict[str, Any]:
        entries = [
            bundle_entry(
                event=event,
                recorded_at=recorded_at,
                reporter=REPORTER,
                leaf_index=i,
                inclusion_proof=inclusion_proof(i, size, self.get_nodes),
            )
            for i, (event, recorded_at) in enumerate(self.entries[:size])
            if event["battery"] == CODE
        ]
        return make_bundle(
            code=CODE,
            checkpoint=self.checkpoint(size),
            entries=entries,
            previous_checkpoint=None if previous is None else self.checkpoint(previous),
            consistency_proof=None
            if previous is None
            else consistency_proof(previous, size, self.get_nodes),
        )


LOG = Log(40)
