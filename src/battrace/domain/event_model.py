"""The event model: what a validated event is, why one is refused, and time stamps.

`domain.events` validates; `domain.fields` checks single fields; this module holds the types
both share.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from battrace.domain.vocab import APPLICATIONS, EventType
from battrace.identity import DEFAULT_TABLES, BatteryCode, CodeTables

#: how far an event's time may lie after the platform's receive time (clock skew)
CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_ID = 64
MAX_TEXT = 2000
MAX_LIST = 10_000
#: documents attached to one event (`evidence`)
MAX_EVIDENCE = 100
#: an event's canonical JSON, in bytes: the longest line a file may hold (MAX_LINE) — the
#: largest list of codes (MAX_LIST) fits in a third of it
MAX_EVENT_BYTES = 1 << 20

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,  # "\d" alone takes the digits of every script: "١١٠١٠٠" is not a date
)
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
    #: its RFC 8785 bytes, and (record time in epoch µs, Merkle leaf hash) for that record
    #: time, when the ingest service computed them ahead of its write transaction (None:
    #: computed in it)
    body: bytes | None = None
    leaf: tuple[int, bytes] | None = None

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


class FieldError(Exception):
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


def parse_time(value: Any) -> dt.datetime:
    """An RFC 3339 timestamp with offset, as an aware datetime; FieldError otherwise."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise FieldError(
            "must be an RFC 3339 timestamp with offset, e.g. 2026-05-03T10:15:00+08:00"
        )
    try:
        return iso_moment(value)
    except ValueError:
        raise FieldError(f"{value!r} is not a real date and time") from None


def iso_moment(text: str) -> dt.datetime:
    """The aware datetime of text that has the RFC 3339 shape (`parse_time` checked it);
    ValueError for a date or time that does not exist."""
    if "." in text:  # Python keeps microseconds: trim extra digits of the fraction
        head, _, frac = text.partition(".")
        digits = len(frac) - len(frac.lstrip("0123456789"))
        text = head + "." + frac[: min(digits, 6)].ljust(6, "0") + frac[digits:]
    return dt.datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))


def to_us(moment: dt.datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact integer arithmetic)."""
    return (moment - _EPOCH) // _ONE_US


_ONE_US = dt.timedelta(microseconds=1)


def from_us(us: int) -> dt.datetime:
    """The aware UTC datetime of an epoch-microsecond value."""
    return _EPOCH + dt.timedelta(microseconds=us)
