"""Idempotency: the same event twice is stored once; the same key with new content is refused."""

import pytest
import sqlalchemy as sa

from battrace.store.schema import events
from tests.kit import AUTOMAKER, MAKER, code


def test_the_same_event_sent_twice_is_a_duplicate_with_the_original_leaf(world, store):
    ev = world.produce(code(1))
    first = world.one(ev)
    again = world.one(dict(ev))
    assert first.status == "accepted"
    assert again.status == "duplicate"
    assert again.seq == first.seq
    assert again.leaf_hash == first.leaf_hash
    assert store.tree_size() == first.seq + 1


def test_a_duplicate_inside_one_batch_is_stored_once(world, store):
    ev = world.produce(code(2))
    results = world.send(ev, dict(ev))
    assert [r.status for r in results] == ["accepted", "duplicate"]
    assert store.tree_size() == results[0].seq + 1


def test_the_same_key_with_different_content_is_a_conflict(world):
    ev = world.produce(code(3))
    world.ok(ev)
    changed = dict(ev, mass_kg=351)
    result = world.one(changed)
    assert result.status == "rejected"
    assert result.reasons[0].field == "id"
    assert "different event" in result.reasons[0].message


def test_key_order_and_number_spelling_do_not_make_a_different_event(world):
    ev = world.produce(code(4), mass_kg=350.0)
    world.ok(ev)
    reordered = dict(reversed(list(ev.items())))
    reordered["mass_kg"] = 350
    assert world.one(reordered).status == "duplicate"


def test_a_retried_batch_stores_nothing_twice(world, store):
    batch = [world.produce(code(10 + i)) for i in range(5)]
    world.ok(*batch)
    size = store.tree_size()
    retry = world.send(*batch)
    assert {r.status for r in retry} == {"duplicate"}
    assert store.tree_size() == size


def test_the_same_id_from_two_reporters_is_two_events(world):
    a = world.ev("shipped", "2025-01-03", MAKER, battery=code(20), to=AUTOMAKER)
    world.ok(world.produce(code(20)), a)
    b = dict(a, reporter=AUTOMAKER, type="received")
    del b["to"]
    assert world.one(b).status == "accepted"


def test_the_database_itself_refuses_a_second_row_with_the_same_key(world, store):
    world.ok(world.produce(code(30)))
    with store.engine.connect() as c:
        row = c.execute(sa.select(events).order_by(events.c.seq.desc()).limit(1)).one()._asdict()
    row["seq"] += 1000
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as c:
        c.execute(events.insert().values(**row))


def test_a_rejected_event_may_be_sent_again_once_fixed(world):
    bad = world.produce(code(40), chemistry="NCM")  # type B is LFP
    assert world.one(bad).status == "rejected"
    assert world.one(dict(bad, chemistry="LFP")).status == "accepted"


def test_a_rejected_and_flagged_event_sent_again_raises_no_second_finding(world, store):
    from tests.kit import MAKER2

    pack = code(50)
    world.ok(world.produce(pack))
    clone = world.produce(pack, reporter=MAKER2)
    assert world.one(clone).flags == ["BT-003"]
    again = world.one(dict(clone))
    assert again.status == "rejected"
    with store.engine.connect() as c:
        rows = c.execute(sa.text("SELECT count(*) FROM findings WHERE rule = 'BT-003'")).scalar()
    assert rows == 1
