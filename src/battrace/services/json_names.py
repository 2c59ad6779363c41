"""Names given twice in one JSON object.

`{"battery": "A…", "battery": "B…"}` is valid JSON to most parsers, and every one of them
keeps one of the two values: orjson and the standard library keep the last, silently. RFC 8259
§4 says names SHOULD be unique and that such a document's meaning is unpredictable; I-JSON
(RFC 7493 §2.3), which RFC 8785 canonical form (our receipts and leaf hashes) presupposes,
says they MUST. An event that names a field twice is refused, saying which name.

The check costs two scans of the raw bytes in the common case (about 0.5 µs per event, 1 µs
with nested objects). Every name in a JSON text ends with a `"` followed (after optional
whitespace) by `:`, and no string value ends so (its closing quote is followed by `,`, `}` or
`]`; a quote inside a string is escaped), so with the whitespace taken out, the number of `":`
is at least the number of names written. If it equals the number of names the parser kept, no
name was dropped. Otherwise (a string value holds `\\":`, or a name was given twice) the text
is parsed again by the standard library with a hook that sees every pair.
"""

from __future__ import annotations

import json
from typing import Any

#: JSON's whitespace (RFC 8259 §2), dropped before counting so that `"name" :` counts too
_WHITESPACE = b" \t\n\r"


def names_kept(value: Any) -> int:
    """How many names the objects in `value` hold, nested ones included (no recursion: the
    input may nest a thousand levels)."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            total += len(item)
            inner = item.values()
        else:
            inner = item
        for x in inner:
            if type(x) is dict or type(x) is list:
                stack.append(x)
    return total


def repeated_names(text: bytes, parsed: Any) -> list[tuple[str, bool]]:
    """The names `text` gives more than once within one object, each with True when the object
    is the outermost one (a top-level field of an event); [] when there are none. `parsed` is
    `text` as the fast parser read it (a dict or list; anything else has no names)."""
    if type(parsed) is not dict and type(parsed) is not list:
        return []
    written = text.translate(None, _WHITESPACE).count(b'":')
    if written == len(parsed) and type(parsed) is dict:
        return []  # the common case: a flat object
    if written == names_kept(parsed):
        return []
    return _exact(text)


#: repeated names reported per event at most (a hostile line may repeat thousands)
MAX_REPORTED = 20


class Unchecked(ValueError):
    """A text the exact check could not read (refuse it: whether it repeats a name is unknown)."""


class Repeated(dict[str, Any]):
    """An object that gave some name more than once: the values the parser kept (its id and
    reporter still name the event in its result), and the names (True: this object's own;
    False: in an object nested in it)."""

    names: list[tuple[str, bool]]


def marked(text: bytes) -> Any:
    """`text` parsed with every object that repeats a name as a `Repeated` holding its own
    names (the last value of each kept, as the fast parser does). For bodies holding many
    events, once `repeated_names` has found some; then `lift` each event."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        twice = _twice(items)
        if not twice:
            return dict(items)
        obj = Repeated(items)
        obj.names = [(name, True) for name in twice]
        return obj

    return _loads(text, pairs)


def lift(value: Any) -> Any:
    """`value` (from `marked`) as a `Repeated` naming every repeated name in it and in the
    objects nested in it; unchanged when there are none."""
    if type(value) is not dict and type(value) is not Repeated:
        return value
    names: list[tuple[str, bool]] = list(value.names) if type(value) is Repeated else []
    have = set(names)
    stack = list(value.values())
    while stack:
        item = stack.pop()
        if type(item) is Repeated:
            for name, _ in item.names:
                if (name, False) not in have and len(names) < MAX_REPORTED:
                    have.add((name, False))
                    names.append((name, False))
        if isinstance(item, dict):
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
    if not names:
        return value
    out = Repeated(value)
    out.names = names
    return out


def _twice(items: list[tuple[str, Any]]) -> list[str]:
    """The names given more than once among an object's pairs (at most `MAX_REPORTED`)."""
    seen: set[str] = set()
    twice: dict[str, None] = {}  # an ordered set: linear however many names repeat
    for name, _ in items:
        if name in seen:
            twice[name] = None
        else:
            seen.add(name)
    return list(twice)[:MAX_REPORTED]


def _loads(text: bytes, pairs: Any) -> Any:
    """The standard library's parse with `pairs` as its object hook; `Unchecked` when it
    cannot read what orjson could (it recurses: about 1,000 levels of nesting at most)."""
    try:
        return json.loads(text, object_pairs_hook=pairs, parse_int=_as_orjson_int)
    except RecursionError:
        raise Unchecked(
            "nests too deep to be checked for repeated names (an event nests a few levels)"
        ) from None
    except ValueError as exc:
        raise Unchecked(f"could not be checked for repeated names: {exc}") from None


def _as_orjson_int(digits: str) -> int | float:
    """An integer as orjson reads it: beyond 64 bits, a float (the events of a body that
    repeats a name are read by this parser, and must read as their neighbours do)."""
    value = int(digits)
    return value if -(2**63) <= value < 2**64 else float(value)


def _exact(text: bytes) -> list[tuple[str, bool]]:
    """Every repeated name (at most `MAX_REPORTED`), by a second parse that sees each object's
    pairs."""
    found: list[list[str]] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        found.append(_twice(items))
        return dict(items)

    outer = _loads(text, pairs)
    # the hook runs innermost first: the outermost object, if the text is one, came last
    top = found.pop() if type(outer) is dict and found else []
    ours = set(top)
    nested = dict.fromkeys(name for twice in found for name in twice if name not in ours)
    return ([(name, True) for name in top] + [(name, False) for name in nested])[:MAX_REPORTED]


def describe(name: str, top: bool) -> str:
    """Why such a name is refused (the message of its reason)."""
    where = "in the event" if top else "in one of the event's objects"
    return (
        f"is given more than once {where}: a name may appear once in a JSON object (RFC 8259 "
        "§4, RFC 7493 §2.3); parsers keep one value silently"
    )
