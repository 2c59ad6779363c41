"""The regulator's overview: batteries by state and chemistry, events and retirements per
month, findings by rule per month, and a table by province."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select

from battrace.analytics.regions import province_of
from battrace.analytics.sql import ENDED_STATES, cst_day, day_to_month, months_between
from battrace.domain.vocab import REGISTRY_TYPES
from battrace.store.schema import (
    batteries,
    enterprises,
    event_stats,
    events,
    findings,
    log_head,
    vehicles,
)
from battrace.store.sql import SqlStore


@dataclass
class Overview:
    """Everything the overview page draws."""

    batteries: int = 0
    vehicles: int = 0
    events: int = 0
    open_findings: int = 0
    retired: int = 0
    #: (state, chemistry) -> codes
    by_state_chemistry: dict[tuple[str, str], int] = field(default_factory=dict)
    months: list[str] = field(default_factory=list)
    events_per_month: dict[str, int] = field(default_factory=dict)
    retirements_per_month: dict[str, int] = field(default_factory=dict)
    #: rule -> month -> open findings found that month
    findings_per_month: dict[str, dict[str, int]] = field(default_factory=dict)
    #: province prefix -> figures
    regions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def states(self) -> list[str]:
        """States present, most codes first."""
        return _ranked(self.by_state_chemistry, 0)

    @property
    def chemistries(self) -> list[str]:
        """Chemistries present, most codes first."""
        return _ranked(self.by_state_chemistry, 1)


def _ranked(counts: dict[tuple[str, str], int], pos: int) -> list[str]:
    totals: dict[str, int] = defaultdict(int)
    for key, n in counts.items():
        totals[key[pos]] += n
    return sorted(totals, key=lambda k: (-totals[k], k))


def overview(store: SqlStore) -> Overview:
    """Compute the overview (a dozen grouped queries)."""
    o = Overview()
    with store.engine.connect() as c:
        for state, chem, n in c.execute(
            select(batteries.c.state, batteries.c.chemistry, func.count()).group_by(
                batteries.c.state, batteries.c.chemistry
            )
        ):
            o.by_state_chemistry[(state, chem)] = int(n)
        # by holder (the holder index gives the groups without a sort): codes held now, retired
        # ones among them, and every code that ever retired
        alive = batteries.c.state.not_in(("in_pack", *ENDED_STATES))
        retired = batteries.c.retired.is_(True)
        held: dict[str, list[int]] = {}
        for holder, n, r, ever in c.execute(
            select(
                batteries.c.holder,
                func.sum(case((alive, 1), else_=0)),
                func.sum(case((alive & retired, 1), else_=0)),
                func.sum(case((retired, 1), else_=0)),
            ).group_by(batteries.c.holder)
        ):
            held[holder] = [int(n or 0), int(r or 0)]
            o.retired += int(ever or 0)
        o.batteries = sum(o.by_state_chemistry.values())
        o.vehicles = int(c.execute(select(func.count()).select_from(vehicles)).scalar_one())
        ev_days, ret_days = _event_days(c)
        o.events = int(c.execute(select(log_head.c.tree_size)).scalar_one())
        # a finding raised at ingest is dated by its event (when the violation happened); an
        # audit finding by the day it was found
        trigger = events.alias("trigger")
        when = func.coalesce(trigger.c.time_us, findings.c.found_us)
        fday = cst_day(when).label("day")
        f_days = c.execute(
            select(findings.c.rule, fday, func.count())
            .select_from(findings)
            .outerjoin(trigger, trigger.c.seq == findings.c.trigger_seq)
            .where(findings.c.status == "open", findings.c.rule != "BT-025")
            .group_by(findings.c.rule, fday)
        ).all()
        o.open_findings = sum(int(n) for _, _, n in f_days)
        o.regions = _regions(c, held)
    o.events_per_month = _by_month(ev_days)
    o.retirements_per_month = _by_month(ret_days)
    per_rule: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for rule, d, n in f_days:
        per_rule[rule][day_to_month(d)] += int(n)
    o.findings_per_month = {r: dict(m) for r, m in sorted(per_rule.items())}
    seen = [*o.events_per_month, *o.retirements_per_month]
    seen += [m for months in o.findings_per_month.values() for m in months]
    o.months = months_between(min(seen), max(seen)) if seen else []
    return o


def _event_days(c: Any) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Battery events and retirements per CST day, from the `event_stats` projection (kept
    by ingest: a retirement is a pack leaving service — `removed` other than the dismantler's
    removal of a pack `vehicle_scrapped` already counted, the old pack of `replaced`, each pack
    found by `vehicle_scrapped`)."""
    battery_event = case((event_stats.c.type.in_(sorted(REGISTRY_TYPES)), 0), else_=1)
    rows = c.execute(
        select(
            event_stats.c.day,
            func.sum(event_stats.c.events * battery_event),
            func.sum(event_stats.c.retirements),
        ).group_by(event_stats.c.day)
    ).all()
    ev = [(int(d), int(n or 0)) for d, n, _ in rows]
    ret = [(int(d), int(r or 0)) for d, _, r in rows]
    return ev, ret


def _by_month(rows: Any) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for d, n in rows:
        out[day_to_month(d)] += int(n)
    return {m: n for m, n in sorted(out.items()) if n}


def _regions(c: Any, held: dict[str, list[int]]) -> list[dict[str, Any]]:
    """Per province: enterprises, vehicles sold, batteries held (and retired ones held), open
    findings of its enterprises."""
    rows: dict[str, dict[str, int]] = defaultdict(
        lambda: {"enterprises": 0, "vehicles": 0, "held": 0, "retired_held": 0, "findings": 0}
    )

    def add(key: str, prefix_rows: Any) -> None:
        for region, n in prefix_rows:
            p = province_of(region)
            if p is not None:
                rows[p][key] += int(n)

    add(
        "enterprises",
        c.execute(select(enterprises.c.region, func.count()).group_by(enterprises.c.region)),
    )
    add(
        "vehicles",
        c.execute(
            select(vehicles.c.sold_region, func.count())
            .where(vehicles.c.sold_region.is_not(None))
            .group_by(vehicles.c.sold_region)
        ),
    )
    region_of = dict(c.execute(select(enterprises.c.uscc, enterprises.c.region)).all())
    for holder, (n, r) in held.items():
        p = province_of(region_of.get(holder))
        if p is not None:
            rows[p]["held"] += n
            rows[p]["retired_held"] += r
    add(
        "findings",
        c.execute(
            select(enterprises.c.region, func.count())
            .join(findings, findings.c.enterprise == enterprises.c.uscc)
            .where(findings.c.status == "open", findings.c.rule != "BT-025")
            .group_by(enterprises.c.region)
        ),
    )
    return [{"province": p, **v} for p, v in sorted(rows.items())]
