"""`battrace verify` catches every way of rewriting the stored log, on SQLite and PostgreSQL."""

import datetime as dt

import pytest
import sqlalchemy as sa

from battrace.ledger.keys import generate_signer, parse_signer, parse_verifier
from battrace.ledger.merkle import Frontier, leaf_hash
from battrace.services import log
from battrace.store.schema import checkpoints, events, log_head
from tests.kit import AUTOMAKER, MAKER, REPAIRER, code

SIGNER_TEXT, VERIFIER_TEXT = generate_signer("test.example/log")


@pytest.fixture
def signed(world, store):
    """A store with 3 signed batches of events."""
    world.ingestor.signer = parse_signer(SIGNER_TEXT)
    world.ingestor.origin = "test.example/log"
    for i in range(3):
        world.ok(*[world.produce(code(100 * i + k + 1)) for k in range(5)])
    return store


def verify(store):
    return log.verify_log(store, parse_verifier(VERIFIER_TEXT))


def row(store, seq):
    with store.engine.connect() as c:
        return c.execute(sa.select(events).where(events.c.seq == seq)).one()._asdict()


def update(store, seq, **values):
    with store.engine.begin() as c:
        c.execute(events.update().where(events.c.seq == seq).values(**values))


def test_an_untouched_log_verifies(signed):
    report = verify(signed)
    assert report.ok, report.problems
    assert report.leaves == signed.tree_size()
    assert report.checkpoints == 3


def test_a_changed_event_is_found_at_its_leaf_with_both_hashes(signed):
    original = row(signed, 25)
    update(signed, 25, payload=original["payload"].replace('"mass_kg":350', '"mass_kg":300'))
    report = verify(signed)
    assert not report.ok
    first = report.problems[0]
    assert (first.kind, first.leaf_index) == ("leaf", 25)
    assert first.expected == bytes(original["leaf_hash"]).hex()
    assert first.actual != first.expected


def test_a_changed_event_with_a_recomputed_leaf_hash_is_still_found(signed):
    original = row(signed, 25)
    forged = original["payload"].replace('"mass_kg":350', '"mass_kg":300')
    from battrace.ledger.documents import leaf_data_from_canonical
    from battrace.services.common import rfc3339

    new_hash = leaf_hash(
        leaf_data_from_canonical(
            forged.encode(),
            recorded_at=rfc3339(original["recorded_us"]),
            reporter=original["reporter"],
        )
    )
    update(signed, 25, payload=forged, leaf_hash=new_hash)
    report = verify(signed)
    assert not report.ok
    assert report.problems[0].kind in {"nodes", "root"}


def test_a_whole_consistently_rewritten_tree_fails_against_the_signed_checkpoints(signed):
    from battrace.ledger.documents import leaf_data_from_canonical
    from battrace.services.common import rfc3339

    update(signed, 25, payload=row(signed, 25)["payload"].replace('"mass_kg":350', '"mass_kg":1'))
    frontier = Frontier()
    with signed.engine.begin() as c:
        for r in c.execute(sa.select(events).order_by(events.c.seq)).all():
            lh = leaf_hash(
                leaf_data_from_canonical(
                    r.payload.encode(), recorded_at=rfc3339(r.recorded_us), reporter=r.reporter
                )
            )
            blob = frontier.append(lh)
            c.execute(events.update().where(events.c.seq == r.seq).values(leaf_hash=lh, nodes=blob))
        c.execute(log_head.update().values(frontier=frontier.to_bytes()))
    report = verify(signed)
    assert not report.ok
    roots = [p for p in report.problems if p.kind == "root"]
    assert roots, report.problems
    assert roots[0].expected != roots[0].actual


def test_a_deleted_event_is_found_where_the_gap_is(signed):
    with signed.engine.begin() as c:
        c.execute(events.delete().where(events.c.seq == 30))
    report = verify(signed)
    assert [(p.kind, p.leaf_index) for p in report.problems][:1] == [("missing", 30)]


def test_an_inserted_event_is_found(signed):
    last = row(signed, signed.tree_size() - 1)
    extra = dict(last, seq=last["seq"] + 1, event_id="forged-1")
    with signed.engine.begin() as c:
        c.execute(events.insert().values(**extra))
    report = verify(signed)
    assert not report.ok
    assert report.problems[0].kind in {"head", "leaf", "nodes"}


def test_reordered_events_are_found(signed):
    a, b = row(signed, 22), row(signed, 23)
    with signed.engine.begin() as c:
        for src, dst in ((a, b), (b, a)):
            c.execute(
                events.update()
                .where(events.c.seq == dst["seq"])
                .values(
                    payload=src["payload"],
                    leaf_hash=src["leaf_hash"],
                    event_id=src["event_id"] + "~",
                )
            )
    report = verify(signed)
    assert not report.ok
    assert min(p.leaf_index for p in report.problems if p.leaf_index is not None) <= 23


def test_a_forged_checkpoint_signature_is_found(signed):
    with signed.engine.begin() as c:
        note = c.execute(sa.select(checkpoints.c.note).limit(1)).scalar_one()
        c.execute(
            checkpoints.update()
            .where(checkpoints.c.note == note)
            .values(note=note.replace("\n\u2014", "\n\u2014 ", 1))
        )
    report = verify(signed)
    assert [p.kind for p in report.problems] == ["signature"]


def test_receipts_and_bundles_verify_offline(signed):
    from battrace.ledger.documents import verify_document

    doc = log.bundle(signed, code(101))
    assert verify_document(doc, parse_verifier(VERIFIER_TEXT)).ok
    first = row(signed, 21)
    rec = log.receipt(signed, first["reporter"], first["event_id"])
    assert verify_document(rec, parse_verifier(VERIFIER_TEXT)).ok


def test_an_older_checkpoint_is_consistent_with_the_latest(signed):
    from battrace.ledger.documents import verify_document

    older = signed.checkpoint_rows()[1]
    doc = log.bundle(signed, code(1), previous_size=int(older[0]))
    report = verify_document(doc, parse_verifier(VERIFIER_TEXT))
    assert report.ok, report.as_dict()


def test_batch_receipts_carry_proofs_against_the_checkpoint_cut_after_the_batch(world, store):
    from battrace.ledger.documents import verify_document

    world.ingestor.signer = parse_signer(SIGNER_TEXT)
    world.ingestor.origin = "test.example/log"
    raws = [world.produce(code(900 + k)) for k in range(7)]
    results = world.send(*raws)
    receipts = log.receipts_for_batch(
        results,
        raws,
        start=world.ingestor.last_start,
        leaves=world.ingestor.last_leaves,
        checkpoint=world.ingestor.last_checkpoint,
    )
    for r in receipts:
        assert verify_document(r, parse_verifier(VERIFIER_TEXT)).ok


def test_receipts_cover_a_batch_whose_correction_appends_a_replacement_leaf(world, store):
    from battrace.ledger.documents import verify_document

    world.ingestor.signer = parse_signer(SIGNER_TEXT)
    world.ingestor.origin = "test.example/log"
    ship = world.ev("shipped", "2025-01-03", MAKER, battery=code(950), to=AUTOMAKER, hour=11)
    world.ok(world.produce(code(950)), ship)
    fixed = dict(ship, id="ship-fixed", to=REPAIRER)
    raws = [
        world.ev(
            "correction", "2025-01-09", MAKER, target=ship["id"], reason="typo", replacement=fixed
        ),
        world.produce(code(951)),
    ]
    results = world.send(*raws)
    assert [r.status for r in results] == ["accepted", "accepted"]
    assert len(world.ingestor.last_leaves) == 3  # correction, replacement, production
    assert len(world.ingestor.last_blobs) == 3
    receipts = log.receipts_for_batch(
        results,
        raws,
        start=world.ingestor.last_start,
        leaves=world.ingestor.last_leaves,
        blobs=world.ingestor.last_blobs,
        checkpoint=world.ingestor.last_checkpoint,
    )
    for r in receipts:
        assert verify_document(r, parse_verifier(VERIFIER_TEXT)).ok


def test_receipts_skip_the_leaf_of_a_correction_rolled_back_within_the_batch(world, store):
    from battrace.ledger.documents import verify_document

    world.ingestor.signer = parse_signer(SIGNER_TEXT)
    world.ingestor.origin = "test.example/log"
    ship = world.ev("shipped", "2025-01-03", MAKER, battery=code(960), to=AUTOMAKER, hour=11)
    world.ok(world.produce(code(960)), ship)
    bad = dict(ship, id="ship-bad", to="not-a-uscc")
    raws = [
        world.produce(code(961)),
        world.ev("correction", "2025-01-09", MAKER, target=ship["id"], reason="x", replacement=bad),
        world.produce(code(962)),
    ]
    results = world.send(*raws)
    assert [r.status for r in results] == ["accepted", "rejected", "accepted"]
    # the correction took a leaf, then gave it back with everything it staged
    assert len(world.ingestor.last_leaves) == len(world.ingestor.last_blobs) == 2
    assert log.verify_log(store, parse_verifier(VERIFIER_TEXT)).ok  # the head is the real tree
    for blobs in (None, world.ingestor.last_blobs):
        receipts = log.receipts_for_batch(
            results,
            raws,
            start=world.ingestor.last_start,
            leaves=world.ingestor.last_leaves,
            blobs=blobs,
            checkpoint=world.ingestor.last_checkpoint,
        )
        assert receipts[1] is None
        for r in (receipts[0], receipts[2]):
            report = verify_document(r, parse_verifier(VERIFIER_TEXT))
            assert report.ok, [c for c in report.checks if not c.ok]
    # and the next batch builds on that tree
    world.ok(world.produce(code(963)))
    assert log.verify_log(store, parse_verifier(VERIFIER_TEXT)).ok


def test_proof_generation_rejects_a_leaf_outside_the_tree(signed):
    from battrace.errors import NotFound

    with pytest.raises(NotFound):
        log.inclusion(signed, signed.tree_size(), signed.tree_size())
    assert dt  # keep the import used
