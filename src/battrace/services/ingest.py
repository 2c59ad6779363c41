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
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from battrace.domain.decide import (
    Decision,
    Flag,
    collected_before,
    decide,
    fold_code,
    fold_vehicle,
    stamp,
)
from battrace.domain.events import Event, Reason, ValidationContext, from_us, to_us
from battrace.domain.fields import nests_deeper
from battrace.domain.ingest_rules import FlagContext, IngestRules
from battrace.domain.lifecycle import Battery, Vehicle, parts_of, vin_of
from battrace.domain.registry import Registry
from battrace.domain.rules import RULES
from battrace.domain.vocab import EventType
from battrace.ledger.canonical import CanonicalizationError
from battrace.ledger.checkpoint import Checkpoint, sign_checkpoint
from battrace.ledger.keys import NoteSigner
from battrace.ledger.merkle import Frontier
from battrace.services.batch import (
    GC_YOUNG_THRESHOLD,
    Batch,
    EventResult,
    NoRules,
    canonical_event,
    check_batch,
    count_event,
    event_leaf,
    fewer_collections,
    ident,
    recorded_us_of,
)
from battrace.services.clock import Clock, utc_now
from battrace.services.common import registry_from, revive, rfc3339
from battrace.services.corrections import correct
from battrace.store.rows import StoredEvent
from battrace.store.sql import SqlStore
from battrace.store.writer import Head, Writer, is_key_conflict

__all__ = [
    "GC_YOUNG_THRESHOLD",
    "EventResult",
    "Ingestor",
    "check_batch",
    "event_leaf",
    "fewer_collections",
]

#: A batch of at least this many events is decided without first asking the store which of
#: its idempotency keys it holds (one index probe per event). A stored key still cannot pass:
#: an event decided as accepted again meets the database's unique key when it is written, and
#: the keys of the events decided as rejected are looked up after the loop (few, normally);
#: either way the batch is rolled back and decided again with the keys looked up first.
OPTIMISTIC_MIN = 500

#: a refused event is kept in its finding's detail unless it nests deeper than this (a valid
#: event nests 3 levels; the stored detail must stay writable and readable as JSON)
REJECTED_DEPTH = 16


class _StoredKey(Exception):
    """A batch decided without the idempotency lookup holds a key the store already has."""


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
        #: the checkpoint cut after the last batch (signed note), the frontier before it and
        #: the leaf hashes the batch appended (receipts are built from these in memory)
        self.last_checkpoint: str | None = None
        self.last_start: Frontier = Frontier()
        self.last_leaves: list[bytes] = []
        self.last_blobs: list[bytes] = []  # what the frontier completed with each leaf
        self._registry: Registry | None = None
        self._registry_version = -1

    # ------------------------------------------------------------ public
    def ingest(self, raws: Sequence[Any], *, first_index: int = 0) -> list[EventResult]:
        """Ingest one batch in one transaction; a result per input, in order."""
        with fewer_collections():
            now = self.clock()
            return self.commit(raws, self.check(raws, now), now, first_index=first_index)

    def check(self, raws: Sequence[Any], now: dt.datetime) -> list[Event | list[Reason]]:
        """Field validation of a batch received at `now` (no store access: can run anywhere)."""
        return check_batch(self.validation, raws, now)

    def commit(
        self,
        raws: Sequence[Any],
        checked: Sequence[Event | list[Reason]],
        now: dt.datetime,
        *,
        first_index: int = 0,
    ) -> list[EventResult]:
        """Decide and store a validated batch in one transaction."""
        refusals: list[EventResult | None] = [None] * len(raws)
        refused: list[tuple[tuple[str, str], Any, list[Flag]]] = []
        for i, (raw, c) in enumerate(zip(raws, checked, strict=True)):
            if isinstance(c, list):
                rid, rep = ident(raw)
                flags = self.rules.rejected(raw)
                refusals[i] = EventResult(
                    first_index + i, rid, rep, "rejected", c, flags=[f.rule for f in flags]
                )
                if flags:
                    refused.append(((rep or "?", rid or "?"), raw, flags))
        valid = [(i, c) for i, c in enumerate(checked) if isinstance(c, Event)]
        now_us = to_us(now)
        for lookup in (len(valid) < OPTIMISTIC_MIN, True):
            results = list(refusals)
            try:
                with self.store.writer() as w:
                    registry = self._registry_for(w)
                    self._run(w, registry, valid, results, first_index, now_us, refused, lookup)
                break
            except Exception as exc:  # rolled back: decide it again, keys looked up first
                if lookup or not (isinstance(exc, _StoredKey) or is_key_conflict(exc)):
                    raise
        return [r for r in results if r is not None]

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
        refused: list[tuple[tuple[str, str], Any, list[Flag]]],
        lookup: bool,
    ) -> None:
        """Decide and write a batch; `lookup`: ask first which of its keys are stored (if
        not, see OPTIMISTIC_MIN)."""
        batch = Batch()
        for key, raw, flags in refused:
            self._stage_flags(batch, key, raw, flags, None, now_us)
        batch.flag_context = FlagContext(
            {}, {}, None, None, registry, from_us(now_us), lambda c: self._lookup(w, batch, c)
        )
        existing = w.existing(ev.key for _, ev in valid) if lookup else {}
        codes = {c for _, ev in valid for c, _ in parts_of(ev)}
        vins = {v for _, ev in valid if (v := vin_of(ev))}
        loaded = w.load_batteries(codes)
        batch.batteries = {c: loaded.get(c) for c in codes}
        loaded_v = w.load_vehicles(vins)
        batch.vehicles = {v: loaded_v.get(v) for v in vins}
        self._frontier = Frontier.from_bytes(w.head.frontier) if w.head.tree_size else Frontier()
        self.last_start = self._frontier.copy()
        self.last_checkpoint = None
        self.last_leaves = []
        self.last_blobs = []
        reg_before = registry.copy()
        self._reg_changed = False
        try:
            for i, ev in valid:
                results[i] = self._one(w, registry, batch, ev, existing, first_index + i, now_us)
            _note_withdrawn_duplicates(w, results)
            if not lookup and self._rejected_keys_stored(w, valid, results):
                raise _StoredKey
            self._flush(w, batch)  # an accepted event with a stored key fails here
            if self._reg_changed:
                w.write_registry(registry)
            # read only now: a correction rolled back within the batch puts back the
            # frontier it saved (a new object), so no alias from before the loop is valid
            frontier = self._frontier
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
        finally:
            del batch.flag_context  # its lookup closes over the batch: no cycle left for the GC
        self._registry_version = head.registry_version

    @staticmethod
    def _rejected_keys_stored(
        w: Writer, valid: list[tuple[int, Event]], results: list[EventResult | None]
    ) -> bool:
        """True when an event of the batch was rejected but its key is stored already (it
        should have been a duplicate, or a conflict). Keys this batch accepted are left out:
        rows written mid-batch (before a late event or a correction) are the batch's own."""
        rejected = [ev.key for i, ev in valid if (r := results[i]) and r.status == "rejected"]
        if not rejected:  # the usual batch: no set of the accepted keys to build
            return False
        accepted = {ev.key for i, ev in valid if (r := results[i]) and r.status == "accepted"}
        keys = [k for k in rejected if k not in accepted]
        return bool(keys) and bool(w.existing(keys))

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
        batch: Batch,
        ev: Event,
        existing: dict[tuple[str, str], StoredEvent],
        index: int,
        now_us: int,
        *,
        reported_us: int | None = None,
        refold: bool = False,
    ) -> EventResult:
        """Decide and stage one event. `reported_us`: when the information was first reported
        (a correction's replacement stands in for its target: lateness is judged from it).
        `refold`: decide it from its subjects' stored timelines, as a late event is, whatever
        its time (a replacement after its target was withdrawn from them)."""
        try:
            body = ev.body if ev.body is not None else canonical_event(ev)
        except CanonicalizationError as exc:
            return EventResult(
                index, ev.id, ev.reporter, "rejected", [Reason("(event)", None, str(exc))]
            )
        dup = self._duplicate(ev, body, existing, batch, index)
        if dup is not None:
            return dup
        if ev.type is EventType.CORRECTION:
            return correct(self, w, registry, batch, ev, body, index, now_us)
        if refold:
            decision, before, v_before = self._decide_late(
                w, registry, batch, ev, self._frontier.size
            )
        else:
            decision, before, v_before = self._decide(w, registry, batch, ev, self._frontier.size)
        if not decision.accepted:
            self._stage_flags(batch, ev.key, ev.payload, decision.flags, None, now_us)
            batch.seen[ev.key] = (body, None, None)
            return EventResult(
                index,
                ev.id,
                ev.reporter,
                "rejected",
                decision.reasons,
                flags=[f.rule for f in decision.flags],
            )
        recorded_us = recorded_us_of(ev, now_us)
        seq, lh = self._append(batch, ev, body, recorded_us)
        self._apply(batch, decision)
        if decision.registry_changed:
            self._reg_changed = True
            if ev.type is EventType.MANUFACTURER_CODE_ASSIGNED:
                self._oblige_parts(w, batch, ev.payload)
        ctx = batch.flag_context
        ctx.before, ctx.after, ctx.vehicle_before = before, decision.batteries, v_before
        ctx.vehicle_after, ctx.registry = decision.vehicle, registry
        ctx.recorded_at = _moment(recorded_us if reported_us is None else reported_us)
        flags = self.rules.flags(ev, ctx)
        if flags:
            self._stage_flags(batch, ev.key, ev.payload, flags, seq, now_us)
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
        batch: Batch,
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
        self, w: Writer, registry: Registry, batch: Batch, ev: Event, seq: int
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
        if late and ev.type is EventType.PRODUCED and before.get(ev.payload["battery"]):
            # a code produced again is a suspected clone whatever time it claims: judged
            # against the code on record (BT-003), not refolded as if it came first
            late = False
        if late:
            return self._decide_late(w, registry, batch, ev, seq)
        decision = decide(ev, before=before, vehicle=v_before, registry=registry)
        for code, b in decision.batteries.items():
            stamp(b, seq, ev.time_us, new=before.get(code) is None)
        if decision.vehicle is not None:
            stamp(decision.vehicle, seq, ev.time_us, new=v_before is None)
        return decision, before, v_before

    def _oblige_parts(self, w: Writer, batch: Batch, p: dict[str, Any]) -> None:
        """A manufacturer code's new owner is obligated for the parts of it freed by
        dismantling before it had one, as a fold with today's registry (`rebuild`, `trace
        --as-of`) makes it: in the store, and in the states this batch holds."""
        mc, owner = p["manufacturer_code"], p["enterprise"]
        self._flush(w, batch)
        w.oblige_unobligated(mc, owner)
        for code, b in batch.batteries.items():
            if b is not None and b.obligated is None and b.manufacturer == mc:
                nb = b.copy()
                nb.obligated = owner
                batch.batteries[code] = nb

    def _decide_late(
        self, w: Writer, registry: Registry, batch: Batch, ev: Event, seq: int
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
        unfit: list[Reason] = []  # stored events always fit, unless a correction withdrew one
        for code in codes:
            fold = fold_code(code, earlier[code], registry, static=batch.batteries.get(code))
            before[code] = fold.state
            if fold.failed:
                unfit.append(_conflict(ev, fold.failed, later=False))
        v_before = None
        if vin:
            v_fold = fold_vehicle(vin, earlier[f"vin:{vin}"], registry)
            v_before = v_fold.state
            if v_fold.failed:
                unfit.append(_conflict(ev, v_fold.failed, later=False))
        if unfit:
            return Decision(unfit), before, v_before
        decision = decide(ev, before=before, vehicle=v_before, registry=registry)
        if not decision.accepted:
            return decision, before, v_before
        # The event fits at its time: every later event must still fit after it.
        for code in codes:
            start = decision.batteries.get(code)
            if start is None:
                continue
            nxt = later[code][0][1] if later[code] else None
            if again := collected_before(ev, code, nxt):
                decision.reasons += again
                continue
            start = start.copy()
            stamp(start, seq, ev.time_us, new=before[code] is None)
            fold = fold_code(
                code,
                later[code],
                registry,
                start=start,
                static=batch.batteries.get(code),
                collections=ev.type is EventType.COLLECTED,
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

    # ------------------------------------------------------------ staging
    def _append(self, batch: Batch, ev: Event, body: bytes, recorded_us: int) -> tuple[int, bytes]:
        """Give `ev` its leaf: position, hash, completed Merkle nodes; stage its rows."""
        seq = self._frontier.size
        pre = ev.leaf
        if pre is not None and pre[0] == recorded_us and body is ev.body:
            lh = pre[1]
        else:
            lh = event_leaf(body, recorded_us, ev.reporter)
        nodes = self._frontier.append(lh)
        self.last_leaves.append(lh)
        self.last_blobs.append(nodes)
        count_event(batch.stats, ev)
        p = ev.payload
        primary = p.get("battery") if not ev.type.is_registry else None
        batch.events.append(
            (
                seq,
                ev.reporter,
                ev.id,
                ev.type._value_,  # `.value` is a slow property; `_value_` is the same str
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

    def _apply(self, batch: Batch, decision: Decision) -> None:
        for code, b in decision.batteries.items():
            batch.batteries[code] = b
            batch.dirty_codes.add(code)
        if decision.vehicle is not None:
            batch.vehicles[decision.vehicle.vin] = decision.vehicle
            batch.dirty_vins.add(decision.vehicle.vin)

    def _stage_flags(
        self,
        batch: Batch,
        key: tuple[str, str],
        payload: Any,
        flags: Iterable[Flag],
        seq: int | None,
        now_us: int,
    ) -> None:
        """Stage findings raised by the event `key` (stored at `seq`, or refused: None)."""
        reporter, event_id = key
        for f in flags:
            zh, en = RULES[f.rule].render(f.facts)
            keys = [f"{reporter}/{event_id}"]
            detail = dict(f.facts)
            if seq is None:  # the refused event itself, unless it nests past any valid one
                detail["rejected_event"] = (
                    payload
                    if not nests_deeper(payload, REJECTED_DEPTH)
                    else f"(not kept: nests deeper than {REJECTED_DEPTH} levels)"
                )
            batch.findings.append(
                {
                    "rule": f.rule,
                    "severity": RULES[f.rule].severity.value,
                    "enterprise": f.enterprise,
                    "codes": json.dumps(list(f.codes)),
                    "vins": json.dumps(list(f.vins)),
                    "events": json.dumps(keys),
                    "subject_key": f"{f.subject_key}#{reporter}/{event_id}",
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

    def _flush(self, w: Writer, batch: Batch) -> None:
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
        w.add_stats(batch.stats)
        batch.stats.clear()
        batch.events.clear()
        batch.codes.clear()
        batch.findings.clear()
        batch.dirty_codes.clear()
        batch.dirty_vins.clear()

    def _lookup(self, w: Writer, batch: Batch, code: str) -> Battery | None:
        if code not in batch.batteries:
            batch.batteries[code] = w.load_batteries([code]).get(code)
        return batch.batteries[code]

    def _revive(self, stored: StoredEvent) -> Event:
        return revive(stored, self.validation)


def _note_withdrawn_duplicates(w: Writer, results: Sequence[EventResult | None]) -> None:
    """A duplicate of an event a correction withdrew says so: "duplicate" alone read as if
    the event counted (one query for the batch's duplicates, none without any)."""
    dups = [r for r in results if r is not None and r.status == "duplicate" and r.seq is not None]
    if not dups:
        return
    gone = w.withdrawn_among([r.seq for r in dups if r.seq is not None])
    for r in dups:
        if r.seq in gone:
            r.reasons = [
                Reason(
                    "id",
                    None,
                    f"this event (leaf {r.seq}) was withdrawn by the correction at leaf "
                    f"{gone[r.seq]}: it does not count, and sending it again changes nothing; "
                    "report what happened as a new event with a new id",
                )
            ]


@lru_cache(maxsize=64)
def _moment(us: int) -> dt.datetime:
    """`from_us`, remembered (the events of a batch share their record time)."""
    return from_us(us)


def _conflict(ev: Event, failed: tuple[int, Event, list[Reason]], *, later: bool = True) -> Reason:
    """`ev` at its time leaves a stored event unfit: a later one (or, when a correction has
    withdrawn what it stood on, an earlier one)."""
    seq, other, reasons = failed
    why = "; ".join(r.message for r in reasons)
    where = "would invalidate the later" if later else "leaves unfit the earlier"
    return Reason(
        "time",
        reasons[0].rule if reasons else None,
        f"this {ev.type.value} at {ev.payload['time']} {where} "
        f"{other.type.value} {other.reporter}/{other.id} (leaf {seq}): {why}",
    )
