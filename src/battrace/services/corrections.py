"""Corrections: a correction withdraws its target (both stay in the log), the target's codes and
vehicle are refolded without it, and an optional replacement is applied — all or nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from battrace.domain.decide import fold_code, fold_vehicle
from battrace.domain.events import Event, Reason, ValidationContext, from_us, validate_event
from battrace.domain.lifecycle import parts_of, vin_of
from battrace.domain.registry import Registry
from battrace.domain.vocab import EventType
from battrace.services.batch import Batch, EventResult, count_event, recorded_us_of
from battrace.services.common import registry_checked, rfc3339
from battrace.store.rows import StoredEvent
from battrace.store.writer import Writer

if TYPE_CHECKING:
    from battrace.services.ingest import Ingestor


def correct(
    ing: Ingestor,
    w: Writer,
    registry: Registry,
    batch: Batch,
    ev: Event,
    body: bytes,
    index: int,
    now_us: int,
) -> EventResult:
    """Withdraw the target (and apply a replacement): refold what it touched, or reject."""
    p = ev.payload
    ing._flush(w, batch)
    target = w.event_by_key(ev.reporter, p["target"])
    problem = _correction_problem(w, ev, target)
    if problem is not None:
        return EventResult(index, ev.id, ev.reporter, "rejected", [problem])
    assert target is not None
    replacement = p.get("replacement")
    saved = (ing._frontier.copy(), registry.copy(), ing._reg_changed, len(ing.last_leaves))
    w.savepoint()
    recorded_us = recorded_us_of(ev, now_us)
    seq, lh = ing._append(batch, ev, body, recorded_us)
    ing._flush(w, batch)
    w.insert_withdrawals([(target.seq, seq)])
    withdrawn = ing._revive(target)
    count_event(batch.stats, withdrawn, -1)
    reasons, failed = _refold_after_withdrawal(ing, w, registry, batch, withdrawn)
    rep_result: EventResult | None = None
    if replacement is not None:
        rep_result = _replacement(
            ing,
            w,
            registry,
            batch,
            replacement,
            index,
            now_us,
            reported_us=target.recorded_us,
            failed=failed,
        )
    if rep_result is not None:
        reasons = []
        if rep_result.status != "accepted":
            reasons = [
                Reason(f"replacement.{r.field}", r.rule, r.message) for r in rep_result.reasons
            ] or [Reason("replacement", None, f"was {rep_result.status}")]
    if reasons:
        w.rollback_to_savepoint()
        ing._frontier, reg, ing._reg_changed, appended = saved
        del ing.last_leaves[appended:]
        del ing.last_blobs[appended:]
        for staged in (batch.events, batch.codes, batch.findings):
            staged.clear()  # all of it came after the savepoint (it was flushed just before)
        batch.stats.clear()
        registry.__dict__.update(reg.__dict__)
        _reload_overlay(ing, w, batch)
        return EventResult(index, ev.id, ev.reporter, "rejected", reasons)
    w.release_savepoint()
    w.withdraw_findings(target.seq, at_us=now_us, reason=f"corrected by {ev.id}: {p['reason']}")
    batch.seen[ev.key] = (body, seq, lh)
    recorded = rfc3339(recorded_us)
    return EventResult(
        index, ev.id, ev.reporter, "accepted", seq=seq, leaf_hash=lh, recorded_at=recorded
    )


def _correction_problem(w: Writer, ev: Event, target: StoredEvent | None) -> Reason | None:
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
    ing: Ingestor, w: Writer, registry: Registry, batch: Batch, target: Event
) -> tuple[list[Reason], set[str]]:
    """Refold what the withdrawn `target` touched: the reasons a later event no longer fits,
    and the subjects (codes, `vin:` vehicle) where one does not."""
    if target.type.is_registry:
        rebuilt, refused = registry_checked(w.registry_events(), ing.validation)
        if refused is not None:
            return [_dependent(target, refused)], {"registry"}
        registry.__dict__.update(rebuilt.__dict__)
        ing._reg_changed = True
        return [], set()
    reasons: list[Reason] = []
    failed: set[str] = set()
    codes = list(dict.fromkeys(c for c, _ in parts_of(target)))
    # a correction names no code of its own, so the batch has not loaded the target's: their
    # stored states carry what a lone timeline cannot (`fold_code`'s `static`)
    missing = [c for c in codes if c not in batch.batteries]
    if missing:
        loaded = w.load_batteries(missing)
        batch.batteries.update({c: loaded.get(c) for c in missing})
    for code in codes:
        steps = [(s.seq, ing._revive(s)) for s in w.timeline(code=code)]
        fold = fold_code(code, steps, registry, static=batch.batteries.get(code))
        if fold.failed:
            reasons.append(_dependent(target, fold.failed))
            failed.add(code)
        else:
            batch.batteries[code] = fold.state
            batch.dirty_codes.add(code)
    vin = vin_of(target)
    if vin:
        steps = [(s.seq, ing._revive(s)) for s in w.timeline(vin=vin)]
        fold = fold_vehicle(vin, steps, registry)
        if fold.failed:
            reasons.append(_dependent(target, fold.failed))
            failed.add(f"vin:{vin}")
        else:
            batch.vehicles[vin] = fold.state
            batch.dirty_vins.add(vin)
    return reasons, failed


def _replacement(
    ing: Ingestor,
    w: Writer,
    registry: Registry,
    batch: Batch,
    raw: dict[str, Any],
    index: int,
    now_us: int,
    *,
    reported_us: int,
    failed: set[str],
) -> EventResult | None:
    """Apply a correction's replacement as its own event; its lateness (BT-020) is judged from
    when the target was reported, since it stands in for that report. `failed`: the subjects
    where a later event does not fit without the target; the later events may fit with the
    replacement in its place, so one that names them all is decided from the stored
    timelines (the target withdrawn) and must leave every later event fitting, as a late event
    must. None when it does not name them all: the withdrawal's reasons stand."""
    ctx = ValidationContext(
        tables=ing.validation.tables,
        applications=ing.validation.applications,
        trusted=ing.validation.trusted,
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
    codes = {c for c, _ in parts_of(checked)}
    vin = vin_of(checked)
    if not failed <= codes | ({f"vin:{vin}"} if vin else set()):
        return None
    missing = codes - batch.batteries.keys()
    if missing:
        loaded = w.load_batteries(missing)
        batch.batteries.update({c: loaded.get(c) for c in missing})
    if vin and vin not in batch.vehicles:
        batch.vehicles[vin] = w.load_vehicles([vin]).get(vin)
    existing = w.existing([checked.key])
    return ing._one(
        w,
        registry,
        batch,
        checked,
        existing,
        index,
        now_us,
        reported_us=reported_us,
        refold=bool(failed),
    )


def _reload_overlay(ing: Ingestor, w: Writer, batch: Batch) -> None:
    loaded = w.load_batteries(batch.batteries)
    batch.batteries = {c: loaded.get(c) for c in batch.batteries}
    loaded_v = w.load_vehicles(batch.vehicles)
    batch.vehicles = {v: loaded_v.get(v) for v in batch.vehicles}
    batch.dirty_codes.clear()
    batch.dirty_vins.clear()


def _dependent(target: Event, failed: tuple[int, Event, list[Reason]]) -> Reason:
    seq, later, reasons = failed
    why = "; ".join(r.message for r in reasons)
    return Reason(
        "target",
        reasons[0].rule if reasons else None,
        f"withdrawing {target.id} would invalidate {later.type.value} {later.reporter}/"
        f"{later.id} (leaf {seq}): {why}; correct that event first",
    )
