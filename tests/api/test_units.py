"""A module or cell assembled into a pack reads, publicly, as the pack it sits in.

Its own record stops at `in_pack` (held by its maker) while the pack moves on: the public view
said "assembled" for ever, so a module of a retired or recycled pack, found in an e-bike, read
as a harmless part and carried no warning."""

from __future__ import annotations

from battrace.identity import ProductType
from battrace.sim.build import at, produced
from tests import kit
from tests.api.conftest import Api


def test_a_module_takes_the_status_of_its_pack_and_names_it(api: Api) -> None:
    cell = kit.code(30, kind=ProductType.CELL)
    module = kit.code(31, kind=ProductType.MODULE)
    pack = kit.code(32)
    day = "2025-01-03"
    api.ok(
        produced("u-c", at(day, 7), kit.MAKER, cell),
        produced("u-m", at(day, 8), kit.MAKER, module, components=[cell]),
        produced("u-p", at(day, 9), kit.MAKER, pack, components=[module]),
    )
    public = api.get(f"/v1/batteries/{module}").json()
    assert public["view"] == "public"
    assert (public["status"], public["unit"]) == ("new", {"status": "new"})
    assert pack not in str(public)  # the link to the pack is `parent`: full view only
    assert api.get(f"/v1/batteries/{cell}").json()["unit"] == {"status": "new"}
    assert api.get(f"/v1/batteries/{pack}").json()["unit"] is None
    api.ok(api.ev("shipped", day, kit.MAKER, battery=pack, to=kit.AUTOMAKER, hour=11))
    api.ok(
        api.ev("received", day, kit.AUTOMAKER, battery=pack, hour=12),
        api.ev("installed", day, kit.AUTOMAKER, battery=pack, vin=kit.VIN1,
               vehicle_model=kit.MODEL, hour=13),
    )  # fmt: skip
    assert api.get(f"/v1/batteries/{module}").json()["status"] == "in_service"
    api.ok(
        api.ev("removed", "2025-01-05", kit.AUTOMAKER, battery=pack, vin=kit.VIN1,
               reason="retired"),
    )  # fmt: skip
    for code in (cell, module):
        view = api.get(f"/v1/batteries/{code}").json()
        assert view["status"] == "retired", view
        assert view["unit"] == {"status": "retired"}
    full = api.get(f"/v1/batteries/{module}", kit.REGULATOR).json()
    assert (full["view"], full["state"], full["parent"]) == ("full", "in_pack", pack)
    assert full["unit"] == {"status": "retired", "code": pack}
    cell_full = api.get(f"/v1/batteries/{cell}", kit.REGULATOR).json()
    assert (cell_full["parent"], cell_full["unit"]["code"]) == (module, pack)
