"""Ingest: validate, decide, append to the log, project — one transaction per batch.

For each event: field validation at the edge (domain.events), the idempotency check
(same reporter + id: duplicate if identical, conflict otherwise), the integrity rules and the
state machine (domain.decide), the ingest-time compliance flags (domain.ingest_rules), then a
Merkle leaf and the projection rows. The batch commits as one transaction: an acknowledged event
is durable, and a retried batch stores nothing twice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from battrace.domain.decide import Decision, Flag, decide, fold_code, fold_vehicle, stamp
from battrace.domain.events import (
    Event,
    Reason,
    ValidationContext,
    from_us,
    to_us,
    validate_event,
)
from battrace.domain.ingest_rules import FlagContext, IngestRules
from battrace.domain.lifecycle import Battery, Vehicle, parts_of, vin_of
from battrace.domain.registry import Registry
from battrace.domain.rules import RULES
from battrace.domain.vocab import EventType
from battrace.ledger.canonical import CanonicalizationError
from battrace.ledger.checkpoint import Checkpoint, sign_checkpoint
from battrace.ledger.documents import leaf_data_from_canonical
from battrace.ledger.keys import NoteSigner
from battrace.ledger.merkle import Frontier, leaf_hash
from battrace.services.common import canonical, registry_from, revive, rfc3339
from battrace.store.rows import StoredEvent
from battrace.store.sql import SqlStore
from battrace.store.writer import Head, Writer

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The platform's clock (the one place ingest reads the time; tests pass their own)."""
    return dt.datetime.now(dt.UTC)


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


class NoRules:
    """Raise no flags (a store without a policy, e.g. in narrow tests)."""

    policy_version = "none"

    def flags(self, ev: Event, ctx: FlagContext) -> list[Flag]:
        """No findings."""
        return []


class _Batch:
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
        self.flag_context: FlagContext


class Ingestor:
    """Ingests batches of decoded events into a store."""

    def __init__(
        self,
        store: SqlStore,
        *,
        validation: ValidationContext | None = None,
        rules: IngestRules | NoRules | None = None,
        clock: Clock = utc_now,
        signer: NoteSigner | None = None,
        origin: str = "battrace.example/log",
    ) -> None:
        self.store = store
        self.validation = validation or ValidationContext()
        self.rules = rules or NoRules()
        self.clock = clock
        self.signer = signer
        self.origin = origin
        #: the checkpoint cut after the last batch (signed note), and the frontier before it
        self.last_checkpoint: str | None = None
        self.last_start: Frontier = Frontier()
        self._registry: Registry | None = None
        self._registry_version = -1

    # ------------------------------------------------------------ public
    def ingest(self, raws: Sequence[Any], *, first_index: int = 0) -> list[EventResult]:
        """Ingest one batch in one transaction; a result per input, in order."""
        now = self.clock()
        return self.commit(raws, self.check(raws, now), now, first_index=first_index)

    def check(self, raws: Sequence[Any], now: dt.datetime) -> list[Event | list[Reason]]:
        """Field validation of a batch received at `now` (no store access: can run anywhere)."""
        ctx = ValidationContext(
            tables=self.validation.tables,
            applications=self.validation.applications,
            trusted=self.validation.trusted,
            received_at=now,
        )
        return [
            [Reason("(json)", None, f"not valid JSON: {r.message}")]
            if isinstance(r, _BadJson)
            else validate_event(r, ctx)
            for r in raws
        ]

    def commit(
        self,
        raws: Sequence[Any],
        checked: Sequence[Event | list[Reason]],
        now: dt.datetime,
        *,
        first_index: int = 0,
    ) -> list[EventResult]:
        """Decide and store a validated batch in one transaction."""
        results: list[EventResult | None] = [None] * len(raws)
        for i, (raw, c) in enumerate(zip(raws, checked, strict=True)):
            if isinstance(c, list):
                rid, rep = _ident(raw)
                results[i] = EventResult(first_index + i, rid, rep, "rejected", c)
        valid = [(i, c) for i, c in enumerate(checked) if isinstance(c, Event)]
        with self.store.writer() as w:
            registry = self._registry_for(w)
            self._run(w, registry, valid, results, first_index, to_us(now))
        return [r for r in results if r is not None]

    def parse_line(self, line: bytes) -> Any:
        """Decode one JSONL line; a marker object when it is not JSON."""
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            return _BadJson(str(exc))

    # ------------------------------------------------------------ the batch
    def _registry_for(self, w: Writer) -> Registry:
        if self._registry is None or self._registry_version != w.head.registry_version:
            self._registry = self._rebuild_registry(w)
            self._registry_version = w.head.registry_version
        return self._registry

    def _rebuild_registry(self, w: Writer) -> Registry:
        return registry_from(w.registry_events(), self.validation)

    def _run(
        self,
        w: Writer,
        registry: Registry,
        valid: list[tuple[int, Event]],
        results: list[EventResult | None],
        first_index: int,
        now_us: int,
    ) -> None:
        batch = _Batch()
        batch.flag_context = FlagContext(
            {}, {}, None, None, registry, from_us(now_us), lambda c: self._lookup(w, batch, c)
        )
        existing = w.existing(ev.key for _, ev in valid)
        codes = {c for _, ev in valid for c, _ in parts_of(ev)}
        vins = {v for _, ev in valid if (v := vin_of(ev))}
        loaded = w.load_batteries(codes)
        batch.batteries = {c: loaded.get(c) for c in codes}
        loaded_v = w.load_vehicles(vins)
        batch.vehicles = {v: loaded_v.get(v) for v in vins}
        frontier = Frontier.from_bytes(w.head.frontier) if w.head.tree_size else Frontier()
        self.last_start = frontier.copy()
        self.last_checkpoint = None
        reg_before = registry.copy()
        self._frontier = frontier
        self._reg_changed = False
        try:
            for i, ev in valid:
                results[i] = self._one(w, registry, batch, ev, existing, first_index + i, now_us)
            self._flush(w, batch)
            if self._reg_changed:
                w.write_registry(registry)
            head = Head(
                frontier.size,
                frontier.to_bytes(),
                w.head.registry_version + (1 if self._reg_changed else 0),
            )
            w.update_head(head, now_us=now_us)
            if self.signer is not None and frontier.size > self.last_start.size:
                self.last_checkpoint = self._checkpoint(w, frontier, now_us)
        except BaseException:
            self._registry = reg_before
            raise
        self._registry_version = head.registry_version

    def _checkpoint(self, w: Writer, frontier: Frontier, now_us: int) -> str:
        """Sign and store the tree head after the batch, in the batch's transaction."""
        assert self.signer is not None
        root = frontier.root()
        cp = Checkpoint(self.origin, frontier.size, root, from_us(now_us))
        note = sign_checkpoint(cp, self.signer)
        w.insert_checkpoint(frontier.size, root, now_us, note)
        return note

    def _one(
        self,
        w: Writer,
        registry: Registry,
        batch: _Batch,
        ev: Event,
        existing: dict[tuple[str, str], StoredEvent],
        index: int,
        now_us: int,
    ) -> EventResult:
        try:
            body = canonical(
                ev.payload,
                plain=ev.plain_numbers and ev.type is not EventType.CORRECTION,
                integral_floats=ev.integral_floats,
            )
        except CanonicalizationError as exc:
            return EventResult(
                index, ev.id, ev.reporter, "rejected", [Reason("(event)", None, str(exc))]
            )
        dup = self._duplicate(ev, body, existing, batch, index)
        if dup is not None:
            return dup
        if ev.type is EventType.CORRECTION:
            return self._correct(w, registry, batch, ev, body, index, now_us)
        decision, before, v_before = self._decide(w, registry, batch, ev, self._frontier.size)
        if not decision.accepted:
            self._stage_flags(batch, ev, decision.flags, None, now_us)
            batch.seen[ev.key] = (body, None, None)
            return EventResult(
                index,
                ev.id,
                ev.reporter,
                "rejected",
                decision.reasons,
                flags=[f.rule for f in decision.flags],
            )
        recorded_us = to_us(ev.recorded_at) if ev.recorded_at else now_us
        seq, lh = self._append(batch, ev, body, recorded_us)
        self._apply(batch, decision)
        if decision.registry_changed:
            self._reg_changed = True
        ctx = batch.flag_context
        ctx.before, ctx.after, ctx.vehicle_before = before, decision.batteries, v_before
        ctx.vehicle_after, ctx.registry = decision.vehicle, registry
        ctx.recorded_at = from_us(recorded_us)
        flags = self.rules.flags(ev, ctx)
        if flags:
            self._stage_flags(batch, ev, flags, seq, now_us)
        batch.seen[ev.key] = (body, seq, lh)
        return EventResult(
            index,
            ev.id,
            ev.reporter,
            "accepted",
            seq=seq,
            leaf_hash=lh,
            flags=[f.rule for f in flags] if flags else [],
            recorded_at=rfc3339(recorded_us),
        )

    def _duplicate(
        self,
        ev: Event,
        body: bytes,
        existing: dict[tuple[str, str], StoredEvent],
        batch: _Batch,
        index: int,
    ) -> EventResult | None:
        stored = existing.get(ev.key)
        seq: int | None
        lh: bytes | None
        if stored is not None:
            same = stored.payload.encode() == body
            seq, lh = stored.seq, stored.leaf_hash
        elif ev.key in batch.seen:
            prev_body, seq, lh = batch.seen[ev.key]
            if seq is None:  # the earlier copy was rejected: judge this one afresh
                return None
            same = prev_body == body
        else:
            return None
        if same:
            return EventResult(index, ev.id, ev.reporter, "duplicate", seq=seq, leaf_hash=lh)
        return EventResult(
            index,
            ev.id,
            ev.reporter,
            "rejected",
            [
                Reason(
                    "id",
                    None,
                    f"{ev.reporter} already used id {ev.id!r} for a different event (leaf "
                    f"{seq}): ids are idempotency keys; correct that event or use a new id",
                )
            ],
        )

    def _decide(
        self, w: Writer, registry: Registry, batch: _Batch, ev: Event, seq: int
    ) -> tuple[Decision, dict[str, Battery | None], Vehicle | None]:
        """Decide `ev` as the event at log position `seq`; its subjects' states are stamped."""
        parts = parts_of(ev)
        before = {c: batch.batteries.get(c) for c, _ in parts}
        vin = vin_of(ev)
        v_before = batch.vehicles.get(vin) if vin else None
        t = ev.time_us
        late = v_before is not None and v_before.last_us > t
        if not late:
            for b in before.values():
                if b is not None and b.last_us > t:
                    late = True
                    break
        if late:
            return self._decide_late(w, registry, batch, ev, seq)
        decision = decide(ev, before=before, vehicle=v_before, registry=registry)
        for code, b in decision.batteries.items():
            stamp(b, seq, ev.time_us, new=before.get(code) is None)
        if decision.vehicle is not None:
            stamp(decision.vehicle, seq, ev.time_us, new=v_before is None)
        return decision, before, v_before

    def _decide_late(
        self, w: Writer, registry: Registry, batch: _Batch, ev: Event, seq: int
    ) -> tuple[Decision, dict[str, Battery | None], Vehicle | None]:
        """An event earlier than what its subjects have seen: refold their timelines."""
        self._flush(w, batch)
        codes = list(dict.fromkeys(c for c, _ in parts_of(ev)))
        vin = vin_of(ev)
        earlier: dict[str, list[tuple[int, Event]]] = {}
        later: dict[str, list[tuple[int, Event]]] = {}
        for subject in [*codes, *([f"vin:{vin}"] if vin else [])]:
            stored = (
                w.timeline(vin=subject[4:])
                if subject.startswith("vin:")
                else w.timeline(code=subject)
            )
            steps = [(s.seq, self._revive(s)) for s in stored]
            earlier[subject] = [(q, e) for q, e in steps if e.time_us <= ev.time_us]
            later[subject] = [(q, e) for q, e in steps if e.time_us > ev.time_us]
        before: dict[str, Battery | None] = {}
        for code in codes:
            static = batch.batteries.get(code)
            before[code] = fold_code(code, earlier[code], registry, static=static).state
        v_before = fold_vehicle(vin, earlier[f"vin:{vin}"], registry).state if vin else None
        decision = decide(ev, before=before, vehicle=v_before, registry=registry)
        if not decision.accepted:
            return decision, before, v_before
        # The event fits at its time: every later event must still fit after it.
        for code in codes:
            start = decision.batteries.get(code)
            if start is None:
                continue
            start = start.copy()
            stamp(start, seq, ev.time_us, new=before[code] is None)
            fold = fold_code(
                code, later[code], registry, start=start, static=batch.batteries.get(code)
            )
            if fold.failed:
                decision.reasons.append(_conflict(ev, fold.failed))
            else:
                decision.batteries[code] = fold.state
        if vin and decision.vehicle is not None:
            start_v = decision.vehicle.copy()
            stamp(start_v, seq, ev.time_us, new=v_before is None)
            fold = fold_vehicle(vin, later[f"vin:{vin}"], registry, start=start_v)
            if fold.failed:
                decision.reasons.append(_conflict(ev, fold.failed))
            else:
                decision.vehicle = fold.state
        return decision, before, v_before

    # ------------------------------------------------------------ corrections
    def _correct(
        self,
        w: Writer,
        registry: Registry,
        batch: _Batch,
        ev: Event,
        body: bytes,
        index: int,
        now_us: int,
    ) -> EventResult:
        """Withdraw the target (and apply a replacement): refold what it touched, or reject."""
        p = ev.payload
        self._flush(w, batch)
        target = w.event_by_key(ev.reporter, p["target"])
        problem = self._correction_problem(w, ev, target)
        if problem is not None:
            return EventResult(index, ev.id, ev.reporter, "rejected", [problem])
        assert target is not None
        replacement = p.get("replacement")
        saved = (self._frontier.copy(), registry.copy(), self._reg_changed)
        w.savepoint()
        seq, lh = self._append(batch, ev, body, to_us(ev.recorded_at) if ev.recorded_at else now_us)
        self._flush(w, batch)
        w.insert_withdrawals([(target.seq, seq)])
        reasons = self._refold_after_withdrawal(w, registry, batch, self._revive(target))
        rep_result: EventResult | None = None
        if not reasons and replacement is not None:
            rep_result = self._replacement(w, registry, batch, ev, replacement, index, now_us)
            if rep_result.status != "accepted":
                reasons = [
                    Reason(f"replacement.{r.field}", r.rule, r.message) for r in rep_result.reasons
                ] or [Reason("replacement", None, f"was {rep_result.status}")]
        if reasons:
            w.rollback_to_savepoint()
            self._frontier, reg, self._reg_changed = saved
            registry.__dict__.update(reg.__dict__)
            self._reload_overlay(w, batch)
            return EventResult(index, ev.id, ev.reporter, "rejected", reasons)
        w.release_savepoint()
        w.withdraw_findings(target.seq, at_us=now_us, reason=f"corrected by {ev.id}: {p['reason']}")
        batch.seen[ev.key] = (body, seq, lh)
        recorded = rfc3339(to_us(ev.recorded_at) if ev.recorded_at else now_us)
        return EventResult(
            index, ev.id, ev.reporter, "accepted", seq=seq, leaf_hash=lh, recorded_at=recorded
        )

    def _correction_problem(
        self, w: Writer, ev: Event, target: StoredEvent | None
    ) -> Reason | None:
        tid = ev.payload["target"]
        if target is None:
            return Reason("target", None, f"{ev.reporter} reported no event with id {tid!r}")
        if target.type == EventType.CORRECTION.value:
            return Reason("target", None, "a correction cannot be corrected: report anew")
        if w.is_withdrawn(target.seq):
            return Reason("target", None, f"event {tid!r} was already withdrawn")
        rep = ev.payload.get("replacement")
        if rep is not None and rep.get("reporter") != ev.reporter:
            return Reason("replacement.reporter", "BT-004", "must be the correction's reporter")
        return None

    def _refold_after_withdrawal(
        self, w: Writer, registry: Registry, batch: _Batch, target: Event
    ) -> list[Reason]:
        if target.type.is_registry:
            rebuilt = self._rebuild_registry(w)
            registry.__dict__.update(rebuilt.__dict__)
            self._reg_changed = True
            return []
        reasons: list[Reason] = []
        for code in dict.fromkeys(c for c, _ in parts_of(target)):
            steps = [(s.seq, self._revive(s)) for s in w.timeline(code=code)]
            fold = fold_code(code, steps, registry, static=batch.batteries.get(code))
            if fold.failed:
                reasons.append(_dependent(target, fold.failed))
            else:
                batch.batteries[code] = fold.state
                batch.dirty_codes.add(code)
        vin = vin_of(target)
        if vin:
            steps = [(s.seq, self._revive(s)) for s in w.timeline(vin=vin)]
            fold = fold_vehicle(vin, steps, registry)
            if fold.failed:
                reasons.append(_dependent(target, fold.failed))
            else:
                batch.vehicles[vin] = fold.state
                batch.dirty_vins.add(vin)
        return reasons

    def _replacement(
        self,
        w: Writer,
        registry: Registry,
        batch: _Batch,
        correction: Event,
        raw: dict[str, Any],
        index: int,
        now_us: int,
    ) -> EventResult:
        ctx = ValidationContext(
            tables=self.validation.tables,
            applications=self.validation.applications,
            trusted=self.validation.trusted,
            received_at=from_us(now_us),
        )
        checked = validate_event(raw, ctx)
        if isinstance(checked, list):
            return EventResult(index, None, None, "rejected", checked)
        if checked.type is EventType.CORRECTION:
            return EventResult(
                index,
                checked.id,
                checked.reporter,
                "rejected",
                [Reason("type", None, "a replacement cannot be a correction")],
            )
        missing = {c for c, _ in parts_of(checked)} - batch.batteries.keys()
        if missing:
            loaded = w.load_batteries(missing)
            batch.batteries.update({c: loaded.get(c) for c in missing})
        vin = vin_of(checked)
        if vin and vin not in batch.vehicles:
            batch.vehicles[vin] = w.load_vehicles([vin]).get(vin)
        existing = w.existing([checked.key])
        return self._one(w, registry, batch, checked, existing, index, now_us)

    def _reload_overlay(self, w: Writer, batch: _Batch) -> None:
        loaded = w.load_batteries(batch.batteries)
        batch.batteries = {c: loaded.get(c) for c in batch.batteries}
        loaded_v = w.load_vehicles(batch.vehicles)
        batch.vehicles = {v: loaded_v.get(v) for v in batch.vehicles}
        batch.dirty_codes.clear()
        batch.dirty_vins.clear()

    # ------------------------------------------------------------ staging
    def _append(self, batch: _Batch, ev: Event, body: bytes, recorded_us: int) -> tuple[int, bytes]:
        """Give `ev` its leaf: position, hash, completed Merkle nodes; stage its rows."""
        seq = self._frontier.size
        lh = event_leaf(body, recorded_us, ev.reporter)
        nodes = self._frontier.append(lh)
        p = ev.payload
        primary = p.get("battery") if not ev.type.is_registry else None
        batch.events.append(
            (
                seq,
                ev.reporter,
                ev.id,
                ev.type.value,
                primary,
                vin_of(ev),
                ev.time_us,
                recorded_us,
                body.decode(),
                lh,
                nodes,
            )
        )
        parts = parts_of(ev)
        if len(parts) > 1 or (parts and parts[0][0] != primary):
            for code in dict.fromkeys(c for c, _ in parts):
                if code != primary:
                    batch.codes.append((code, seq))
        return seq, lh

    def _apply(self, batch: _Batch, decision: Decision) -> None:
        for code, b in decision.batteries.items():
            batch.batteries[code] = b
            batch.dirty_codes.add(code)
        if decision.vehicle is not None:
            batch.vehicles[decision.vehicle.vin] = decision.vehicle
            batch.dirty_vins.add(decision.vehicle.vin)

    def _stage_flags(
        self, batch: _Batch, ev: Event, flags: Iterable[Flag], seq: int | None, now_us: int
    ) -> None:
        for f in flags:
            zh, en = RULES[f.rule].render(f.facts)
            keys = [f"{ev.reporter}/{ev.id}"]
            detail = dict(f.facts)
            if seq is None:
                detail["rejected_event"] = ev.payload
            batch.findings.append(
                {
                    "rule": f.rule,
                    "severity": RULES[f.rule].severity.value,
                    "enterprise": f.enterprise,
                    "codes": json.dumps(list(f.codes)),
                    "vins": json.dumps(list(f.vins)),
                    "events": json.dumps(keys),
                    "subject_key": f"{f.subject_key}#{ev.reporter}/{ev.id}",
                    "trigger_seq": seq,
                    "found_us": now_us,
                    "as_of": None,
                    "message_zh": zh,
                    "message_en": en,
                    "status": "open",
                    "policy_version": self.rules.policy_version,
                    "detail": json.dumps(
                        {
                            **detail,
                            "evidence_seqs": [*f.evidence, *([seq] if seq is not None else [])],
                        },
                        ensure_ascii=False,
                        default=str,
                    ),
                }
            )

    def _flush(self, w: Writer, batch: _Batch) -> None:
        """Write what is staged (still inside the transaction)."""
        w.insert_events(batch.events)
        w.insert_event_codes(batch.codes)
        w.upsert_batteries(b for c in batch.dirty_codes if (b := batch.batteries.get(c)))
        for code in batch.dirty_codes:
            if batch.batteries.get(code) is None:
                w.delete_battery(code)
        w.upsert_vehicles(v for x in batch.dirty_vins if (v := batch.vehicles.get(x)))
        for vin in batch.dirty_vins:
            if batch.vehicles.get(vin) is None:
                w.delete_vehicle(vin)
        w.insert_findings(batch.findings)
        batch.events.clear()
        batch.codes.clear()
        batch.findings.clear()
        batch.dirty_codes.clear()
        batch.dirty_vins.clear()

    def _lookup(self, w: Writer, batch: _Batch, code: str) -> Battery | None:
        if code not in batch.batteries:
            batch.batteries[code] = w.load_batteries([code]).get(code)
        return batch.batteries[code]

    def _revive(self, stored: StoredEvent) -> Event:
        return revive(stored, self.validation)


class _BadJson:
    """A line that is not JSON (kept so its result says so)."""

    def __init__(self, message: str) -> None:
        self.message = message


def _ident(raw: Any) -> tuple[str | None, str | None]:
    if isinstance(raw, dict):
        rid, rep = raw.get("id"), raw.get("reporter")
        return (rid if isinstance(rid, str) else None, rep if isinstance(rep, str) else None)
    return None, None


def _conflict(ev: Event, failed: tuple[int, Event, list[Reason]]) -> Reason:
    seq, later, reasons = failed
    why = "; ".join(r.message for r in reasons)
    return Reason(
        "time",
        reasons[0].rule if reasons else None,
        f"this {ev.type.value} at {ev.payload['time']} would invalidate the later "
        f"{later.type.value} {later.reporter}/{later.id} (leaf {seq}): {why}",
    )


def _dependent(target: Event, failed: tuple[int, Event, list[Reason]]) -> Reason:
    seq, later, reasons = failed
    why = "; ".join(r.message for r in reasons)
    return Reason(
        "target",
        reasons[0].rule if reasons else None,
        f"withdrawing {target.id} would invalidate {later.type.value} {later.reporter}/"
        f"{later.id} (leaf {seq}): {why}; correct that event first",
    )
