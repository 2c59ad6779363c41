"""Custody flows: batteries shipped from one enterprise to another, by stage, for a period and
region — the Sankey of makers → automakers → dismantlers/repairers → outlets → utilisers.

A link counts the battery codes shipped (a `shipped` event names one code or a list). Nodes
sit in the column of their role; a recipient that sits no later than its sender (a return, a
shipment to a firm of an earlier stage) is drawn one column further on, so the diagram stays
acyclic and nothing is dropped. Recipients of shipments flagged BT-011 (qualified-recipient) are
marked unqualified, and so are the links that carried the flagged batteries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, or_, select

from battrace.analytics.sql import between, live, payload_field
from battrace.store.schema import enterprises, event_codes, events, findings
from battrace.store.sql import SqlStore

#: column of each role (the lowest applies to firms with several roles)
STAGES: dict[str, int] = {
    "battery_maker": 0,
    "automaker": 1,
    "importer": 1,
    "repairer": 2,
    "swap_operator": 2,
    "dismantler": 2,
    "outlet": 3,
    "reprocessor": 4,
    "recycler": 4,
}
LAST_STAGE = 4
STAGE_NAMES = ("battery_maker", "automaker", "repairer_dismantler", "outlet", "utiliser")


@dataclass
class Node:
    """One box of the diagram: an enterprise in a column."""

    id: str
    uscc: str
    name: str
    stage: int
    region: str | None
    unqualified: bool = False
    batteries_in: int = 0
    batteries_out: int = 0


@dataclass
class Link:
    """Batteries shipped from one node to another; `flagged` of them raised BT-011."""

    source: str
    target: str
    batteries: int
    flagged: int = 0


@dataclass
class Flows:
    """The diagram's nodes and links, and the totals the page prints."""

    nodes: list[Node] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    shipments: int = 0
    batteries: int = 0
    flagged: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON for the chart."""
        return {
            "nodes": [n.__dict__ for n in self.nodes],
            "links": [lk.__dict__ for lk in self.links],
            "shipments": self.shipments,
            "batteries": self.batteries,
            "flagged": self.flagged,
        }


def stage_of(roles: str | None) -> int:
    """The column of an enterprise with these comma-separated roles (unregistered: last)."""
    found = [STAGES[r] for r in (roles or "").split(",") if r in STAGES]
    return min(found) if found else LAST_STAGE


def flows(
    store: SqlStore,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    region: str | None = None,
    limit_nodes: int = 120,
) -> Flows:
    """Shipments in [since, until] (CST days) where the sender or the recipient lies in
    `region` (a prefix of the 6-digit division code), aggregated per pair of enterprises."""
    to = payload_field("to").label("dst")
    listed = (
        select(event_codes.c.seq, func.count().label("n"))
        .join(events, events.c.seq == event_codes.c.seq)
        .where(events.c.type == "shipped", between(events.c.time_us, since, until))
        .group_by(event_codes.c.seq)
        .subquery()
    )
    flagged = (
        select(findings.c.trigger_seq.label("seq"))
        .where(findings.c.rule == "BT-011", findings.c.status == "open")
        .distinct()
        .subquery()
    )
    n_codes = case((events.c.code.is_(None), 0), else_=1) + func.coalesce(listed.c.n, 0)
    shipped = (
        select(
            events.c.reporter.label("src"),
            to,
            func.count().label("shipments"),
            func.sum(n_codes).label("batteries"),
            func.sum(case((flagged.c.seq.is_(None), 0), else_=n_codes)).label("flagged"),
        )
        .outerjoin(listed, listed.c.seq == events.c.seq)
        .outerjoin(flagged, flagged.c.seq == events.c.seq)
        .where(events.c.type == "shipped", live(), between(events.c.time_us, since, until))
        .group_by(events.c.reporter, to)
        .subquery()
    )
    src_e = enterprises.alias("s")
    dst_e = enterprises.alias("d")
    q = (
        select(
            shipped,
            src_e.c.name.label("src_name"),
            src_e.c.roles.label("src_roles"),
            src_e.c.region.label("src_region"),
            dst_e.c.name.label("dst_name"),
            dst_e.c.roles.label("dst_roles"),
            dst_e.c.region.label("dst_region"),
        )
        .outerjoin(src_e, src_e.c.uscc == shipped.c.src)
        .outerjoin(dst_e, dst_e.c.uscc == shipped.c.dst)
    )
    if region:
        q = q.where(
            or_(src_e.c.region.startswith(region), dst_e.c.region.startswith(region)),
        )
    with store.engine.connect() as c:
        rows = c.execute(q).all()
    return _assemble(rows, limit_nodes)


def _assemble(rows: Sequence[Any], limit_nodes: int) -> Flows:
    out = Flows()
    nodes: dict[str, Node] = {}

    def node(uscc: str, name: str | None, roles: str | None, region: str | None, col: int) -> Node:
        key = f"{col}:{uscc}"
        if key not in nodes:
            nodes[key] = Node(key, uscc, name or uscc, col, region)
        return nodes[key]

    links: dict[tuple[str, str], Link] = {}
    for r in rows:
        if r.dst is None:
            continue
        s_col = stage_of(r.src_roles)
        d_col = max(stage_of(r.dst_roles), min(s_col + 1, LAST_STAGE + 1))
        src = node(r.src, r.src_name, r.src_roles, r.src_region, s_col)
        dst = node(r.dst, r.dst_name, r.dst_roles, r.dst_region, d_col)
        n, f = int(r.batteries or 0), int(r.flagged or 0)
        link = links.setdefault((src.id, dst.id), Link(src.id, dst.id, 0))
        link.batteries += n
        link.flagged += f
        src.batteries_out += n
        dst.batteries_in += n
        if f:
            dst.unqualified = True
        out.shipments += int(r.shipments)
        out.batteries += n
        out.flagged += f
    keep = _biggest(nodes, limit_nodes)
    out.nodes = sorted((nodes[k] for k in keep), key=lambda n: (n.stage, -n.batteries_in, n.id))
    out.links = sorted(
        (lk for lk in links.values() if lk.source in keep and lk.target in keep),
        key=lambda lk: (-lk.flagged, -lk.batteries, lk.source, lk.target),
    )
    return out


def _biggest(nodes: dict[str, Node], limit: int) -> set[str]:
    """The `limit` busiest nodes, always keeping every unqualified recipient."""
    ranked = sorted(
        nodes.values(),
        key=lambda n: (not n.unqualified, -(n.batteries_in + n.batteries_out), n.id),
    )
    return {n.id for n in ranked[:limit]}


def unqualified_recipients(flows_: Flows) -> list[Node]:
    """Recipients marked unqualified, most batteries first."""
    return sorted((n for n in flows_.nodes if n.unqualified), key=lambda n: (-n.batteries_in, n.id))


__all__ = ["STAGE_NAMES", "Flows", "Link", "Node", "flows", "stage_of"]
