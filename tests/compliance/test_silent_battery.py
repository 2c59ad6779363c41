"""BT-022 silent battery: a used battery with no event for more than the policy's days."""

import datetime as dt

from tests.compliance import scenes as s
from tests.kit import RECYCLER, REPAIRER, code

LAST = dt.date(2025, 9, 22)


def test_a_used_battery_silent_for_one_day_more_than_the_limit_is_flagged(world, store):
    pack = code(31)
    s.at_recycler(world, pack, s.vin(31), LAST.isoformat())
    limit = s.POLICY.silent_battery_days

    s.run(store, LAST + dt.timedelta(days=limit), rules={"BT-022"})
    assert s.open_findings(store, "BT-022") == [], "exactly at the limit is not silent"

    s.run(store, LAST + dt.timedelta(days=limit + 1), rules={"BT-022"})
    [f] = s.open_findings(store, "BT-022")
    assert f["codes"] == [pack]
    assert f["enterprise"] == RECYCLER
    assert f["detail"]["days"] == limit + 1
    assert f["detail"]["last_day"] == LAST.isoformat()
    assert f["detail"]["also_missing_report"] is None, "BT-021 did not run"


def test_a_silent_battery_is_also_a_missing_report_and_the_finding_says_so(world, store):
    pack = code(32)
    s.at_recycler(world, pack, s.vin(32), LAST.isoformat())

    s.run(store, LAST + dt.timedelta(days=200), rules={"BT-021", "BT-022"})

    [silent] = s.open_findings(store, "BT-022")
    [missing] = s.open_findings(store, "BT-021")
    assert silent["detail"]["also_missing_report"] is True
    assert silent["codes"] == missing["codes"] == [pack]


def test_a_used_battery_lost_in_transit_goes_silent_under_its_sender(world, store):
    pack = code(33)
    s.removed_by_repairer(world, pack, s.vin(33), LAST.isoformat())
    world.ok(world.ev("shipped", LAST.isoformat(), REPAIRER, battery=pack, to=RECYCLER, hour=15))

    s.run(store, LAST + dt.timedelta(days=181), rules={"BT-022"})

    [f] = s.open_findings(store, "BT-022")
    assert (f["enterprise"], f["detail"]["state"], f["detail"]["addressee"]) == (
        REPAIRER,
        "in_transit",
        RECYCLER,
    )


def test_a_new_pack_waiting_in_transit_is_not_a_silent_used_battery(world, store):
    s.shipped_never_received(world, code(34), LAST.isoformat())

    s.run(store, LAST + dt.timedelta(days=400), rules={"BT-022"})

    assert s.open_findings(store, "BT-022") == []


def test_a_new_event_ends_the_silence_and_withdraws_the_finding(world, store):
    pack = code(35)
    s.at_recycler(world, pack, s.vin(35), LAST.isoformat())
    as_of = LAST + dt.timedelta(days=190)
    s.run(store, as_of, rules={"BT-022"})
    assert len(s.open_findings(store, "BT-022")) == 1

    s.recycled(world, pack, (as_of - dt.timedelta(days=1)).isoformat(), input_kg=350)
    s.run(store, as_of, rules={"BT-022"})

    assert s.open_findings(store, "BT-022") == []
