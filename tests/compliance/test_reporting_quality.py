"""BT-025 reporting quality: per enterprise, events on time and lifecycles without gaps."""

from tests.compliance import scenes as s
from tests.kit import OUTLET, REPAIRER, code


def repairer_with_one_late_removal(world):
    a, b = code(61), code(62)
    world.pack_in_vehicle(a, s.vin(61))
    world.pack_in_vehicle(b, s.vin(62))
    world.set_now("2025-09-22")
    world.ok(
        world.ev("removed", "2025-09-22", REPAIRER, battery=a, vin=s.vin(61), reason="retired"),
        world.ev("shipped", "2025-09-22", REPAIRER, battery=a, to=OUTLET, hour=11),
    )
    world.set_now("2025-12-01")  # more than 30 working days later
    world.ok(
        world.ev("removed", "2025-09-22", REPAIRER, battery=b, vin=s.vin(62), reason="retired")
    )
    return a, b


def quality_of(store, uscc):
    [f] = [f for f in s.open_findings(store, "BT-025") if f["enterprise"] == uscc]
    return f


def test_the_score_counts_late_reports_and_codes_with_missing_steps(world, store):
    repairer_with_one_late_removal(world)

    s.run(store, "2026-01-30")

    f = quality_of(store, REPAIRER)
    assert f["severity"] == "info"
    d = f["detail"]
    assert (d["reportable"], d["late"], d["on_time_pct"]) == (2, 1, "50.0")
    assert (d["lifecycles"], d["gaps"], d["complete_pct"]) == (1, 1, "0.0")
    assert "50.0" in f["message_en"] and "50.0" in f["message_zh"]


def test_the_score_is_one_finding_per_enterprise_updated_in_place(world, store):
    _, b = repairer_with_one_late_removal(world)
    s.run(store, "2026-01-30")
    first = quality_of(store, REPAIRER)

    world.set_now("2026-01-29")
    world.ok(world.ev("shipped", "2026-01-29", REPAIRER, battery=b, to=OUTLET))
    s.run(store, "2026-01-30")

    again = quality_of(store, REPAIRER)
    assert again["id"] == first["id"], "kept, not duplicated"
    assert again["detail"]["gaps"] == 0
    assert again["detail"]["complete_pct"] == "—", "nothing left in its hands"
    assert again["detail"]["on_time_pct"] == "50.0"
    assert again["message_en"] != first["message_en"]
    assert (
        len([f for f in s.list_findings(store, rule="BT-025") if f["enterprise"] == REPAIRER]) == 1
    )


def test_an_enterprise_that_reports_on_time_scores_a_hundred(world, store):
    s.at_outlet(world, code(63), s.vin(63), "2025-09-22")

    s.run(store, "2025-10-31", rules={"BT-021", "BT-025"})

    d = quality_of(store, OUTLET)["detail"]
    assert (d["on_time_pct"], d["complete_pct"]) == ("100.0", "100.0")
