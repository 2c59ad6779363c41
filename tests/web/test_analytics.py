"""Read-only statistics on the `world` fixture (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from battrace.analytics import findings, flows, holdings, overview, scorecards
from battrace.analytics.sql import day_to_month, months_between
from battrace.domain.policy import Policy
from tests import kit


def _scrap_and_ship(world, pack, vin, to):
    world.pack_in_vehicle(pack, vin)
    world.set_now("2025-03-10")
    world.ok(
        world.ev("vehicle_scrapped", "2025-03-01", kit.DISMANTLER, vin=vin, certificate_no="S",
                 batteries_present=[pack]),
        world.ev("shipped", "2025-03-02", kit.DISMANTLER, battery=pack, to=to),
    )  # fmt: skip


def test_overview_counts_codes_retirements_and_months(world, store):
    _scrap_and_ship(world, kit.code(1), kit.VIN1, kit.RECYCLER)
    world.pack_in_vehicle(kit.code(2), kit.VIN2)
    o = overview.overview(store)
    assert o.batteries == 2 and o.vehicles == 2 and o.retired == 1
    assert o.by_state_chemistry == {("in_transit", "LFP"): 1, ("in_vehicle", "LFP"): 1}
    assert o.retirements_per_month == {"2025-03": 1}
    assert sum(o.events_per_month.values()) == 12
    assert o.months == ["2025-01", "2025-02", "2025-03"]
    beijing = next(r for r in o.regions if r["province"] == "11")
    assert beijing["enterprises"] == 12 and beijing["retired_held"] == 1


def test_a_shipment_to_an_unqualified_firm_is_a_flagged_flow(world, store):
    _scrap_and_ship(world, kit.code(3), kit.VIN1, kit.SHADY)
    f = flows.flows(store)
    assert f.flagged == 1
    bad = flows.unqualified_recipients(f)
    assert [n.uscc for n in bad] == [kit.SHADY]
    assert flows.flows(store, until=dt.date(2025, 2, 1)).flagged == 0
    assert flows.flows(store, region="44").batteries == 0


def test_flows_stay_acyclic_when_a_battery_goes_back(world, store):
    pack = kit.code(4)
    world.ok(
        world.produce(pack, "2025-01-03"),
        world.ev("shipped", "2025-01-03", kit.MAKER, battery=pack, to=kit.AUTOMAKER, hour=11),
        world.ev("received", "2025-01-03", kit.AUTOMAKER, battery=pack, hour=12),
        world.ev("shipped", "2025-01-03", kit.AUTOMAKER, battery=pack, to=kit.MAKER, hour=13),
    )
    f = flows.flows(store)
    col = {n.id: n.stage for n in f.nodes}
    assert all(col[lk.target] > col[lk.source] for lk in f.links)


def test_scorecards_hold_figures_for_every_enterprise(world, store):
    _scrap_and_ship(world, kit.code(5), kit.VIN1, kit.RECYCLER)
    world.ok(world.ev("received", "2025-03-03", kit.RECYCLER, battery=kit.code(5)))
    rows = {r["uscc"]: r for r in scorecards.all_scorecards(store)}
    assert kit.REGULATOR not in rows
    assert rows[kit.RECYCLER]["batteries_held"] == 1
    d = scorecards.scorecard_detail(store, kit.RECYCLER, policy=Policy.default())
    assert d is not None and d.mass is not None
    assert d.mass.intake_codes == 1 and d.mass.held_codes == 1 and d.mass.gap_g == 0
    assert [n.node for n in d.nodes] == ["recycler_intake"]
    assert scorecards.scorecard_detail(store, "nobody", policy=Policy.default()) is None


def test_findings_filter_by_region_and_rule(world, store):
    _scrap_and_ship(world, kit.code(6), kit.VIN1, kit.SHADY)
    items, total = findings.find(store, findings.FindingFilter(rule="BT-011", region="11"))
    assert total == 1 and items[0]["enterprise_name"] == "Dismantler A"
    assert findings.find(store, findings.FindingFilter(region="44"))[1] == 0
    assert findings.counts_by_rule(store, findings.FindingFilter()) == {"BT-011": 1}


def test_batteries_of_a_holder_and_those_on_their_way_to_it(world, store):
    _scrap_and_ship(world, kit.code(7), kit.VIN1, kit.RECYCLER)
    assert holdings.of_holder(store, kit.RECYCLER) == ([], 0)
    (incoming,) = holdings.incoming(store, kit.RECYCLER)
    assert incoming["state"] == "in_transit" and incoming["holder"] == kit.DISMANTLER
    items, total = holdings.of_holder(store, kit.DISMANTLER)
    assert total == 1 and items[0]["code"] == kit.code(7)


def test_month_helpers():
    assert day_to_month(0) == "1970-01"
    assert months_between("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
