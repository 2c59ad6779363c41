"""Who may change which registry record (EVENTS.md: registry facts are the regulators'; an
enterprise may register its own outlets and vehicle models)."""

from __future__ import annotations

from typing import Any

from battrace.domain.events import Event, ValidationContext, validate_event
from battrace.domain.registry import Registry, apply_registry_fact
from battrace.sim.build import at, event
from tests.kit import (
    AUTOMAKER,
    AUTOMAKER2,
    MAKER,
    OUTLET,
    OUTLET2,
    REGULATOR,
    registry_events,
)


def world() -> Registry:
    reg = Registry()
    for raw in registry_events():
        assert apply_registry_fact(reg, valid(raw)) == []
    return reg


def valid(raw: dict[str, Any]) -> Event:
    ev = validate_event(raw, ValidationContext())
    assert isinstance(ev, Event), ev
    return ev


def apply(reg: Registry, reporter: str, kind: str, **fields: Any) -> list[tuple[str, str]]:
    ev = valid(event(kind, "x", at("2025-01-05", 9), reporter, **fields))
    return [(r.field, r.message) for r in apply_registry_fact(reg, ev)]


def outlet(reg: Registry, reporter: str, ent: str, serves: list[str], address: str) -> Any:
    return apply(reg, reporter, "outlet_registered", enterprise=ent, serves=serves,
                 region="110100", address=address)  # fmt: skip


def test_an_automaker_cannot_take_over_another_automakers_outlet() -> None:
    """An automaker reporting `serves: [itself]` for an outlet on record replaced the record:
    the automakers it served lost it (BT-011, BT-024) and the address changed."""
    reg = world()
    ((field, _),) = outlet(reg, AUTOMAKER2, OUTLET, [AUTOMAKER, AUTOMAKER2], "x")
    assert field == "serves"
    assert outlet(reg, AUTOMAKER2, OUTLET, [AUTOMAKER2], "hijacked") == []
    assert reg.outlets[OUTLET].serves == {AUTOMAKER, AUTOMAKER2}  # added, nobody dropped
    assert reg.outlets[OUTLET].address == "1 Outlet Road"


def test_only_an_automaker_registers_an_outlet_as_its_own() -> None:
    """`serves` lists automakers: a battery maker listing itself stood in the published
    registry as an automaker with an outlet."""
    reg = world()
    ((field, message),) = outlet(reg, MAKER, OUTLET, [MAKER], "x")
    assert field == "reporter" and "not registered as an automaker" in message
    assert MAKER not in reg.outlets[OUTLET].serves
    assert outlet(reg, AUTOMAKER2, OUTLET, [AUTOMAKER2], "x") == []


def test_an_outlet_cannot_add_whom_it_collects_for() -> None:
    reg = world()
    ((field, message),) = outlet(reg, OUTLET2, OUTLET2, [AUTOMAKER2, AUTOMAKER], "y")
    assert field == "serves" and AUTOMAKER in message
    assert outlet(reg, OUTLET2, OUTLET2, [AUTOMAKER2], "3 New Road") == []
    assert reg.outlets[OUTLET2].address == "3 New Road"
    assert outlet(reg, MAKER, OUTLET2, [AUTOMAKER2], "z")[0][0] == "serves"


def test_a_regulator_replaces_an_outlet_record() -> None:
    reg = world()
    assert outlet(reg, REGULATOR, OUTLET, [AUTOMAKER2], "4 Road") == []
    assert reg.outlets[OUTLET].serves == {AUTOMAKER2}


def test_the_last_regulator_cannot_take_its_own_role_away() -> None:
    """Accepted before: every registry fact after it was refused, for good."""
    reg = world()
    again = {"enterprise": REGULATOR, "name": "MIIT", "region": "110000"}
    ((field, message),) = apply(reg, REGULATOR, "enterprise_registered", roles=["automaker"],
                                **again)  # fmt: skip
    assert field == "roles" and "last regulator" in message
    other = {"enterprise": "11110000000000002W", "name": "SAMR", "region": "110000"}
    problems = apply(reg, REGULATOR, "enterprise_registered", roles=["regulator"], **other)
    assert problems == [], problems
    assert apply(reg, REGULATOR, "enterprise_registered", roles=["automaker"], **again) == []
