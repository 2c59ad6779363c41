"""Findings as a filterable table: by rule, enterprise, region, status and day found."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, func, select

from battrace.analytics.sql import between
from battrace.services.audit import finding_dict
from battrace.store.schema import enterprises, findings
from battrace.store.sql import SqlStore

SCORE_RULE = "BT-025"


@dataclass(frozen=True)
class FindingFilter:
    """What the findings table is filtered by (None: anything)."""

    rule: str | None = None
    enterprise: str | None = None
    region: str | None = None
    status: str | None = "open"
    since: dt.date | None = None
    until: dt.date | None = None

    def where(self) -> list[Any]:
        """The SQL conditions."""
        conds: list[Any] = [between(findings.c.found_us, self.since, self.until)]
        if self.rule:
            conds.append(findings.c.rule == self.rule)
        else:  # BT-025 is a score per enterprise (the scorecards show it), not a violation
            conds.append(findings.c.rule != SCORE_RULE)
        if self.enterprise:
            conds.append(findings.c.enterprise == self.enterprise)
        if self.status:
            conds.append(findings.c.status == self.status)
        if self.region:
            conds.append(
                findings.c.enterprise.in_(
                    select(enterprises.c.uscc).where(enterprises.c.region.startswith(self.region))
                )
            )
        return conds


def find(
    store: SqlStore, f: FindingFilter, *, limit: int | None = 100, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """A page of findings (newest first) with the enterprise's name and region, and the total
    number that match."""
    q = (
        _with_enterprise()
        .where(*f.where())
        .order_by(findings.c.found_us.desc(), findings.c.id.desc())
        .offset(offset)
    )
    if limit is not None:
        q = q.limit(limit)
    with store.engine.connect() as c:
        rows = c.execute(q).all()
        total = int(
            c.execute(select(func.count()).select_from(findings).where(*f.where())).scalar_one()
        )
    return [_finding(r) for r in rows], total


def _with_enterprise() -> Select[Any]:
    """Findings with their enterprise's name and region."""
    return select(
        findings, enterprises.c.name.label("enterprise_name"), enterprises.c.region
    ).outerjoin(enterprises, enterprises.c.uscc == findings.c.enterprise)


def _finding(r: Row[Any]) -> dict[str, Any]:
    d = finding_dict(r._mapping)
    d["enterprise_name"] = r.enterprise_name
    d["region"] = r.region
    return d


def counts_by_rule(store: SqlStore, f: FindingFilter) -> dict[str, int]:
    """How many findings of each rule match the filter (rule itself ignored; scores left
    out)."""
    g = FindingFilter(None, f.enterprise, f.region, f.status, f.since, f.until)
    with store.engine.connect() as c:
        return {
            r: int(n)
            for r, n in c.execute(
                select(findings.c.rule, func.count())
                .where(*g.where())
                .group_by(findings.c.rule)
                .order_by(findings.c.rule)
            )
        }


def one(store: SqlStore, finding_id: int) -> dict[str, Any] | None:
    """One finding with its enterprise's name and region (None when there is none)."""
    with store.engine.connect() as c:
        r = c.execute(_with_enterprise().where(findings.c.id == finding_id)).first()
    return None if r is None else _finding(r)
