"""Group commit: concurrent requests share ingest transactions, with the results of ingesting
them one after another."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from battrace.api.commit import GroupCommit
from battrace.ledger.documents import verify_document
from battrace.ledger.keys import init_key_dir, load_signer
from battrace.services.ingest import Ingestor
from battrace.store.sql import SqlStore
from tests import kit
from tests.api.conftest import NOW


def _produced(eid: str, code: str) -> dict[str, Any]:
    return kit.produced(eid, "2025-01-03T09:00:00+08:00", kit.MAKER, code)


def test_requests_queued_behind_a_transaction_are_ingested_together(
    store: SqlStore, tmp_path: Path
) -> None:
    keys = init_key_dir(tmp_path / "keys", "battrace.example/log")
    signer = load_signer(keys.signing_key.parent)
    ingestor = Ingestor(store, clock=lambda: NOW, signer=signer)
    ingestor.ingest(kit.registry_events())
    commit = GroupCommit(ingestor, store)
    old = _produced("old", kit.code(99))

    # the first transaction is held open until the other requests are queued behind it
    running, release = threading.Event(), threading.Event()
    plain = ingestor.ingest

    def slow(raws: list[Any]) -> Any:
        running.set()
        release.wait(10)
        return plain(raws)

    ingestor.ingest = slow  # type: ignore[method-assign]
    first = commit.submit([old], receipts=False)
    assert running.wait(10)
    ingestor.ingest = plain  # type: ignore[method-assign]
    futures = [
        commit.submit([_produced(f"p{i}", kit.code(i + 1)), old | {"id": f"again{i}"}],
                      receipts=True)
        for i in range(8)
    ]  # fmt: skip
    release.set()
    [done], _ = first.result(10)
    assert done.seq is not None
    outcomes = [f.result(10) for f in futures]
    # one more transaction, one more checkpoint, for all eight requests
    sizes = [int(r[0]) for r in store.checkpoint_rows()]
    assert sizes[-2:] == [done.seq + 1, done.seq + 1 + 8]
    verifier = signer.verifier()
    for (ok, again), (receipt, none) in outcomes:
        assert ok.status == "accepted"
        assert verify_document(receipt, verifier).ok
        assert again.status == "rejected" and none is None  # a code produced before
    commit.stop()


def test_a_failing_batch_fails_each_of_its_requests_and_the_writer_goes_on(
    store: SqlStore,
) -> None:
    ingestor = Ingestor(store, clock=lambda: NOW)
    commit = GroupCommit(ingestor, store)
    plain = ingestor.ingest

    def broken(raws: list[Any]) -> Any:
        ingestor.ingest = plain  # type: ignore[method-assign]
        raise RuntimeError("disk full")

    ingestor.ingest = broken  # type: ignore[method-assign]
    failed = commit.submit([{}], receipts=False)
    with pytest.raises(RuntimeError, match="disk full"):
        failed.result(10)
    results, _ = commit.ingest(kit.registry_events(), receipts=False)
    assert {r.status for r in results} == {"accepted"}
    commit.stop()
