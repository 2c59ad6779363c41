"""Group commit: concurrent requests share ingest transactions, with the results of ingesting
them one after another."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from battrace.api.commit import GroupCommit
from battrace.ledger.documents import verify_document
from battrace.ledger.keys import init_key_dir, load_signer
from battrace.services.ingest import Ingestor
from battrace.services.log import latest_checkpoint
from battrace.store.sql import SqlStore
from tests import kit
from tests.api.conftest import NOW


def _commit(store: SqlStore, tmp_path: Path) -> GroupCommit:
    keys = init_key_dir(tmp_path / "keys", "battrace.example/log")
    ingestor = Ingestor(store, clock=lambda: NOW, signer=load_signer(keys.signing_key.parent))
    ingestor.ingest(kit.registry_events())
    return GroupCommit(ingestor, store)


def test_requests_queued_behind_a_transaction_are_ingested_together(
    store: SqlStore, tmp_path: Path
) -> None:
    commit = _commit(store, tmp_path)
    old = _produced("old", kit.code(99))
    commit.submit([old], receipts=False)
    before = latest_checkpoint(store)
    assert before is not None
    out: dict[int, Any] = {}

    def send(i: int) -> None:
        ev = _produced(f"p{i}", kit.code(i + 1))
        again = old | {"id": f"again{i}"}  # a code produced before: rejected
        out[i] = commit.submit([ev, again], receipts=True)

    with commit.lock:  # a transaction is running: everyone queues behind it
        threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(commit._queue) < 8:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    for t in threads:
        t.join(10)
    after = latest_checkpoint(store)
    assert after is not None
    assert after.size == before.size + 8
    # one transaction, one checkpoint, for all eight requests
    sizes = [int(r[0]) for r in store.checkpoint_rows()]
    assert sizes[-2:] == [before.size, after.size]
    verifier = load_signer(tmp_path / "keys").verifier()
    for i in range(8):
        (ok, again), (receipt, none) = out[i]
        assert ok.status == "accepted"
        assert verify_document(receipt, verifier).ok
        assert again.status == "rejected" and none is None


def _produced(eid: str, code: str) -> dict[str, Any]:
    return kit.produced(eid, "2025-01-03T09:00:00+08:00", kit.MAKER, code)
