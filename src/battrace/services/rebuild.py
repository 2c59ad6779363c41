"""Rebuild every projection from the log alone: events are the single source of truth.

Folds all events that still count in event-time order (ties by log position) through the same
`decide` that ingest uses, then rewrites the projection tables. The registry they are decided
with is the one ingest keeps: its facts in log order, whatever their event time (the same
registry `trace --as-of` and ingest's refold of a late event use) — a back-fill of 2019 sent
after its enterprises were registered in 2026 fits it, and must fit the rebuild too.

Used to recover from a lost or suspect projection, after a schema change, and by the tests to
prove that the incremental projection (including late arrivals and corrections) equals a fold
from scratch.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from battrace.domain.decide import decide, stamp
from battrace.domain.events import ValidationContext
from battrace.domain.lifecycle import Battery, Vehicle, parts_of, vin_of
from battrace.domain.registry import Registry
from battrace.domain.vocab import EventType
from battrace.services.batch import count_event
from battrace.services.common import registry_from, revive
from battrace.store.rows import STORED_EVENT_COLUMNS, StoredEvent, stored_event
from battrace.store.schema import events, withdrawals
from battrace.store.sql import SqlStore


@dataclass
class RebuildReport:
    """What a rebuild folded, and any event that no longer fits (the log is then suspect)."""

    events: int = 0
    batteries: int = 0
    vehicles: int = 0
    misfits: list[str] = field(default_factory=list)
    #: events today's rules on who may report them refuse, folded as ingest accepted them
    #: (`decide(replay=True)`: an upgrade tightened a rule; they stay history)
    older_rules: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return self.__dict__.copy()


def fold_log(
    store: SqlStore,
    *,
    validation: ValidationContext | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[
    dict[str, Battery],
    dict[str, Vehicle],
    Registry,
    dict[tuple[int, str], list[int]],
    RebuildReport,
]:
    """Every projection, folded from the log in memory (corrections only count in the
    statistics: what they withdrew is already left out)."""
    cols = [events.c[n] for n in STORED_EVENT_COLUMNS]
    q = (
        sa.select(*cols)
        .where(~sa.exists().where(withdrawals.c.target_seq == events.c.seq))
        .order_by(events.c.time_us, events.c.seq)
    )
    batteries: dict[str, Battery] = {}
    vehicles: dict[str, Vehicle] = {}
    stats: dict[tuple[int, str], list[int]] = {}
    history = store.registry_history()  # read once: the final registry and earlier ones
    registry = registry_from([f for f, withdrawn in history if withdrawn is None], validation)
    earlier = _EarlierRegistries(history, validation)
    report = RebuildReport()
    with store.engine.connect() as conn:
        for row in conn.execution_options(yield_per=10_000).execute(q):
            stored = stored_event(row)
            ev = revive(stored, validation)
            count_event(stats, ev)
            report.events += 1
            if ev.type is EventType.CORRECTION or ev.type.is_registry:
                continue  # the registry is folded already (above)
            before = {c: batteries.get(c) for c, _ in parts_of(ev)}
            vin = vin_of(ev)
            v_before = vehicles.get(vin) if vin else None
            decision = decide(ev, before=before, vehicle=v_before, registry=registry)
            if not decision.accepted:  # did a later fact narrow what it was decided with?
                then = earlier.at(stored.seq)
                decision = decide(ev, before=before, vehicle=v_before, registry=then)
                if not decision.accepted:  # who may report it was judged by older rules?
                    refused = "; ".join(r.message for r in decision.reasons)
                    decision = decide(
                        ev, before=before, vehicle=v_before, registry=then, replay=True
                    )
                    if decision.accepted:
                        report.older_rules.append(f"leaf {stored.seq} ({ev.type.value}): {refused}")
            if not decision.accepted:
                reasons = "; ".join(r.message for r in decision.reasons)
                report.misfits.append(f"leaf {stored.seq} ({ev.type.value}): {reasons}")
                continue
            for code, b in decision.batteries.items():
                stamp(b, stored.seq, ev.time_us, new=before.get(code) is None)
                batteries[code] = b
            if decision.vehicle is not None:
                stamp(decision.vehicle, stored.seq, ev.time_us, new=v_before is None)
                vehicles[decision.vehicle.vin] = decision.vehicle
            if progress is not None and report.events % 100_000 == 0:
                progress(report.events)
    report.batteries, report.vehicles = len(batteries), len(vehicles)
    return batteries, vehicles, registry, stats, report


class _EarlierRegistries:
    """The registry as ingest had it when it decided the event at a log position: the facts
    stored before it, a fact withdrawn later included. A later fact may narrow the registry
    (an enterprise registered again with other roles, a qualification revoked, a fact
    withdrawn by a correction): an event ingest accepted then is not dropped now, so the
    rebuilt projection is the incremental one. Built only for an event the final registry
    refuses, and remembered per set of facts."""

    def __init__(
        self, history: list[tuple[StoredEvent, int | None]], validation: ValidationContext | None
    ) -> None:
        self.history = sorted(history, key=lambda h: h[0].seq)
        self.validation = validation
        self.fact_seqs = [fact.seq for fact, _ in self.history]
        self.withdrawal_seqs = sorted(w for _, w in self.history if w is not None)
        self.cache: dict[tuple[int, int], Registry] = {}

    def at(self, seq: int) -> Registry:
        # the facts before `seq` and the withdrawals up to it say which facts counted then
        # (a correction comes after its target): two bisections, not a pass over the history
        key = (bisect_left(self.fact_seqs, seq), bisect_right(self.withdrawal_seqs, seq))
        if key not in self.cache:
            facts = [
                fact
                for fact, withdrawn in self.history[: key[0]]
                if withdrawn is None or withdrawn > seq
            ]
            self.cache[key] = registry_from(facts, self.validation)
        return self.cache[key]


def rebuild(store: SqlStore, *, validation: ValidationContext | None = None) -> RebuildReport:
    """Fold the log and replace the projections with the result (one transaction).

    The log head is locked before the fold: an ingest waits until the rebuilt projections are
    written, instead of landing between the fold and the write and being overwritten by a
    projection that never saw it."""
    with store.writer() as w:
        batteries, vehicles, registry, stats, report = fold_log(store, validation=validation)
        w._exec("DELETE FROM batteries")
        w._exec("DELETE FROM vehicles")
        w._exec("DELETE FROM event_stats")
        w.add_stats(stats)
        w.upsert_batteries(batteries.values())
        w.upsert_vehicles(vehicles.values())
        w.write_registry(registry)
    return report
