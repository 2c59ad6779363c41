"""Portable SQL pieces: CST day numbers, JSON fields of stored payloads, live events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, String, and_, exists, literal, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from battrace.store.schema import event_codes, events, withdrawals

US_PER_DAY = 86_400_000_000
#: China Standard Time is UTC+8 all year (no daylight saving)
CST_OFFSET_US = 8 * 3_600_000_000
EPOCH = dt.date(1970, 1, 1)
#: states of a code whose life ended: its last holder no longer holds a battery
ENDED_STATES = ("superseded", "dismantled", "recycled", "disposed")


class cst_day(FunctionElement[int]):
    """The day number (days since 1970-01-01) of an epoch-µs column, in China Standard Time."""

    type = BigInteger()
    inherit_cache = True


@compiles(cst_day)
def _cst_day(element: cst_day, compiler: Any, **kw: Any) -> str:
    (col,) = list(element.clauses)
    # integer division on both engines (bigint / bigint truncates; times are positive)
    return f"(({compiler.process(col, **kw)} + {CST_OFFSET_US}) / {US_PER_DAY})"


class json_field(FunctionElement[str]):
    """A top-level string field of a JSON text column (the stored canonical payload)."""

    type = String()
    inherit_cache = True


@compiles(json_field, "sqlite")
def _json_field_sqlite(element: json_field, compiler: Any, **kw: Any) -> str:
    col, key = list(element.clauses)
    return f"json_extract({compiler.process(col, **kw)}, '$.' || {compiler.process(key, **kw)})"


@compiles(json_field, "postgresql")
def _json_field_pg(element: json_field, compiler: Any, **kw: Any) -> str:
    col, key = list(element.clauses)
    return f"(CAST({compiler.process(col, **kw)} AS JSONB) ->> {compiler.process(key, **kw)})"


def payload_field(key: str) -> ColumnElement[str]:
    """`events.payload ->> key`."""
    return json_field(events.c.payload, literal(key))


def live() -> ColumnElement[bool]:
    """Events that still count (not withdrawn by a correction)."""
    return ~exists().where(withdrawals.c.target_seq == events.c.seq)


def touches(*types: str) -> Any:
    """(seq, code) of every code each live event of these types names: its primary code and
    the codes of lists, inputs, parts and removed packs (`event_codes`)."""
    primary = select(events.c.seq, events.c.code).where(
        events.c.type.in_(types), events.c.code.is_not(None), live()
    )
    others = (
        select(event_codes.c.seq, event_codes.c.code)
        .join(events, events.c.seq == event_codes.c.seq)
        .where(events.c.type.in_(types), live())
    )
    return union_all(primary, others).subquery("touch")


def day_to_month(day: int) -> str:
    """`YYYY-MM` of a CST day number."""
    return (EPOCH + dt.timedelta(days=int(day))).strftime("%Y-%m")


def day_start_us(day: dt.date) -> int:
    """Epoch µs at 00:00 CST of a day."""
    return (day - EPOCH).days * US_PER_DAY - CST_OFFSET_US


def day_end_us(day: dt.date) -> int:
    """Epoch µs at the last microsecond of a day (CST)."""
    return day_start_us(day + dt.timedelta(days=1)) - 1


def between(col: Any, since: dt.date | None, until: dt.date | None) -> ColumnElement[bool]:
    """`col` (epoch µs) within whole CST days [since, until]."""
    conds = []
    if since is not None:
        conds.append(col >= day_start_us(since))
    if until is not None:
        conds.append(col <= day_end_us(until))
    return and_(True, *conds)


def months_between(first: str, last: str) -> list[str]:
    """Every `YYYY-MM` from first to last inclusive (for gap-free axes)."""
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
