"""The lifecycle of EVENTS.md through ingest: custody, hierarchy, reprocessing, recycling."""

import dataclasses
import datetime as dt
import json

import pytest
import sqlalchemy as sa

from battrace.identity import ProductType
from battrace.services.rebuild import rebuild
from battrace.services.trace import trace
from battrace.store.schema import findings
from tests.kit import (
    AUTOMAKER,
    DISMANTLER,
    MAKER,
    MAKER2,
    MODEL,
    OUTLET,
    OUTLET2,
    RECYCLER,
    REGULATOR,
    REPAIRER,
    REPROCESSOR,
    SWAP_MODEL,
    VIN1,
    VIN2,
    code,
    uscc,
)

D = "2025-01-03"


def open_findings(store, rule):
    with store.engine.connect() as c:
        rows = c.execute(
            sa.select(findings).where(findings.c.rule == rule, findings.c.status == "open")
        ).all()
    return [r._asdict() for r in rows]


def scrap(world, pack, vin=VIN1, *, present=True, day="2025-03-01"):
    return world.ev(
        "vehicle_scrapped",
        day,
        DISMANTLER,
        vin=vin,
        certificate_no="SC-1",
        batteries_present=[pack] if present else [],
    )


def scrapped_and_removed(world, pack):
    """The pack found in VIN1 when the dismantler scraps it (03-01), then taken out (03-02):
    a used battery the dismantler holds."""
    return [
        scrap(world, pack),
        world.ev("removed", "2025-03-02", DISMANTLER, battery=pack, vin=VIN1, reason="scrapping"),
    ]


def test_unknown_types_and_fields_are_errors_naming_them(world):
    r = world.one(
        {"id": "x1", "type": "teleported", "time": "2025-01-03T10:00:00+08:00", "reporter": MAKER}
    )
    assert r.status == "rejected"
    assert r.reasons[0].field == "type"
    r = world.one(world.produce(code(1), colour="red"))
    assert [x.field for x in r.reasons] == ["colour"]


def test_every_problem_of_an_event_gets_its_own_reason(world):
    ev = world.produce("001pB01", mass_kg=-1)
    del ev["chemistry"]
    r = world.one(ev)
    fields = sorted(x.field for x in r.reasons)
    assert fields == ["battery", "chemistry", "mass_kg"]
    battery = next(x for x in r.reasons if x.field == "battery")
    assert battery.rule == "BT-001"
    assert "position 4" in battery.message


def test_recorded_at_is_refused_unless_the_operator_trusts_the_file(world):
    ev = world.produce(code(2))
    ev["recorded_at"] = "2025-01-03T12:00:00+08:00"
    r = world.one(ev)
    assert r.status == "rejected"
    assert r.reasons[0].field == "recorded_at"


def test_an_event_from_the_future_is_refused(world):
    r = world.one(world.produce(code(3), "2025-02-01"))
    assert r.status == "rejected"
    assert r.reasons[0].field == "time"


def test_only_the_holder_may_ship(world):
    pack = code(4)
    world.ok(world.produce(pack, D))
    r = world.one(world.ev("shipped", D, AUTOMAKER, battery=pack, to=OUTLET))
    assert [x.rule for x in r.reasons] == ["BT-004"]


def test_only_the_addressee_may_receive(world):
    pack = code(5)
    world.ok(
        world.produce(pack, D), world.ev("shipped", D, MAKER, battery=pack, to=AUTOMAKER, hour=11)
    )
    r = world.one(world.ev("received", D, REPAIRER, battery=pack, hour=12))
    assert [x.rule for x in r.reasons] == ["BT-004"]


def test_an_event_that_does_not_fit_the_state_is_rejected(world):
    pack = code(6)
    world.ok(world.produce(pack, D))
    r = world.one(
        world.ev(
            "recycled",
            D,
            RECYCLER,
            battery=pack,
            input_mass_kg=300,
            recovered={"li": 1},
            contained={"li": 1},
            hour=11,
        )
    )
    assert r.status == "rejected"
    assert {x.rule for x in r.reasons} == {"BT-004", "BT-005"} or r.reasons[0].rule == "BT-005"


def test_a_pack_through_its_whole_life_to_recycling(world, store):
    pack = code(7)
    world.pack_in_vehicle(pack)
    world.set_now("2025-03-10")
    world.ok(
        *scrapped_and_removed(world, pack),
        world.ev("shipped", "2025-03-03", DISMANTLER, battery=pack, to=OUTLET),
        world.ev("collected", "2025-03-04", OUTLET, battery=pack),
        world.ev("shipped", "2025-03-05", OUTLET, battery=pack, to=RECYCLER),
        world.ev("received", "2025-03-06", RECYCLER, battery=pack),
        world.ev(
            "recycled",
            "2025-03-07",
            RECYCLER,
            battery=pack,
            input_mass_kg=350,
            recovered={"li": 3.8, "ni": 0, "co": 0, "mn": 0},
            contained={"li": 4.0},
        ),
        world.ev("disposed", "2025-03-08", RECYCLER, battery=pack, method="landfill"),
    )
    b = store.battery(pack)
    assert (b.state, b.holder, b.vin) == ("disposed", RECYCLER, None)
    assert store.vehicle(VIN1).scrapped_on == "2025-03-01"


def test_a_recycled_code_seen_again_is_rejected_and_flagged_as_forgery(world, store):
    pack = code(8)
    world.ok(
        world.produce(pack, D), world.ev("shipped", D, MAKER, battery=pack, to=RECYCLER, hour=11)
    )
    world.ok(world.ev("received", D, RECYCLER, battery=pack, hour=12))
    # a new battery is not 'used': the recycler cannot recycle it before it is retired
    r = world.one(world.ev("shipped", D, RECYCLER, battery=pack, to=MAKER, hour=13))
    assert r.status == "accepted"
    world.ok(world.ev("received", D, MAKER, battery=pack, hour=14))
    pack2 = code(9)
    world.pack_in_vehicle(pack2, VIN2)
    world.set_now("2025-03-10")
    world.ok(
        scrap(world, pack2, VIN2),
        world.ev("shipped", "2025-03-02", DISMANTLER, battery=pack2, to=RECYCLER),
        world.ev("received", "2025-03-03", RECYCLER, battery=pack2),
        world.ev(
            "recycled",
            "2025-03-04",
            RECYCLER,
            battery=pack2,
            input_mass_kg=350,
            recovered={"li": 3.8},
            contained={"li": 4.0},
        ),
    )
    r = world.one(world.ev("shipped", "2025-03-05", RECYCLER, battery=pack2, to=OUTLET))
    assert r.status == "rejected"
    assert r.reasons[0].rule == "BT-005"
    assert "forgery" in r.reasons[0].message
    flagged = open_findings(store, "BT-005")
    assert [json.loads(f["codes"]) for f in flagged] == [[pack2]]
    assert "上报「发运」：疑似伪造编码" in flagged[0]["message_zh"]
    assert "reported shipped on 2025-03-05" in flagged[0]["message_en"]


def test_a_second_production_by_another_maker_is_a_clone(world, store):
    pack = code(10)
    world.ok(world.produce(pack, D))
    r = world.one(world.produce(pack, D, reporter=MAKER2))
    assert r.status == "rejected"
    assert {x.rule for x in r.reasons} == {"BT-002", "BT-003"}
    [finding] = open_findings(store, "BT-003")
    assert finding["enterprise"] == MAKER2
    assert "clone" in finding["message_en"]


def test_a_clone_dated_before_the_original_is_still_a_clone(world, store):
    """Dated earlier, the clone was refolded as if it came first: BT-002 only, no BT-003 and
    no finding."""
    pack = code(11)
    world.ok(world.produce(pack, D, hour=10))
    r = world.one(world.produce(pack, D, reporter=MAKER2, hour=8))
    assert r.status == "rejected"
    assert {x.rule for x in r.reasons} == {"BT-002", "BT-003"}
    assert r.flags == ["BT-003"]
    assert [f["enterprise"] for f in open_findings(store, "BT-003")] == [MAKER2]


def test_modules_belong_to_one_pack_and_follow_it(world, store):
    m1, m2 = code(11, kind=ProductType.MODULE), code(12, kind=ProductType.MODULE)
    pack, pack2 = code(13), code(14)
    world.ok(
        world.produce(m1, D),
        world.produce(m2, D),
        world.produce(pack, D, components=[m1, m2], hour=11),
    )
    assert store.battery(m1).state == "in_pack"
    assert store.battery(m1).parent == pack
    assert store.batteries_where(parent=pack) == sorted([m1, m2])
    history, own, components, inputs = store.code_view(pack)
    assert (own, components, inputs) == (store.battery(pack), sorted([m1, m2]), [])
    assert history == store.history(code=pack) and len(history) == 1
    history, own, components, inputs = store.code_view(m1)
    assert (own.parent, components, inputs) == (pack, [], [])
    assert [s.type for s, _ in history] == ["produced", "produced"]  # its own, then the pack's
    r = world.one(world.produce(pack2, D, components=[m1]))
    assert r.status == "rejected"
    assert r.reasons[0].rule == "BT-006"
    r = world.one(world.ev("shipped", D, MAKER, battery=m1, to=AUTOMAKER, hour=12))
    assert r.reasons[0].rule == "BT-006"


def test_a_part_of_another_chemistry_cannot_be_a_component(world):
    m = code(15, kind=ProductType.MODULE, battery_type="E")
    world.ok(world.produce(m, D, chemistry="NCM"))
    r = world.one(world.produce(code(16), D, components=[m]))
    assert r.reasons[0].rule == "BT-006"
    assert "chemistry" in r.reasons[0].message


def test_dismantling_frees_the_modules_to_the_recycler(world, store):
    m1 = code(17, kind=ProductType.MODULE)
    unknown = code(18, kind=ProductType.MODULE)
    pack = code(19)
    world.ok(world.produce(m1, "2025-01-02"))
    world.ok(world.produce(pack, "2025-01-02", components=[m1]))
    world.ok(
        world.ev("shipped", D, MAKER, battery=pack, to=AUTOMAKER),
        world.ev("received", D, AUTOMAKER, battery=pack, hour=11),
        world.ev("installed", D, AUTOMAKER, battery=pack, vin=VIN1, vehicle_model=MODEL, hour=12),
        world.ev("removed", "2025-01-04", AUTOMAKER, battery=pack, vin=VIN1, reason="defect"),
        world.ev("shipped", "2025-01-05", AUTOMAKER, battery=pack, to=RECYCLER),
        world.ev("received", "2025-01-06", RECYCLER, battery=pack),
        world.ev("dismantled", "2025-01-07", RECYCLER, battery=pack, parts=[m1, unknown]),
    )
    assert store.battery(pack).state == "dismantled"
    for m in (m1, unknown):
        b = store.battery(m)
        assert (b.state, b.holder, b.parent, b.retired) == ("used", RECYCLER, pack, True)


def test_reprocessing_links_the_product_and_its_inputs_both_ways(world, store):
    pack = code(20)
    product = code(1, maker="R01", made=__import__("datetime").date(2025, 1, 8))
    world.pack_in_vehicle(pack)
    world.ok(
        world.ev("removed", "2025-01-04", AUTOMAKER, battery=pack, vin=VIN1, reason="retired"),
        world.ev("shipped", "2025-01-05", AUTOMAKER, battery=pack, to=REPROCESSOR),
        world.ev("received", "2025-01-06", REPROCESSOR, battery=pack),
    )
    r = world.one(
        world.ev(
            "reprocessed",
            "2025-01-08",
            REPROCESSOR,
            battery=product,
            inputs=[pack],
            application="energy_storage",
            standard="GB/T 34015.3-2021",
            tests={"residual_capacity_pct": 78.5},
        )
    )
    assert r.status == "accepted", r.reasons
    assert r.flags == []
    assert store.battery(pack).successor == product
    assert store.battery(pack).state == "superseded"
    prod = store.battery(product)
    assert prod.reprocessed and prod.mass_g == 350_000
    assert store.batteries_where(successor=product) == [pack]
    history, own, components, inputs = store.code_view(product)
    assert (own, components, inputs) == (prod, [], [pack])
    assert history == store.history(code=product)
    history, own, components, inputs = store.code_view(pack)
    assert (own.successor, components, inputs) == (product, [], [])
    assert history == store.history(code=pack) and history[-1][0].type == "reprocessed"
    assert store.code_view("no-such-code") == ([], None, [], [])


def test_a_swap_vehicle_scrapped_without_its_pack_is_not_flagged(world, store):
    pack = code(21)
    world.pack_in_vehicle(pack, model=SWAP_MODEL)
    world.set_now("2025-03-10")
    r = world.one(scrap(world, pack, present=False))
    assert r.status == "accepted"
    assert "BT-010" not in r.flags


def test_a_vehicle_scrapped_without_its_pack_is_flagged_naming_the_automaker(world, store):
    pack = code(22)
    world.pack_in_vehicle(pack)
    world.set_now("2025-03-10")
    r = world.one(scrap(world, pack, present=False))
    assert r.status == "accepted"
    assert r.flags == ["BT-010"]
    [f] = open_findings(store, "BT-010")
    assert f["enterprise"] == AUTOMAKER
    assert json.loads(f["codes"]) == [pack]
    assert pack in f["message_en"] and VIN1 in f["message_en"]


def test_a_replaced_pack_on_record_is_not_missing_at_scrapping(world, store):
    old, new = code(23), code(24)
    world.pack_in_vehicle(old)
    world.set_now("2025-03-10")
    world.ok(
        world.produce(new, "2025-02-01"),
        world.ev("shipped", "2025-02-01", MAKER, battery=new, to=REPAIRER, hour=11),
        world.ev("received", "2025-02-01", REPAIRER, battery=new, hour=12),
        world.ev("replaced", "2025-02-02", REPAIRER, battery=new, removed=old, vin=VIN1),
    )
    assert store.battery(old).state == "used"
    assert store.battery(new).obligated == AUTOMAKER
    r = world.one(scrap(world, new))
    assert r.status == "accepted" and r.flags == []


def test_the_one_statement_view_leaves_pooled_connections_transactional(world, store):
    """`code_view` reads in autocommit on PostgreSQL (no rollback round trip); the connection
    must go back to the pool as it came, or the next writer would lose its transaction."""
    pack = code(22)
    world.ok(world.produce(pack, D))
    for _ in range(3):
        history, own, _, _ = store.code_view(pack)
        assert own is not None and len(history) == 1
    with store.engine.connect() as c:
        raw = c.connection.dbapi_connection
        if store.engine.dialect.name == "postgresql":
            assert raw.autocommit is False
    with store.writer() as w:
        before = w.head

    def abandoned_batch() -> None:
        with store.writer() as w:
            w.update_head(dataclasses.replace(before, registry_version=99), now_us=1)
            raise RuntimeError("abandon the batch")

    with pytest.raises(RuntimeError):  # the write transaction still rolls back as a whole
        abandoned_batch()
    with store.writer() as w:
        assert w.head == before


def test_an_outlet_collects_a_used_battery_handed_in_by_its_holder(world, store):
    """EVENTS.md: `collected` — "shipped to and received by it, or handed in by its holder".
    The hand-in was refused ("held by …; ship it to the outlet first")."""
    pack = code(8)
    world.pack_in_vehicle(pack)
    world.set_now("2025-03-10")
    world.ok(
        *scrapped_and_removed(world, pack),
        world.ev("collected", "2025-03-04", OUTLET, battery=pack),
    )
    assert store.battery(pack).holder == OUTLET
    # a battery still in use is not handed in to an outlet
    other = code(9)
    world.pack_in_vehicle(other, VIN2)
    r = world.one(world.ev("collected", "2025-03-04", OUTLET, battery=other, hour=15))
    assert r.status == "rejected"


def test_an_outlet_collects_a_battery_once(world, store):
    """A second `collected` of the same battery by the outlet that holds it (another event id:
    a re-keyed retry, a second terminal) was accepted as a no-op and counted twice in the
    collection figures. Received and then collected is one collection; shipped on and back,
    it may be collected again."""
    pack = code(14)
    world.pack_in_vehicle(pack)
    world.set_now("2025-03-20")
    world.ok(
        *scrapped_and_removed(world, pack),
        world.ev("shipped", "2025-03-03", DISMANTLER, battery=pack, to=OUTLET),
        world.ev("received", "2025-03-04", OUTLET, battery=pack),
        world.ev("collected", "2025-03-04", OUTLET, battery=pack, hour=14),
    )
    assert store.battery(pack).collected
    again = world.one(world.ev("collected", "2025-03-05", OUTLET, battery=pack))
    assert again.status == "rejected"
    assert [(x.field, x.rule) for x in again.reasons] == [("battery", "BT-005")]
    assert "already collected by" in again.reasons[0].message
    listed = world.one(world.ev("collected", "2025-03-05", OUTLET, batteries=[pack], hour=11))
    assert [(x.field, x.rule) for x in listed.reasons] == [("batteries[0]", "BT-005")]
    with store.engine.connect() as c:
        n = c.execute(sa.text("SELECT SUM(events) FROM event_stats WHERE type = 'collected'"))
        assert n.scalar_one() == 1
    world.ok(
        world.ev("shipped", "2025-03-06", OUTLET, battery=pack, to=OUTLET2),
        world.ev("received", "2025-03-07", OUTLET2, battery=pack),
    )
    assert not store.battery(pack).collected
    world.ok(
        world.ev("shipped", "2025-03-08", OUTLET2, battery=pack, to=OUTLET),
        world.ev("collected", "2025-03-09", OUTLET, battery=pack),
    )
    assert store.battery(pack).collected
    then = trace(store, pack, as_of=dt.date(2025, 3, 5)).battery
    assert then is not None and then.collected and then.holder == OUTLET
    before = store.battery(pack)
    assert rebuild(store).misfits == []
    assert store.battery(pack) == before


def test_a_dismantler_that_is_an_outlet_too_collects_a_battery_once(world, store):
    """`collected` stays on the record while its outlet keeps the battery: an enterprise that
    is dismantler and outlet and collects a pack still in the scrapped vehicle, then takes it
    out, has not received anything new to collect (the removal keeps the holder)."""
    both, other, scrapped, removed = _scrapped_by_a_dismantler_that_is_an_outlet(world)
    world.ok(scrapped, world.ev("collected", "2025-03-02", both, battery=other), removed)
    assert store.battery(other).collected
    twice = world.one(world.ev("collected", "2025-03-04", both, battery=other))
    assert [(x.field, x.rule) for x in twice.reasons] == [("battery", "BT-005")]
    before = store.battery(other)
    assert rebuild(store).misfits == []
    assert store.battery(other) == before


def _scrapped_by_a_dismantler_that_is_an_outlet(world):
    """An enterprise registered as dismantler and outlet, a pack in VIN2, and (not sent yet)
    its scrapping of VIN2 on 03-01 and its removal of the pack on 03-03."""
    both = uscc(13)
    world.ok(
        world.ev("enterprise_registered", D, REGULATOR, enterprise=both,
                 name="Dismantler and outlet", roles=["dismantler", "outlet"], region="110100"),
        world.ev("outlet_registered", D, REGULATOR, enterprise=both, serves=[AUTOMAKER],
                 region="110100", address="3 Outlet Road"),
    )  # fmt: skip
    pack = code(18)
    world.pack_in_vehicle(pack, VIN2)
    world.set_now("2025-03-20")
    scrapped = world.ev("vehicle_scrapped", "2025-03-01", both, vin=VIN2, certificate_no="SC-2",
                        batteries_present=[pack])  # fmt: skip
    removed = world.ev("removed", "2025-03-03", both, battery=pack, vin=VIN2, reason="scrapping")
    return both, pack, scrapped, removed


def test_a_late_collection_that_makes_a_later_one_the_second_is_refused(world, store):
    """The first collection (03-02) arrives after the removal (03-03) and the collection of
    03-04: in order the 03-04 one is refused, so the late one may not make it a second
    collection either. Only the next event on record was compared (the removal)."""
    both, pack, scrapped, removed = _scrapped_by_a_dismantler_that_is_an_outlet(world)
    world.ok(scrapped, removed, world.ev("collected", "2025-03-04", both, battery=pack))
    late = world.one(world.ev("collected", "2025-03-02", both, battery=pack))
    assert late.status == "rejected"
    assert [x.rule for x in late.reasons] == ["BT-005"]
    assert "already collected" in late.reasons[0].message
    assert rebuild(store).older_rules == []


def test_a_late_collection_before_the_same_outlet_s_collection_is_refused(world, store):
    """A second terminal's report of the same collection, dated earlier, arrives late: at its
    time the outlet did not hold the battery yet, so only the collection on record after it
    shows that it repeats one."""
    pack = code(15)
    world.pack_in_vehicle(pack)
    world.set_now("2025-03-20")
    world.ok(
        *scrapped_and_removed(world, pack),
        world.ev("collected", "2025-03-05", OUTLET, battery=pack),
    )
    late = world.one(world.ev("collected", "2025-03-04", OUTLET, batteries=[pack]))
    assert late.status == "rejected"
    assert [(x.field, x.rule) for x in late.reasons] == [("batteries[0]", "BT-005")]
    assert "second collection" in late.reasons[0].message
    # a late event of another kind before the collection still fits
    world.ok(world.ev("shipped", "2025-03-03", DISMANTLER, battery=pack, to=OUTLET))


def test_a_double_collection_stored_before_the_rule_keeps_the_history_working(
    world, store, monkeypatch
):
    """A store written before the rule may hold a second collection (accepted then as a
    no-op): refolds of stored events (`trace --as-of`, a late event, rebuild) do not re-judge
    it, so they do not stop at it."""
    from battrace.domain import decide as decide_module

    pack = code(16)
    world.pack_in_vehicle(pack)
    world.set_now("2025-03-20")
    with monkeypatch.context() as m:  # as an older version decided
        m.setattr(decide_module, "collected_again", lambda ev, b, code: [])
        world.ok(
            *scrapped_and_removed(world, pack),
            world.ev("collected", "2025-03-04", OUTLET, battery=pack),
            world.ev("collected", "2025-03-05", OUTLET, battery=pack),
        )
    world.ok(world.ev("shipped", "2025-03-08", OUTLET, battery=pack, to=OUTLET2))
    then = trace(store, pack, as_of=dt.date(2025, 3, 9)).battery
    assert then is not None and (then.state.value, then.to) == ("in_transit", OUTLET2)
    world.ok(world.ev("shipped", "2025-03-03", DISMANTLER, battery=pack, to=OUTLET))  # late
    before = store.battery(pack)
    report = rebuild(store)
    assert report.misfits == []  # and the second collection is told apart:
    assert [x.split(":", 1)[1] for x in report.older_rules] == [
        f" {pack} is already collected by {OUTLET}"
    ]
    assert store.battery(pack) == before


def test_a_module_s_trace_says_where_its_pack_is_then_and_now(world, store):
    """A module's own record stops at `in_pack`, held by its maker, while the pack moves on:
    `trace` names the outermost unit with its state and holder (as of the day asked)."""
    cell, module, pack = (
        code(60, kind=ProductType.CELL),
        code(61, kind=ProductType.MODULE),
        code(62),
    )
    world.ok(
        world.produce(cell, D, hour=7),
        world.produce(module, D, components=[cell], hour=8),
        world.produce(pack, D, components=[module], hour=9),
        world.ev("shipped", D, MAKER, battery=pack, to=AUTOMAKER, hour=11),
    )
    world.set_now("2025-01-06")
    world.ok(world.ev("received", "2025-01-06", AUTOMAKER, battery=pack))
    now = trace(store, cell).as_dict()
    assert (now["state"], now["holder"]) == ("in_pack", MAKER)  # its own record
    assert now["unit"] == {"code": pack, "state": "in_stock", "holder": AUTOMAKER}
    then = trace(store, cell, as_of=dt.date(2025, 1, 4)).as_dict()
    assert then["unit"] == {"code": pack, "state": "in_transit", "holder": MAKER}
    assert trace(store, pack).as_dict()["unit"] is None


def test_a_battery_in_the_recycling_chain_is_not_collected_as_handed_in(world, store):
    """Any outlet could "collect" a used battery another outlet (or a recycler) held: custody
    moved on the taker's word alone, and the holder's BT-021 clock and mass balance with it.
    Between enterprises of the recycling chain a battery moves by `shipped`/`received`."""
    pack = code(10)
    world.pack_in_vehicle(pack)
    world.set_now("2025-03-10")
    world.ok(
        *scrapped_and_removed(world, pack),
        world.ev("collected", "2025-03-04", OUTLET, battery=pack),
    )
    taken = world.one(world.ev("collected", "2025-03-05", OUTLET2, battery=pack))
    assert [(x.field, x.rule) for x in taken.reasons] == [("battery", "BT-004")]
    assert "by `shipped` and `received`" in taken.reasons[0].message
    assert store.battery(pack).holder == OUTLET
    world.ok(  # the way it goes: shipped by its holder, collected by the addressee
        world.ev("shipped", "2025-03-05", OUTLET, battery=pack, to=OUTLET2),
        world.ev("collected", "2025-03-06", OUTLET2, battery=pack),
    )
    assert store.battery(pack).holder == OUTLET2


def test_a_hand_in_stays_as_accepted_when_the_giver_later_joins_the_recycling_chain(world, store):
    """Who may hand in is judged with the registry of the moment, like the reporter's roles:
    once the dismantler also registers as an outlet, `trace --as-of` (a refold of the stored
    events with today's registry) must still show the collection, not stop before it."""
    pack = code(11)
    world.pack_in_vehicle(pack)
    world.set_now("2025-03-10")
    world.ok(
        *scrapped_and_removed(world, pack),
        world.ev("collected", "2025-03-04", OUTLET, battery=pack),
        world.ev("enterprise_registered", "2025-03-05", REGULATOR, enterprise=DISMANTLER,
                 name="Dismantler A", roles=["dismantler", "outlet"], region="110100"),
    )  # fmt: skip
    then = trace(store, pack, as_of=dt.date(2025, 3, 6)).battery
    assert then is not None and then.holder == OUTLET
    before = store.battery(pack)
    assert rebuild(store).misfits == []
    assert store.battery(pack) == before


def test_a_list_form_rejection_names_the_item(world, store):
    """`shipped` with `batteries: [P1, P2]`, P2 unknown, was rejected on field `battery`,
    which the event does not have."""
    pack = code(12)
    world.ok(world.produce(pack, D))
    r = world.one(world.ev("shipped", D, MAKER, batteries=[pack, code(13)], to=AUTOMAKER))
    assert r.status == "rejected"
    assert [x.field for x in r.reasons] == ["batteries[1]"]


def test_a_shipment_goes_to_another_registered_enterprise(world, store):
    """Shipped to itself or to an unregistered USCC, a pack waited in transit for ever."""
    pack = code(14)
    world.ok(world.produce(pack, D))
    to_self = world.one(world.ev("shipped", D, MAKER, battery=pack, to=MAKER))
    assert [(x.field, x.rule) for x in to_self.reasons] == [("to", None)]
    nobody = world.one(world.ev("shipped", D, MAKER, battery=pack, to="91440300708461136T"))
    assert [(x.field, x.rule) for x in nobody.reasons] == [("to", "BT-004")]
    assert store.battery(pack).state.value == "registered"  # still at its maker
