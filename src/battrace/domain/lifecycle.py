"""The lifecycle of one code and one vehicle: an explicit transition table (EVENTS.md).

Every event is decomposed into *sub-transitions*, one per subject it touches: each battery code
(with the part it plays in the event) and the vehicle. A subject's state depends only on its
own sub-transitions in event-time order, so each code's timeline can be folded on its own —
which is what makes out-of-order arrival, corrections and `--as-of` exact, and what lets the
store be sharded by code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from battrace.domain.events import Event, Reason
from battrace.domain.registry import Registry
from battrace.domain.vocab import ENDED_STATES, EventType, Role, State

T = EventType
S = State


class Part(StrEnum):
    """The part a code plays in an event."""

    SUBJECT = "subject"  # the battery (or batteries) the event is about
    COMPONENT = "component"  # produced: a unit assembled into the new one
    OLD = "old"  # replaced: the pack taken out of the vehicle
    PRESENT = "present"  # vehicle_scrapped: a pack found in the vehicle
    INPUT = "input"  # reprocessed: an original battery consumed
    PART = "part"  # dismantled: a module or cell freed


class Custody(StrEnum):
    """Who may move a code in a transition (BT-004)."""

    NEW = "new"  # the code must not exist yet
    HOLDER = "holder"  # the reporter holds the code
    ADDRESSEE = "addressee"  # the reporter is the addressee of the shipment
    VEHICLE = "vehicle"  # the code is bound to the event's VIN
    PARENT = "parent"  # the code is a part of the event's battery (or not yet known)


@dataclass(frozen=True, slots=True)
class Transition:
    """Allowed source states (None: the code is not known yet), target state, custody check."""

    sources: frozenset[State | None]
    target: State
    custody: Custody


def _t(sources: set[State | None], target: State, custody: Custody) -> Transition:
    return Transition(frozenset(sources), target, custody)


#: The lifecycle as a table: (event type, part) → transition.
TRANSITIONS: dict[tuple[EventType, Part], Transition] = {
    (T.PRODUCED, Part.SUBJECT): _t({None}, S.REGISTERED, Custody.NEW),
    (T.PRODUCED, Part.COMPONENT): _t({S.REGISTERED, S.IN_STOCK}, S.IN_PACK, Custody.HOLDER),
    (T.SHIPPED, Part.SUBJECT): _t(
        {S.REGISTERED, S.IN_STOCK, S.USED, S.IN_USE}, S.IN_TRANSIT, Custody.HOLDER
    ),
    (T.RECEIVED, Part.SUBJECT): _t({S.IN_TRANSIT}, S.IN_STOCK, Custody.ADDRESSEE),
    (T.INSTALLED, Part.SUBJECT): _t({S.REGISTERED, S.IN_STOCK}, S.IN_VEHICLE, Custody.HOLDER),
    (T.REPLACED, Part.SUBJECT): _t({S.REGISTERED, S.IN_STOCK}, S.IN_VEHICLE, Custody.HOLDER),
    (T.REPLACED, Part.OLD): _t({S.IN_VEHICLE}, S.USED, Custody.VEHICLE),
    (T.REMOVED, Part.SUBJECT): _t({S.IN_VEHICLE, S.USED}, S.USED, Custody.VEHICLE),
    (T.VEHICLE_SCRAPPED, Part.PRESENT): _t({S.IN_VEHICLE}, S.USED, Custody.VEHICLE),
    (T.COLLECTED, Part.SUBJECT): _t({S.USED, S.IN_TRANSIT}, S.USED, Custody.ADDRESSEE),
    (T.REPROCESSED, Part.INPUT): _t({S.USED}, S.SUPERSEDED, Custody.HOLDER),
    (T.REPROCESSED, Part.SUBJECT): _t({None}, S.REGISTERED, Custody.NEW),
    (T.DEPLOYED, Part.SUBJECT): _t(
        {S.REGISTERED, S.IN_STOCK, S.USED, S.IN_USE}, S.IN_USE, Custody.HOLDER
    ),
    (T.DISMANTLED, Part.SUBJECT): _t({S.USED}, S.DISMANTLED, Custody.HOLDER),
    (T.DISMANTLED, Part.PART): _t({None, S.IN_PACK}, S.USED, Custody.PARENT),
    (T.RECYCLED, Part.SUBJECT): _t({S.USED}, S.RECYCLED, Custody.HOLDER),
    (T.DISPOSED, Part.SUBJECT): _t({S.RECYCLED, S.DISMANTLED}, S.DISPOSED, Custody.HOLDER),
}

#: Who may report each battery event at all (BT-004); custody then decides per code.
REPORTER_ROLES: dict[EventType, frozenset[Role]] = {
    T.PRODUCED: frozenset({Role.BATTERY_MAKER}),
    T.INSTALLED: frozenset({Role.AUTOMAKER, Role.IMPORTER, Role.REPAIRER}),
    T.VEHICLE_SOLD: frozenset({Role.AUTOMAKER, Role.IMPORTER}),
    T.REPLACED: frozenset({Role.AUTOMAKER, Role.IMPORTER, Role.REPAIRER, Role.SWAP_OPERATOR}),
    T.REMOVED: frozenset(
        {Role.AUTOMAKER, Role.IMPORTER, Role.REPAIRER, Role.SWAP_OPERATOR, Role.DISMANTLER}
    ),
    T.VEHICLE_SCRAPPED: frozenset({Role.DISMANTLER}),
    T.COLLECTED: frozenset({Role.OUTLET}),
    T.REPROCESSED: frozenset({Role.REPROCESSOR}),
    T.DISMANTLED: frozenset({Role.RECYCLER, Role.REPROCESSOR}),
    T.RECYCLED: frozenset({Role.RECYCLER}),
    T.DISPOSED: frozenset({Role.RECYCLER, Role.REPROCESSOR}),
}


@dataclass(slots=True)
class Battery:
    """The projected state of one code."""

    code: str
    product_type: str
    battery_type: str
    chemistry: str
    manufacturer: str
    state: State
    holder: str
    #: addressee while in transit
    to: str | None = None
    #: a used (废旧) battery: taken out of a vehicle or back from use
    retired: bool = False
    #: the VIN it is bound to (in_vehicle), or the scrapped vehicle it still sits in
    vin: str | None = None
    parent: str | None = None
    successor: str | None = None
    #: True for a reprocessed product (re-coded from inputs)
    reprocessed: bool = False
    application: str | None = None
    #: the enterprise with the recycling obligation (automaker once installed, else the maker)
    obligated: str | None = None
    mass_g: int | None = None
    energy_wh: int | None = None
    #: when the code entered its current state / saw its last event (epoch µs)
    since_us: int = 0
    last_us: int = 0
    first_seq: int = 0
    last_seq: int = 0
    #: its holder (an outlet) collected it and has held it since (shipping it on or taking it
    #: out of a scrapped vehicle keeps the holder): a second `collected` of it by the same
    #: outlet is refused (`decide.collected_again`)
    collected: bool = False

    def copy(self) -> Battery:
        """A shallow copy to change (explicit: several times faster than copy.copy)."""
        return Battery(
            self.code,
            self.product_type,
            self.battery_type,
            self.chemistry,
            self.manufacturer,
            self.state,
            self.holder,
            self.to,
            self.retired,
            self.vin,
            self.parent,
            self.successor,
            self.reprocessed,
            self.application,
            self.obligated,
            self.mass_g,
            self.energy_wh,
            self.since_us,
            self.last_us,
            self.first_seq,
            self.last_seq,
            self.collected,
        )


@dataclass(slots=True)
class Vehicle:
    """The projected state of one vehicle."""

    vin: str
    model: str | None
    automaker: str | None
    #: packs bound to it now (for a scrapped vehicle: those still recorded in it)
    packs: tuple[str, ...] = ()
    sold_on: str | None = None
    #: administrative division where it was sold (from the sale's location), for BT-024
    sold_region: str | None = None
    scrapped_on: str | None = None
    scrapped_by: str | None = None
    last_us: int = 0
    first_seq: int = 0
    last_seq: int = 0

    def copy(self) -> Vehicle:
        """A shallow copy to change."""
        return Vehicle(
            self.vin,
            self.model,
            self.automaker,
            self.packs,
            self.sold_on,
            self.sold_region,
            self.scrapped_on,
            self.scrapped_by,
            self.last_us,
            self.first_seq,
            self.last_seq,
        )


def parts_of(ev: Event) -> list[tuple[str, Part]]:
    """Each code the event touches, with the part it plays (computed once per event)."""
    if ev.parts is None:
        ev.parts = _parts_of(ev)
    return ev.parts  # type: ignore[no-any-return]


def _parts_of(ev: Event) -> list[tuple[str, Part]]:
    t = ev.type
    p = ev.payload
    if t is T.PRODUCED:
        return [(p["battery"], Part.SUBJECT)] + [
            (c, Part.COMPONENT) for c in p.get("components", ())
        ]
    if t in (T.SHIPPED, T.RECEIVED, T.COLLECTED):
        return [(c, Part.SUBJECT) for c in ev.batteries]
    if t is T.REPLACED:
        return [(p["removed"], Part.OLD), (p["battery"], Part.SUBJECT)]
    if t is T.VEHICLE_SCRAPPED:
        return [(c, Part.PRESENT) for c in p["batteries_present"]]
    if t is T.REPROCESSED:
        return [(c, Part.INPUT) for c in p["inputs"]] + [(p["battery"], Part.SUBJECT)]
    if t is T.DISMANTLED:
        return [(p["battery"], Part.SUBJECT)] + [(c, Part.PART) for c in p["parts"]]
    if "battery" in p and not t.is_registry and t is not T.CORRECTION:
        return [(p["battery"], Part.SUBJECT)]
    return []


def vin_of(ev: Event) -> str | None:
    """The vehicle the event touches, if any."""
    return ev.vin


def _g(kg: float | int | None) -> int | None:
    return None if kg is None else round(kg * 1000)


def advance_code(
    b: Battery | None,
    ev: Event,
    part: Part,
    registry: Registry,
    *,
    code: str,
    inputs_mass_g: int | None = None,
    automaker: str | None = None,
) -> Battery | list[Reason]:
    """The code's state after its sub-transition in `ev`, or the reasons it may not happen.

    `inputs_mass_g` (reprocessed) and `automaker` (the vehicle's maker, for a replacement
    pack's recycling obligation) are context the caller has from other subjects.
    """
    t = ev.type
    tr = TRANSITIONS[(t, part)]
    fld = _field_of(part)
    state = b.state if b is not None else None
    if state in ENDED_STATES and not (t is T.DISPOSED and state in tr.sources):
        assert b is not None
        return [_ended(b, fld)]
    if state is S.IN_PACK and part is not Part.PART:
        return [
            Reason(
                fld,
                "BT-006",
                f"{code} is part of {b.parent if b else '?'}: report events for the unit "
                "it is assembled into",
            )
        ]
    if state not in tr.sources:
        if tr.custody is Custody.NEW:
            return [_exists(code, ev)]
        if b is None:
            return [
                Reason(fld, "BT-005", f"{code} is not on record: its production was never reported")
            ]
        allowed = ", ".join(sorted(s.value for s in tr.sources if s is not None))
        return [
            Reason(
                fld,
                "BT-005",
                f"{code} is {b.state.value} (held by {b.holder}); {t.value} needs it to be "
                f"{allowed}",
            )
        ]
    reasons = _custody(b, ev, part, tr.custody, code=code, fld=fld)
    if reasons:
        return reasons
    return _effect(
        b,
        ev,
        part,
        tr.target,
        registry,
        code=code,
        inputs_mass_g=inputs_mass_g,
        automaker=automaker,
    )


_FIELDS = {
    Part.SUBJECT: "battery",
    Part.COMPONENT: "components",
    Part.OLD: "removed",
    Part.PRESENT: "batteries_present",
    Part.INPUT: "inputs",
    Part.PART: "parts",
}


def _field_of(part: Part) -> str:
    return _FIELDS[part]


def _ended(b: Battery, fld: str) -> Reason:
    if b.state in (S.RECYCLED, S.DISPOSED):
        return Reason(
            fld,
            "BT-005",
            f"{b.code} was {b.state.value} by {b.holder}: a recycled code seen again is a "
            "suspected forgery",
        )
    return Reason(fld, "BT-005", f"{b.code} has ended ({b.state.value}): nothing more may happen")


def _exists(code: str, ev: Event) -> Reason:
    rule = "BT-003" if ev.type is T.PRODUCED else "BT-005"
    return Reason("battery", rule, f"{code} is already on record: a code is registered only once")


def _custody(
    b: Battery | None, ev: Event, part: Part, custody: Custody, *, code: str, fld: str
) -> list[Reason]:
    reporter = ev.reporter
    if custody is Custody.HOLDER:
        assert b is not None
        if b.holder != reporter:
            return [
                Reason(
                    fld, "BT-004", f"{code} is held by {b.holder}, not by the reporter {reporter}"
                )
            ]
    elif custody is Custody.ADDRESSEE:
        assert b is not None
        if b.state is S.IN_TRANSIT:
            if b.to != reporter:
                return [Reason(fld, "BT-004", f"{code} was shipped to {b.to}, not to {reporter}")]
            if ev.type is T.COLLECTED and not b.retired:
                return [
                    Reason(
                        fld, "BT-005", f"{code} is not a used battery: outlets collect used ones"
                    )
                ]
        elif b.holder != reporter and not (ev.type is T.COLLECTED and b.state is S.USED):
            # EVENTS.md: an outlet collects what was shipped to it "or handed in by its holder"
            # (who may hand in is the registry's business: `decide.handed_in`)
            return [
                Reason(fld, "BT-004", f"{code} is held by {b.holder}; ship it to {reporter} first")
            ]
    elif custody is Custody.VEHICLE:
        assert b is not None
        vin = ev.payload["vin"]
        if b.state is S.USED:
            # removal from a scrapped vehicle by the dismantler that holds it
            if b.vin != vin:
                return [Reason(fld, "BT-005", f"{code} is used and not in vehicle {vin}")]
            if b.holder != reporter:
                return [Reason(fld, "BT-004", f"{code} is held by {b.holder}, not {reporter}")]
        elif b.vin != vin:
            return [Reason(fld, "BT-004", f"{code} is bound to vehicle {b.vin}, not to {vin}")]
    elif custody is Custody.PARENT:
        parent = ev.payload["battery"]
        if b is not None and b.parent != parent:
            return [
                Reason(
                    fld,
                    "BT-006",
                    f"{code} is part of {b.parent or 'no unit'}, not of {parent}",
                )
            ]
    return []


def _effect(
    b: Battery | None,
    ev: Event,
    part: Part,
    target: State,
    registry: Registry,
    *,
    code: str,
    inputs_mass_g: int | None,
    automaker: str | None,
) -> Battery:
    t = ev.type
    p = ev.payload
    reporter = ev.reporter
    if b is None:
        decoded = ev.codes[code]
        owner = registry.manufacturer_codes.get(decoded.manufacturer)
        obligated: str | None
        if t is T.PRODUCED:
            obligated = reporter
            chemistry = p["chemistry"]
            mass, energy = _g(p["mass_kg"]), _g(p["energy_kwh"])
        elif t is T.REPROCESSED:
            obligated = reporter
            chemistry = p.get("chemistry") or _chemistry_of_letter(ev, code)
            mass = _g(p.get("mass_kg")) if "mass_kg" in p else inputs_mass_g
            energy = _g(p.get("energy_kwh"))
        else:  # a part freed by dismantling that was never registered on its own
            obligated = owner
            chemistry = _chemistry_of_letter(ev, code)
            mass, energy = None, None
        nb = Battery(
            code=code,
            product_type=decoded.product_type.value,
            battery_type=decoded.battery_type.letter,
            chemistry=chemistry,
            manufacturer=decoded.manufacturer,
            state=target,
            holder=reporter,
            reprocessed=t is T.REPROCESSED,
            obligated=obligated,
            mass_g=mass,
            energy_wh=energy,
            since_us=ev.time_us,
        )
        if part is Part.PART:
            nb.parent = p["battery"]
            nb.retired = True
        return nb
    nb = b.copy()
    if target is not b.state:
        nb.since_us = ev.time_us
    nb.state = target
    if t is T.PRODUCED:  # component assembled into the new unit
        nb.parent = p["battery"]
    elif t is T.SHIPPED:
        nb.to = p["to"]
        if b.state is S.IN_USE:
            nb.retired = True
    elif t is T.RECEIVED:
        nb.holder, nb.to = reporter, None
        if b.retired:
            nb.state = S.USED
    elif t in (T.INSTALLED, T.REPLACED) and part is Part.SUBJECT:
        nb.vin = p["vin"]
        model = registry.models.get(p.get("vehicle_model", ""))
        maker = model.automaker if model is not None else automaker
        if maker is not None:
            nb.obligated = maker
    elif part is Part.OLD or t is T.REMOVED:
        nb.holder, nb.vin, nb.retired = reporter, None, True
        nb.since_us = ev.time_us  # out of the vehicle now: the next clock starts here
    elif part is Part.PRESENT:
        nb.holder, nb.retired = reporter, True  # stays linked to the VIN until removed
    elif t is T.COLLECTED:
        nb.holder, nb.to = reporter, None
    elif part is Part.INPUT:
        nb.successor = p["battery"]
    elif t is T.DEPLOYED:
        nb.application = p["application"]
    elif part is Part.PART:
        nb.holder, nb.retired = reporter, True
    # collected by its holder until the holder changes: shipping it on, or the same
    # enterprise taking it out of a scrapped vehicle, is not a new hand-over to collect
    nb.collected = t is T.COLLECTED or (b.collected and nb.holder == b.holder)
    return nb


def _chemistry_of_letter(ev: Event, code: str) -> str:
    chems = ev.codes[code].battery_type.chemistries
    return sorted(chems)[0] if len(chems) == 1 else "other"


def advance_vehicle(v: Vehicle | None, ev: Event, registry: Registry) -> Vehicle | list[Reason]:
    """The vehicle's state after `ev`, or the reasons it may not happen."""
    t = ev.type
    p = ev.payload
    vin = p["vin"]
    if (
        v is not None
        and v.scrapped_on is not None
        and not (t is T.REMOVED and p["battery"] in v.packs)
    ):
        return [
            Reason(
                "vin", "BT-005", f"vehicle {vin} was scrapped on {v.scrapped_on} by {v.scrapped_by}"
            )
        ]
    if t is T.INSTALLED:
        model = registry.models.get(p["vehicle_model"])
        if model is None:
            return [
                Reason(
                    "vehicle_model", None, f"vehicle model {p['vehicle_model']!r} is not registered"
                )
            ]
        if v is None:
            return Vehicle(vin, model.model, model.automaker, (p["battery"],))
        if v.model is not None and v.model != model.model:
            return [Reason("vehicle_model", None, f"vehicle {vin} is of model {v.model}")]
        nv = v.copy()
        nv.model, nv.automaker = model.model, model.automaker
        nv.packs = (*v.packs, p["battery"])
        return nv
    if t is T.VEHICLE_SOLD:
        region = (p.get("location") or {}).get("region")
        if v is None:
            return Vehicle(
                vin, None, ev.reporter, (), sold_on=p["certificate_date"], sold_region=region
            )
        if v.sold_on is not None:
            return [Reason("vin", None, f"vehicle {vin} was already reported sold ({v.sold_on})")]
        if v.automaker not in (None, ev.reporter) and Role.IMPORTER not in registry.roles_of(
            ev.reporter
        ):
            return [Reason("reporter", "BT-004", f"vehicle {vin} is made by {v.automaker}")]
        nv = v.copy()
        nv.sold_on, nv.sold_region = p["certificate_date"], region
        return nv
    if t is T.VEHICLE_SCRAPPED:
        if v is None:
            return Vehicle(vin, None, None, (), scrapped_on=_day(ev), scrapped_by=ev.reporter)
        nv = v.copy()
        nv.scrapped_on, nv.scrapped_by = _day(ev), ev.reporter
        return nv
    if v is None:
        return [Reason("vin", "BT-005", f"vehicle {vin} is not on record: no pack was installed")]
    if t is T.REPLACED:
        old = p["removed"]
        if old not in v.packs:
            return [Reason("removed", "BT-004", f"{old} is not in vehicle {vin}")]
        nv = v.copy()
        nv.packs = tuple(p["battery"] if c == old else c for c in v.packs)
        return nv
    if t is T.REMOVED:
        code = p["battery"]
        if code not in v.packs:
            return [Reason("battery", "BT-004", f"{code} is not in vehicle {vin}")]
        nv = v.copy()
        nv.packs = tuple(c for c in v.packs if c != code)
        return nv
    raise AssertionError(f"{t} does not touch a vehicle")


def _day(ev: Event) -> str:
    return ev.time.date().isoformat()
