"""Enterprise scorecards: reporting on time by node, open findings, batteries held, and the
mass balance of utilisers (reprocessors and recyclers).

`all_scorecards` is the table of every enterprise (one grouped query per figure);
`scorecard_detail` adds, for one enterprise, its on-time share per reporting node and its mass
balance. The BT-025 figures (on-time share, lifecycles without gaps) are the audit's, read from
its latest open finding, so the page and the API agree.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from battrace.analytics.sql import ENDED_STATES, live
from battrace.domain.policy import Policy, ReportingNode
from battrace.store.audit_sql import open_findings_by_rule
from battrace.store.schema import batteries, enterprises, event_codes, events, findings
from battrace.store.sql import SqlStore

UTILISER_ROLES = frozenset({"reprocessor", "recycler", "outlet", "dismantler"})
#: what a utiliser takes in, what it processes, what it passes on
INTAKE = ("received", "collected", "vehicle_scrapped")
PROCESSING = ("recycled", "dismantled", "disposed")
OUTGOING = ("shipped",)


def all_scorecards(store: SqlStore, *, enterprise: str | None = None) -> list[dict[str, Any]]:
    """One row per registered enterprise (regulators left out), or only `enterprise`."""
    with store.engine.connect() as c:
        q = select(enterprises).order_by(enterprises.c.uscc)
        if enterprise is not None:
            q = q.where(enterprises.c.uscc == enterprise)
        ents = [r for r in c.execute(q) if "regulator" not in r.roles.split(",")]
        wanted = {r.uscc for r in ents}

        def grouped(query: Any) -> dict[str, int]:
            return {k: int(n) for k, n in c.execute(query) if k in wanted}

        one = enterprise is not None
        ev = select(events.c.reporter, func.count())
        ev = ev.where(events.c.reporter == enterprise) if one else ev
        reported = grouped(ev.group_by(events.c.reporter))
        fq = select(findings.c.enterprise, func.count()).where(
            findings.c.status == "open", findings.c.rule != "BT-025"
        )
        fq = fq.where(findings.c.enterprise == enterprise) if one else fq
        open_f = grouped(fq.group_by(findings.c.enterprise))
        hq = select(batteries.c.holder, func.count()).where(
            batteries.c.state.not_in(("in_pack", *ENDED_STATES))
        )
        hq = hq.where(batteries.c.holder == enterprise) if one else hq
        held = grouped(hq.group_by(batteries.c.holder))
        rq = hq.where(batteries.c.retired.is_(True))
        retired = grouped(rq.group_by(batteries.c.holder))
        sq = select(findings.c.enterprise, findings.c.detail, findings.c.as_of).where(
            findings.c.rule == "BT-025", findings.c.status == "open"
        )
        sq = sq.where(findings.c.enterprise == enterprise) if one else sq
        quality = {e: (json.loads(d), a) for e, d, a in c.execute(sq) if e in wanted}
    rows = []
    for e in ents:
        detail, as_of = quality.get(e.uscc, ({}, None))
        rows.append(
            {
                "uscc": e.uscc,
                "name": e.name,
                "roles": sorted(e.roles.split(",")) if e.roles else [],
                "region": e.region,
                "events_reported": reported.get(e.uscc, 0),
                "on_time_pct": _num(detail.get("on_time_pct")),
                "reportable": detail.get("reportable"),
                "late": detail.get("late"),
                "complete_pct": _num(detail.get("complete_pct")),
                "gaps": detail.get("gaps"),
                "open_findings": open_f.get(e.uscc, 0),
                "batteries_held": held.get(e.uscc, 0),
                "retired_held": retired.get(e.uscc, 0),
                "as_of": as_of,
            }
        )
    return rows


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass
class NodeShare:
    """On-time reporting at one node."""

    node: str
    label_zh: str
    label_en: str
    limit_wd: int
    reported: int
    late: int

    @property
    def on_time_pct(self) -> float | None:
        """Share reported within the limit (None when nothing was reported)."""
        if not self.reported:
            return None
        return round(100 * (self.reported - self.late) / self.reported, 1)


@dataclass
class MassBalance:
    """What a utiliser took in, processed, passed on and holds (distinct codes, grams)."""

    intake_codes: int = 0
    intake_g: int = 0
    processed_codes: int = 0
    processed_g: int = 0
    shipped_codes: int = 0
    shipped_g: int = 0
    held_codes: int = 0
    held_g: int = 0
    unknown_mass: int = 0

    @property
    def gap_g(self) -> int:
        """Grams taken in and not accounted for (processed, shipped on or held)."""
        return self.intake_g - self.processed_g - self.shipped_g - self.held_g


@dataclass
class ScorecardDetail:
    """One enterprise's page."""

    row: dict[str, Any]
    nodes: list[NodeShare] = field(default_factory=list)
    findings_by_rule: dict[str, int] = field(default_factory=dict)
    held_by_state: dict[str, int] = field(default_factory=dict)
    mass: MassBalance | None = None


def scorecard_detail(store: SqlStore, uscc: str, *, policy: Policy) -> ScorecardDetail | None:
    """The scorecard of one enterprise (None when it is not registered)."""
    rows = all_scorecards(store, enterprise=uscc)
    if not rows:
        return None
    row = rows[0]
    roles = frozenset(row["roles"])
    out = ScorecardDetail(row)
    with store.engine.connect() as c:
        mine = c.execute(
            select(events.c.seq, events.c.type, events.c.code).where(
                events.c.reporter == uscc, live()
            )
        ).all()
        by_type: dict[str, int] = defaultdict(int)
        for _, t, _ in mine:
            by_type[t] += 1
        late_by_type = {
            t: int(n)
            for t, n in c.execute(
                select(events.c.type, func.count())
                .join(findings, findings.c.trigger_seq == events.c.seq)
                .where(
                    findings.c.rule == "BT-020",
                    findings.c.status == "open",
                    events.c.reporter == uscc,
                )
                .group_by(events.c.type)
            )
        }
        out.findings_by_rule = open_findings_by_rule(c, uscc)
        out.held_by_state = {
            s: int(n)
            for s, n in c.execute(
                select(batteries.c.state, func.count())
                .where(batteries.c.holder == uscc)
                .group_by(batteries.c.state)
                .order_by(func.count().desc())
            )
        }
        if roles & UTILISER_ROLES:
            out.mass = _mass_balance(c, uscc, mine)
    out.nodes = _node_shares(policy.nodes, roles, by_type, late_by_type)
    return out


def _node_shares(
    nodes: tuple[ReportingNode, ...] | list[ReportingNode],
    roles: frozenset[str],
    by_type: dict[str, int],
    late_by_type: dict[str, int],
) -> list[NodeShare]:
    """Events per reporting node of the policy (the first node whose types and roles match an
    event type takes it, as the ingest does when no `when` condition applies)."""
    shares: dict[str, NodeShare] = {}
    claimed: set[str] = set()
    for node in nodes:
        if node.roles is not None and node.roles.isdisjoint(roles):
            continue
        for t in sorted(node.event_types):
            if t in claimed or not by_type.get(t):
                continue
            claimed.add(t)
            share = shares.setdefault(
                node.name,
                NodeShare(node.name, node.label_zh, node.label_en, node.limit_wd, 0, 0),
            )
            share.reported += by_type[t]
            share.late += late_by_type.get(t, 0)
    return list(shares.values())


def _mass_balance(c: Any, uscc: str, mine: Sequence[Any]) -> MassBalance:
    """Distinct codes and their masses through the enterprise's hands, from its own events:
    taken in (received, collected, found in a scrapped vehicle), processed (recycled,
    dismantled, disposed, or consumed as an input of a reprocessed product), shipped on, and
    retired batteries it holds now. The new code of a reprocessed product and the parts freed
    by dismantling are outputs, not intake."""
    listed: dict[int, list[str]] = defaultdict(list)
    for seq, code in c.execute(
        select(event_codes.c.seq, event_codes.c.code)
        .join(events, events.c.seq == event_codes.c.seq)
        .where(events.c.reporter == uscc)
    ):
        listed[int(seq)].append(code)
    intake: set[str] = set()
    processed: set[str] = set()
    shipped: set[str] = set()
    # parts freed by its own dismantling are inside a battery it already took in
    freed = {c for seq, t, _ in mine if t == "dismantled" for c in listed.get(seq, [])}
    for seq, t, code in mine:
        if t in INTAKE:
            intake.update(([code] if code else []) + listed.get(seq, []))
        elif t in PROCESSING and code:
            processed.add(code)
        elif t == "reprocessed":
            processed.update(listed.get(seq, []))
        elif t in OUTGOING:
            shipped.update(([code] if code else []) + listed.get(seq, []))
    processed -= freed
    shipped -= freed
    mass = _masses(c, intake | processed | shipped)
    m = MassBalance()
    m.intake_codes, m.intake_g = len(intake), sum(mass.get(x) or 0 for x in intake)
    m.processed_codes, m.processed_g = len(processed), sum(mass.get(x) or 0 for x in processed)
    m.shipped_codes, m.shipped_g = len(shipped), sum(mass.get(x) or 0 for x in shipped)
    m.unknown_mass = sum(1 for x in intake if mass.get(x) is None)
    held = c.execute(
        select(func.count(), func.coalesce(func.sum(batteries.c.mass_g), 0)).where(
            batteries.c.holder == uscc,
            batteries.c.retired.is_(True),
            batteries.c.state.in_(("used", "in_stock", "in_transit")),
        )
    ).one()
    m.held_codes, m.held_g = int(held[0]), int(held[1])
    return m


def _masses(c: Any, codes: set[str]) -> dict[str, int | None]:
    """Mass in grams of each code (None when unknown), looked up by primary key in chunks."""
    out: dict[str, int | None] = {}
    todo = sorted(codes)
    for i in range(0, len(todo), 500):
        chunk = todo[i : i + 500]
        for code, g in c.execute(
            select(batteries.c.code, batteries.c.mass_g).where(batteries.c.code.in_(chunk))
        ):
            out[code] = None if g is None else int(g)
    return out
