"""A regulator's one-screen summary of a store: batteries, findings, reporting, the log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from battrace.store.schema import batteries, enterprises, events, findings
from battrace.store.sql import SqlStore


@dataclass
class Summary:
    """Counts a regulator looks at first."""

    events: int = 0
    batteries_by_state: dict[str, int] = field(default_factory=dict)
    packs_by_chemistry: dict[str, int] = field(default_factory=dict)
    open_findings_by_rule: dict[str, int] = field(default_factory=dict)
    #: enterprises with the lowest share of on-time reports (BT-020), worst first
    worst_on_time: list[dict[str, Any]] = field(default_factory=list)
    tree_size: int = 0
    root_hash: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return self.__dict__.copy()


def summarise(store: SqlStore, *, worst: int = 5, min_events: int = 50) -> Summary:
    """The summary of the store now."""
    from battrace.services.log import latest_checkpoint

    s = Summary()
    with store.engine.connect() as c:
        s.events = int(c.execute(select(func.count()).select_from(events)).scalar_one())
        s.batteries_by_state = _counts(c, batteries.c.state)
        s.packs_by_chemistry = _counts(c, batteries.c.chemistry, batteries.c.product_type == "pack")
        s.open_findings_by_rule = _counts(c, findings.c.rule, findings.c.status == "open")
        reported: dict[str, int] = dict(
            c.execute(select(events.c.reporter, func.count()).group_by(events.c.reporter)).all()
        )
        late: dict[str, int] = dict(
            c.execute(
                select(findings.c.enterprise, func.count())
                .where(findings.c.rule == "BT-020", findings.c.status == "open")
                .group_by(findings.c.enterprise)
            ).all()
        )
        names = dict(c.execute(select(enterprises.c.uscc, enterprises.c.name)).all())
    shares = [
        {
            "enterprise": uscc,
            "name": names.get(uscc, "?"),
            "events": int(n),
            "late": int(late.get(uscc, 0)),
            "on_time_pct": round(100 * (1 - late.get(uscc, 0) / n), 1),
        }
        for uscc, n in reported.items()
        if n >= min_events
    ]
    s.worst_on_time = sorted(shares, key=lambda x: (x["on_time_pct"], -x["events"]))[:worst]
    cp = latest_checkpoint(store)
    s.tree_size = store.tree_size()
    s.root_hash = cp.root.hex() if cp else None
    return s


def _counts(conn: Any, column: Any, where: Any = None) -> dict[str, int]:
    q = select(column, func.count()).group_by(column).order_by(func.count().desc())
    if where is not None:
        q = q.where(where)
    return {str(k): int(v) for k, v in conn.execute(q).all()}
