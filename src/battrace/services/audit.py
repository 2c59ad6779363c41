"""Audit: run the audit-time rules (BT-021 … BT-025) over the whole store as of a date, keep the
open findings in step with what the store shows, and list findings.

A run is reproducible: "now" and the as-of date are passed in, the policy and the calendar too.
Each rule's open audit findings become exactly what the rule finds: new subjects are inserted,
subjects found again are kept (their figures refreshed), subjects no longer found are withdrawn.
Ingest-time findings are never touched. docs/compliance.md defines every rule.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from battrace.domain.calendar import WorkingCalendar
from battrace.domain.events import to_us
from battrace.domain.policy import Policy
from battrace.domain.rules import RULES, Moment
from battrace.errors import InvalidInput
from battrace.services import audit_mass
from battrace.services import audit_rules as ar
from battrace.services.common import CST, rfc3339
from battrace.store.audit_sql import AuditSql, select_findings
from battrace.store.schema import findings as findings_table
from battrace.store.sql import SqlStore

#: the audit rules in the order they run (BT-025 reads BT-021's fresh findings)
AUDIT_RULES: dict[str, Callable[[ar.AuditContext], list[dict[str, Any]]]] = {
    "BT-021": ar.missing_report,
    "BT-022": ar.silent_battery,
    "BT-023": audit_mass.mass_balance,
    "BT-024": ar.outlet_coverage,
    "BT-025": ar.reporting_quality,
}
STATUSES = ("open", "withdrawn")
#: SQLite page cache for an audit run (KiB): the rules revisit batteries and the log
AUDIT_CACHE_KIB = 1 << 20
#: rules computed on a connection of their own while the others run (the heaviest)
APART = frozenset({"BT-023"})


@dataclass(frozen=True, slots=True)
class RuleRun:
    """What one rule did in a run."""

    rule: str
    found: int
    new: int
    kept: int
    withdrawn: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "rule": self.rule,
            "name": RULES[self.rule].name,
            "found": self.found,
            "new": self.new,
            "kept": self.kept,
            "withdrawn": self.withdrawn,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class AuditReport:
    """The outcome of one audit run."""

    as_of: dt.date
    policy_version: str
    policy_fingerprint: str
    now: dt.datetime
    runs: list[RuleRun]
    seconds: float
    #: the open findings of the rules run, after the run (empty unless asked for)
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Open findings per rule after the run."""
        return {r.rule: r.found for r in self.runs}

    def as_dict(self) -> dict[str, Any]:
        """The JSON of `battrace audit --json`."""
        return {
            "as_of": self.as_of.isoformat(),
            "policy_version": self.policy_version,
            "policy_fingerprint": self.policy_fingerprint,
            "run_at": self.now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "seconds": round(self.seconds, 3),
            "rules": [r.as_dict() for r in self.runs],
            "findings": self.findings,
        }


def audit(
    store: SqlStore,
    *,
    as_of: dt.date,
    policy: Policy,
    calendar: WorkingCalendar,
    rules: set[str] | None = None,
    now: dt.datetime,
    with_findings: bool = True,
    rewind: bool = False,
) -> AuditReport:
    """Run the audit rules (all, or `rules`) over the store as of the end of `as_of` (policy
    timezone), and bring their open findings up to date. The open findings are those of the
    latest audit: one as of an earlier day than the stored findings' would withdraw what was
    found since, so it is refused unless `rewind`."""
    chosen = _chosen(rules)
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise InvalidInput("as_of must be a date (YYYY-MM-DD)")
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput("now must be timezone-aware")
    today = policy.local_date(now)
    if as_of > today:
        raise InvalidInput(f"as_of {as_of} is after today ({today}): an audit judges the past")
    if not rewind:
        latest = _latest_audit_day(store, chosen)
        if latest is not None and as_of < latest:
            raise InvalidInput(
                f"the open findings are those of the audit as of {latest}; an audit as of "
                f"{as_of} would withdraw what was found since and open the findings of that "
                "day instead — ask for that explicitly (--rewind), or audit as of a later day"
            )
    started = time.perf_counter()
    now_us = to_us(now)
    reason = f"no longer found by the audit as of {as_of} (policy {policy.version})"
    # the heaviest rule computes on a second connection (a second core) while the others run;
    # its findings are written after theirs, the store taking one writer at a time
    apart = [r for r in chosen if r in APART] if len(chosen) > 1 else []
    runs: dict[str, RuleRun] = {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = {
            r: pool.submit(_compute_apart, store, r, as_of, policy, calendar, now_us) for r in apart
        }
        with _session(store) as (sql, enterprises):
            ctx = ar.AuditContext(sql, as_of, policy, calendar, now_us, enterprises)
            sql.load_roles(ar.role_kinds(enterprises))
            sql.commit()
            for rule_id in chosen:
                if rule_id in pending:
                    continue
                t0 = time.perf_counter()
                found = AUDIT_RULES[rule_id](ctx)
                sql.commit()
                runs[rule_id] = _sync(sql, rule_id, found, now_us, reason, time.perf_counter() - t0)
            for rule_id, future in pending.items():
                found, seconds = future.result()
                runs[rule_id] = _sync(sql, rule_id, found, now_us, reason, seconds)
            rows = sql.open_findings(chosen) if with_findings else []
            found_rows = [finding_dict(r._mapping) for r in rows]
    return AuditReport(
        as_of,
        policy.version,
        policy.fingerprint,
        now,
        [runs[r] for r in chosen],
        time.perf_counter() - started,
        found_rows,
    )


def _latest_audit_day(store: SqlStore, rules: list[str]) -> dt.date | None:
    """The day the stored findings of these audit rules were judged as of (the latest)."""
    q = select(func.max(findings_table.c.as_of)).where(
        findings_table.c.rule.in_(rules), findings_table.c.as_of.is_not(None)
    )
    with store.engine.connect() as c:
        day = c.execute(q).scalar_one_or_none()
    return dt.date.fromisoformat(day) if day else None


@contextmanager
def _session(store: SqlStore) -> Iterator[tuple[AuditSql, dict[str, tuple[str, frozenset[str]]]]]:
    """One connection for a run (its TEMP tables live on it), with the registry read."""
    with store.engine.connect() as conn:
        sql = AuditSql(conn)
        cache = sql.widen_cache(AUDIT_CACHE_KIB)
        try:
            sql.drop_temp()
            enterprises = sql.enterprises()
            sql.commit()
            yield sql, enterprises
        finally:
            sql.drop_temp()
            sql.restore_cache(cache)
            sql.commit()


def _compute_apart(
    store: SqlStore,
    rule_id: str,
    as_of: dt.date,
    policy: Policy,
    calendar: WorkingCalendar,
    now_us: int,
) -> tuple[list[dict[str, Any]], float]:
    """One rule's findings computed on a connection of its own; and the seconds it took."""
    t0 = time.perf_counter()
    with _session(store) as (sql, enterprises):
        ctx = ar.AuditContext(sql, as_of, policy, calendar, now_us, enterprises)
        found = AUDIT_RULES[rule_id](ctx)
    return found, time.perf_counter() - t0


def _sync(
    sql: AuditSql,
    rule_id: str,
    found: list[dict[str, Any]],
    now_us: int,
    reason: str,
    seconds: float,
) -> RuleRun:
    t0 = time.perf_counter()
    new, kept, gone = sql.sync_findings(rule_id, found, now_us=now_us, reason=reason)
    sql.commit()
    return RuleRun(rule_id, len(found), new, kept, gone, seconds + time.perf_counter() - t0)


def list_findings(
    store: SqlStore,
    *,
    rule: str | None = None,
    enterprise: str | None = None,
    status: str | None = None,
    since: dt.datetime | dt.date | None = None,
    until: dt.datetime | dt.date | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[dict[str, Any]]:
    """Stored findings, ingest-time and audit, newest first. Dates bound `found_at` by whole
    days in China Standard Time; `until` is inclusive."""
    if rule is not None and rule not in RULES:
        raise InvalidInput(f"unknown rule {rule!r}; `battrace rules` lists them")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    for name, value in (("limit", limit), ("offset", offset)):
        if value is not None and value < 0:
            raise InvalidInput(f"{name} must not be negative")
    with store.engine.connect() as conn:
        rows = select_findings(
            conn,
            rule=rule,
            enterprise=enterprise,
            status=status,
            since_us=_bound(since, end=False),
            until_us=_bound(until, end=True),
            limit=limit,
            offset=offset,
        )
    return [finding_dict(r._mapping) for r in rows]


def finding_dict(row: Any) -> dict[str, Any]:
    """A findings row as JSON-ready data."""
    return {
        "id": int(row["id"]),
        "rule": row["rule"],
        "name": RULES[row["rule"]].name if row["rule"] in RULES else None,
        "moment": (
            RULES[row["rule"]].moment.value
            if row["rule"] in RULES  # an ingest rule's finding on a refused event has no seq
            else Moment.INGEST.value
            if row["trigger_seq"] is not None
            else Moment.AUDIT.value
        ),
        "severity": row["severity"],
        "enterprise": row["enterprise"],
        "codes": json.loads(row["codes"]),
        "vins": json.loads(row["vins"]),
        "events": json.loads(row["events"]),
        "subject_key": row["subject_key"],
        "found_at": rfc3339(int(row["found_us"])),
        "as_of": row["as_of"],
        "message_zh": row["message_zh"],
        "message_en": row["message_en"],
        "status": row["status"],
        "withdrawn_at": rfc3339(int(row["withdrawn_us"])) if row["withdrawn_us"] else None,
        "withdrawn_reason": row["withdrawn_reason"],
        "policy_version": row["policy_version"],
        "trigger_seq": row["trigger_seq"],
        "detail": json.loads(row["detail"]),
    }


def _chosen(rules: Iterable[str] | None) -> list[str]:
    if rules is None:
        return list(AUDIT_RULES)
    wanted = set(rules)
    if not wanted:
        raise InvalidInput("no audit rule selected: name at least one, or leave rules out")
    unknown = sorted(wanted - set(AUDIT_RULES))
    if unknown:
        kind = "an ingest-time rule" if unknown[0] in RULES else "not a rule"
        raise InvalidInput(f"{unknown[0]} is {kind}; the audit runs {', '.join(AUDIT_RULES)}")
    return [r for r in AUDIT_RULES if r in wanted]


def _bound(value: dt.datetime | dt.date | None, *, end: bool) -> int | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInput("since/until times must be timezone-aware")
        return to_us(value)
    day = value + dt.timedelta(days=1) if end else value
    start = to_us(dt.datetime.combine(day, dt.time(), tzinfo=CST))
    return start - 1 if end else start
