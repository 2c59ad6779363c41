"""RFC 8785 JSON Canonicalization Scheme (JCS): the exact bytes the log hashes.

Two paths give the same bytes. The fast path hands the value to the C `json` encoder after a
cheap walk proves that its output is already canonical: every key at every level is a `str`
below U+D800 (so code-point order equals UTF-16 order), every int fits in ±(2**53 - 1), and
every float is non-integral with 1e-4 <= |x| < 1e16 (where Python's `repr` is the ECMAScript
form). Anything else takes the full serialiser below, which also raises the errors.

Integers: JCS treats every number as an IEEE 754 double. An int is accepted when its decimal
digits are exactly what RFC 8785 writes for the double it parses to: every |n| <= 2**53 - 1,
and larger ones only when a double carries them exactly and in shortest form (such as the
integer a float like 1e17 canonicalises to, so canonical output always re-canonicalises to
itself). Others, like 2**53 + 1, would silently change and are rejected: send them as strings.
Tuples are serialised as arrays, like lists.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from battrace.errors import InvalidInput

__all__ = ["MAX_SAFE_INTEGER", "CanonicalizationError", "bench_canonical", "canonical_bytes"]

MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalizationError(InvalidInput, ValueError):
    """A value cannot be written as RFC 8785 canonical JSON; the message names where."""


def canonical_bytes(obj: object) -> bytes:
    """The RFC 8785 canonical UTF-8 JSON of a dict/list/str/int/float/bool/None value.

    Other mappings count as objects and tuples as arrays; anything else is rejected.
    """
    try:
        if type(obj) is str:
            try:
                return _encode_string(obj).encode()
            except UnicodeEncodeError:
                pass  # a lone surrogate: the full path says where
        elif type(obj) is dict or type(obj) is list:
            try:
                if _fast_ok(obj):
                    return _fast_text(obj).encode()
            except (TypeError, ValueError):
                pass  # a non-str key or a lone surrogate: the full path says where
        parts: list[str] = []
        _write(obj, parts, "$")
        return "".join(parts).encode("utf-8")
    except RecursionError:
        raise CanonicalizationError("value is nested too deeply or refers to itself") from None


# ------------------------------------------------------------------ fast path

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
_make_c_encoder = getattr(json.encoder, "c_make_encoder", None)
# CPython: drive the C encoder directly, skipping JSONEncoder's per-call set-up.
_C_ENCODER: Callable[[object, int], Iterable[str]] | None = (
    None
    if _make_c_encoder is None
    else _make_c_encoder(
        None, None, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
)
_encode_string = json.encoder.encode_basestring  # JCS escaping: '"', '\\' and controls only


def _fast_text(obj: object) -> str:
    if _C_ENCODER is not None:
        return "".join(_C_ENCODER(obj, 0))
    return _ENCODER.encode(obj)  # pragma: no cover - other interpreters


def _fast_ok(obj: Any) -> bool:
    """True when the C encoder's output for `obj` is exactly its canonical form."""
    if type(obj) is dict:
        keys = "".join(obj)  # TypeError when a key is not a str
        if not keys.isascii() and max(keys) >= "\ud800":
            return False
        values: Iterable[Any] = obj.values()
    else:
        values = obj
    for v in values:
        t = type(v)
        if t is str or t is bool or v is None:
            continue
        if t is int:
            if -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
                continue
            return False
        if t is float:
            if 1e-4 <= abs(v) < 1e16 and not v.is_integer():
                continue
            return False
        if (t is dict or t is list) and _fast_ok(v):
            continue
        return False
    return True


# ------------------------------------------------------------------ full serialiser

_ESCAPES = {i: f"\\u{i:04x}" for i in range(0x20)}
_ESCAPES.update({0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"})
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\"})


def _write(obj: object, out: list[str], path: str) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(_string(obj, path))
    elif isinstance(obj, int):
        out.append(_integer(obj, path))
    elif isinstance(obj, float):
        out.append(_number(obj, path))
    elif isinstance(obj, Mapping):
        _write_object(obj, out, path)
    elif isinstance(obj, list | tuple):
        out.append("[")
        for i, item in enumerate(obj):
            if i:
                out.append(",")
            _write(item, out, f"{path}[{i}]")
        out.append("]")
    else:
        raise CanonicalizationError(
            f"{path}: {type(obj).__name__} is not a JSON type "
            "(use dict, list, str, int, float, bool or None)"
        )


def _write_object(obj: Mapping[Any, Any], out: list[str], path: str) -> None:
    members = []
    for key, value in obj.items():
        if not isinstance(key, str):
            raise CanonicalizationError(
                f"{path}: object key {key!r} is a {type(key).__name__}, not a str"
            )
        members.append((_utf16_sort_key(key, path), key, value))
    members.sort(key=lambda m: m[0])
    out.append("{")
    for i, (_, key, value) in enumerate(members):
        if i:
            out.append(",")
        out.append(_string(key, path))
        out.append(":")
        _write(value, out, f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]")
    out.append("}")


def _utf16_sort_key(key: str, path: str) -> bytes:
    try:
        return key.encode("utf-16-be")  # byte order of UTF-16BE == order of code units
    except UnicodeEncodeError as exc:
        raise CanonicalizationError(
            f"{path}: object key {key!r} contains a lone surrogate at position {exc.start}"
        ) from None


def _string(s: str, path: str) -> str:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError(
            f"{path}: string contains a lone surrogate {s[exc.start]!r} at position {exc.start}"
        ) from None
    return '"' + s.translate(_ESCAPES) + '"'


def _integer(n: int, path: str) -> str:
    text = int.__repr__(n)
    if -MAX_SAFE_INTEGER <= n <= MAX_SAFE_INTEGER:
        return text
    try:
        as_double = es_number(float(n))
    except OverflowError:
        as_double = "Infinity"
    if as_double != text:
        raise CanonicalizationError(
            f"{path}: integer {text} cannot be carried exactly by a JSON number (an IEEE "
            f"double); it would be written {as_double}. Send it as a string"
        )
    return text


def _number(x: float, path: str) -> str:
    if not math.isfinite(x):
        raise CanonicalizationError(f"{path}: {x!r} is not a JSON number (NaN and Infinity)")
    return es_number(x)


def es_number(x: float) -> str:
    """ECMAScript Number::toString of a finite float (RFC 8785 §3.2.2.3)."""
    if x == 0:
        return "0"  # also -0
    text = float.__repr__(x)  # shortest round-trip digits, like ECMAScript
    sign = ""
    if text[0] == "-":
        sign, text = "-", text[1:]
    mantissa, _, exp = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = whole + frac
    point = len(whole) + (int(exp) if exp else 0)  # value = 0.<digits> * 10**point
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        out = digits + "0" * (point - k)
    elif 0 < point <= 21:
        out = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        out = "0." + "0" * -point + digits
    else:
        e = point - 1
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + ("e+" if e >= 0 else "e-")
        out += str(abs(e))
    return sign + out


# ------------------------------------------------------------------ benchmark

SAMPLE_EVENT: dict[str, object] = {
    "id": "e-1",
    "type": "produced",
    "time": "2025-12-07T08:00:00+08:00",
    "reporter": "91350100M000100Y43",
    "battery": "001PB01ABC1234FC70000001",
    "chemistry": "LFP",
    "rated_capacity_ah": 150,
    "nominal_voltage_v": 3.2,
    "energy_kwh": 55.3,
    "mass_kg": 380.5,
    "location": {"region": "350100", "site": "plant 1"},
}


def bench_canonical(n: int = 200_000) -> float:
    """Canonicalisations per second of a typical 12-field event (best of three runs)."""
    events = [{**SAMPLE_EVENT, "id": f"e-{i}"} for i in range(1_000)]
    rounds = max(1, n // len(events))
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(rounds):
            for event in events:
                canonical_bytes(event)
        best = min(best, time.perf_counter() - t0)
    return rounds * len(events) / best
