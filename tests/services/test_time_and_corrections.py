"""Event time vs record time, out-of-order arrival, `--as-of`, and corrections."""

import datetime as dt
import json

import sqlalchemy as sa

from battrace.services.trace import trace
from battrace.store.schema import findings
from tests import kit
from tests.kit import AUTOMAKER, AUTOMAKER2, MAKER, MODEL, OUTLET, REPAIRER, VIN1, code

D = "2025-01-03"


def correction(world, target, reason="typo", replacement=None, reporter=MAKER, day="2025-01-09"):
    return world.ev(
        "correction", day, reporter, target=target["id"], reason=reason, replacement=replacement
    )


def test_a_late_upload_of_an_earlier_event_is_placed_at_its_event_time(world, store):
    pack = code(1)
    world.ok(
        world.produce(pack, D),
        world.ev("shipped", D, MAKER, battery=pack, to=AUTOMAKER, hour=11),
        world.ev("received", "2025-01-04", AUTOMAKER, battery=pack),
    )
    sold = world.ev(
        "vehicle_sold", "2025-01-06", AUTOMAKER, vin=VIN1, certificate_date="2025-01-06"
    )
    world.ok(sold)
    # the installation of 5 January arrives after the sale of 6 January
    late = world.ev(
        "installed", "2025-01-05", AUTOMAKER, battery=pack, vin=VIN1, vehicle_model=MODEL
    )
    assert world.one(late).status == "accepted"
    v = store.vehicle(VIN1)
    assert (v.model, v.sold_on, v.packs) == (MODEL, "2025-01-06", (pack,))
    history = trace(store, pack).history
    assert [e["type"] for e in history] == ["produced", "shipped", "received", "installed"]


def test_a_late_event_that_would_invalidate_a_later_one_is_rejected_naming_it(world, store):
    pack = code(2)
    world.ok(
        world.produce(pack, D),
        world.ev("shipped", "2025-01-05", MAKER, battery=pack, to=AUTOMAKER),
        world.ev("received", "2025-01-06", AUTOMAKER, battery=pack),
    )
    # a shipment to someone else on 4 January would leave nothing for the 5 January shipment
    late = world.ev("shipped", "2025-01-04", MAKER, battery=pack, to=AUTOMAKER2)
    r = world.one(late)
    assert r.status == "rejected"
    assert "would invalidate the later shipped" in r.reasons[0].message
    assert store.battery(pack).holder == AUTOMAKER


def test_as_of_answers_the_state_on_a_past_day_from_the_log_alone(world, store):
    pack = code(3)
    world.ok(
        world.produce(pack, D),
        world.ev("shipped", "2025-01-05", MAKER, battery=pack, to=AUTOMAKER),
        world.ev("received", "2025-01-07", AUTOMAKER, battery=pack),
    )
    assert trace(store, pack, as_of=dt.date(2025, 1, 4)).as_dict()["state"] == "registered"
    on_6th = trace(store, pack, as_of=dt.date(2025, 1, 6)).as_dict()
    assert (on_6th["state"], on_6th["holder"]) == ("in_transit", MAKER)
    assert len(on_6th["history"]) == 2
    assert trace(store, pack).as_dict()["state"] == "in_stock"


def test_a_correction_withdraws_its_target_and_rebuilds_the_projection(world, store):
    pack = code(4)
    ship = world.ev("shipped", D, MAKER, battery=pack, to=OUTLET, hour=11)
    world.ok(world.produce(pack, D), ship)
    r = world.one(correction(world, ship, reason="wrong addressee"))
    assert r.status == "accepted"
    b = store.battery(pack)
    assert (b.state, b.holder, b.to) == ("registered", MAKER, None)
    history = trace(store, pack).history
    shipped = next(e for e in history if e["type"] == "shipped")
    assert shipped["withdrawn_by_leaf"] == r.seq  # both stay in the log


def test_sending_a_withdrawn_event_again_says_it_was_withdrawn(world, store):
    """It answered a bare "duplicate", as if it counted."""
    pack = code(5)
    ship = world.ev("shipped", D, MAKER, battery=pack, to=OUTLET, hour=11)
    world.ok(world.produce(pack, D), ship)
    fix = world.one(correction(world, ship, reason="wrong addressee"))
    again = world.one(ship)
    assert again.status == "duplicate"
    [why] = again.reasons
    assert why.field == "id" and f"correction at leaf {fix.seq}" in why.message
    made = world.produce(code(6), D)
    world.ok(made)
    plain = world.one(made)
    assert (plain.status, plain.reasons) == ("duplicate", [])


def test_a_correction_with_a_replacement_applies_the_corrected_event(world, store):
    pack = code(5)
    ship = world.ev("shipped", D, MAKER, battery=pack, to=OUTLET, hour=11)
    world.ok(world.produce(pack, D), ship)
    fixed = dict(ship, id="fixed-1", to=AUTOMAKER)
    r = world.one(correction(world, ship, replacement=fixed))
    assert r.status == "accepted", r.reasons
    assert store.battery(pack).to == AUTOMAKER
    assert (
        world.one(world.ev("received", "2025-01-09", AUTOMAKER, battery=pack)).status == "accepted"
    )


def test_a_correction_that_would_orphan_a_later_event_is_rejected(world, store):
    pack = code(6)
    ship = world.ev("shipped", D, MAKER, battery=pack, to=AUTOMAKER, hour=11)
    world.ok(
        world.produce(pack, D), ship, world.ev("received", "2025-01-04", AUTOMAKER, battery=pack)
    )
    r = world.one(correction(world, ship))
    assert r.status == "rejected"
    assert "correct that event first" in r.reasons[0].message
    assert store.battery(pack).holder == AUTOMAKER


def test_a_replacement_may_correct_an_event_that_later_events_stand_on(world, store):
    """The withdrawal was checked without the replacement: a shipment already received could
    not have its note fixed (the receipt fit no longer), though it fits the replacement.
    The later events are judged with the replacement in the target's place."""
    from battrace.services.rebuild import rebuild
    from tests.services.test_rebuild import snapshot

    pack = code(7)
    ship = world.ev("shipped", D, MAKER, battery=pack, to=AUTOMAKER, hour=11, note="tpyo")
    world.ok(
        world.produce(pack, D), ship, world.ev("received", "2025-01-04", AUTOMAKER, battery=pack)
    )
    fixed = dict(ship, id="fixed-7", note="typo fixed")
    r = world.one(correction(world, ship, replacement=fixed))
    assert r.status == "accepted", r.reasons
    assert store.battery(pack).holder == AUTOMAKER
    history = trace(store, pack).as_dict()["history"]
    live = [e["id"] for e in history if e["type"] == "shipped" and "withdrawn_by_leaf" not in e]
    assert live == ["fixed-7"]
    # a replacement the later events do not fit is still refused, naming the one
    again = dict(fixed, id="fixed-8", to=OUTLET)
    r = world.one(correction(world, fixed, replacement=again))
    assert r.status == "rejected"
    assert r.reasons[0].field == "replacement.time"
    assert "received" in r.reasons[0].message
    # nor one that leaves out what the later events stand on (another pack's shipment) ...
    world.ok(world.produce(code(8), D))
    other = dict(fixed, id="fixed-9", battery=code(8))
    r = world.one(correction(world, fixed, replacement=other))
    assert r.status == "rejected"
    assert "correct that event first" in r.reasons[0].message
    # ... nor one dated after them (the receipt would come before the shipment)
    after = dict(fixed, id="fixed-10", time="2025-01-05T10:00:00+08:00")
    r = world.one(correction(world, fixed, replacement=after))
    assert r.status == "rejected"
    assert "leaves unfit the earlier received" in r.reasons[0].message
    assert store.battery(pack).holder == AUTOMAKER
    before = snapshot(store)
    assert rebuild(store).misfits == []
    assert snapshot(store) == before


def test_only_the_reporter_of_the_target_may_correct_it(world):
    pack = code(7)
    ship = world.ev("shipped", D, MAKER, battery=pack, to=OUTLET, hour=11)
    world.ok(world.produce(pack, D), ship)
    r = world.one(correction(world, ship, reporter=REPAIRER))
    assert r.status == "rejected"
    assert r.reasons[0].field == "target"


def test_a_correction_withdraws_the_findings_raised_by_its_target(world, store):
    pack = code(8)
    world.pack_in_vehicle(pack)
    world.set_now("2025-06-30")  # far beyond 30 working days after the repair
    removal = world.ev("removed", "2025-02-03", AUTOMAKER, battery=pack, vin=VIN1, reason="defect")
    r = world.one(removal)
    assert r.flags == ["BT-020"]
    fixed = dict(removal, id="removal-2", time="2025-06-20T10:00:00+08:00")
    c = world.one(
        correction(world, removal, reporter=AUTOMAKER, day="2025-06-30", replacement=fixed)
    )
    assert c.status == "accepted", c.reasons
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(findings.c.status, findings.c.events).where(findings.c.rule == "BT-020")
        ).all()
    by_event = {json.loads(e)[0]: s for s, e in rows}
    assert by_event[f"{AUTOMAKER}/{removal['id']}"] == "withdrawn"


def test_a_correction_cannot_be_corrected(world):
    pack = code(9)
    ship = world.ev("shipped", D, MAKER, battery=pack, to=OUTLET, hour=11)
    world.ok(world.produce(pack, D), ship)
    c = correction(world, ship)
    world.ok(c)
    r = world.one(correction(world, c))
    assert r.status == "rejected"


def test_a_replacement_is_judged_on_time_when_the_report_it_corrects_was(world, store):
    pack = code(10)
    world.pack_in_vehicle(pack)
    world.set_now("2025-02-05")  # two working days after the repair: on time
    removal = world.ev("removed", "2025-02-03", AUTOMAKER, battery=pack, vin=VIN1, reason="defect")
    assert world.one(removal).flags == []
    world.set_now("2025-09-01")  # the typo is noticed months later
    fixed = dict(removal, id="removal-fixed", reason="accident")
    c = world.one(
        correction(world, removal, reporter=AUTOMAKER, day="2025-09-01", replacement=fixed)
    )
    assert c.status == "accepted", c.reasons
    with store.engine.connect() as conn:
        late = conn.execute(sa.select(findings.c.events).where(findings.c.rule == "BT-020")).all()
    assert late == []


def test_withdrawing_the_regulators_own_registration_is_refused(world, store):
    """Withdrawing the bootstrap fact emptied the registry: every later fact was dropped
    unchecked, and any enterprise could then bootstrap itself as regulator."""
    from battrace.store.schema import enterprises
    from tests.kit import REGULATOR, SHADY

    bootstrap = {"id": "reg-1", "type": "enterprise_registered"}
    r = world.one(correction(world, bootstrap, reporter=REGULATOR))
    assert r.status == "rejected"
    assert r.reasons[0].field == "target"
    assert "would invalidate enterprise_registered" in r.reasons[0].message
    with store.engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(enterprises)).scalar() > 10
    grab = world.ev("enterprise_registered", D, SHADY, enterprise=SHADY, name="X",
                    roles=["regulator"], region="110100")  # fmt: skip
    assert world.one(grab).status == "rejected"
    # a fact nothing later stands on may still be withdrawn
    extra = world.ev("enterprise_registered", D, REGULATOR, enterprise=kit.uscc(77),
                     name="Typo Ltd", roles=["recycler"], region="110100")  # fmt: skip
    world.ok(extra)
    world.ok(correction(world, extra, reporter=REGULATOR))
    with store.engine.connect() as c:
        names = set(c.execute(sa.select(enterprises.c.name)).scalars())
    assert "Typo Ltd" not in names
