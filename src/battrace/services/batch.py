"""What one ingest batch stages and returns: results, the staged rows, and their overlay;
and the part of a batch's work that needs no store (`check_batch`: field validation,
canonical bytes, leaf hashes), kept free of the store's imports so that the checking helper
(`services.ingest_ahead`) stays small."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from battrace.domain.decide import Flag
from battrace.domain.events import (
    MAX_EVENT_BYTES,
    Event,
    Reason,
    ValidationContext,
    to_us,
    validate_event,
)
from battrace.domain.ingest_rules import FlagContext
from battrace.domain.lifecycle import Battery, Vehicle, parts_of
from battrace.domain.vocab import EventType
from battrace.ledger.canonical import CanonicalizationError
from battrace.ledger.documents import leaf_data_from_canonical
from battrace.ledger.merkle import leaf_hash
from battrace.services.common import canonical, rfc3339
from battrace.services.json_names import Repeated, Unchecked, describe, repeated_names


@dataclass(slots=True)
class EventResult:
    """What happened to one submitted event."""

    index: int
    id: str | None
    reporter: str | None
    status: str  # accepted | rejected | duplicate
    reasons: list[Reason] = field(default_factory=list)
    #: leaf index in the log (accepted, or the stored original of a duplicate)
    seq: int | None = None
    leaf_hash: bytes | None = None
    #: ids of rules this event raised findings for
    flags: list[str] = field(default_factory=list)
    #: the platform's record time (accepted events)
    recorded_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The result object of `battrace ingest --json`."""
        out: dict[str, Any] = {
            "id": self.id,
            "reporter": self.reporter,
            "status": self.status,
            "reasons": [r.as_dict() for r in self.reasons],
        }
        if self.seq is not None:
            out["leaf_index"] = self.seq
        if self.leaf_hash is not None:
            out["leaf_hash"] = self.leaf_hash.hex()
        if self.flags:
            out["flags"] = self.flags
        return out


def event_leaf(body: bytes, recorded_us: int, reporter: str) -> bytes:
    """The Merkle leaf hash of an event's canonical bytes, record time and reporter."""
    return leaf_hash(
        leaf_data_from_canonical(body, recorded_at=rfc3339(recorded_us), reporter=reporter)
    )


def recorded_us_of(ev: Event, now_us: int) -> int:
    """The record time of `ev` in a batch received at `now_us`: its own `recorded_at` for a
    trusted back-fill (converted once, by `check`, when it computed the leaf)."""
    if ev.recorded_at is None:
        return now_us
    return ev.leaf[0] if ev.leaf is not None else to_us(ev.recorded_at)


class NoRules:
    """Raise no flags (a store without a policy, e.g. in narrow tests)."""

    policy_version = "none"

    def flags(self, ev: Event, ctx: FlagContext) -> list[Flag]:
        """No findings."""
        return []

    def rejected(self, raw: Any) -> list[Flag]:
        """No findings."""
        return []


class Batch:
    """Rows staged by one transaction, and the projection overlay they imply."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.codes: list[tuple[str, int]] = []
        self.batteries: dict[str, Battery | None] = {}
        self.vehicles: dict[str, Vehicle | None] = {}
        self.dirty_codes: set[str] = set()
        self.dirty_vins: set[str] = set()
        self.findings: list[dict[str, Any]] = []
        self.seen: dict[tuple[str, str], tuple[bytes, int | None, bytes | None]] = {}
        #: (CST day, type) -> [live events, retirements] to add to `event_stats`
        self.stats: dict[tuple[int, str], list[int]] = {}
        self.flag_context: FlagContext


class BadJson:
    """A line that is not JSON (kept so its result says so)."""

    def __init__(self, message: str) -> None:
        self.message = message


class Unreadable:
    """A line that parsed but could not be checked further (kept so its result says why)."""

    def __init__(self, message: str) -> None:
        self.message = message


#: a longer line is rejected unread (an event is a few kilobytes): memory stays bounded
MAX_LINE = 1 << 20


class Unread:
    """A line longer than `MAX_LINE`, skipped without reading it (kept so its result says so)."""


#: why such a line is rejected
UNREAD = Reason("(line)", None, f"line longer than {MAX_LINE:,} bytes: not read")


#: the UTF-8 byte order mark that Windows editors (Notepad, Excel's "CSV UTF-8") write at the
#: start of a file, and that `cat` of such files leaves at the start of a line
BOM = b"\xef\xbb\xbf"


def parse_line(line: bytes) -> Any:
    """Decode one JSONL line; a `BadJson` when it is not JSON. A byte order mark before the
    JSON is skipped (RFC 8259 lets a parser ignore it; orjson refuses it), looked for only
    when decoding failed."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        if line.startswith(BOM):
            return parse_line(line[len(BOM) :])
        # the parser counts the line's own newline as a second line ("line 2 column 1"): say
        # where in this line it stopped instead (the result already names the file's line)
        end = len(line.rstrip(b"\r\n").decode("utf-8", "replace"))
        return BadJson(f"{exc.msg} at character {min(exc.pos, end) + 1} of the line")


def decode_line(line: bytes | None) -> Any:
    """`parse_line`, or `Unread` for a line the reader skipped (None: longer than `MAX_LINE`);
    an object that gives a name twice comes back `Repeated` (`check_batch` refuses it)."""
    if line is None:
        return Unread()
    raw = parse_line(line)
    if type(raw) is dict:
        try:
            names = repeated_names(line, raw)
        except Unchecked as exc:
            return Unreadable(str(exc))
        if names:
            repeated = Repeated(raw)
            repeated.names = names
            return repeated
    return raw


def ident(raw: Any) -> tuple[str | None, str | None]:
    if isinstance(raw, dict):
        rid, rep = raw.get("id"), raw.get("reporter")
        return (rid if isinstance(rid, str) else None, rep if isinstance(rep, str) else None)
    return None, None


US_PER_DAY = 86_400_000_000
CST_OFFSET_US = 8 * 3_600_000_000


def count_event(stats: dict[tuple[int, str], list[int]], ev: Event, sign: int = 1) -> None:
    """Add (or, with sign -1, take back) one event's share of the daily statistics."""
    day = (ev.time_us + CST_OFFSET_US) // US_PER_DAY
    t = ev.type._value_  # the value (`.value` is a property, 5× slower)
    if t == "replaced":
        retired = 1
    elif t == "removed":
        retired = 0 if ev.payload.get("reason") == "scrapping" else 1
    elif t == "vehicle_scrapped":
        retired = len(ev.payload.get("batteries_present", ()))
    else:
        retired = 0
    row = stats.setdefault((day, t), [0, 0])
    row[0] += sign
    row[1] += sign * retired


#: young objects allocated between two collections while a batch is ingested (CPython: 700).
#: A batch of 5,000 events stays below it: its reference cycles (few) wait for the batch end.
GC_YOUNG_THRESHOLD = 1_000_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Let the cyclic garbage collector run less often for the duration of a batch (or of a
    whole file ingest, which is a process of its own: `ingest_file` and its helper).

    Ingest allocates a few hundred short-lived objects per event, nearly all freed by
    reference counting; with CPython's default threshold (700) the collector ran every few
    events and re-scanned the batch's live states each time: about a tenth of ingest time
    (docs/benchmarks.md, "Notes on ingest speed"); at 10,000 the collections still cost
    4–6 µs/event (one per 2,000 events, each scanning everything the batch held), so a batch
    now runs with them practically off and its few cycles are left for after it. Not for a
    serving process's lifetime: left raised, the rarer but longer collections showed in the
    p99 of reads (`trace` on PostgreSQL: 3.5 → 5.8 ms).
    A threshold the process set higher already is kept.
    """
    young, middle, old = gc.get_threshold()
    if not 0 < young < GC_YOUNG_THRESHOLD:
        yield
        return
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)
    try:
        yield
    finally:
        if gc.get_threshold()[0] == GC_YOUNG_THRESHOLD:  # unless someone else changed it
            gc.set_threshold(young, middle, old)


def check_batch(
    validation: ValidationContext, raws: Sequence[Any], now: dt.datetime
) -> list[Event | list[Reason]]:
    """Field validation of a batch received at `now`, with each valid event's parts, canonical
    bytes and leaf hash: everything that needs no store (`Ingestor.commit` does the rest)."""
    ctx = ValidationContext(
        tables=validation.tables,
        applications=validation.applications,
        trusted=validation.trusted,
        received_at=now,
    )
    checked = [
        [Reason("(json)", None, f"not valid JSON: {r.message}")]
        if isinstance(r, BadJson)
        else [UNREAD]
        if isinstance(r, Unread)
        else [Reason("(json)", None, r.message)]
        if isinstance(r, Unreadable)
        else _repeated(r, ctx)
        if type(r) is Repeated
        else validate_event(r, ctx)
        for r in raws
    ]
    now_us = to_us(now)
    for i, ev in enumerate(checked):
        if isinstance(ev, Event):
            parts_of(ev)  # computed once, and outside the writer lock
            _encode(ev, now_us)
            if ev.body is not None and len(ev.body) > MAX_EVENT_BYTES:
                checked[i] = [_too_large(len(ev.body))]
    return checked


def _repeated(raw: Repeated, ctx: ValidationContext) -> list[Reason]:
    """An event that repeats a name: refused for it, and for whatever else is wrong."""
    reasons = [Reason(name, None, describe(name, top)) for name, top in raw.names]
    checked = validate_event(dict(raw), ctx)  # validation wants a plain dict
    return reasons + checked if isinstance(checked, list) else reasons


def _too_large(size: int) -> Reason:
    return Reason(
        "(event)",
        None,
        f"is {size:,} bytes as canonical JSON; an event may hold at most {MAX_EVENT_BYTES:,} "
        "(attach large documents by evidence: sha256 and uri)",
    )


def _encode(ev: Event, now_us: int) -> None:
    """Canonical bytes and leaf hash of a valid event, before the write transaction: what
    needs no store is done outside the writer lock (multi-process servers queue on it). An
    event that cannot be encoded is left to `Ingestor._one`, which rejects it."""
    try:
        ev.body = body = canonical_event(ev)
    except CanonicalizationError:
        return
    recorded_us = recorded_us_of(ev, now_us)
    ev.leaf = (recorded_us, event_leaf(body, recorded_us, ev.reporter))


def canonical_event(ev: Event) -> bytes:
    """The RFC 8785 bytes of a validated event (CanonicalizationError if it has none)."""
    return canonical(
        ev.payload,
        plain=ev.plain_numbers and ev.type is not EventType.CORRECTION,
        integral_floats=ev.integral_floats,
    )
