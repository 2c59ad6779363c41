"""Ingest: the happy path through a battery's first life, on both backends."""

from tests.kit import AUTOMAKER, MAKER, VIN1, code


def test_a_pack_is_produced_shipped_received_installed_and_sold(world, store):
    pack = code(1)
    world.pack_in_vehicle(pack)
    b = store.battery(pack)
    assert b.state == "in_vehicle"
    assert b.holder == AUTOMAKER
    assert b.vin == VIN1
    assert b.obligated == AUTOMAKER
    v = store.vehicle(VIN1)
    assert v.packs == (pack,)
    assert v.sold_on == "2025-01-03"


def test_an_unregistered_maker_cannot_produce(world):
    result = world.one(world.produce(code(2), reporter=AUTOMAKER))
    assert result.status == "rejected"
    assert {r.rule for r in result.reasons} == {"BT-004"}


def test_a_code_of_another_maker_is_forged(world):
    result = world.one(world.produce(code(3, maker="002"), reporter=MAKER))
    assert result.status == "rejected"
    assert [r.rule for r in result.reasons] == ["BT-002"]
