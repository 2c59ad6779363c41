"""Trace: a code's state, links and full history — now, or as of a past day from the log alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from battrace.domain.decide import fold_code
from battrace.domain.events import ValidationContext
from battrace.domain.lifecycle import Battery, Vehicle
from battrace.domain.vocab import State
from battrace.errors import NotFound
from battrace.identity import (
    DEFAULT_TABLES,
    CodeError,
    CodeTables,
    battery_code_errors,
    describe,
    vin_errors,
)
from battrace.services.common import end_of_day_us, registry_from, revive, rfc3339
from battrace.store.rows import StoredEvent
from battrace.store.sql import SqlStore


@dataclass
class Trace:
    """What `battrace trace` shows."""

    code: str
    battery: Battery | None
    components: list[str]
    inputs: list[str]
    history: list[dict[str, Any]]
    as_of: dt.date | None = None
    #: the outermost unit an `in_pack` code sits in (`enclosing_unit`)
    unit: Battery | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON of `battrace trace --json`."""
        b = self.battery
        return {
            "code": self.code,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "state": b.state.value if b else None,
            "holder": b.holder if b else None,
            "vin": b.vin if b else None,
            "parent": b.parent if b else None,
            "components": self.components,
            "inputs": self.inputs,
            "successor": b.successor if b else None,
            "chemistry": b.chemistry if b else None,
            "product_type": b.product_type if b else None,
            "reprocessed": b.reprocessed if b else None,
            "application": b.application if b else None,
            "obligated": b.obligated if b else None,
            "mass_kg": b.mass_g / 1000 if b and b.mass_g is not None else None,
            "energy_kwh": b.energy_wh / 1000 if b and b.energy_wh is not None else None,
            "unit": {"code": u.code, "state": u.state.value, "holder": u.holder}
            if (u := self.unit)
            else None,
            "history": self.history,
        }


def history_entry(stored: StoredEvent, withdrawn_by: int | None) -> dict[str, Any]:
    """One event as stored, plus its record time, log position and withdrawal (if any)."""
    entry: dict[str, Any] = orjson.loads(stored.payload)
    entry["recorded_at"] = rfc3339(stored.recorded_us)
    entry["leaf_index"] = stored.seq
    if withdrawn_by is not None:
        entry["withdrawn_by_leaf"] = withdrawn_by
    return entry


def trace(
    store: SqlStore,
    code: str,
    *,
    as_of: dt.date | None = None,
    validation: ValidationContext | None = None,
) -> Trace:
    """The code's view; NotFound when the log never saw it (by `as_of`, if given)."""
    if as_of is None:  # the hot path: one statement (history, state and links)
        rows, battery, components, inputs = store.code_view(code)
        if not rows:
            raise NotFound(f"no event names {code}{_misread(code, validation)}")
        history = [history_entry(s, w) for s, w in rows]
        unit = enclosing_unit(store.battery, battery) if battery is not None else None
        return Trace(code, battery, components, inputs, history, unit=unit)
    with store.session():
        return _trace_as_of(store, code, as_of=as_of, validation=validation)


def _misread(code: str, validation: ValidationContext | None) -> str:
    return misread(code, validation.tables if validation is not None else DEFAULT_TABLES)


def misread(code: str, tables: CodeTables = DEFAULT_TABLES) -> str:
    """Why a code no event names may be mistyped, as the end of a "not found" sentence ("" for
    a valid code): checked only once nothing was found, since an invalid code can never be
    stored, so saying why beats a bare "not found"."""
    return _why_not(battery_code_errors(code, tables=tables), "GB/T 34014 code")


def _why_not(errors: list[CodeError], what: str) -> str:
    if not errors:
        return ""
    return f", and it is not a valid {what} ({describe(errors)})"


def _trace_as_of(
    store: SqlStore,
    code: str,
    *,
    as_of: dt.date,
    validation: ValidationContext | None,
) -> Trace:
    cutoff = end_of_day_us(as_of)
    rows = [(s, w) for s, w in store.history(code=code) if s.time_us <= cutoff]
    if not rows:
        raise NotFound(f"no event names {code} by {as_of}{_misread(code, validation)}")
    history = [history_entry(s, w) for s, w in rows]
    registry = registry_from(store.registry_events(), validation)
    current = store.battery(code)
    live = [(s.seq, revive(s, validation)) for s, w in rows if w is None]
    battery = fold_code(code, live, registry, static=current).state
    components = _linked(store, code, "parent", as_of, registry, validation)
    inputs = _linked(store, code, "successor", as_of, registry, validation)

    def then(other: str) -> Battery | None:
        live = [
            (s.seq, revive(s, validation))
            for s, w in store.history(code=other)
            if w is None and s.time_us <= cutoff
        ]
        state: Battery | None = fold_code(other, live, registry, static=store.battery(other)).state
        return state

    unit = enclosing_unit(then, battery) if battery is not None else None
    return Trace(code, battery, components, inputs, history, as_of, unit)


#: how far `enclosing_unit` climbs (cell → module → pack needs 2)
MAX_NESTING = 8


def enclosing_unit(load: Callable[[str], Battery | None], b: Battery) -> Battery | None:
    """The outermost unit an `in_pack` code sits in (a cell's pack, not its module), with
    `load` giving a code's state; None for a code that is not `in_pack`, or whose parent is
    not on record. A module's own record stops at `in_pack` (held by its maker) while its
    pack moves on: the unit says where it is."""
    unit: Battery | None = None
    seen = {b.code}
    current = b
    while current.state is State.IN_PACK and current.parent and len(seen) <= MAX_NESTING:
        parent = load(current.parent)
        if parent is None or parent.code in seen:
            break
        seen.add(parent.code)
        unit = current = parent
    return unit


def _linked(
    store: SqlStore,
    code: str,
    link: str,
    as_of: dt.date,
    registry: Any,
    validation: ValidationContext | None,
) -> list[str]:
    """Codes linked to `code` (as parent or successor) on `as_of`, by folding each candidate."""
    candidates = store.batteries_where(**{link: code})
    cutoff = end_of_day_us(as_of)
    out = []
    for other in candidates:
        live = [
            (s.seq, revive(s, validation))
            for s, w in store.history(code=other)
            if w is None and s.time_us <= cutoff
        ]
        state = fold_code(other, live, registry, static=store.battery(other)).state
        if state is not None and getattr(state, link) == code:
            out.append(other)
    return out


@dataclass
class VehicleView:
    """What `battrace vehicle` shows: the vehicle and every pack it has carried, in order."""

    vin: str
    vehicle: Vehicle | None
    packs: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        v = self.vehicle
        return {
            "vin": self.vin,
            "model": v.model if v else None,
            "automaker": v.automaker if v else None,
            "sold_on": v.sold_on if v else None,
            "scrapped_on": v.scrapped_on if v else None,
            "scrapped_by": v.scrapped_by if v else None,
            "packs_now": list(v.packs) if v else [],
            "packs": self.packs,
            "history": self.history,
        }


def vehicle_view(store: SqlStore, vin: str) -> VehicleView:
    """The vehicle and its packs in the order they were bound (from its events)."""
    rows = store.history(vin=vin)
    if not rows:
        raise NotFound(f"no event names vehicle {vin}{_why_not(vin_errors(vin), 'VIN')}")
    stints: list[dict[str, Any]] = []
    open_: dict[str, dict[str, Any]] = {}
    for stored, withdrawn in rows:
        if withdrawn is not None:
            continue
        p = orjson.loads(stored.payload)
        t = stored.type
        when = p["time"]
        if t in ("installed", "replaced"):
            stint = {
                "code": p["battery"],
                "bound_at": when,
                "bound_by": t,
                "unbound_at": None,
                "unbound_by": None,
            }
            stints.append(stint)
            open_[p["battery"]] = stint
        if t == "replaced" and p["removed"] in open_:
            open_.pop(p["removed"]).update(unbound_at=when, unbound_by="replaced")
        if t == "removed" and p["battery"] in open_:
            open_.pop(p["battery"]).update(unbound_at=when, unbound_by=f"removed ({p['reason']})")
    return VehicleView(vin, store.vehicle(vin), stints, [history_entry(s, w) for s, w in rows])
