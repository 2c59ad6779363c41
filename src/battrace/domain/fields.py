"""Single-field checks of events and the per-type field table (EVENTS.md)."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from battrace.domain.event_model import (
    MAX_EVIDENCE,
    MAX_LIST,
    MAX_TEXT,
    Check,
    Event,
    FieldError,
    ValidationContext,
)
from battrace.domain.vocab import (
    CHEMISTRIES,
    ELEMENTS,
    REMOVAL_REASONS,
    EventType,
    Role,
    Scope,
)
from battrace.identity import (
    InvalidCode,
    describe,
    is_uscc,
    is_vin,
    parse_battery_code,
    uscc_errors,
    vin_errors,
)

# ASCII digits only: "\d" alone takes any script's ("１１０１００" is not a region code)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_REGION = re.compile(r"\d{6}", re.ASCII)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MFR = re.compile(r"[0-9A-Z]{3}")
_WORD = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _text(value: Any, ctx: ValidationContext, ev: Event) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FieldError("must be a non-empty string")
    if len(value) > MAX_TEXT:
        raise FieldError(f"is longer than {MAX_TEXT} characters")
    return value


def _optional_text(value: Any, ctx: ValidationContext, ev: Event) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError("must be a string or null")
    if len(value) > MAX_TEXT:
        raise FieldError(f"is longer than {MAX_TEXT} characters")
    return value


def _uscc(value: Any, ctx: ValidationContext, ev: Event) -> str:
    if not isinstance(value, str):
        raise FieldError("must be a Unified Social Credit Code (18 characters)")
    if not is_uscc(value):
        raise FieldError(f"{value!r} is not a valid USCC ({describe(uscc_errors(value))})")
    return value


def _uscc_list(value: Any, ctx: ValidationContext, ev: Event) -> list[str]:
    if not isinstance(value, list) or not value:
        raise FieldError("must be a non-empty list of USCCs")
    for item in value:
        _uscc(item, ctx, ev)
    if len(set(value)) != len(value):
        raise FieldError("lists a USCC twice")
    return value


def _vin(value: Any, ctx: ValidationContext, ev: Event) -> str:
    if not isinstance(value, str):
        raise FieldError("must be a VIN (17 characters)")
    if not is_vin(value):
        raise FieldError(f"{value!r} is not a valid VIN ({describe(vin_errors(value))})")
    return value


def _code(value: Any, ctx: ValidationContext, ev: Event) -> str:
    if not isinstance(value, str):
        raise FieldError("must be a GB/T 34014 battery code", "BT-001")
    try:
        ev.codes[value] = parse_battery_code(value, tables=ctx.tables)
    except InvalidCode as exc:
        raise FieldError(
            f"{value!r} is not a valid GB/T 34014 code ({describe(exc.errors)})", "BT-001"
        ) from None
    return value


def _code_list(value: Any, ctx: ValidationContext, ev: Event) -> list[str]:
    if not isinstance(value, list) or not value:
        raise FieldError("must be a non-empty list of battery codes")
    if len(value) > MAX_LIST:
        raise FieldError(f"lists more than {MAX_LIST} codes")
    problems = []
    for i, item in enumerate(value):
        try:
            _code(item, ctx, ev)
        except FieldError as bad:
            problems.append(f"[{i}] {bad.message}")
    if problems:
        raise FieldError("; ".join(problems), "BT-001")
    if len(set(value)) != len(value):
        raise FieldError("lists a code twice", "BT-001")
    return value


def _code_list_or_empty(value: Any, ctx: ValidationContext, ev: Event) -> list[str]:
    if isinstance(value, list) and not value:
        return value
    return _code_list(value, ctx, ev)


def _positive(value: Any, ctx: ValidationContext, ev: Event) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError("must be a number")
    if not math.isfinite(value) or value <= 0:
        raise FieldError(f"must be a positive number, got {value}")
    if value > MAX_QUANTITY:
        raise FieldError(f"{value} is past any plausible quantity (at most {MAX_QUANTITY:.0e})")
    _note_number(value, ev)
    return value


def _non_negative(value: Any, ev: Event) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError("must be a number")
    if not math.isfinite(value) or value < 0:
        raise FieldError(f"must be zero or positive, got {value}")
    if value > MAX_QUANTITY:
        raise FieldError(f"{value} is past any plausible quantity (at most {MAX_QUANTITY:.0e})")
    _note_number(value, ev)
    return value


def _note_number(value: float | int, ev: Event) -> None:
    """Clear `ev.plain_numbers` for numbers plain JSON writers print differently (RFC 8785)."""
    if isinstance(value, int):
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
#: the largest quantity (kg, kWh, Ah, V) an event may state: a million tonnes in one
#: disposal; stored in grams it stays far inside a 64-bit integer (1e19 kg crashed the batch)
MAX_QUANTITY = 1e9


def _masses(value: Any, ctx: ValidationContext, ev: Event) -> dict[str, float | int]:
    if not isinstance(value, dict) or not value:
        raise FieldError(f"must be an object of kilograms per element ({', '.join(ELEMENTS)})")
    for key, kg in value.items():
        if key not in ELEMENTS:
            raise FieldError(f"unknown element {key!r}; known: {', '.join(ELEMENTS)}")
        try:
            _non_negative(kg, ev)
        except FieldError as bad:
            raise FieldError(f"{key}: {bad.message}") from None
    return value


def _bool(value: Any, ctx: ValidationContext, ev: Event) -> bool:
    if not isinstance(value, bool):
        raise FieldError("must be true or false")
    return value


def _date(value: Any, ctx: ValidationContext, ev: Event) -> dt.date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise FieldError("must be a date written YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FieldError(f"{value!r} is not a calendar date") from None


def _region(value: Any, ctx: ValidationContext, ev: Event) -> str:
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        raise FieldError("must be a 6-digit administrative division code")
    return value


def _word(vocabulary: frozenset[str] | None, what: str) -> Check:
    def check(value: Any, ctx: ValidationContext, ev: Event) -> str:
        allowed = vocabulary if vocabulary is not None else ctx.applications
        if not isinstance(value, str) or value not in allowed:
            raise FieldError(
                f"{value!r} is not a known {what}; known: {', '.join(sorted(allowed))}"
            )
        return value

    return check


def _roles(value: Any, ctx: ValidationContext, ev: Event) -> list[str]:
    known = {r.value for r in Role}
    if not isinstance(value, list) or not value:
        raise FieldError("must be a non-empty list of roles")
    unknown = [r for r in value if r not in known]
    if unknown:
        raise FieldError(f"unknown role(s) {unknown}; known: {', '.join(sorted(known))}")
    return value


def _manufacturer_code(value: Any, ctx: ValidationContext, ev: Event) -> str:
    if not isinstance(value, str) or not _MFR.fullmatch(value):
        raise FieldError("must be 3 digits or upper-case letters", "BT-001")
    return value


def _tests(value: Any, ctx: ValidationContext, ev: Event) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError('must be an object of test results, e.g. {"residual_capacity_pct": 78.5}')
    if len(value) > MAX_LIST:
        raise FieldError(f"has more than {MAX_LIST} test results")
    for key, result in value.items():
        if not isinstance(key, str) or not _WORD.fullmatch(key):
            raise FieldError(f"test name {key!r} must be lower-case words joined by _")
        if key.endswith("_pct"):
            if isinstance(result, bool) or not isinstance(result, int | float):
                raise FieldError(f"{key} must be a number")
            if not 0 <= result <= 200:
                raise FieldError(f"{key} = {result} is not a plausible percentage")
        if isinstance(result, int | float) and not isinstance(result, bool):
            _note_number(result, ev)
        elif isinstance(result, list | dict):
            _test_series(key, result, ev)
        elif isinstance(result, str):
            if len(result) > MAX_TEXT:
                raise FieldError(f"{key} is longer than {MAX_TEXT} characters")
        elif not isinstance(result, bool) and result is not None:
            raise FieldError(f"{key} must be a number, text, true/false or null")
    return value


def _test_series(key: str, result: list[Any] | dict[str, Any], ev: Event) -> None:
    """A test result made of several values (per cell, per module): a list or an object of
    numbers, texts, true/false or null, one level deep. Deeper values are refused: nothing
    reads them, and a stored event nested past what JSON writers take (orjson: 255 levels)
    could never be shown again."""
    items = result.values() if isinstance(result, dict) else result
    if len(result) > MAX_LIST:
        raise FieldError(f"{key} has more than {MAX_LIST} values")
    for item in items:
        if isinstance(item, bool) or item is None or isinstance(item, int | float):
            continue
        if isinstance(item, str):
            if len(item) > MAX_TEXT:
                raise FieldError(f"a value of {key} is longer than {MAX_TEXT} characters")
        else:
            raise FieldError(
                f"{key} may list numbers, texts, true/false or null, not nested lists or objects"
            )
    ev.plain_numbers = False  # several values: let the reference writer decide


_LOCATION_KEYS = frozenset({"region", "site"})


def _location(value: Any, ctx: ValidationContext, ev: Event) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError('must be an object {"region": "<6 digits>", "site": "..."}')
    if not value.keys() <= _LOCATION_KEYS:
        extra = sorted(set(value) - _LOCATION_KEYS)
        raise FieldError(f"unknown key(s) {extra}; allowed: region, site")
    if "region" in value:
        _region(value["region"], ctx, ev)
    if "site" in value:
        _text(value["site"], ctx, ev)
    return value


def _evidence(value: Any, ctx: ValidationContext, ev: Event) -> list[Any]:
    if not isinstance(value, list):
        raise FieldError('must be a list of {"kind", "sha256", "uri"} objects')
    if len(value) > MAX_EVIDENCE:
        raise FieldError(f"lists more than {MAX_EVIDENCE} documents")
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) - {"kind", "sha256", "uri"}:
            raise FieldError(f"[{i}] must be an object with kind, sha256 and uri")
        kind = item.get("kind")
        if not isinstance(kind, str):
            raise FieldError(f"[{i}].kind must be a string")
        sha = item.get("sha256")
        if sha is not None and (not isinstance(sha, str) or not _SHA256.fullmatch(sha)):
            raise FieldError(f"[{i}].sha256 must be 64 lower-case hex digits")
        uri = item.get("uri")
        if "uri" in item and not isinstance(uri, str):
            raise FieldError(f"[{i}].uri must be a string")
        if len(kind) > MAX_TEXT or (isinstance(uri, str) and len(uri) > MAX_TEXT):
            raise FieldError(f"[{i}]: kind and uri may hold at most {MAX_TEXT} characters")
    return value


def _replacement(value: Any, ctx: ValidationContext, ev: Event) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError("must be a complete corrected event (an object)")
    if nests_deeper(value, _EVENT_DEPTH):
        raise FieldError(f"nests deeper than an event may ({_EVENT_DEPTH} levels)")
    return value


#: how deep a valid event's JSON nests: event → tests → a series of values
_EVENT_DEPTH = 3


def nests_deeper(value: Any, limit: int) -> bool:
    """True when lists and objects in `value` nest more than `limit` levels below it (walked
    without recursion: the input may be nested a thousand levels)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        inner = item.values() if isinstance(item, dict) else item
        for x in inner:
            if isinstance(x, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((x, depth + 1))
    return False


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
