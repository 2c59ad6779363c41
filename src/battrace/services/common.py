"""Helpers shared by the services: reviving stored events, the registry, day boundaries."""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache
from typing import Any

import orjson

from battrace.domain.event_model import iso_moment
from battrace.domain.events import Event, Reason, ValidationContext, from_us, validate_event
from battrace.domain.lifecycle import parts_of
from battrace.domain.registry import Registry, apply_registry_fact
from battrace.domain.vocab import EventType
from battrace.errors import StoreError
from battrace.identity import BatteryCode, CodeTables, InvalidCode, parse_battery_code
from battrace.ledger.canonical import canonical_bytes
from battrace.store.rows import StoredEvent

log = logging.getLogger(__name__)

#: China Standard Time: day boundaries of `--as-of` and of working-day clocks
CST = dt.timezone(dt.timedelta(hours=8), "CST")


def revive(stored: StoredEvent, ctx: ValidationContext | None = None) -> Event:
    """A stored event as a domain Event (it was valid when it was accepted).

    It is validated again (that decodes its codes and times). A stored event that today's
    checks refuse — a bound tightened, a vocabulary narrowed since it was accepted — is still
    history: it comes back as stored (`_as_stored`), with a warning, rather than making every
    trace, rebuild and late arrival touching its codes fail after an upgrade."""
    trusted = ValidationContext(
        tables=ctx.tables if ctx else ValidationContext().tables,
        applications=ctx.applications if ctx else ValidationContext().applications,
        trusted=True,
    )
    raw = orjson.loads(stored.payload)
    ev = validate_event(raw, trusted)
    if isinstance(ev, list):
        return _as_stored(stored, raw, trusted.tables, ev)
    return ev


def _as_stored(
    stored: StoredEvent, raw: dict[str, Any], tables: CodeTables, refused: list[Reason]
) -> Event:
    """The Event of a stored payload that no longer validates, built without the checks; a
    StoreError when not even that is possible (an event type or code that no longer exists)."""
    why = "; ".join(f"{r.field}: {r.message}" for r in refused)
    try:
        etype = EventType(raw["type"])
        moment = iso_moment(raw["time"])
        recorded = raw.get("recorded_at")
        ev = Event(
            raw["id"],
            etype,
            moment,
            stored.time_us,
            raw["reporter"],
            raw,
            _StoredCodes.of(tables),
            None if recorded is None else iso_moment(recorded),
        )
        ev.key = (ev.reporter, ev.id)
        ev.vin = raw.get("vin")
        for code, _ in parts_of(ev):
            ev.codes[code]  # decoded now: a code that no longer parses fails here
    except (KeyError, ValueError, TypeError, InvalidCode) as exc:
        raise StoreError(
            f"stored event {stored.seq} no longer validates (were the code tables or the "
            f"application vocabulary changed?): {why}"
        ) from exc
    if stored.leaf_hash not in _warned and len(_warned) < MAX_WARNED:  # once per event
        _warned.add(stored.leaf_hash)
        log.warning(
            "stored event %d (%s) no longer passes today's checks, revived as stored: %s",
            stored.seq,
            etype.value,
            why,
        )
    return ev


#: stored events warned about as revived as stored (a rebuild revives each one again)
_warned: set[bytes] = set()
MAX_WARNED = 10_000


class _StoredCodes(dict[str, BatteryCode]):
    """`Event.codes` of an event revived as stored: each code decoded on first use."""

    _tables: CodeTables

    @classmethod
    def of(cls, tables: CodeTables) -> _StoredCodes:
        codes = cls()
        codes._tables = tables
        return codes

    def __missing__(self, code: str) -> BatteryCode:
        decoded = self[code] = parse_battery_code(code, tables=self._tables)
        return decoded


def registry_from(events: list[StoredEvent], ctx: ValidationContext | None = None) -> Registry:
    """The registry folded from its facts (in log order)."""
    return registry_checked(events, ctx)[0]


def registry_checked(
    events: list[StoredEvent], ctx: ValidationContext | None = None
) -> tuple[Registry, tuple[int, Event, list[Reason]] | None]:
    """The registry folded from its facts (in log order), and the first fact that the facts
    before it no longer allow (its leaf, the fact, why), if any: withdrawing a fact must not
    leave a later one standing on nothing (the regulator's own registration, say)."""
    reg = Registry()
    first: tuple[int, Event, list[Reason]] | None = None
    for stored in events:
        ev = revive(stored, ctx)
        try:
            reasons = apply_registry_fact(reg, ev)
        except (KeyError, ValueError, TypeError) as exc:  # revived as stored, and unusable
            raise StoreError(
                f"stored registry fact {stored.seq} ({ev.type.value}) no longer applies (was "
                f"the vocabulary changed?): {exc}"
            ) from exc
        if reasons and first is None:
            first = (stored.seq, ev, reasons)
    return reg, first


def end_of_day_us(day: dt.date, tz: dt.tzinfo = CST) -> int:
    """The last microsecond of `day` in `tz`, as epoch microseconds."""
    from battrace.domain.events import to_us

    nxt = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return to_us(nxt) - 1


@lru_cache(maxsize=4096)
def rfc3339(us: int) -> str:
    """Epoch microseconds as RFC 3339 UTC with microseconds (cached: a batch shares one)."""
    return from_us(us).isoformat(timespec="microseconds")[:-6] + "Z"


def canonical(payload: dict[str, Any], *, plain: bool, integral_floats: bool = False) -> bytes:
    """RFC 8785 bytes of an event: orjson with sorted keys when that is exactly JCS, else the
    reference `ledger.canonical_bytes`.

    `plain`: validation saw only ASCII keys (every key of a validated event other than a
    correction comes from the fixed vocabulary) and only numbers that orjson writes as RFC 8785
    does, once integral floats (`integral_floats`) are written as integers; see
    `domain.events.Event.plain_numbers`. A test compares both paths on random events.
    """
    if plain:
        return orjson.dumps(
            _integral(payload) if integral_floats else payload, option=orjson.OPT_SORT_KEYS
        )
    return canonical_bytes(payload)


def _integral(obj: Any) -> Any:
    """A copy with integral floats as ints (RFC 8785 writes 350.0 as 350)."""
    if isinstance(obj, float):
        return int(obj) if obj.is_integer() else obj
    if isinstance(obj, dict):
        return {k: _integral(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_integral(v) for v in obj]
    return obj
