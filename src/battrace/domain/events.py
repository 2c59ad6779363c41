"""Events as they arrive: field-by-field validation at the edge (EVENTS.md).

`validate_event` turns one decoded JSON object into an `Event`, or into a list of `Reason`s —
one per problem, each naming the field, the rule (RULES.md id where one applies) and why.
Unknown types and unknown fields are errors, never dropped.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from battrace.domain.vocab import (
    APPLICATIONS,
    CHEMISTRIES,
    ELEMENTS,
    REMOVAL_REASONS,
    EventType,
    Role,
    Scope,
)
from battrace.identity import (
    DEFAULT_TABLES,
    PRODUCT_RANK,
    BatteryCode,
    CodeTables,
    InvalidCode,
    is_uscc,
    is_vin,
    parse_battery_code,
    uscc_errors,
    vin_errors,
)

#: how far an event's time may lie after the platform's receive time (clock skew)
CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_ID = 64
MAX_TEXT = 2000
MAX_LIST = 10_000

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_REGION = re.compile(r"\d{6}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MFR = re.compile(r"[0-9A-Z]{3}")
_WORD = re.compile(r"[a-z][a-z0-9_]{0,39}")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an event was rejected (or flagged): the field, the rule id if any, a sentence."""

    field: str
    rule: str | None
    message: str

    def as_dict(self) -> dict[str, str | None]:
        """JSON-ready form."""
        return {"field": self.field, "rule": self.rule, "message": self.message}


@dataclass(slots=True)
class Event:
    """A validated event: envelope decoded, payload kept exactly as the reporter sent it."""

    id: str
    type: EventType
    time: dt.datetime
    #: event time as microseconds since the Unix epoch (UTC); the store's sort key
    time_us: int
    reporter: str
    payload: dict[str, Any]
    #: decoded battery codes named anywhere in the event, by code
    codes: dict[str, BatteryCode] = field(default_factory=dict)
    #: `recorded_at` carried by a trusted back-fill (None: the platform stamps it)
    recorded_at: dt.datetime | None = None
    #: the codes it touches with their parts (lifecycle.parts_of fills it once)
    parts: Any = None
    #: the idempotency key: (reporter, id)
    key: tuple[str, str] = ("", "")
    #: the vehicle the event names (`vin`), if any
    vin: str | None = None
    #: every number is one that plain JSON writers print exactly as RFC 8785 does (integers
    #: within 2**53, non-integral floats in [1e-4, 1e16)); validators clear it otherwise
    plain_numbers: bool = True
    #: some float is integral (350.0): plain writers print it as 350.0, RFC 8785 as 350
    integral_floats: bool = False

    @property
    def battery(self) -> str | None:
        """The battery the event is about (None for registry facts and list-form events)."""
        return self.payload.get("battery")

    @property
    def batteries(self) -> list[str]:
        """The battery or batteries of a shipped/received/collected event."""
        one = self.payload.get("battery")
        return [one] if one is not None else list(self.payload.get("batteries", ()))

    def get(self, name: str, default: Any = None) -> Any:
        """A payload field."""
        return self.payload.get(name, default)


class _Bad(Exception):
    """A field check failed (internal: turned into a Reason)."""

    def __init__(self, message: str, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule


@dataclass(frozen=True, slots=True)
class ValidationContext:
    """What validation needs beyond the event itself."""

    tables: CodeTables = DEFAULT_TABLES
    applications: frozenset[str] = APPLICATIONS
    #: allow a `recorded_at` in the event (trusted back-fill only)
    trusted: bool = False
    #: the platform's receive time (None: do not check time against it)
    received_at: dt.datetime | None = None


Check = Callable[[Any, "ValidationContext", Event], Any]


def _text(value: Any, ctx: ValidationContext, ev: Event) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Bad("must be a non-empty string")
    if len(value) > MAX_TEXT:
        raise _Bad(f"is longer than {MAX_TEXT} characters")
    return value


def _optional_text(value: Any, ctx: ValidationContext, ev: Event) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Bad("must be a string or null")
    if len(value) > MAX_TEXT:
        raise _Bad(f"is longer than {MAX_TEXT} characters")
    return value


def _uscc(value: Any, ctx: ValidationContext, ev: Event) -> str:
    if not isinstance(value, str):
        raise _Bad("must be a Unified Social Credit Code (18 characters)")
    if not is_uscc(value):
        detail = "; ".join(f"position {e.position}: {e.message}" for e in uscc_errors(value))
        raise _Bad(f"{value!r} is not a valid USCC ({detail})")
    return value


def _uscc_list(value: Any, ctx: ValidationContext, ev: Event) -> list[str]:
    if not isinstance(value, list) or not value:
        raise _Bad("must be a non-empty list of USCCs")
    for item in value:
        _uscc(item, ctx, ev)
    if len(set(value)) != len(value):
        raise _Bad("lists a USCC twice")
    return value


def _vin(value: Any, ctx: ValidationContext, ev: Event) -> str:
    if not isinstance(value, str):
        raise _Bad("must be a VIN (17 characters)")
    if not is_vin(value):
        detail = "; ".join(f"position {e.position}: {e.message}" for e in vin_errors(value))
        raise _Bad(f"{value!r} is not a valid VIN ({detail})")
    return value


def _code(value: Any, ctx: ValidationContext, ev: Event) -> str:
    if not isinstance(value, str):
        raise _Bad("must be a GB/T 34014 battery code", "BT-001")
    try:
        ev.codes[value] = parse_battery_code(value, tables=ctx.tables)
    except InvalidCode as exc:
        detail = "; ".join(f"position {e.position}: {e.message}" for e in exc.errors)
        raise _Bad(f"{value!r} is not a valid GB/T 34014 code ({detail})", "BT-001") from None
    return value


def _code_list(value: Any, ctx: ValidationContext, ev: Event) -> list[str]:
    if not isinstance(value, list) or not value:
        raise _Bad("must be a non-empty list of battery codes")
    if len(value) > MAX_LIST:
        raise _Bad(f"lists more than {MAX_LIST} codes")
    problems = []
    for i, item in enumerate(value):
        try:
            _code(item, ctx, ev)
        except _Bad as bad:
            problems.append(f"[{i}] {bad.message}")
    if problems:
        raise _Bad("; ".join(problems), "BT-001")
    if len(set(value)) != len(value):
        raise _Bad("lists a code twice", "BT-001")
    return value


def _code_list_or_empty(value: Any, ctx: ValidationContext, ev: Event) -> list[str]:
    if isinstance(value, list) and not value:
        return value
    return _code_list(value, ctx, ev)


def _positive(value: Any, ctx: ValidationContext, ev: Event) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad("must be a number")
    if not math.isfinite(value) or value <= 0:
        raise _Bad(f"must be a positive number, got {value}")
    _note_number(value, ev)
    return value


def _non_negative(value: Any, ev: Event) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad("must be a number")
    if not math.isfinite(value) or value < 0:
        raise _Bad(f"must be zero or positive, got {value}")
    _note_number(value, ev)
    return value


def _note_number(value: float | int, ev: Event) -> None:
    """Clear `ev.plain_numbers` for numbers plain JSON writers print differently (RFC 8785)."""
    if type(value) is int:
        if not -_MAX_EXACT <= value <= _MAX_EXACT:
            ev.plain_numbers = False
    elif value.is_integer():
        if abs(value) <= _MAX_EXACT:
            ev.integral_floats = True
        else:
            ev.plain_numbers = False
    elif not 1e-4 <= abs(value) < 1e16:
        ev.plain_numbers = False


_MAX_EXACT = 2**53 - 1


def _masses(value: Any, ctx: ValidationContext, ev: Event) -> dict[str, float | int]:
    if not isinstance(value, dict) or not value:
        raise _Bad(f"must be an object of kilograms per element ({', '.join(ELEMENTS)})")
    for key, kg in value.items():
        if key not in ELEMENTS:
            raise _Bad(f"unknown element {key!r}; known: {', '.join(ELEMENTS)}")
        try:
            _non_negative(kg, ev)
        except _Bad as bad:
            raise _Bad(f"{key}: {bad.message}") from None
    return value


def _bool(value: Any, ctx: ValidationContext, ev: Event) -> bool:
    if not isinstance(value, bool):
        raise _Bad("must be true or false")
    return value


def _date(value: Any, ctx: ValidationContext, ev: Event) -> dt.date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise _Bad("must be a date written YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _Bad(f"{value!r} is not a calendar date") from None


def _region(value: Any, ctx: ValidationContext, ev: Event) -> str:
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        raise _Bad("must be a 6-digit administrative division code")
    return value


def _word(vocabulary: frozenset[str] | None, what: str) -> Check:
    def check(value: Any, ctx: ValidationContext, ev: Event) -> str:
        allowed = vocabulary if vocabulary is not None else ctx.applications
        if not isinstance(value, str) or value not in allowed:
            raise _Bad(f"{value!r} is not a known {what}; known: {', '.join(sorted(allowed))}")
        return value

    return check


def _roles(value: Any, ctx: ValidationContext, ev: Event) -> list[str]:
    known = {r.value for r in Role}
    if not isinstance(value, list) or not value:
        raise _Bad("must be a non-empty list of roles")
    unknown = [r for r in value if r not in known]
    if unknown:
        raise _Bad(f"unknown role(s) {unknown}; known: {', '.join(sorted(known))}")
    return value


def _manufacturer_code(value: Any, ctx: ValidationContext, ev: Event) -> str:
    if not isinstance(value, str) or not _MFR.fullmatch(value):
        raise _Bad("must be 3 digits or upper-case letters", "BT-001")
    return value


def _tests(value: Any, ctx: ValidationContext, ev: Event) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad('must be an object of test results, e.g. {"residual_capacity_pct": 78.5}')
    for key, result in value.items():
        if not isinstance(key, str) or not _WORD.fullmatch(key):
            raise _Bad(f"test name {key!r} must be lower-case words joined by _")
        if key.endswith("_pct"):
            if isinstance(result, bool) or not isinstance(result, int | float):
                raise _Bad(f"{key} must be a number")
            if not 0 <= result <= 200:
                raise _Bad(f"{key} = {result} is not a plausible percentage")
        if isinstance(result, int | float) and not isinstance(result, bool):
            _note_number(result, ev)
        elif not isinstance(result, str | bool) and result is not None:
            ev.plain_numbers = False  # nested values: let the reference writer decide
    return value


_LOCATION_KEYS = frozenset({"region", "site"})


def _location(value: Any, ctx: ValidationContext, ev: Event) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad('must be an object {"region": "<6 digits>", "site": "..."}')
    if not value.keys() <= _LOCATION_KEYS:
        extra = sorted(set(value) - _LOCATION_KEYS)
        raise _Bad(f"unknown key(s) {extra}; allowed: region, site")
    if "region" in value:
        _region(value["region"], ctx, ev)
    if "site" in value:
        _text(value["site"], ctx, ev)
    return value


def _evidence(value: Any, ctx: ValidationContext, ev: Event) -> list[Any]:
    if not isinstance(value, list):
        raise _Bad('must be a list of {"kind", "sha256", "uri"} objects')
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) - {"kind", "sha256", "uri"}:
            raise _Bad(f"[{i}] must be an object with kind, sha256 and uri")
        if not isinstance(item.get("kind"), str):
            raise _Bad(f"[{i}].kind must be a string")
        sha = item.get("sha256")
        if sha is not None and (not isinstance(sha, str) or not _SHA256.fullmatch(sha)):
            raise _Bad(f"[{i}].sha256 must be 64 lower-case hex digits")
        if "uri" in item and not isinstance(item["uri"], str):
            raise _Bad(f"[{i}].uri must be a string")
    return value


def _replacement(value: Any, ctx: ValidationContext, ev: Event) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad("must be a complete corrected event (an object)")
    return value


_COMMON: dict[str, Check] = {
    "location": _location,
    "note": _optional_text,
    "evidence": _evidence,
}
_BATTERY = {"battery": _code}

# Per type: required fields and optional fields (besides the envelope and _COMMON).
SPEC: dict[EventType, tuple[dict[str, Check], dict[str, Check]]] = {
    EventType.PRODUCED: (
        {
            **_BATTERY,
            "chemistry": _word(CHEMISTRIES, "chemistry"),
            "rated_capacity_ah": _positive,
            "nominal_voltage_v": _positive,
            "energy_kwh": _positive,
            "mass_kg": _positive,
        },
        {"components": _code_list},
    ),
    EventType.SHIPPED: ({"to": _uscc}, {**_BATTERY, "batteries": _code_list}),
    EventType.RECEIVED: ({}, {**_BATTERY, "batteries": _code_list}),
    EventType.INSTALLED: ({**_BATTERY, "vin": _vin, "vehicle_model": _text}, {}),
    EventType.VEHICLE_SOLD: ({"vin": _vin, "certificate_date": _date}, {}),
    EventType.REPLACED: (
        {**_BATTERY, "vin": _vin, "removed": _code},
        {"reason": _word(REMOVAL_REASONS, "removal reason")},
    ),
    EventType.REMOVED: (
        {**_BATTERY, "vin": _vin, "reason": _word(REMOVAL_REASONS, "removal reason")},
        {},
    ),
    EventType.VEHICLE_SCRAPPED: (
        {"vin": _vin, "certificate_no": _text, "batteries_present": _code_list_or_empty},
        {},
    ),
    EventType.COLLECTED: ({}, {**_BATTERY, "batteries": _code_list}),
    EventType.REPROCESSED: (
        {**_BATTERY, "inputs": _code_list, "application": _word(None, "application")},
        {
            # BT-013 flags a missing standard or test instead of rejecting (RULES.md)
            "standard": _optional_text,
            "tests": _tests,
            "chemistry": _word(CHEMISTRIES, "chemistry"),
            "rated_capacity_ah": _positive,
            "nominal_voltage_v": _positive,
            "energy_kwh": _positive,
            "mass_kg": _positive,
        },
    ),
    EventType.DEPLOYED: (
        {**_BATTERY, "application": _word(None, "application"), "site": _text},
        {},
    ),
    EventType.DISMANTLED: ({**_BATTERY, "parts": _code_list}, {}),
    EventType.RECYCLED: (
        {**_BATTERY, "input_mass_kg": _positive, "recovered": _masses, "contained": _masses},
        {},
    ),
    EventType.DISPOSED: ({**_BATTERY, "method": _text}, {"mass_kg": _positive}),
    EventType.CORRECTION: (
        {"target": _text, "reason": _text},
        {"replacement": _replacement},
    ),
    EventType.ENTERPRISE_REGISTERED: (
        {"enterprise": _uscc, "name": _text, "roles": _roles, "region": _region},
        {},
    ),
    EventType.MANUFACTURER_CODE_ASSIGNED: (
        {"enterprise": _uscc, "manufacturer_code": _manufacturer_code},
        {},
    ),
    EventType.QUALIFICATION_GRANTED: (
        {
            "enterprise": _uscc,
            "scope": _word(frozenset(s.value for s in Scope), "scope"),
            "valid_from": _date,
        },
        {"valid_until": _date},
    ),
    EventType.QUALIFICATION_REVOKED: (
        {
            "enterprise": _uscc,
            "scope": _word(frozenset(s.value for s in Scope), "scope"),
            "reason": _text,
        },
        {},
    ),
    EventType.OUTLET_REGISTERED: (
        {"enterprise": _uscc, "serves": _uscc_list, "region": _region, "address": _text},
        {},
    ),
    EventType.VEHICLE_MODEL_REGISTERED: (
        {"model": _text, "automaker": _uscc, "swap_model": _bool},
        {},
    ),
}

_ENVELOPE = frozenset({"id", "type", "time", "reporter", "recorded_at"})
_LIST_FORM = frozenset({EventType.SHIPPED, EventType.RECEIVED, EventType.COLLECTED})


def parse_time(value: Any) -> dt.datetime:
    """An RFC 3339 timestamp with offset, as an aware datetime; _Bad otherwise."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise _Bad("must be an RFC 3339 timestamp with offset, e.g. 2026-05-03T10:15:00+08:00")
    text = value
    if "." in text:  # Python keeps microseconds: trim extra digits of the fraction
        head, _, frac = text.partition(".")
        digits = len(frac) - len(frac.lstrip("0123456789"))
        text = head + "." + frac[: min(digits, 6)].ljust(6, "0") + frac[digits:]
    try:
        return dt.datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError:
        raise _Bad(f"{value!r} is not a real date and time") from None


def to_us(moment: dt.datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact integer arithmetic)."""
    return (moment - _EPOCH) // _ONE_US


_ONE_US = dt.timedelta(microseconds=1)


def from_us(us: int) -> dt.datetime:
    """The aware UTC datetime of an epoch-microsecond value."""
    return _EPOCH + dt.timedelta(microseconds=us)


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
        reasons.append(
            Reason("type", None, f"unknown event type {raw_type!r}; known: {_KNOWN_TYPES}")
        )
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
        except _Bad as bad:
            reasons.append(Reason("time", None, bad.message))
    if reporter is None:
        reasons.append(Reason("reporter", None, "is required"))
    elif type(reporter) is not str or not is_uscc(reporter):
        try:
            _uscc(reporter, ctx, ev)
        except _Bad as bad:
            reasons.append(Reason("reporter", None, bad.message))
    if "recorded_at" in raw:
        if not ctx.trusted:
            reasons.append(Reason("recorded_at", None, _RECORDED_AT_REFUSED))
        else:
            try:
                ev.recorded_at = parse_time(raw["recorded_at"])
            except _Bad as bad:
                reasons.append(Reason("recorded_at", None, bad.message))
    if found is None:
        return reasons
    etype, spec = found
    if not spec.required <= raw.keys():
        for name in sorted(spec.required - raw.keys()):
            reasons.append(Reason(name, None, f"is required for a {etype.value} event"))
    checks = spec.checks
    for name, value in raw.items():
        check = checks.get(name)
        if check is None:
            if name not in _ENVELOPE:
                reasons.append(
                    Reason(
                        name,
                        None,
                        f"unknown field for a {etype.value} event; allowed: {spec.allowed}",
                    )
                )
            continue
        try:
            check(value, ctx, ev)
        except _Bad as bad:
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
    if ev.recorded_at is not None and ev.recorded_at < ev.time - CLOCK_SKEW:
        reasons.append(Reason("recorded_at", None, "is before the event's own time"))
    if etype is EventType.PRODUCED:
        code = ev.codes[ev.payload["battery"]]
        chem = ev.payload["chemistry"]
        allowed = code.battery_type.chemistries
        if allowed and chem not in allowed:
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
                    f"the production event ({local_day})",
                )
            )
        reasons.extend(_components_fit(ev))
    elif etype is EventType.REPLACED:
        if ev.payload["removed"] == ev.payload["battery"]:
            reasons.append(Reason("removed", None, "the removed pack is the new pack"))
    elif etype is EventType.REPROCESSED:
        new = ev.payload["battery"]
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
