"""Read views the API and dashboard share: the registry, the policy in force, scorecards, and
the few facts about a code or vehicle that access decisions need.

Plain SQL reads over the registry projections (`enterprises`, `qualifications`, …) and the
`findings` table; results are JSON-ready dicts.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from sqlalchemy import and_, func, or_, select, union
from sqlalchemy.engine import Connection, Row

from battrace.domain.lifecycle import Battery
from battrace.domain.policy import Policy
from battrace.errors import InvalidInput, NotFound
from battrace.services import audit
from battrace.store.audit_sql import open_findings_by_rule
from battrace.store.rows import BATTERY_COLUMNS, battery_from_row
from battrace.store.schema import (
    enterprises,
    event_codes,
    events,
    manufacturer_codes,
    outlet_serves,
    outlets,
    qualifications,
    vehicle_models,
)
from battrace.store.sql import SqlStore

MAX_PAGE = 1000


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    if offset < 0:
        raise InvalidInput("offset must not be negative")


# ---------------------------------------------------------------- the registry
def enterprise(store: SqlStore, uscc: str) -> dict[str, Any]:
    """One registered enterprise: roles, region, manufacturer codes, qualifications, outlet."""
    with store.engine.connect() as c:
        row = _registered(c, uscc)
        codes = sorted(
            c.execute(
                select(manufacturer_codes.c.manufacturer_code).where(
                    manufacturer_codes.c.enterprise == uscc
                )
            ).scalars()
        )
        quals = [
            _qualification(q)
            for q in c.execute(
                select(qualifications)
                .where(qualifications.c.enterprise == uscc)
                .order_by(qualifications.c.scope, qualifications.c.valid_from)
            )
        ]
        outlet = c.execute(select(outlets).where(outlets.c.enterprise == uscc)).first()
        serves = sorted(
            c.execute(select(outlet_serves.c.party).where(outlet_serves.c.outlet == uscc)).scalars()
        )
        served_by = sorted(
            c.execute(select(outlet_serves.c.outlet).where(outlet_serves.c.party == uscc)).scalars()
        )
    return {
        **_enterprise(row),
        "manufacturer_codes": codes,
        "qualifications": quals,
        "outlet": (
            {"region": outlet.region, "address": outlet.address, "serves": serves}
            if outlet is not None
            else None
        ),
        "served_by_outlets": served_by,
    }


def list_enterprises(
    store: SqlStore,
    *,
    role: str | None = None,
    region: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Registered enterprises, by USCC; filtered by a role or a region prefix."""
    _page(limit, offset)
    q = select(enterprises).order_by(enterprises.c.uscc)
    if role is not None:
        # roles are stored comma-separated and sorted: match a whole word
        q = q.where(
            or_(
                enterprises.c.roles == role,
                enterprises.c.roles.startswith(role + ","),
                enterprises.c.roles.endswith("," + role),
                enterprises.c.roles.contains("," + role + ","),
            )
        )
    if region is not None:
        q = q.where(enterprises.c.region.startswith(region))
    with store.engine.connect() as c:
        return [_enterprise(r) for r in c.execute(q.limit(limit).offset(offset))]


def list_qualifications(
    store: SqlStore,
    *,
    scope: str | None = None,
    enterprise: str | None = None,
    valid_on: dt.date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The white list: grants of qualifications, optionally those valid on a day."""
    _page(limit, offset)
    q = select(qualifications).order_by(
        qualifications.c.enterprise, qualifications.c.scope, qualifications.c.valid_from
    )
    if scope is not None:
        q = q.where(qualifications.c.scope == scope)
    if enterprise is not None:
        q = q.where(qualifications.c.enterprise == enterprise)
    if valid_on is not None:
        day = valid_on.isoformat()
        q = q.where(
            qualifications.c.valid_from <= day,
            or_(qualifications.c.valid_until.is_(None), qualifications.c.valid_until >= day),
            or_(qualifications.c.revoked_on.is_(None), qualifications.c.revoked_on > day),
        )
    with store.engine.connect() as c:
        return [_qualification(r) for r in c.execute(q.limit(limit).offset(offset))]


def list_outlets(
    store: SqlStore,
    *,
    serves: str | None = None,
    region: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Registered recycling service outlets and whom they collect for."""
    _page(limit, offset)
    q = select(outlets).order_by(outlets.c.enterprise)
    if serves is not None:
        q = q.where(
            outlets.c.enterprise.in_(
                select(outlet_serves.c.outlet).where(outlet_serves.c.party == serves)
            )
        )
    if region is not None:
        q = q.where(outlets.c.region.startswith(region))
    with store.engine.connect() as c:
        rows = list(c.execute(q.limit(limit).offset(offset)))
        ids = [r.enterprise for r in rows]
        parties: dict[str, list[str]] = {i: [] for i in ids}
        if ids:
            for outlet, party in c.execute(
                select(outlet_serves.c.outlet, outlet_serves.c.party)
                .where(outlet_serves.c.outlet.in_(ids))
                .order_by(outlet_serves.c.party)
            ):
                parties[outlet].append(party)
    return [
        {
            "enterprise": r.enterprise,
            "region": r.region,
            "address": r.address,
            "serves": parties[r.enterprise],
        }
        for r in rows
    ]


def list_vehicle_models(
    store: SqlStore, *, automaker: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Registered vehicle models (swap models are exempt from BT-010)."""
    _page(limit, offset)
    q = select(vehicle_models).order_by(vehicle_models.c.model)
    if automaker is not None:
        q = q.where(vehicle_models.c.automaker == automaker)
    with store.engine.connect() as c:
        return [
            {"model": r.model, "automaker": r.automaker, "swap_model": bool(r.swap_model)}
            for r in c.execute(q.limit(limit).offset(offset))
        ]


def _enterprise(r: Any) -> dict[str, Any]:
    return {
        "uscc": r.uscc,
        "name": r.name,
        "roles": sorted(r.roles.split(",")) if r.roles else [],
        "region": r.region,
    }


def _qualification(r: Any) -> dict[str, Any]:
    return {
        "enterprise": r.enterprise,
        "scope": r.scope,
        "valid_from": r.valid_from,
        "valid_until": r.valid_until,
        "revoked_on": r.revoked_on,
        "granted_by": r.granted_by,
    }


# ---------------------------------------------------------------- the policy
def policy_view(policy: Policy) -> dict[str, Any]:
    """The policy in force: version, fingerprint and every threshold the rules judge by."""
    return {
        "version": policy.version,
        "name": policy.name,
        "fingerprint": policy.fingerprint,
        "source": policy.source,
        "timezone": policy.timezone,
        "reporting_nodes": [
            {
                "name": n.name,
                "label_zh": n.label_zh,
                "label_en": n.label_en,
                "event_types": sorted(n.event_types),
                "roles": sorted(n.roles) if n.roles is not None else None,
                "clock": n.clock,
                "limit_wd": n.limit_wd,
                "basis": n.basis,
                "firm": n.firm,
            }
            for n in policy.nodes
        ],
        "missing_report_wd": {
            k: getattr(policy.missing_report_wd, k)
            for k in policy.missing_report_wd.__dataclass_fields__
        },
        "silent_battery_days": policy.silent_battery_days,
        "mass_balance": {
            "tolerance_pct": float(policy.mass_balance_tolerance_pct),
            "period": policy.mass_balance_period,
        },
        "recovery_min_pct": {k: float(v) for k, v in sorted(policy.recovery_min_pct.items())},
        "applications": sorted(policy.applications),
        "prohibited_applications": sorted(policy.prohibited_applications),
        "standards": {k: list(v) for k, v in sorted(policy.standards.items())},
        "required_tests": list(policy.required_tests),
    }


# ---------------------------------------------------------------- scorecards
def scorecard(store: SqlStore, uscc: str) -> dict[str, Any]:
    """An enterprise's reporting quality (BT-025, from the latest audit) and its open findings
    by rule."""
    with store.engine.connect() as c:
        _registered(c, uscc)
        by_rule = open_findings_by_rule(c, uscc)
        reported = int(
            c.execute(
                select(func.count()).select_from(events).where(events.c.reporter == uscc)
            ).scalar_one()
        )
    latest = audit.list_findings(store, rule="BT-025", enterprise=uscc, status="open", limit=1)
    detail = latest[0]["detail"] if latest else {}
    return {
        "enterprise": uscc,
        "events_reported": reported,
        "on_time_pct": _percent(detail.get("on_time_pct")),
        "reportable": detail.get("reportable"),
        "late": detail.get("late"),
        "complete_pct": _percent(detail.get("complete_pct")),
        "lifecycles": detail.get("lifecycles"),
        "gaps": detail.get("gaps"),
        "as_of": latest[0]["as_of"] if latest else None,
        "open_findings": sum(by_rule.values()),
        "open_findings_by_rule": by_rule,
    }


def _registered(c: Connection, uscc: str) -> Row[Any]:
    """The enterprise's registry row; NotFound for an unregistered one."""
    row = c.execute(select(enterprises).where(enterprises.c.uscc == uscc)).first()
    if row is None:
        raise NotFound(f"{uscc} is not a registered enterprise")
    return row


# ---------------------------------------------------------------- facts for access decisions
@cache
def _battery_sql(dialect: str) -> str:
    mark = "%s" if dialect == "postgresql" else "?"
    return f"SELECT {', '.join(BATTERY_COLUMNS)} FROM batteries WHERE code = {mark}"


def battery(store: SqlStore, code: str) -> Battery:
    """The current state of a code; NotFound when the log never saw it.

    The hot read of the public passport view (a QR scan): one indexed row on the pooled driver
    connection, as the writer does on its hot path — SQLAlchemy's per-statement work would
    cost several times the read itself.
    """
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(_battery_sql(store.dialect), (code,))
        row = cur.fetchone()
        cur.close()
    finally:
        raw.close()  # back to the pool, which ends any transaction the driver opened
    if row is None:
        raise NotFound(f"no event names {code}")
    return battery_from_row(row)


def reporters_of(store: SqlStore, *, code: str | None = None, vin: str | None = None) -> set[str]:
    """Every enterprise that reported an event naming the code (or the vehicle)."""
    if code is not None:
        seqs = union(
            select(events.c.seq).where(events.c.code == code),
            select(event_codes.c.seq).where(event_codes.c.code == code),
        ).subquery()
        q = select(events.c.reporter).join(seqs, seqs.c.seq == events.c.seq).distinct()
    else:
        q = select(events.c.reporter).where(and_(events.c.vin == vin)).distinct()
    with store.engine.connect() as c:
        return set(c.execute(q).scalars())


def _percent(value: Any) -> float | None:
    """A stored share as a number (the audit writes "—" when there was nothing to count)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
