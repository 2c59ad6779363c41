"""A rejection tells an enterprise why its event does not fit, not who holds the battery."""

from tests import kit
from tests.api.conftest import Api


def test_a_rejection_does_not_name_the_holder_or_vehicle_to_another_enterprise(api: Api) -> None:
    pack = kit.code(61)
    api.ok(api.produce(pack))
    api.ok(api.ev("shipped", "2025-01-03", kit.MAKER, battery=pack, to=kit.AUTOMAKER, hour=11))
    api.ok(api.ev("received", "2025-01-03", kit.AUTOMAKER, battery=pack, hour=12))
    api.ok(
        api.ev(
            "installed",
            "2025-01-03",
            kit.AUTOMAKER,
            battery=pack,
            vin=kit.VIN1,
            vehicle_model=kit.MODEL,
            hour=13,
        )
    )
    # a repairer that does not hold it tries to ship it, and to remove it from another vehicle
    body = api.send(
        api.ev("shipped", "2025-01-04", kit.REPAIRER, battery=pack, to=kit.RECYCLER),
        api.ev(
            "removed",
            "2025-01-04",
            kit.REPAIRER,
            battery=pack,
            vin=kit.VIN2,
            reason="defect",
            hour=11,
        ),
    )
    messages = " ".join(r["message"] for x in body["results"] for r in x["reasons"])
    assert [x["status"] for x in body["results"]] == ["rejected", "rejected"]
    assert kit.AUTOMAKER not in messages
    assert kit.VIN1 not in messages
    assert "another enterprise" in messages


def test_a_regulator_reporting_sees_every_identifier(api: Api) -> None:
    pack = kit.code(62)
    api.ok(api.produce(pack))
    body = api.send(api.ev("shipped", "2025-01-04", kit.REGULATOR, battery=pack, to=kit.OUTLET))
    messages = " ".join(r["message"] for x in body["results"] for r in x["reasons"])
    assert kit.MAKER in messages


def test_a_finding_does_not_name_other_enterprises_to_the_one_it_is_about(api: Api) -> None:
    """The rejection message masked the enterprise that first registered a code, but the
    BT-003 finding it raised named it to the same enterprise, in the API, the dashboard and
    the CSV export."""
    pack = kit.code(63)
    api.ok(api.produce(pack))
    ratings = {"rated_capacity_ah": 150, "nominal_voltage_v": 350, "energy_kwh": 52.5}
    ev = api.ev("produced", "2025-01-04", kit.MAKER2, battery=pack, chemistry="LFP",
                mass_kg=350, **ratings)  # fmt: skip
    api.send(ev)
    mine = api.get("/v1/findings?rule=BT-003", kit.MAKER2).json()["items"]
    assert mine, "the clone raised no finding"
    assert kit.MAKER not in str(mine)
    assert "another enterprise" in mine[0]["message_en"]
    regulator = api.get("/v1/findings?rule=BT-003", kit.REGULATOR).json()["items"]
    assert kit.MAKER in regulator[0]["message_en"]


def test_a_rejection_does_not_name_the_pack_a_module_is_part_of(api: Api) -> None:
    """BT-006 named the parent pack to an enterprise that never touched either; the full
    view, where the parent is shown, is for involved enterprises only."""
    from battrace.identity import ProductType
    from battrace.sim.build import at, produced

    module = kit.code(64, kind=ProductType.MODULE)
    pack = kit.code(65)
    api.ok(produced("m-64", at("2025-01-03", 9), kit.MAKER, module, mass_kg=30))
    api.ok(produced("p-65", at("2025-01-03", 10), kit.MAKER, pack, components=[module]))
    body = api.send(api.ev("received", "2025-01-04", kit.AUTOMAKER2, battery=module))
    (result,) = body["results"]
    messages = " ".join(r["message"] for r in result["reasons"])
    assert result["status"] == "rejected"
    assert pack not in messages
    assert "another battery" in messages
    assert module in messages  # what the event named stays
    regulator = api.send(api.ev("received", "2025-01-04", kit.REGULATOR, battery=module))
    assert pack in " ".join(r["message"] for r in regulator["results"][0]["reasons"])
