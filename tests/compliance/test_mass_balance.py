"""BT-023 mass balance: what a utiliser received in a period against what it accounts for."""

from battrace.identity import ProductType
from tests.compliance import scenes as s
from tests.kit import RECYCLER, SHADY, code

RECEIVED = "2025-09-22"  # 2025Q3; every pack weighs 350 kg


def two_packs_at_the_recycler(world):
    packs = [code(41), code(42)]
    for n, pack in enumerate(packs):
        s.at_recycler(world, pack, s.vin(40 + n), RECEIVED)
    return packs


def test_a_recycler_declaring_less_than_it_received_is_flagged_for_the_period(world, store):
    a, b = two_packs_at_the_recycler(world)
    s.recycled(world, a, "2025-09-25", input_kg=350)
    s.recycled(world, b, "2025-09-26", input_kg=280)

    s.run(store, "2025-12-31", rules={"BT-023"})

    [f] = s.open_findings(store, "BT-023")
    d = f["detail"]
    assert (f["enterprise"], d["period"]) == (RECYCLER, "2025Q3")
    assert (d["received_kg"], d["processed_kg"], d["gap_kg"], d["gap_pct"]) == (
        "700.000",
        "630.000",
        "70.000",
        "10.00",
    )
    assert f["codes"] == [b], "the receipt that leaves the gap is the evidence"
    assert len(f["events"]) == 1
    assert "70.000" in f["message_en"] and "70.000" in f["message_zh"]


def test_a_gap_exactly_at_the_tolerance_is_not_flagged(world, store):
    a, b = two_packs_at_the_recycler(world)
    s.recycled(world, a, "2025-09-25", input_kg=332.5)
    s.recycled(world, b, "2025-09-26", input_kg=332.5)

    s.run(store, "2025-12-31", rules={"BT-023"})

    assert s.open_findings(store, "BT-023") == [], "35 kg of 700 kg is exactly 5 %"


def test_one_gram_beyond_the_tolerance_is_flagged(world, store):
    a, b = two_packs_at_the_recycler(world)
    s.recycled(world, a, "2025-09-25", input_kg=332.5)
    s.recycled(world, b, "2025-09-26", input_kg=332.499)

    s.run(store, "2025-12-31", rules={"BT-023"})

    [f] = s.open_findings(store, "BT-023")
    assert f["detail"]["gap_kg"] == "35.001"


def test_stock_and_shipments_onward_close_the_balance(world, store):
    a, _ = two_packs_at_the_recycler(world)
    world.set_now("2025-09-30")
    world.ok(world.ev("shipped", "2025-09-30", RECYCLER, battery=a, to=SHADY))

    s.run(store, "2025-12-31", rules={"BT-023"})

    assert s.open_findings(store, "BT-023") == [], "b is in stock, a was shipped on"


def test_the_gap_belongs_to_the_period_the_batteries_were_received_in(world, store):
    a, b = two_packs_at_the_recycler(world)
    s.recycled(world, a, "2025-11-03", input_kg=200)
    s.recycled(world, b, "2025-11-04", input_kg=200)

    s.run(store, "2025-12-31", rules={"BT-023"})

    [f] = s.open_findings(store, "BT-023")
    assert f["detail"]["period"] == "2025Q3"
    assert f["subject_key"] == f"{RECYCLER}/2025Q3"


def dismantle(world, pack, parts, when="2025-09-24"):
    world.set_now(when)
    world.ok(world.ev("dismantled", when, RECYCLER, battery=pack, parts=parts))


def test_a_dismantled_pack_is_accounted_for_by_what_its_parts_declare(world, store):
    a, _ = two_packs_at_the_recycler(world)
    parts = [code(43, kind=ProductType.MODULE), code(44, kind=ProductType.MODULE)]
    dismantle(world, a, parts)
    s.recycled(world, parts[0], "2025-09-25", input_kg=175)

    s.run(store, "2025-12-31", rules={"BT-023"})
    assert s.open_findings(store, "BT-023") == [], "the pending part keeps the rest in stock"

    s.recycled(world, parts[1], "2025-09-26", input_kg=100)
    s.run(store, "2025-12-31", rules={"BT-023"})

    [f] = s.open_findings(store, "BT-023")
    assert (f["detail"]["processed_kg"], f["detail"]["gap_kg"]) == ("275.000", "75.000")
    assert f["codes"] == [a]


def test_a_dismantled_pack_whose_parts_declare_its_mass_balances(world, store):
    a, _ = two_packs_at_the_recycler(world)
    parts = [code(45, kind=ProductType.MODULE), code(46, kind=ProductType.MODULE)]
    dismantle(world, a, parts)
    s.recycled(world, parts[0], "2025-09-25", input_kg=175)
    s.recycled(world, parts[1], "2025-09-26", input_kg=175)

    s.run(store, "2025-12-31", rules={"BT-023"})

    assert s.open_findings(store, "BT-023") == []


def test_the_declared_casing_of_a_dismantled_pack_closes_its_balance(world, store):
    a, b = two_packs_at_the_recycler(world)
    for pack, casing in ((a, 50), (b, None)):
        parts = [code(47 if pack == a else 49, kind=ProductType.MODULE)]
        dismantle(world, pack, parts)
        s.recycled(world, parts[0], "2025-09-25", input_kg=300)
        world.set_now("2025-09-26")
        world.ok(world.ev("disposed", "2025-09-26", RECYCLER, battery=pack, method="casing",
                          **({"mass_kg": casing} if casing else {})))  # fmt: skip

    s.run(store, "2025-12-31", rules={"BT-023"})

    [f] = s.open_findings(store, "BT-023")
    assert f["codes"] == [b], "the casing disposed of without a mass is the gap"
    assert (f["detail"]["processed_kg"], f["detail"]["gap_kg"]) == ("650.000", "50.000")


def test_correcting_the_declared_mass_withdraws_the_finding(world, store):
    a, b = two_packs_at_the_recycler(world)
    s.recycled(world, a, "2025-09-25", input_kg=350)
    s.recycled(world, b, "2025-09-26", input_kg=280)
    s.run(store, "2025-12-31", rules={"BT-023"})
    [f] = s.open_findings(store, "BT-023")
    target = f["events"][0].split("/", 1)[1]

    world.set_now("2026-01-05")
    fixed = world.ev(
        "recycled", "2025-09-26", RECYCLER, battery=b, input_mass_kg=349,
        contained={"li": 4.0, "ni": 10.0, "co": 2.0, "mn": 2.0},
        recovered={"li": 3.8, "ni": 9.9, "co": 1.98, "mn": 1.98},
    )  # fmt: skip
    world.ok(
        world.ev(
            "correction", "2026-01-05", RECYCLER, target=target, reason="weighing error",
            replacement=fixed,
        )
    )  # fmt: skip
    report = s.run(store, "2025-12-31", rules={"BT-023"})

    assert s.open_findings(store, "BT-023") == []
    assert report.runs[0].withdrawn == 1
