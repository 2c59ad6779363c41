"""The audit rules BT-021 … BT-025: each turns the rows of one set-based query into findings.

A rule never loops over batteries: the store's SQL (`store.audit_sql`) selects the violations
over the whole store, and Python only renders a message for each finding. Deadlines are turned
into thresholds before the query: because the n-th working day after a day never moves earlier
when the day moves later, "overdue as of D" is "the state began on or before the last overdue
start day", one comparison per row (docs/compliance.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson

from battrace.domain.calendar import WorkingCalendar
from battrace.domain.events import from_us, to_us
from battrace.domain.policy import Policy
from battrace.domain.rules import RULES
from battrace.store.audit_sql import AuditSql

UTILISER_ROLES = frozenset({"reprocessor", "recycler"})
#: BT-021 situations: the next step expected, in Chinese and English
NEXT_STEPS: dict[str, tuple[str, str]] = {
    "scrapped_pack_not_removed": (
        "从报废车辆拆卸并移交电池包",
        "removal of the pack from scrapped vehicle {vin} and its hand-over",
    ),
    "shipment_not_received": ("接收入库", "receipt of the shipment from {holder}"),
    "removed_not_collected": (
        "交回收服务网点或综合利用企业",
        "hand-over to a recycling service outlet or a utiliser",
    ),
    "outlet_intake_not_handed_over": ("移交综合利用企业（出库）", "hand-over to a utiliser"),
    "recycler_intake_not_processed": (
        "综合利用处理（拆解、再生利用或再加工）",
        "processing (dismantling, recycling or reprocessing)",
    ),
}
STATE_ZH = {"used": "废旧电池在库", "in_transit": "运输途中"}
SALE_EVIDENCE = 5


@dataclass
class AuditContext:
    """What every rule of one run shares."""

    sql: AuditSql
    as_of: dt.date
    policy: Policy
    calendar: WorkingCalendar
    now_us: int
    #: registered enterprises: USCC -> (name, roles)
    enterprises: dict[str, tuple[str, frozenset[str]]]
    #: codes with a BT-021 finding in this run (None: BT-021 did not run)
    missing_codes: set[str] | None = None

    @property
    def cutoff_us(self) -> int:
        """The last microsecond of the as-of day (policy timezone)."""
        return self.day_start_us(self.as_of + dt.timedelta(days=1)) - 1

    def day_start_us(self, day: dt.date) -> int:
        """The first microsecond of `day` in the policy timezone."""
        return to_us(dt.datetime.combine(day, dt.time(), tzinfo=self.policy.tz))

    def local_day(self, us: int) -> dt.date:
        """The policy-timezone date of an epoch-microsecond time."""
        return self.policy.local_date(from_us(us))

    def name(self, uscc: str | None) -> str:
        """`name (USCC)` for messages."""
        if uscc is None:
            return "?"
        known = self.enterprises.get(uscc)
        return f"{known[0]} ({uscc})" if known else uscc

    def finding(
        self,
        rule: str,
        *,
        enterprise: str | None,
        subject: str,
        facts: dict[str, Any],
        codes: Sequence[str] = (),
        vins: Sequence[str] = (),
        events: Sequence[str] = (),
        evidence: Sequence[int] = (),
    ) -> dict[str, Any]:
        """A candidate finding row: the message rendered from the catalogue, facts as detail."""
        facts = {"as_of": self.as_of.isoformat(), **facts}
        zh, en = RULES[rule].render(facts)
        detail = {
            **facts,
            "policy_fingerprint": self.policy.fingerprint,
            "evidence_seqs": list(evidence),
        }
        return {
            "rule": rule,
            "severity": RULES[rule].severity.value,
            "enterprise": enterprise,
            "codes": _json(list(codes)),
            "vins": _json(list(vins)),
            "events": _json(list(events)),
            "subject_key": subject,
            "found_us": self.now_us,
            "as_of": self.as_of.isoformat(),
            "message_zh": zh,
            "message_en": en,
            "policy_version": self.policy.version,
            "detail": _json(detail),
        }


def role_kinds(enterprises: Mapping[str, tuple[str, frozenset[str]]]) -> dict[str, str]:
    """USCC -> `utiliser` (its final destination), `outlet`, or `other`."""
    out = {}
    for uscc, (_, roles) in enterprises.items():
        if roles & UTILISER_ROLES:
            out[uscc] = "utiliser"
        elif "outlet" in roles:
            out[uscc] = "outlet"
        else:
            out[uscc] = "other"
    return out


# ---------------------------------------------------------------------- BT-021
def latest_overdue_start(calendar: WorkingCalendar, as_of: dt.date, limit: int) -> dt.date:
    """The last day a clock may have started on to be overdue on `as_of`: overdue means `as_of`
    is after the `limit`-th working day after the start (as `WorkingCalendar.is_late`)."""
    end = as_of - dt.timedelta(days=1)

    def overdue(start: dt.date) -> bool:
        return calendar.working_days_between(start, end).days >= limit

    lo = as_of - dt.timedelta(days=2 * limit + 60)
    while not overdue(lo):
        lo -= dt.timedelta(days=365)
    hi = as_of  # never overdue: no working day lies in (as_of, as_of - 1]
    while (hi - lo).days > 1:
        mid = lo + dt.timedelta(days=(hi - lo).days // 2)
        if overdue(mid):
            lo = mid
        else:
            hi = mid
    return lo


def missing_report(ctx: AuditContext) -> list[dict[str, Any]]:
    """BT-021: an expected next step overdue by more than its working-day limit."""
    limits = ctx.policy.missing_report_wd
    thresholds = []
    for category in NEXT_STEPS:
        limit = getattr(limits, category)
        last = latest_overdue_start(ctx.calendar, ctx.as_of, limit)
        thresholds.append((category, ctx.day_start_us(last + dt.timedelta(days=1)), limit))
    out = []
    codes = set()
    for r in ctx.sql.missing_reports(thresholds):
        code, category, state, holder, to_party, vin, obligated, since_us, last_seq, limit = r[:10]
        since = ctx.local_day(since_us)
        late = ctx.calendar.is_late(since, ctx.as_of, limit)
        if not late.late:  # the threshold and the calendar agree; kept as a guard
            continue
        enterprise = to_party if category == "shipment_not_received" else holder
        zh, en = NEXT_STEPS[category]
        evidence = [f"{r[10]}/{r[11]}"] if r[10] else []
        facts = {
            "code": code,
            "situation": category,
            "state": state,
            "enterprise_name": ctx.name(enterprise),
            "holder": holder,
            "addressee": to_party,
            "vin": vin,
            "obligated": obligated,
            "next_step": en.format(vin=vin, holder=ctx.name(holder)),
            "next_step_zh": zh,
            "since": since.isoformat(),
            "limit": limit,
            "deadline": late.deadline.isoformat(),
            "working_days": late.working_days_taken,
            "calendar_exact": late.exact,
            "calendar_note": f" — {late.note}" if late.note else "",
            "calendar_note_zh": f"（注意：{late.note_zh}）" if late.note_zh else "",
            "last_event_type": r[12],
        }
        codes.add(code)
        out.append(
            ctx.finding(
                "BT-021",
                enterprise=enterprise,
                subject=f"{code}/{category}/{holder}/{since_us}",
                facts=facts,
                codes=[code],
                vins=[vin] if vin else [],
                events=evidence,
                evidence=[last_seq],
            )
        )
    ctx.missing_codes = codes
    return out


# ---------------------------------------------------------------------- BT-022
def silent_battery(ctx: AuditContext) -> list[dict[str, Any]]:
    """BT-022: a used battery with no event for more than `silent_battery_days` days."""
    limit = ctx.policy.silent_battery_days
    before = ctx.day_start_us(ctx.as_of - dt.timedelta(days=limit))
    out = []
    for r in ctx.sql.silent_batteries(before):
        code, state, holder, to_party, obligated, last_us, last_seq = r[:7]
        last_day = ctx.local_day(last_us)
        also = None if ctx.missing_codes is None else code in ctx.missing_codes
        facts = {
            "code": code,
            "state": state,
            "state_zh": STATE_ZH.get(state, state),
            "holder": holder,
            "holder_name": ctx.name(holder),
            "addressee": to_party,
            "obligated": obligated,
            "last_day": last_day.isoformat(),
            "days": (ctx.as_of - last_day).days,
            "limit": limit,
            "also_missing_report": also,
        }
        out.append(
            ctx.finding(
                "BT-022",
                enterprise=holder,
                subject=f"{code}/{last_us}",
                facts=facts,
                codes=[code],
                events=[f"{r[7]}/{r[8]}"] if r[7] else [],
                evidence=[last_seq],
            )
        )
    return out


# ---------------------------------------------------------------------- BT-024
def outlet_coverage(ctx: AuditContext) -> list[dict[str, Any]]:
    """BT-024: an automaker sold vehicles in a prefecture where no outlet serving it sits."""
    rows = ctx.sql.uncovered_sales(ctx.as_of, SALE_EVIDENCE)
    groups: dict[tuple[str, str], list[Any]] = {}
    for r in rows:
        groups.setdefault((r[0], r[1]), []).append(r)
    sales = ctx.sql.sale_events([r[5] for r in rows])
    out = []
    for (automaker, pref), members in groups.items():
        head = members[0]
        vins = [m[5] for m in members]
        region = f"{pref}00"
        facts = {
            "enterprise_name": ctx.name(automaker),
            "region": region,
            "vehicles": int(head[2]),
            "first_sold": head[3],
            "last_sold": head[4],
        }
        out.append(
            ctx.finding(
                "BT-024",
                enterprise=automaker,
                subject=f"{automaker}/{region}",
                facts=facts,
                vins=vins,
                events=[sales[v] for v in vins if v in sales],
            )
        )
    return out


# ---------------------------------------------------------------------- BT-025
def reporting_quality(ctx: AuditContext) -> list[dict[str, Any]]:
    """BT-025: per enterprise, the share of time-limited events reported on time and the
    share of codes in its hands without a missing report (one info finding each)."""
    policy = ctx.policy
    types = sorted({t for node in policy.nodes for t in node.event_types})
    when_keys: dict[str, set[str]] = {}
    for node in policy.nodes:
        for key in node.when:
            when_keys.setdefault(key, set()).update(node.event_types)
    keys = sorted(when_keys)
    reportable: dict[str, int] = {}
    for reporter, kind, values, n in ctx.sql.events_by_reporter(
        types, {k: sorted(v) for k, v in when_keys.items()}, ctx.cutoff_us
    ):
        roles = ctx.enterprises.get(reporter, ("", frozenset()))[1]
        if policy.node_for(kind, roles, dict(zip(keys, values, strict=True))):
            reportable[reporter] = reportable.get(reporter, 0) + n
    late = ctx.sql.late_by_reporter(ctx.cutoff_us)
    held = ctx.sql.lifecycles_by_party(ctx.cutoff_us)
    gaps = ctx.sql.open_gaps_by_enterprise()
    out = []
    for uscc in sorted(set(reportable) | set(held)):
        if uscc not in ctx.enterprises or "regulator" in ctx.enterprises[uscc][1]:
            continue
        n_rep, n_late = reportable.get(uscc, 0), min(late.get(uscc, 0), reportable.get(uscc, 0))
        n_held, n_gaps = held.get(uscc, 0), min(gaps.get(uscc, 0), held.get(uscc, 0))
        facts = {
            "enterprise_name": ctx.name(uscc),
            "reportable": n_rep,
            "late": n_late,
            "on_time_pct": _share(n_rep - n_late, n_rep),
            "lifecycles": n_held,
            "gaps": n_gaps,
            "complete_pct": _share(n_held - n_gaps, n_held),
        }
        out.append(ctx.finding("BT-025", enterprise=uscc, subject=uscc, facts=facts))
    return out


# ---------------------------------------------------------------------- helpers
def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()


def _share(part: int, whole: int) -> str:
    if whole <= 0:
        return "—"
    return str((Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP))
