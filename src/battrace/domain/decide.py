"""Deciding one event: the integrity rules BT-001…BT-006 that accept or reject it, its effect on
every subject it touches, and the folds that rebuild a subject's state from its timeline.

Pure: states come in, new states (or reasons) go out. The ingest service loads and stores.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from battrace.domain.events import Event, Reason, from_us
from battrace.domain.lifecycle import (
    REPORTER_ROLES,
    Battery,
    Part,
    Vehicle,
    advance_code,
    advance_vehicle,
    parts_of,
    vin_of,
)
from battrace.domain.registry import Registry, apply_registry_fact
from battrace.domain.vocab import EVENT_TYPE_ZH, EventType, Role, State

T = EventType


@dataclass(frozen=True, slots=True)
class Flag:
    """A finding to raise: the rule, who is responsible, what it is about, and the facts."""

    rule: str
    enterprise: str | None
    codes: tuple[str, ...]
    vins: tuple[str, ...]
    #: what the finding is about (one open finding per rule and subject)
    subject_key: str
    facts: dict[str, Any] = field(default_factory=dict)
    #: log positions of stored events used as evidence (the triggering event is added by the
    #: caller once it has a position)
    evidence: tuple[int, ...] = ()


@dataclass(slots=True)
class Decision:
    """The outcome of one event: reasons to reject it, or the new states of its subjects."""

    reasons: list[Reason]
    batteries: dict[str, Battery] = field(default_factory=dict)
    vehicle: Vehicle | None = None
    flags: list[Flag] = field(default_factory=list)
    registry_changed: bool = False

    @property
    def accepted(self) -> bool:
        """True when no rule rejects the event."""
        return not self.reasons


def decide(
    ev: Event,
    *,
    before: Mapping[str, Battery | None],
    vehicle: Vehicle | None,
    registry: Registry,
    replay: bool = False,
) -> Decision:
    """Apply the integrity rules to `ev` given the states of its subjects just before it.

    Registry facts change `registry` in place when accepted. `replay`: `ev` is a stored event
    that ingest accepted, folded again by `rebuild` with the registry ingest had: the rules on
    which of the registered enterprises may report it (roles, manufacturer code, addressee,
    hand-in) were judged then, by that version's rules, and are not judged again; the
    reporter's registration, the lifecycle and custody are (with the registry's vehicle
    models and importers).
    """
    if ev.type.is_registry:
        refused = apply_registry_fact(registry, ev)
        return Decision(refused, registry_changed=not refused)
    if ev.reporter not in registry.enterprises:
        return Decision(
            [Reason("reporter", "BT-004", f"{ev.reporter} is not a registered enterprise")]
        )
    if replay:
        return _lifecycle(ev, before, vehicle, registry, [], replay=True)
    allowed = REPORTER_ROLES.get(ev.type)
    roles = registry.roles_of(ev.reporter)
    if allowed and roles.isdisjoint(allowed):
        return Decision(
            [
                Reason(
                    "reporter",
                    "BT-004",
                    f"{ev.type.value} is reported by {' or '.join(sorted(allowed))}; "
                    f"{ev.reporter} is registered as {', '.join(sorted(roles)) or 'nothing'}",
                )
            ]
        )
    reasons: list[Reason] = []
    if ev.type in (T.PRODUCED, T.REPROCESSED):
        reasons += _ownership(ev, registry)
    elif ev.type is T.SHIPPED:
        reasons += _addressee(ev, registry)
    return _lifecycle(ev, before, vehicle, registry, reasons, replay=False)


def _lifecycle(
    ev: Event,
    before: Mapping[str, Battery | None],
    vehicle: Vehicle | None,
    registry: Registry,
    reasons: list[Reason],
    *,
    replay: bool,
) -> Decision:
    """The vehicle's and each code's transition (`decide` after the reporter checks)."""
    flags: list[Flag] = []
    new_vehicle: Vehicle | None = None
    vin = vin_of(ev)
    if vin is not None:
        outcome = advance_vehicle(vehicle, ev, registry)
        if isinstance(outcome, list):
            reasons += outcome
        else:
            new_vehicle = outcome
    known = new_vehicle or vehicle
    automaker = known.automaker if known is not None else None
    inputs_mass = _inputs_mass(ev, before) if ev.type is T.REPROCESSED else None
    states: dict[str, Battery] = {}
    for code, part in parts_of(ev):
        b = before.get(code)
        result = advance_code(
            b, ev, part, registry, code=code, inputs_mass_g=inputs_mass, automaker=automaker
        )
        if isinstance(result, list):
            reasons += _named_in_list(ev, code, part, result)
            flags += _reject_flags(ev, b, code, part, registry)
        elif (
            ev.type is T.COLLECTED
            and not replay
            and (taken := collected_again(ev, b, code) or handed_in(ev, b, code, registry))
        ):
            reasons += _named_in_list(ev, code, part, taken)
        else:
            states[code] = result
    return Decision(reasons, states, new_vehicle, flags)


def collected_again(ev: Event, b: Battery | None, code: str) -> list[Reason]:
    """BT-005: an outlet collects a battery once. A second `collected` of it by the outlet
    that collected it and has held it since (another id: a re-keyed retry, a second terminal;
    or after shipping it on, or after taking it out of a scrapped vehicle as its dismantler)
    was a no-op counted twice in the collection figures. Judged when the event is decided,
    not in refolds of stored events: a store written before this rule keeps its history."""
    if b is None or not b.collected or b.holder != ev.reporter:
        return []
    return [Reason("battery", "BT-005", f"{code} is already collected by {ev.reporter}")]


def collected_before(ev: Event, code: str, following: Event | None) -> list[Reason]:
    """BT-005 for a late `collected`: the next event on record for the code, after the late
    one's time, is a collection by the same outlet, which this one would repeat."""
    if (
        ev.type is not T.COLLECTED
        or following is None
        or following.type is not T.COLLECTED
        or following.reporter != ev.reporter
    ):
        return []
    reasons = [
        Reason(
            "battery",
            "BT-005",
            f"{code} is collected by {ev.reporter} at {from_us(following.time_us).isoformat()} "
            f"(event {following.id!r}): this would be a second collection of it",
        )
    ]
    return _named_in_list(ev, code, Part.SUBJECT, reasons)


#: enterprises inside the recycling chain: what they hold reaches another enterprise by
#: `shipped` (both sides report), not by a hand-in that only the taker reports
_CHAIN = frozenset({Role.OUTLET, Role.REPROCESSOR, Role.RECYCLER})


def handed_in(ev: Event, b: Battery | None, code: str, registry: Registry) -> list[Reason]:
    """BT-004: a used battery that an enterprise of the recycling chain holds is not collected
    as handed in by another outlet (EVENTS.md allows "handed in by its holder"; only the taker
    reports it). Decided here, with the registry of the moment, like the reporter's roles:
    refolds of stored events (late arrivals, corrections, `trace --as-of`) do not re-judge
    it against a registry that changed since."""
    if b is None or b.state is not State.USED or b.holder == ev.reporter:
        return []
    chain = registry.roles_of(b.holder) & _CHAIN
    if not chain:
        return []
    return [
        Reason(
            "battery",
            "BT-004",
            f"{code} is held by {b.holder} ({' and '.join(sorted(chain))}): a battery already in "
            "the recycling chain passes between enterprises by `shipped` and `received`, not "
            f"handed in; {b.holder} ships it to {ev.reporter}",
        )
    ]


def _addressee(ev: Event, registry: Registry) -> list[Reason]:
    """A shipment goes to another registered enterprise: to oneself or to a USCC nobody
    registered, the battery would wait in transit for a receipt that never comes."""
    to = ev.payload["to"]
    if to == ev.reporter:
        return [Reason("to", None, "is the reporter: a shipment goes to another enterprise")]
    if to not in registry.enterprises:
        return [
            Reason(
                "to",
                "BT-004",
                f"{to} is not a registered enterprise: nobody could receive the shipment "
                "(a regulator registers it first)",
            )
        ]
    return []


def _named_in_list(ev: Event, code: str, part: Part, reasons: list[Reason]) -> list[Reason]:
    """An event of the list form (`batteries: [...]`) has no field `battery`: its reasons
    name the item, `batteries[i]`."""
    listed = ev.payload.get("batteries")
    if part is not Part.SUBJECT or not isinstance(listed, list) or code not in listed:
        return reasons
    fld = f"batteries[{listed.index(code)}]"
    return [Reason(fld, r.rule, r.message) if r.field == "battery" else r for r in reasons]


def _ownership(ev: Event, registry: Registry) -> list[Reason]:
    """BT-002: the code's manufacturer prefix must be assigned to the reporter."""
    code = ev.payload["battery"]
    prefix = ev.codes[code].manufacturer
    owner = registry.manufacturer_codes.get(prefix)
    if owner == ev.reporter:
        return []
    who = f"assigned to {owner}" if owner else "not assigned to anyone"
    return [
        Reason(
            "battery",
            "BT-002",
            f"manufacturer code {prefix} of {code} is {who}, not to the reporter {ev.reporter}: "
            "a forged code?",
        )
    ]


def _inputs_mass(ev: Event, before: Mapping[str, Battery | None]) -> int | None:
    masses = [b.mass_g if (b := before.get(c)) else None for c in ev.payload["inputs"]]
    known = [m for m in masses if m is not None]
    return sum(known) if known and len(known) == len(masses) else None


def _reject_flags(
    ev: Event, b: Battery | None, code: str, part: Part, registry: Registry
) -> list[Flag]:
    """Rejections the regulator must still see: cloned codes (BT-003), forged ones (BT-005)."""
    day = ev.time.date().isoformat()
    if b is None:
        return []
    if ev.type is T.PRODUCED and part is Part.SUBJECT:
        first = registry.manufacturer_codes.get(b.manufacturer) or b.obligated
        if first != ev.reporter:
            return [
                Flag(
                    "BT-003",
                    ev.reporter,
                    (code,),
                    (),
                    f"{code}/{ev.reporter}",
                    {"reporter": ev.reporter, "code": code, "day": day, "first_reporter": first},
                    (b.first_seq,),
                )
            ]
    if b.state in (State.RECYCLED, State.DISPOSED) and ev.type is not T.DISPOSED:
        return [
            Flag(
                "BT-005",
                ev.reporter,
                (code,),
                (),
                f"{code}/{ev.reporter}/{ev.type.value}",
                {
                    "code": code,
                    "state": b.state.value,
                    "state_zh": "再生利用" if b.state is State.RECYCLED else "最终处置",
                    "holder": b.holder,
                    "ended_day": from_us(b.since_us).date().isoformat(),
                    "reporter": ev.reporter,
                    "event_type": ev.type.value,
                    "event_type_zh": EVENT_TYPE_ZH.get(ev.type.value, ev.type.value),
                    "day": day,
                },
                (b.last_seq,),
            )
        ]
    return []


# ---------------------------------------------------------------- folds (timelines)
@dataclass(slots=True)
class Fold:
    """A subject's state after folding its timeline, or the step that does not fit."""

    state: Any
    failed: tuple[int, Event, list[Reason]] | None = None


def code_steps(code: str, ev: Event) -> list[Part]:
    """The parts `code` plays in `ev` (usually one)."""
    return [part for c, part in parts_of(ev) if c == code]


def fold_code(
    code: str,
    timeline: Iterable[tuple[int, Event]],
    registry: Registry,
    *,
    start: Battery | None = None,
    static: Battery | None = None,
    collections: bool = False,
) -> Fold:
    """Fold `code`'s events (seq, event) in order from `start`; stop at the first misfit.

    `static` carries attributes other subjects provided when the code was first seen (mass of
    a reprocessed product's inputs, the vehicle's automaker), which a lone timeline cannot.
    `collections`: also judge each `collected` by BT-005 (`collected_again`), for the stored
    events after a late one, which must not turn a later collection into a second one.
    """
    state = start
    for seq, ev in timeline:
        if collections and ev.type is T.COLLECTED and (again := collected_again(ev, state, code)):
            return Fold(state, (seq, ev, again))
        for part in code_steps(code, ev):
            result = advance_code(
                state,
                ev,
                part,
                registry,
                code=code,
                inputs_mass_g=static.mass_g if static else None,
                automaker=static.obligated if static else None,
            )
            if isinstance(result, list):
                return Fold(state, (seq, ev, result))
            stamp(result, seq, ev.time_us, new=state is None)
            state = result
    return Fold(state)


def fold_vehicle(
    vin: str,
    timeline: Iterable[tuple[int, Event]],
    registry: Registry,
    *,
    start: Vehicle | None = None,
) -> Fold:
    """Fold a vehicle's events in order from `start`; stop at the first misfit."""
    state = start
    for seq, ev in timeline:
        if vin_of(ev) != vin:
            continue
        result = advance_vehicle(state, ev, registry)
        if isinstance(result, list):
            return Fold(state, (seq, ev, result))
        stamp(result, seq, ev.time_us, new=state is None)
        state = result
    return Fold(state)


def stamp(state: Battery | Vehicle, seq: int, time_us: int, *, new: bool) -> None:
    """Record that the event at `seq` (time `time_us`) is the latest applied to `state`."""
    if new:
        state.first_seq = seq
    state.last_seq = seq
    state.last_us = max(state.last_us, time_us)
