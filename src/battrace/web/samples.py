"""Typical subjects of a store for benchmarks, screenshots and smoke tests: a regulator, a
recycler with custody history, a battery with a rich history, a finding with evidence."""

from __future__ import annotations

from sqlalchemy import func, select

from battrace.store.schema import batteries, enterprises, events, findings
from battrace.store.sql import SqlStore


def sample_subjects(store: SqlStore) -> dict[str, str]:
    """USCCs, a code and a finding id that make every page show something."""
    with store.engine.connect() as c:
        regulator = c.execute(
            select(enterprises.c.uscc).where(enterprises.c.roles.contains("regulator")).limit(1)
        ).scalar_one()
        recycler = c.execute(
            select(batteries.c.holder, func.count().label("n"))
            .join(enterprises, enterprises.c.uscc == batteries.c.holder)
            .where(enterprises.c.roles.contains("recycler"))
            .group_by(batteries.c.holder)
            .order_by(func.count().desc(), batteries.c.holder)
            .limit(1)
        ).first()
        recycler_uscc = (
            recycler[0]
            if recycler
            else c.execute(
                select(enterprises.c.uscc).where(enterprises.c.roles.contains("recycler")).limit(1)
            ).scalar_one()
        )
        # a retired battery with many events: the richest timeline
        code = c.execute(
            select(events.c.code)
            .join(batteries, batteries.c.code == events.c.code)
            .where(batteries.c.retired.is_(True))
            .group_by(events.c.code)
            .order_by(func.count().desc(), events.c.code)
            .limit(1)
        ).scalar()
        if code is None:
            code = c.execute(select(batteries.c.code).limit(1)).scalar_one()
        # a leak to an unqualified firm shows evidence, legal basis and a battery timeline
        finding = None
        for rule in ("BT-011", "BT-010", "BT-012", "BT-020"):
            finding = c.execute(
                select(findings.c.id)
                .where(findings.c.status == "open", findings.c.rule == rule)
                .order_by(findings.c.id)
                .limit(1)
            ).scalar()
            if finding is not None:
                break
    return {
        "regulator": regulator,
        "recycler": recycler_uscc,
        "battery": code,
        "finding": str(finding or 0),
    }
