"""BT-023 mass balance: per utiliser and period of receipt, the received mass against what it
declares processed, ships on and still holds (docs/compliance.md). The SQL is in
`store.audit_mass`; this turns its sums into findings, exactly, in grams and `Decimal`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from battrace.domain.policy import Policy
from battrace.services.audit_rules import UTILISER_ROLES, AuditContext

#: receipts named as evidence per finding (those leaving the largest gaps)
MASS_EVIDENCE = 10


def period_bounds(
    policy: Policy, first: dt.date, last: dt.date, day_start_us: Callable[[dt.date], int]
) -> list[tuple[str, int, int]]:
    """(key, start_us, end_us) of every policy period from the one holding `first` to the one
    holding `last`: `2026-03` (month), `2026Q1` (quarter), `2026` (year)."""
    step = {"month": 1, "quarter": 3, "year": 12}[policy.mass_balance_period]
    start = dt.date(first.year, (first.month - 1) // step * step + 1, 1)
    out = []
    while start <= last:
        months = start.year * 12 + start.month - 1 + step
        end = dt.date(months // 12, months % 12 + 1, 1)
        if step == 1:
            key = f"{start.year}-{start.month:02d}"
        elif step == 3:
            key = f"{start.year}Q{(start.month - 1) // 3 + 1}"
        else:
            key = f"{start.year}"
        out.append((key, day_start_us(start), day_start_us(end)))
        start = end
    return out


def mass_balance(ctx: AuditContext) -> list[dict[str, Any]]:
    """BT-023: per utiliser and period, received mass not matched by processed + shipped +
    stock within the tolerance."""
    sql = ctx.sql
    utilisers = [u for u, (_, roles) in ctx.enterprises.items() if roles & UTILISER_ROLES]
    sql.utiliser_events(utilisers, ctx.cutoff_us)
    first_us = sql.first_receipt_us()
    if first_us is None:
        return []
    sql.load_periods(
        period_bounds(ctx.policy, ctx.local_day(first_us), ctx.as_of, ctx.day_start_us)
    )
    sql.dismantled_lots()
    sql.account_receipts()
    tolerance = ctx.policy.mass_balance_tolerance_pct
    flagged = []
    for r in sql.mass_balances():
        received, processed, shipped, stock, unknown = (int(x or 0) for x in r[3:8])
        gap = received - processed - shipped - stock
        if received > 0 and abs(gap) * 100 > tolerance * received:
            flagged.append((r[0], r[1], int(r[2]), received, processed, shipped, stock, unknown))
    evidence: dict[tuple[str, str], list[Sequence[Any]]] = {}
    for w in sql.mass_gaps(sorted({f[0] for f in flagged}), MASS_EVIDENCE):
        evidence.setdefault((w[0], w[1]), []).append(w)
    out = []
    for reporter, period, receipts, received, processed, shipped, stock, unknown in sorted(flagged):
        gap = received - processed - shipped - stock
        worst = evidence.get((reporter, period), [])
        facts = {
            "enterprise_name": ctx.name(reporter),
            "period": period,
            "receipts": receipts,
            "receipts_unknown_mass": unknown,
            "received_kg": _kg(received),
            "processed_kg": _kg(processed),
            "shipped_kg": _kg(shipped),
            "stock_kg": _kg(stock),
            "gap_kg": _kg(gap),
            "gap_pct": _pct(Decimal(gap * 100) / Decimal(received)),
            "tolerance_pct": str(tolerance),
            "largest_gaps": [
                {
                    "code": w[2],
                    "received_kg": _kg(w[3]),
                    "accounted_kg": _kg(w[4] + w[5] + w[6]),
                    "event": f"{w[7]}/{w[8]}" if w[7] else None,
                }
                for w in worst
            ],
        }
        out.append(
            ctx.finding(
                "BT-023",
                enterprise=reporter,
                subject=f"{reporter}/{period}",
                facts=facts,
                codes=[w[2] for w in worst],
                events=[f"{w[7]}/{w[8]}" for w in worst if w[7]],
            )
        )
    return out


def _kg(grams: int) -> str:
    return str((Decimal(grams) / 1000).quantize(Decimal("0.001")))


def _pct(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
