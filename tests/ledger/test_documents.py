"""Receipts and bundles verify offline, and every kind of tampering fails a named check."""

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from battrace.ledger.canonical import SAMPLE_EVENT, canonical_bytes
from battrace.ledger.documents import (
    VerificationReport,
    event_leaf_hash,
    leaf_data,
    leaf_data_from_canonical,
    verify_document,
)
from battrace.ledger.merkle import consistency_proof, leaf_hash
from tests.ledger.sample_log import LOG, REPORTER, VERIFIER, Log, make_keys


def failed(report: VerificationReport) -> dict[str, str]:
    return {c.name: c.message for c in report.failures}


def through_json(doc: dict[str, Any]) -> Any:
    return json.loads(json.dumps(doc, ensure_ascii=False))


# ---------------------------------------------------------------- leaf definition


def test_leaf_data_is_the_canonical_json_of_event_record_time_and_reporter() -> None:
    data = leaf_data({"b": 1, "a": 2}, recorded_at="2025-12-07T00:00:00Z", reporter=REPORTER)
    assert data == (
        b'{"event":{"a":2,"b":1},"recorded_at":"2025-12-07T00:00:00Z",'
        b'"reporter":"91350100M000100Y43"}'
    )
    assert event_leaf_hash(
        {"b": 1, "a": 2}, recorded_at="2025-12-07T00:00:00Z", reporter=REPORTER
    ) == leaf_hash(data)


@pytest.mark.parametrize("recorded_at", ["2025-12-07T00:00:00.000001Z", 'odd "quoted"\n'])
def test_leaf_data_from_event_bytes_equals_leaf_data(recorded_at: str) -> None:
    expected = leaf_data(SAMPLE_EVENT, recorded_at=recorded_at, reporter=REPORTER)
    assert (
        leaf_data_from_canonical(
            canonical_bytes(SAMPLE_EVENT), recorded_at=recorded_at, reporter=REPORTER
        )
        == expected
    )


# ---------------------------------------------------------------- good documents verify


def test_a_receipt_with_a_checkpoint_verifies_after_a_trip_through_json() -> None:
    report = verify_document(through_json(LOG.receipt(7, 33)), VERIFIER)
    assert report.ok, report.failures
    assert [c.name for c in report.checks] == [
        "format",
        "checkpoint",
        "leaf 7: event hash",
        "leaf 7: inclusion",
    ]
    assert report.checkpoint is not None
    assert report.checkpoint.size == 33


def test_a_bundle_verifies_every_entry_and_its_consistency_with_an_older_checkpoint() -> None:
    report = verify_document(through_json(LOG.bundle(40, previous=17)), VERIFIER)
    assert report.ok, report.failures
    names = [c.name for c in report.checks]
    assert names.count("consistency") == 1
    assert sum(name.endswith("inclusion") for name in names) == 14


def test_a_reader_can_check_consistency_with_the_checkpoint_they_already_hold() -> None:
    held = LOG.checkpoint(21)
    bundle = LOG.bundle(40)
    bundle["consistency_proof"] = [h.hex() for h in consistency_proof(21, 40, LOG.get_nodes)]
    assert verify_document(bundle, VERIFIER, previous_checkpoint=held).ok


def test_the_report_is_json_ready() -> None:
    report = verify_document(LOG.receipt(0, 1), VERIFIER)
    data = json.loads(json.dumps(report.as_dict()))
    assert data["ok"] is True
    assert data["checkpoint"]["size"] == 1
    assert {"check", "ok", "message"} <= set(data["checks"][0])


# ---------------------------------------------------------------- tampering fails, named


def test_an_edited_event_fails_its_hash_check() -> None:
    receipt = LOG.receipt(5, 40)
    receipt["event"]["mass_kg"] = 1.5
    report = verify_document(receipt, VERIFIER)
    assert not report.ok
    assert "does not hash to the stated leaf hash" in failed(report)["leaf 5: event hash"]


def test_an_edited_event_with_a_recomputed_leaf_hash_fails_inclusion() -> None:
    receipt = LOG.receipt(5, 40)
    receipt["event"]["mass_kg"] = 1.5
    receipt["leaf_hash"] = event_leaf_hash(
        receipt["event"], recorded_at=receipt["recorded_at"], reporter=REPORTER
    ).hex()
    assert "expected root" in failed(verify_document(receipt, VERIFIER))["leaf 5: inclusion"]


def test_a_moved_leaf_index_fails_inclusion() -> None:
    receipt = LOG.receipt(5, 40)
    receipt["leaf_index"] = 6
    assert "leaf 6: inclusion" in failed(verify_document(receipt, VERIFIER))


def test_a_checkpoint_signed_by_someone_else_fails_and_nothing_is_proven() -> None:
    _, stranger = make_keys()
    report = verify_document(LOG.receipt(5, 40), stranger)
    assert "no signature by key" in failed(report)["checkpoint"]
    assert not any(c.name.endswith("inclusion") for c in report.checks)


def test_a_receipt_without_a_checkpoint_does_not_pass() -> None:
    report = verify_document(LOG.receipt(5, None), VERIFIER)
    assert not report.ok
    assert "fetch a fresh receipt" in failed(report)["checkpoint"]


def test_a_rewritten_history_fails_consistency_with_the_held_checkpoint() -> None:
    forked = Log(40, salt="-rewritten")
    held = LOG.checkpoint(20)
    bundle = forked.bundle(40)
    bundle["consistency_proof"] = [h.hex() for h in consistency_proof(20, 40, forked.get_nodes)]
    message = failed(verify_document(bundle, VERIFIER, previous_checkpoint=held))["consistency"]
    assert "does not verify the old tree (size 20)" in message


def test_a_held_checkpoint_newer_than_the_document_is_reported() -> None:
    report = verify_document(LOG.bundle(20), VERIFIER, previous_checkpoint=LOG.checkpoint(30))
    assert "ask for a newer document" in failed(report)["consistency"]


def test_a_consistency_proof_from_another_size_than_the_held_one_is_reported() -> None:
    bundle = LOG.bundle(40, previous=17)
    report = verify_document(bundle, VERIFIER, previous_checkpoint=LOG.checkpoint(18))
    assert "from size 17, not from your checkpoint of size 18" in failed(report)["consistency"]


def test_a_held_checkpoint_without_a_proof_in_the_document_asks_for_one() -> None:
    report = verify_document(LOG.bundle(30), VERIFIER, previous_checkpoint=LOG.checkpoint(12))
    assert "carries no consistency proof from size 12 to 30" in failed(report)["consistency"]


def test_entries_out_of_log_order_are_reported() -> None:
    bundle = LOG.bundle(40)
    bundle["entries"].reverse()
    assert "not in strict log order" in failed(verify_document(bundle, VERIFIER))["log order"]


# ---------------------------------------------------------------- garbage never raises


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(format="battrace-receipt/v9"),
        lambda d: d.update(leaf_index=-1),
        lambda d: d.update(leaf_index=True),
        lambda d: d.update(leaf_hash="ABCD"),
        lambda d: d.update(leaf_hash="AB" * 32),
        lambda d: d.update(inclusion_proof="nope"),
        lambda d: d.update(inclusion_proof=["zz"]),
        lambda d: d.update(event=[1, 2]),
        lambda d: d.update(event={"x": float("nan")}),
        lambda d: d.update(checkpoint=5),
        lambda d: d.update(checkpoint="not a note"),
        lambda d: d.update(recorded_at=None),
        lambda d: d.update(previous_checkpoint=3),
        lambda d: d.update(previous_checkpoint="x\n\n— y AAAAAAAA\n"),
        lambda d: d.update(consistency_proof="x"),
    ],
)
def test_malformed_receipts_fail_a_check_instead_of_raising(mutate: Any) -> None:
    receipt = copy.deepcopy(LOG.receipt(3, 10))
    mutate(receipt)
    report = verify_document(receipt, VERIFIER)
    assert not report.ok
    assert report.failures[0].message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=10,
)


@given(json_values, st.sampled_from(["battrace-receipt/v1", "battrace-bundle/v1", None]))
def test_arbitrary_json_never_makes_verification_raise(value: Any, kind: str | None) -> None:
    doc = {"format": kind, "entries": value, "event": value, "checkpoint": None} if kind else value
    assert not verify_document(doc, VERIFIER).ok
