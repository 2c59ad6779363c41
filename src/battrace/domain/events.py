"""Events as they arrive: field-by-field validation at the edge (EVENTS.md).

`validate_event` turns one decoded JSON object into an `Event`, or into a list of `Reason`s —
one per problem, each naming the field, the rule (RULES.md id where one applies) and why.
Unknown types and unknown fields are errors, never dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from battrace.domain.event_model import (
    CLOCK_SKEW,
    MAX_EVENT_BYTES,
    MAX_ID,
    MAX_LIST,
    MAX_TEXT,
    Check,
    Event,
    FieldError,
    Reason,
    ValidationContext,
    from_us,
    parse_time,
    to_us,
)
from battrace.domain.fields import _COMMON, _ENVELOPE, _LIST_FORM, SPEC, _uscc
from battrace.domain.vocab import EventType
from battrace.identity import PRODUCT_RANK, BatteryCode, ProductType, is_uscc

__all__ = [
    "CLOCK_SKEW",
    "MAX_EVENT_BYTES",
    "MAX_ID",
    "MAX_LIST",
    "MAX_TEXT",
    "Event",
    "Reason",
    "ValidationContext",
    "from_us",
    "parse_time",
    "to_us",
    "validate_event",
]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class _TypeSpec:
    """Everything validation needs about one event type, precomputed."""

    checks: dict[str, Check]
    required: frozenset[str]
    allowed: str
    list_form: bool


def _type_specs() -> dict[str, tuple[EventType, _TypeSpec]]:
    out = {}
    for etype, (required, optional) in SPEC.items():
        checks = {**_COMMON, **optional, **required}
        need = frozenset(required) - ({"battery"} if etype in _LIST_FORM else set())
        out[etype.value] = (
            etype,
            _TypeSpec(checks, need, ", ".join(sorted(checks)), etype in _LIST_FORM),
        )
    return out


_TYPES = _type_specs()
_KNOWN_TYPES = ", ".join(t.value for t in EventType)
_DEFAULT_CONTEXT = ValidationContext()
_RECORDED_AT_REFUSED = (
    "is stamped by the platform; only a trusted back-fill may carry it "
    "(battrace ingest --keep-recorded-at)"
)


def validate_event(raw: Any, ctx: ValidationContext = _DEFAULT_CONTEXT) -> Event | list[Reason]:
    """Validate one decoded JSON value; the Event, or one Reason per problem."""
    if type(raw) is not dict:
        return [Reason("(event)", None, "an event must be a JSON object")]
    reasons: list[Reason] = []
    get = raw.get
    event_id = get("id")
    if type(event_id) is not str or not 0 < len(event_id) <= MAX_ID:
        reasons.append(Reason("id", None, f"must be a string of 1 to {MAX_ID} characters"))
        event_id = event_id if type(event_id) is str else ""
    elif not event_id.isprintable():
        reasons.append(Reason("id", None, "must not contain control characters"))
    raw_type = get("type")
    found = _TYPES.get(raw_type) if type(raw_type) is str else None
    if found is None:
        why = "is required" if raw_type is None else f"unknown event type {raw_type!r}"
        reasons.append(Reason("type", None, f"{why}; known: {_KNOWN_TYPES}"))
    reporter = get("reporter")
    ev = Event(
        event_id,
        found[0] if found else EventType.CORRECTION,
        _EPOCH,
        0,
        reporter if type(reporter) is str else "",
        raw,
    )
    stamp = get("time")
    if stamp is None:
        reasons.append(Reason("time", None, "is required"))
    else:
        try:
            ev.time = parse_time(stamp)
            ev.time_us = to_us(ev.time)
        except FieldError as bad:
            reasons.append(Reason("time", None, bad.message))
    if reporter is None:
        reasons.append(Reason("reporter", None, "is required"))
    elif type(reporter) is not str or not is_uscc(reporter):
        try:
            _uscc(reporter, ctx, ev)
        except FieldError as bad:
            reasons.append(Reason("reporter", None, bad.message))
    if "recorded_at" in raw:
        if not ctx.trusted:
            reasons.append(Reason("recorded_at", None, _RECORDED_AT_REFUSED))
        else:
            try:
                ev.recorded_at = parse_time(raw["recorded_at"])
            except FieldError as bad:
                reasons.append(Reason("recorded_at", None, bad.message))
    if found is None:
        return reasons
    etype, spec = found
    if not spec.required <= raw.keys():
        for name in sorted(spec.required - raw.keys()):
            reasons.append(
                Reason(name, None, f"is required for {_article(etype.value)} {etype.value} event")
            )
    checks = spec.checks
    for name, value in raw.items():
        check = checks.get(name)
        if check is None:
            if name not in _ENVELOPE:
                reasons.append(
                    Reason(
                        name,
                        None,
                        f"unknown field for {_article(etype.value)} {etype.value} event; "
                        f"allowed: {spec.allowed}",
                    )
                )
            continue
        try:
            check(value, ctx, ev)
        except FieldError as bad:
            reasons.append(Reason(name, bad.rule, bad.message))
    if spec.list_form and ("battery" in raw) == ("batteries" in raw):
        reasons.append(Reason("battery", None, "give exactly one of `battery` or `batteries`"))
    if reasons:
        return reasons
    ev.key = (ev.reporter, event_id)
    vin = get("vin")
    if vin is not None:
        ev.vin = vin
    return _cross_field(ev, ctx) or ev


def _cross_field(ev: Event, ctx: ValidationContext) -> list[Reason]:
    """Checks that relate several fields of one event."""
    reasons: list[Reason] = []
    etype = ev.type
    if ctx.received_at is not None:
        stamp = ev.recorded_at or ctx.received_at
        if ev.time > stamp + CLOCK_SKEW:
            reasons.append(
                Reason(
                    "time",
                    None,
                    f"{ev.payload['time']} is after the platform received the event "
                    f"({stamp.isoformat(timespec='seconds')}): events report the past",
                )
            )
    if ev.recorded_at is not None:
        if ev.recorded_at < ev.time - CLOCK_SKEW:
            reasons.append(Reason("recorded_at", None, "is before the event's own time"))
        if ctx.received_at is not None and ev.recorded_at > ctx.received_at + CLOCK_SKEW:
            reasons.append(
                Reason(
                    "recorded_at",
                    None,
                    f"is after the platform received the event "
                    f"({ctx.received_at.isoformat(timespec='seconds')}): a back-fill records "
                    "the past",
                )
            )
    if etype is EventType.PRODUCED:
        code = ev.codes[ev.payload["battery"]]
        if code.reprocessed_form:
            reasons.append(
                Reason(
                    "battery",
                    "BT-001",
                    f"{code.code} is a reprocessed product's short code: report it with "
                    "`reprocessed`, naming its inputs",
                )
            )
        reasons.extend(_identity_fits(ev, code, ev.payload["chemistry"]))
        reasons.extend(_components_fit(ev))
    elif etype is EventType.REPLACED:
        if ev.payload["removed"] == ev.payload["battery"]:
            reasons.append(Reason("removed", None, "the removed pack is the new pack"))
        reasons.extend(_a_pack(ev))
    elif etype is EventType.INSTALLED:
        reasons.extend(_a_pack(ev))
    elif etype is EventType.VEHICLE_SOLD:
        certified = dt.date.fromisoformat(ev.payload["certificate_date"])
        if certified > ev.time.date():
            reasons.append(
                Reason(
                    "certificate_date",
                    None,
                    f"{certified} is after the sale ({ev.time.date()}): the conformity "
                    "certificate is issued by the time the vehicle is sold",
                )
            )
    elif etype is EventType.REPROCESSED:
        new = ev.payload["battery"]
        reasons.extend(_identity_fits(ev, ev.codes[new], ev.payload.get("chemistry")))
        if new in ev.payload["inputs"]:
            reasons.append(Reason("battery", "BT-005", "a reprocessed product needs a new code"))
    elif etype is EventType.DISMANTLED:
        if ev.payload["battery"] in ev.payload["parts"]:
            reasons.append(Reason("parts", "BT-006", "a battery cannot be its own part"))
        reasons.extend(_parts_fit(ev))
    elif etype is EventType.RECYCLED:
        reasons.extend(_recovery_fits(ev))
    elif etype is EventType.QUALIFICATION_GRANTED:
        until = ev.payload.get("valid_until")
        if until is not None and until < ev.payload["valid_from"]:
            reasons.append(Reason("valid_until", None, "is before valid_from"))
    return reasons


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _a_pack(ev: Event) -> list[Reason]:
    """A vehicle carries packs (EVENTS.md: `installed` binds a pack to the vehicle)."""
    code = ev.codes[ev.payload["battery"]]
    if code.product_type is ProductType.PACK:
        return []
    return [
        Reason(
            "battery",
            "BT-006",
            f"{code.code} is a {code.product_type._value_} (code position 4 is "
            f"{code.product_type.letter!r}): a vehicle carries packs; report the pack it is in",
        )
    ]


def _identity_fits(ev: Event, code: BatteryCode, chem: str | None) -> list[Reason]:
    """BT-001 for the event that brings a code on record (`produced`, `reprocessed`): the
    chemistry it states agrees with the code's battery type, and the code's production date
    is not after the event."""
    reasons = []
    allowed = code.battery_type.chemistries
    if chem is not None and allowed and chem not in allowed:
        reasons.append(
            Reason(
                "chemistry",
                "BT-001",
                f"{chem} does not agree with battery type {code.battery_type.letter!r} "
                f"({code.battery_type.name_en}) of code {code.code}; expected "
                f"{' or '.join(sorted(allowed))}",
            )
        )
    local_day = ev.time.date()  # the reporter's own date, in the offset it wrote
    if code.production_date > local_day:
        reasons.append(
            Reason(
                "battery",
                "BT-001",
                f"production date {code.production_date} in code {code.code} is after "
                f"the {ev.type._value_} event ({local_day})",
            )
        )
    return reasons


def _components_fit(ev: Event) -> list[Reason]:
    parent = ev.codes[ev.payload["battery"]]
    reasons = []
    for child_code in ev.payload.get("components", ()):
        child = ev.codes[child_code]
        if child_code == parent.code:
            reasons.append(Reason("components", "BT-006", "a battery cannot contain itself"))
        elif PRODUCT_RANK[child.product_type] >= PRODUCT_RANK[parent.product_type]:
            reasons.append(
                Reason(
                    "components",
                    "BT-006",
                    f"{child_code} is a {child.product_type.value}: a "
                    f"{parent.product_type.value} holds only smaller units",
                )
            )
        elif not _same_chemistry(parent, child):
            reasons.append(
                Reason(
                    "components",
                    "BT-006",
                    f"{child_code} has battery type {child.battery_type.letter!r}, the "
                    f"{parent.product_type.value} {parent.code} has "
                    f"{parent.battery_type.letter!r}: chemistry of parts must match",
                )
            )
    return reasons


def _parts_fit(ev: Event) -> list[Reason]:
    parent = ev.codes[ev.payload["battery"]]
    reasons = []
    for part_code in ev.payload["parts"]:
        part = ev.codes[part_code]
        if PRODUCT_RANK[part.product_type] >= PRODUCT_RANK[parent.product_type]:
            reasons.append(
                Reason("parts", "BT-006", f"{part_code} is not smaller than {parent.code}")
            )
        elif not _same_chemistry(parent, part):
            reasons.append(
                Reason(
                    "parts", "BT-006", f"{part_code} does not match the chemistry of {parent.code}"
                )
            )
    return reasons


def _same_chemistry(a: BatteryCode, b: BatteryCode) -> bool:
    """Units of one battery share a battery type, unless either code says `other` (Z)."""
    return a.battery_type.letter == b.battery_type.letter or "Z" in (
        a.battery_type.letter,
        b.battery_type.letter,
    )


def _recovery_fits(ev: Event) -> list[Reason]:
    reasons = []
    recovered: Mapping[str, float] = ev.payload["recovered"]
    contained: Mapping[str, float] = ev.payload["contained"]
    for element, kg in recovered.items():
        if element not in contained and kg > 0:
            reasons.append(
                Reason("contained", None, f"gives no contained mass for recovered {element}")
            )
        elif element in contained and kg > contained[element] * 1.000001:
            reasons.append(
                Reason(
                    "recovered",
                    None,
                    f"{element}: {kg} kg recovered is more than the {contained[element]} kg "
                    "contained",
                )
            )
    total = sum(contained.values())
    if total > ev.payload["input_mass_kg"] * 1.000001:
        reasons.append(
            Reason(
                "contained",
                None,
                f"elements contained ({total} kg) weigh more than the input "
                f"({ev.payload['input_mass_kg']} kg)",
            )
        )
    return reasons
