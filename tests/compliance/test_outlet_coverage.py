"""BT-024 outlet coverage: an automaker sells in a prefecture where no outlet serving it sits."""

from battrace.sim.build import uscc
from tests.compliance import scenes as s
from tests.kit import AUTOMAKER, AUTOMAKER2, MAKER, MODEL, REGULATOR, code

SUZHOU_DISTRICT = "320506"  # prefecture 3205; the test outlets sit in Beijing (1101)


def sold_in(world, n, region, *, when="2025-03-03"):
    pack, v = code(50 + n), s.vin(50 + n)
    world.set_now(when)
    world.ok(
        world.produce(pack, when, hour=8),
        world.ev("shipped", when, MAKER, battery=pack, to=AUTOMAKER, hour=9),
        world.ev("received", when, AUTOMAKER, battery=pack, hour=10),
        world.ev("installed", when, AUTOMAKER, battery=pack, vin=v, vehicle_model=MODEL, hour=11),
        world.ev(
            "vehicle_sold", when, AUTOMAKER, vin=v, certificate_date=when,
            location={"region": region}, hour=12,
        ),
    )  # fmt: skip
    return v


def register_outlet(world, serial, region, serves):
    outlet = uscc(serial)
    world.set_now("2025-06-02")
    world.ok(
        world.ev(
            "enterprise_registered", "2025-06-02", REGULATOR, enterprise=outlet,
            name=f"Outlet {serial}", roles=["outlet"], region=region,
        ),
        world.ev(
            "outlet_registered", "2025-06-02", REGULATOR, enterprise=outlet, serves=serves,
            region=region, address="Outlet Road",
        ),
    )  # fmt: skip
    return outlet


def test_sales_in_a_prefecture_without_an_outlet_serving_the_automaker_are_flagged(world, store):
    v1 = sold_in(world, 1, SUZHOU_DISTRICT)
    v2 = sold_in(world, 2, "320583")

    s.run(store, "2025-06-30", rules={"BT-024"})

    [f] = s.open_findings(store, "BT-024")
    assert f["enterprise"] == AUTOMAKER
    assert f["detail"]["region"] == "320500"
    assert f["detail"]["vehicles"] == 2
    assert sorted(f["vins"]) == sorted([v1, v2])
    assert len(f["events"]) == 2, "the sales are the evidence"
    assert "320500" in f["message_en"] and "320500" in f["message_zh"]


def test_a_sale_in_another_district_of_a_covered_prefecture_is_not_flagged(world, store):
    sold_in(world, 3, "110105")  # Chaoyang, Beijing: the automaker's outlet sits in 110100

    s.run(store, "2025-06-30", rules={"BT-024"})

    assert s.open_findings(store, "BT-024") == []


def test_an_outlet_of_another_automaker_does_not_cover_the_prefecture(world, store):
    sold_in(world, 4, SUZHOU_DISTRICT)
    register_outlet(world, 60, "320505", [AUTOMAKER2])

    s.run(store, "2025-06-30", rules={"BT-024"})

    assert [f["enterprise"] for f in s.open_findings(store, "BT-024")] == [AUTOMAKER]


def test_registering_an_outlet_there_withdraws_the_finding(world, store):
    sold_in(world, 5, SUZHOU_DISTRICT)
    s.run(store, "2025-06-30", rules={"BT-024"})
    assert len(s.open_findings(store, "BT-024")) == 1

    register_outlet(world, 61, "320585", [AUTOMAKER])
    report = s.run(store, "2025-06-30", rules={"BT-024"})

    assert s.open_findings(store, "BT-024") == []
    assert report.runs[0].withdrawn == 1


def test_sales_after_the_as_of_day_and_province_level_regions_are_not_judged(world, store):
    sold_in(world, 6, SUZHOU_DISTRICT, when="2025-07-02")
    sold_in(world, 7, "320000", when="2025-03-03")

    s.run(store, "2025-06-30", rules={"BT-024"})

    assert s.open_findings(store, "BT-024") == []
