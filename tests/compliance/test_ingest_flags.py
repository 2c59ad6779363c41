"""Ingest-time flags BT-010 … BT-014 and BT-020: each triggered, and its near-miss left alone."""

import sqlalchemy as sa

from battrace.identity import ProductType
from tests.compliance import scenes as s
from tests.kit import (
    AUTOMAKER,
    DISMANTLER,
    MAKER,
    OUTLET,
    OUTLET2,
    RECYCLER,
    REPAIRER,
    REPROCESSOR,
    SHADY,
    SWAP_MODEL,
    code,
)

SCRAP_DAY = "2025-05-06"


def scrap(world, v, present):
    world.set_now(SCRAP_DAY)
    return world.one(
        world.ev(
            "vehicle_scrapped",
            SCRAP_DAY,
            DISMANTLER,
            vin=v,
            certificate_no="C-9",
            batteries_present=present,
        )
    )


# ---------------------------------------------------------------------- BT-010
def test_a_scrapped_vehicle_without_its_pack_is_flagged_naming_automaker_and_holder(world, store):
    pack, v = code(101), s.vin(101)
    world.pack_in_vehicle(pack, v)

    result = scrap(world, v, [])

    assert result.status == "accepted" and result.flags == ["BT-010"]
    [f] = s.open_findings(store, "BT-010")
    assert (f["enterprise"], f["codes"], f["vins"]) == (AUTOMAKER, [pack], [v])
    assert f["detail"]["last_holders"] == [AUTOMAKER]
    assert f["moment"] == "ingest"


def test_a_swap_model_scrapped_without_its_pack_is_not_flagged(world, store):
    pack, v = code(102), s.vin(102)
    world.pack_in_vehicle(pack, v, model=SWAP_MODEL)

    assert scrap(world, v, []).flags == []
    assert s.open_findings(store, "BT-010") == []


def test_a_vehicle_scrapped_with_its_replacement_pack_is_not_flagged(world, store):
    old, new, v = code(103), code(104), s.vin(103)
    world.pack_in_vehicle(old, v)
    world.set_now("2025-03-03")
    world.ok(
        world.produce(new, "2025-03-03", hour=8),
        world.ev("shipped", "2025-03-03", MAKER, battery=new, to=REPAIRER, hour=9),
        world.ev("received", "2025-03-03", REPAIRER, battery=new, hour=10),
        world.ev("replaced", "2025-03-03", REPAIRER, battery=new, vin=v, removed=old, hour=11),
    )

    assert scrap(world, v, [new]).flags == []


# ---------------------------------------------------------------------- BT-011
def ship_used(world, n, to):
    pack = code(110 + n)
    s.removed_by_repairer(world, pack, s.vin(110 + n), "2025-04-01")
    return world.one(world.ev("shipped", "2025-04-01", REPAIRER, battery=pack, to=to, hour=15))


def test_a_used_battery_shipped_to_an_unqualified_enterprise_is_flagged(world, store):
    result = ship_used(world, 1, SHADY)

    assert result.flags == ["BT-011"]
    [f] = s.open_findings(store, "BT-011")
    assert f["enterprise"] == REPAIRER and SHADY in f["message_en"]


def test_a_used_battery_shipped_to_an_outlet_of_the_obligated_automaker_is_not_flagged(world):
    assert ship_used(world, 2, OUTLET).flags == []


def test_an_outlet_of_another_automaker_is_not_a_collection_step_for_this_one(world):
    assert ship_used(world, 3, OUTLET2).flags == ["BT-011"]


def test_a_used_battery_shipped_to_a_qualified_recycler_is_not_flagged(world):
    assert ship_used(world, 4, RECYCLER).flags == []


# ---------------------------------------------------------------------- BT-012 / BT-013
def reprocess(world, n, **fields):
    pack, product = code(120 + n), code(120 + n, maker="R01")
    s.handed_to(world, pack, s.vin(120 + n), "2025-04-01", REPROCESSOR)
    body = {
        "application": "energy_storage",
        "standard": "GB/T 34015.3-2021",
        "tests": {"residual_capacity_pct": 78.5},
        **fields,
    }
    body = {k: v for k, v in body.items() if v is not None}
    result = world.one(
        world.ev(
            "reprocessed",
            "2025-04-01",
            REPROCESSOR,
            battery=product,
            inputs=[pack],
            hour=16,
            **body,
        )
    )
    return product, result


def deploy(world, product, application):
    return world.one(
        world.ev(
            "deployed",
            "2025-04-01",
            REPROCESSOR,
            battery=product,
            application=application,
            site="site 1",
            hour=17,
        )
    )


def test_a_conforming_reprocessed_product_deployed_for_storage_raises_nothing(world, store):
    product, made = reprocess(world, 1)

    assert made.status == "accepted" and made.flags == []
    assert deploy(world, product, "energy_storage").flags == []


def test_a_reprocessed_product_deployed_in_an_e_bike_is_flagged(world, store):
    product, _ = reprocess(world, 2)

    assert deploy(world, product, "e_bike").flags == ["BT-012"]
    [f] = s.open_findings(store, "BT-012")
    assert (f["enterprise"], f["codes"]) == (REPROCESSOR, [product])
    # each language names the use and the origin in its own words
    assert "'e_bike'" in f["message_en"] and "(from reprocessed product)" in f["message_en"]
    assert "「电动自行车」（来源：再生产品）" in f["message_zh"]


def test_a_product_made_for_e_bikes_is_flagged_at_reprocessing(world):
    _, made = reprocess(world, 3, application="e_bike", standard=None)

    assert "BT-012" in made.flags


def test_a_reprocessed_product_without_a_standard_or_its_test_is_flagged(world, store):
    _, no_standard = reprocess(world, 4, standard=None)
    _, no_test = reprocess(world, 5, tests=None)
    _, wrong = reprocess(world, 6, standard="GB/T 34015.30")

    assert (no_standard.flags, no_test.flags, wrong.flags) == (["BT-013"],) * 3
    messages = [f["message_zh"] for f in s.open_findings(store, "BT-013")]
    assert all("（用途：储能）" in m for m in messages), messages
    problems = sorted(f["detail"]["problem"] for f in s.open_findings(store, "BT-013"))
    assert any("names no standard" in p for p in problems)
    assert any("residual_capacity_pct" in p for p in problems)
    assert any("GB/T 34015.30" in p for p in problems)


# ---------------------------------------------------------------------- BT-014
def recycle(world, n, li_recovered):
    pack = code(130 + n)
    s.at_recycler(world, pack, s.vin(130 + n), "2025-04-01")
    return world.one(
        world.ev(
            "recycled",
            "2025-04-01",
            RECYCLER,
            battery=pack,
            input_mass_kg=350,
            hour=16,
            contained={"li": 10.0, "ni": 20.0, "co": 5.0, "mn": 5.0},
            recovered={"li": li_recovered, "ni": 19.6, "co": 4.9, "mn": 4.9},
        )
    )


def test_recovery_exactly_at_the_threshold_is_not_flagged(world):
    assert recycle(world, 1, 9.0).flags == []  # Li 90 %, Ni/Co/Mn 98 %


def test_recovery_below_the_threshold_is_flagged_with_the_shortfall(world, store):
    assert recycle(world, 2, 8.999).flags == ["BT-014"]
    [f] = s.open_findings(store, "BT-014")
    assert "li 89.99 % < 90 %" in f["detail"]["shortfalls"]


# ---------------------------------------------------------------------- BT-020
EVENT_DAY = "2025-01-20"  # the 30 working days run across Spring Festival 2025


def removal_recorded_on(world, n, recorded):
    pack, v = code(140 + n), s.vin(140 + n)
    world.pack_in_vehicle(pack, v)
    world.set_now(recorded.isoformat())
    return world.one(
        world.ev("removed", EVENT_DAY, REPAIRER, battery=pack, vin=v, reason="retired")
    )


def test_a_report_on_the_last_allowed_working_day_across_spring_festival_is_on_time(world):
    due = s.deadline(EVENT_DAY, 30)
    assert s.weekdays_between(s.day(EVENT_DAY), due) > 30, "a weekday count would call it late"

    assert removal_recorded_on(world, 1, due).flags == []


def test_a_report_the_day_after_the_deadline_is_late(world, store):
    due = s.deadline(EVENT_DAY, 30)
    late = due.fromordinal(due.toordinal() + 1)

    assert removal_recorded_on(world, 2, late).flags == ["BT-020"]
    [f] = s.open_findings(store, "BT-020")
    assert f["detail"]["deadline"] == due.isoformat()
    assert f["enterprise"] == REPAIRER


def test_the_sale_clock_starts_at_the_certificate_date(world, store):
    pack, v = code(150), s.vin(150)
    due = s.deadline("2025-09-26", 15)
    world.set_now(due.isoformat())
    world.ok(
        world.produce(pack, "2025-09-20", hour=8),
        world.ev("shipped", "2025-09-20", MAKER, battery=pack, to=AUTOMAKER, hour=9),
        world.ev("received", "2025-09-20", AUTOMAKER, battery=pack, hour=10),
        world.ev(
            "installed", "2025-09-20", AUTOMAKER, battery=pack, vin=v, vehicle_model="EV-1", hour=11
        ),
    )

    sold = world.one(
        world.ev("vehicle_sold", "2025-09-20", AUTOMAKER, vin=v, certificate_date="2025-09-26")
    )

    assert sold.flags == [], "15 working days after the certificate, across National Day"


def test_modules_of_a_dismantled_pack_recycled_below_threshold_are_flagged_each(world):
    pack = code(160)
    s.at_recycler(world, pack, s.vin(160), "2025-04-01")
    part = code(161, kind=ProductType.MODULE)
    world.ok(world.ev("dismantled", "2025-04-01", RECYCLER, battery=pack, parts=[part], hour=14))

    result = world.one(
        world.ev(
            "recycled",
            "2025-04-01",
            RECYCLER,
            battery=part,
            input_mass_kg=100,
            hour=15,
            contained={"li": 1.0, "ni": 0, "co": 0, "mn": 0},
            recovered={"li": 0.5, "ni": 0, "co": 0, "mn": 0},
        )
    )

    assert result.flags == ["BT-014"]


# ---------------------------------------------------------------------- found by review
def test_a_recycler_that_leaves_lithium_out_of_its_declaration_is_flagged(world):
    pack = code(170)
    s.at_recycler(world, pack, s.vin(170), "2025-04-01")

    result = world.one(
        world.ev(
            "recycled",
            "2025-04-01",
            RECYCLER,
            battery=pack,
            input_mass_kg=350,
            hour=16,
            contained={"ni": 20.0, "co": 5.0, "mn": 5.0},
            recovered={"ni": 19.6, "co": 4.9, "mn": 4.9},
        )
    )

    assert result.flags == ["BT-014"], "an LFP pack's lithium went undeclared and unchecked"


def test_a_qualified_reprocessor_dismantling_a_pack_it_holds_is_not_flagged(world):
    pack = code(171)
    s.handed_to(world, pack, s.vin(171), "2025-04-01", REPROCESSOR)

    result = world.one(
        world.ev(
            "dismantled",
            "2025-04-01",
            REPROCESSOR,
            battery=pack,
            hour=16,
            parts=[code(172, kind=ProductType.MODULE)],
        )
    )

    assert result.flags == [], "dismantling is how reprocessors get at modules"


def test_a_product_reported_under_an_ebike_code_is_refused_and_flagged(world, store):
    ebike = "R01G" + "B01TRACE01" + "FC7" + "0000001"  # E/F/G where P/M/C belongs: GB/T 45565
    assert len(ebike) == 24
    result = world.one(
        world.ev(
            "reprocessed",
            "2025-04-01",
            REPROCESSOR,
            battery=ebike,
            inputs=[code(180)],
            application="energy_storage",
        )
    )
    assert result.status == "rejected"
    assert result.flags == ["BT-012"]
    assert [r.rule for r in result.reasons if r.field == "battery"] == ["BT-001"]
    with store.engine.connect() as c:
        n = c.execute(sa.text("SELECT count(*) FROM findings WHERE rule = 'BT-012'")).scalar()
    assert n == 1
    [f] = s.open_findings(store, "BT-012")
    assert f"「储能（电动自行车编码）」（来源：由 {code(180)} 改码）" in f["message_zh"]
