"""Batteries of a holder: the codes an enterprise holds now (or is the addressee of)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from battrace.analytics.sql import ENDED_STATES
from battrace.services.common import CST
from battrace.store.schema import batteries
from battrace.store.sql import SqlStore

COLUMNS = (
    "code",
    "product_type",
    "chemistry",
    "state",
    "retired",
    "reprocessed",
    "vin",
    "to_party",
    "mass_kg",
    "energy_kwh",
    "since",
)


def of_holder(
    store: SqlStore,
    holder: str,
    *,
    state: str | None = None,
    limit: int | None = 200,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """A page of the codes `holder` holds, by code, and how many in all (the holder index
    answers both)."""
    cond = [batteries.c.holder == holder]
    if state:
        cond.append(batteries.c.state == state)
    else:  # what it holds now: not the ended codes it held last, nor units inside a pack
        cond.append(batteries.c.state.not_in(("in_pack", *ENDED_STATES)))
    q = select(batteries).where(*cond).order_by(batteries.c.code).offset(offset)
    if limit is not None:
        q = q.limit(limit)
    with store.engine.connect() as c:
        rows = c.execute(q).all()
        total = int(
            c.execute(select(func.count()).select_from(batteries).where(*cond)).scalar_one()
        )
    return [_row(r) for r in rows], total


def incoming(store: SqlStore, holder: str, *, limit: int = 1000) -> list[dict[str, Any]]:
    """Codes shipped to `holder` and not yet received (a scan: `to_party` has no index)."""
    q = (
        select(batteries)
        .where(batteries.c.to_party == holder, batteries.c.holder != holder)
        # an expression, not the column: SQLite would otherwise walk the whole primary key in
        # code order instead of scanning once and sorting the few matches
        .order_by(batteries.c.code + "")
        .limit(limit)
    )
    with store.engine.connect() as c:
        return [_row(r) for r in c.execute(q)]


def _row(r: Any) -> dict[str, Any]:
    since = dt.datetime.fromtimestamp(r.since_us / 1e6, CST) if r.since_us else None
    return {
        "code": r.code,
        "product_type": r.product_type,
        "chemistry": r.chemistry,
        "state": r.state,
        "retired": bool(r.retired),
        "reprocessed": bool(r.reprocessed),
        "vin": r.vin,
        "to_party": r.to_party,
        "mass_kg": r.mass_g / 1000 if r.mass_g is not None else None,
        "energy_kwh": r.energy_wh / 1000 if r.energy_wh is not None else None,
        "since": since.strftime("%Y-%m-%d") if since else None,
        "holder": r.holder,
    }
