"""Who may do and see what: the one place access tiers are decided (docs/api.md, "Tiers").

Three tiers, after the EU battery passport (Regulation 2023/1542, art. 77):

- **public** (no key): a code's identity — product type, chemistry, production month, rated
  energy, a state category (new / in service / retired / reprocessed / recycled …), whether it
  is in a prohibited use and which uses are prohibited — plus the published registry, the
  policy and the log's checkpoints and proofs. Never VINs, holders or commercial data.
- **enterprise** (its key): the public view of every code, and the full view and history of
  codes it is *involved with*: it holds the code or is its addressee now, carries its
  recycling obligation, or reported an event about it (custody rules mean only a holder, or
  the addressee of a shipment, can have). Vehicles it reported an event about or made. Its own
  findings, scorecard, uploads and receipts. It reports events only as itself.
- **regulator** (a regulator key): everything, and key administration.

Drivers (API, dashboard) authenticate the caller into a `Principal` and call these functions;
nothing else decides. A refusal is `AccessDenied` (the API answers 401 to an anonymous caller,
403 to a known one).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from battrace.domain.events import Reason
from battrace.domain.lifecycle import Battery
from battrace.domain.policy import Policy
from battrace.domain.vocab import State
from battrace.errors import AccessDenied, NotFound
from battrace.identity import DEFAULT_TABLES, CodeTables, InvalidCode, parse_battery_code
from battrace.services import apikeys, audit, registry_view, uploads
from battrace.services import log as log_service
from battrace.services.apikeys import ApiKey, IssuedKey
from battrace.services.key_roles import KeyRole
from battrace.services.trace import Trace, enclosing_unit, history_entry, misread, vehicle_view
from battrace.store.sql import SqlStore


class Tier(StrEnum):
    """Access tiers."""

    PUBLIC = "public"
    ENTERPRISE = "enterprise"
    REGULATOR = "regulator"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: a tier, and the enterprise and key it authenticated with (none for public)."""

    tier: Tier
    enterprise: str | None = None
    key_id: str | None = None

    @classmethod
    def from_key(cls, store: SqlStore, key: ApiKey) -> Principal:
        """The principal an active API key stands for now (`apikeys.acting_role`: a regulator
        key of an enterprise that no longer holds the regulator role is an enterprise key)."""
        role = apikeys.acting_role(store, key)
        tier = Tier.REGULATOR if role is KeyRole.REGULATOR else Tier.ENTERPRISE
        return cls(tier, key.enterprise, key.key_id)

    @property
    def is_regulator(self) -> bool:
        """True for regulators."""
        return self.tier is Tier.REGULATOR

    @property
    def is_public(self) -> bool:
        """True for callers without a key."""
        return self.tier is Tier.PUBLIC


PUBLIC = Principal(Tier.PUBLIC)

#: the public state category of each lifecycle state (retired batteries are told apart by flag)
_CATEGORY: dict[State, str] = {
    State.REGISTERED: "new",
    State.IN_TRANSIT: "new",
    State.IN_STOCK: "new",
    State.IN_PACK: "assembled",
    State.IN_VEHICLE: "in_service",
    State.IN_USE: "in_service",
    State.USED: "retired",
    State.SUPERSEDED: "reprocessed",
    State.DISMANTLED: "dismantled",
    State.RECYCLED: "recycled",
    State.DISPOSED: "recycled",
}


def status_category(b: Battery) -> str:
    """The public state category of a code: new, assembled (in a pack), in_service, retired,
    reprocessed (re-coded into a successor), dismantled or recycled."""
    if b.retired and b.state in (State.IN_TRANSIT, State.IN_STOCK, State.REGISTERED):
        return "retired"
    return _CATEGORY[b.state]


# ---------------------------------------------------------------- writes
def require_key(p: Principal, doing: str = "this") -> str:
    """The caller's enterprise; AccessDenied for callers without a key."""
    if p.is_public or p.enterprise is None:
        raise AccessDenied(f"an API key is required for {doing}")
    return p.enterprise


def require_regulator(p: Principal, doing: str = "this") -> None:
    """AccessDenied unless the caller is a regulator."""
    require_key(p, doing)
    if not p.is_regulator:
        raise AccessDenied(f"only a regulator may do {doing}")


def require_own_or_regulator(p: Principal, uscc: str | None, what: str) -> str:
    """The caller's enterprise; AccessDenied unless the caller is a regulator or is `uscc`
    (an enterprise's own findings, scorecard, receipts, holdings)."""
    me = require_key(p, what)
    if not p.is_regulator and uscc != me:
        raise AccessDenied(f"{me} may read only its own {what}")
    return me


def findings_scope(p: Principal, enterprise: str | None = None) -> str | None:
    """The enterprise filter a findings query runs with: a regulator's choice (None: all);
    an enterprise's own USCC (asking for another's is AccessDenied)."""
    me = require_key(p, "findings")
    if p.is_regulator:
        return enterprise
    if enterprise is not None and enterprise != me:
        raise AccessDenied(f"{me} may read only its own findings")
    return me


def reporter_problems(p: Principal, raws: Sequence[Any]) -> list[Reason | None]:
    """Per submitted event: a rejection reason when its reporter is not the caller (None: the
    event goes on to ingest, which judges the rest). Events that are not objects, or carry no
    reporter, are left to ingest validation to reject."""
    me = require_key(p, "reporting events")
    out: list[Reason | None] = []
    for raw in raws:
        rep = raw.get("reporter") if isinstance(raw, dict) else None
        if rep is None or rep == me:
            out.append(None)
        else:
            out.append(
                Reason(
                    "reporter",
                    "BT-004",
                    f"this API key speaks for {me}; it may not report events for "
                    f"{rep if isinstance(rep, str) else 'another reporter'}",
                )
            )
    return out


#: identifiers a rejection message may name: USCCs (18) and VINs (17), as whole words
_USCC_WORD = re.compile(r"\b[0-9A-HJ-NP-RTUW-Y]{18}\b")
_VIN_WORD = re.compile(r"\b[0-9A-HJ-NPR-Z]{17}\b")
#: a GB/T 34014 code (24 characters) or a reprocessed product's 19-character short form
_CODE_WORD = re.compile(r"\b(?:[0-9A-Z]{24}|[0-9A-Z]{17}R[PMC])\b")


def shape_reasons(p: Principal, raw: Any, reasons: Sequence[Reason]) -> list[Reason]:
    """Rejection reasons as the caller may read them: an enterprise learns why its event does
    not fit, but not who else holds a battery, which vehicle it sits in or which pack it is
    part of — enterprises, VINs and battery codes its own event did not name are replaced by a
    neutral word. Regulators see all."""
    if p.is_regulator or not reasons:
        return list(reasons)
    named = _texts(raw) if isinstance(raw, dict) else ""
    mine = p.enterprise or ""

    def vehicle(m: re.Match[str]) -> str:
        word = m.group(0)
        return word if word in named else "another vehicle (其他车辆)"

    def battery(m: re.Match[str]) -> str:
        word = m.group(0)
        return word if word in named else "another battery (其他电池)"

    def shaped(text: str) -> str:
        return _CODE_WORD.sub(battery, _VIN_WORD.sub(vehicle, _mask_enterprises(text, mine, named)))

    return [Reason(r.field, r.rule, shaped(r.message)) for r in reasons]


def _mask_enterprises(text: str, mine: str, named: str = "") -> str:
    """`text` with every USCC but the caller's own (and those in `named`) replaced by a
    neutral word: what rejection messages and findings show an enterprise."""

    def enterprise(m: re.Match[str]) -> str:
        word = m.group(0)
        return word if word == mine or word in named else "another enterprise (其他企业)"

    return _USCC_WORD.sub(enterprise, text)


def _texts(raw: dict[str, Any]) -> str:
    """Every text in an event, keys included, joined: what its reporter named. Walked without
    recursion: a rejected event may nest a thousand levels (past what JSON writers take)."""
    out: list[str] = []
    stack: list[Any] = [raw]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            out.extend(k for k in item if isinstance(k, str))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            out.append(item)
    return "\n".join(out)


# ---------------------------------------------------------------- batteries
def sees_full_battery(
    store: SqlStore, p: Principal, b: Battery, *, reporters: Collection[str] | None = None
) -> bool:
    """True when the caller gets the full view and history of this code: regulators, and an
    enterprise that holds it or is its addressee now, carries its recycling obligation, or
    reported any event about it (`reporters`, when the caller has them at hand)."""
    if p.is_regulator:
        return True
    if p.is_public or p.enterprise is None:
        return False
    if p.enterprise in (b.holder, b.to, b.obligated):
        return True
    if reporters is None:
        reporters = registry_view.reporters_of(store, code=b.code)
    return p.enterprise in reporters


def public_battery(
    store: SqlStore, b: Battery, *, policy: Policy, tables: CodeTables | None = None
) -> dict[str, Any]:
    """The public identity fields of a code. A module or cell assembled into a pack has no
    life of its own on record: its `status` is its outermost unit's (`unit` says so; the full
    view adds the pack's code), so a module of a retired pack, found in an e-bike, reads as
    retired."""
    month: str | None = None
    try:
        decoded = (
            parse_battery_code(b.code, tables=tables) if tables else parse_battery_code(b.code)
        )
        month = decoded.production_date.strftime("%Y-%m")
    except InvalidCode:  # a code valid under other tables than today's
        month = None
    application = b.application
    unit = enclosing_unit(store.battery, b)
    return {
        "code": b.code,
        "product_type": b.product_type,
        "chemistry": b.chemistry,
        "production_month": month,
        "energy_kwh": b.energy_wh / 1000 if b.energy_wh is not None else None,
        "status": status_category(unit or b),
        # the pack's code is its `parent` link, which only the full view shows
        "unit": {"status": status_category(unit)} if unit else None,
        "reprocessed_product": b.reprocessed,
        "application": application,
        "in_prohibited_use": bool(application and policy.is_prohibited(application)),
        "prohibited_applications": sorted(policy.prohibited_applications),
        "successor": b.successor,
        "inputs": store.batteries_where(successor=b.code) if b.reprocessed else [],
    }


def battery_view(
    store: SqlStore,
    p: Principal,
    code: str,
    *,
    policy: Policy,
    tables: CodeTables | None = None,
) -> dict[str, Any]:
    """A code's view shaped by the caller's tier: public fields for everyone; state, holder,
    VIN, links, masses and history for regulators and involved enterprises."""
    try:
        b = registry_view.battery(store, code)
    except NotFound as exc:  # say why the code may be mistyped, as `trace` does
        raise NotFound(f"{exc}{misread(code, tables or DEFAULT_TABLES)}") from None
    out = public_battery(store, b, policy=policy, tables=tables)
    if p.is_public or p.enterprise is None:
        return {**out, "view": "public"}
    rows = store.history(code=code)  # the history also says who was involved
    if not sees_full_battery(store, p, b, reporters={stored.reporter for stored, _ in rows}):
        return {**out, "view": "public"}
    history = [history_entry(stored, withdrawn) for stored, withdrawn in rows]
    full = Trace(code, b, store.batteries_where(parent=code), out["inputs"], history).as_dict()
    full.pop("code")
    full.pop("unit")  # the public `unit` says it; the full view adds the pack's code
    if out["unit"] is not None and (unit := enclosing_unit(store.battery, b)) is not None:
        full["unit"] = {**out["unit"], "code": unit.code}
    return {**out, **full, "to": b.to, "retired": b.retired, "view": "full"}


def _deny_unless_full(
    store: SqlStore, p: Principal, b: Battery, what: str, *, reporters: set[str] | None = None
) -> None:
    """AccessDenied unless the caller sees `b` in full (`sees_full_battery`); the caller has
    checked the key already (`require_key`)."""
    if not sees_full_battery(store, p, b, reporters=reporters):
        raise AccessDenied(
            f"{p.enterprise} does not hold and never held {b.code}: its {what} is confidential"
        )


def battery_history(store: SqlStore, p: Principal, code: str) -> dict[str, Any]:
    """A code's full history (regulators and involved enterprises): the history alone, whose
    reporters also say who was involved (not a whole `trace`, with its state and units)."""
    b = registry_view.battery(store, code)
    require_key(p, "a code's history")
    rows = store.history(code=code)
    _deny_unless_full(store, p, b, "history", reporters={s.reporter for s, _ in rows})
    return {"code": code, "history": [history_entry(s, w) for s, w in rows]}


def battery_bundle(
    store: SqlStore, p: Principal, code: str, *, previous_size: int | None = None
) -> dict[str, Any]:
    """A code's history with inclusion proofs (regulators and involved enterprises)."""
    b = registry_view.battery(store, code)
    require_key(p, "a code's history bundle")
    _deny_unless_full(store, p, b, "history bundle")
    return log_service.bundle(store, code, previous_size=previous_size)


# ---------------------------------------------------------------- vehicles
def vehicle(store: SqlStore, p: Principal, vin: str) -> dict[str, Any]:
    """A vehicle and its packs: regulators, its automaker, and enterprises that reported an
    event about it. VINs are never public."""
    require_key(p, "vehicle data")
    view = vehicle_view(store, vin)
    if not p.is_regulator:
        v = view.vehicle
        mine = v is not None and p.enterprise == v.automaker
        if not mine and p.enterprise not in registry_view.reporters_of(store, vin=vin):
            raise AccessDenied(f"{p.enterprise} reported nothing about vehicle {vin}")
    return view.as_dict()


# ---------------------------------------------------------------- compliance
def findings(
    store: SqlStore,
    p: Principal,
    *,
    rule: str | None = None,
    enterprise: str | None = None,
    status: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Findings: all for regulators; an enterprise sees only those naming it."""
    enterprise = findings_scope(p, enterprise)
    registry_view._page(limit, offset)
    items = audit.list_findings(
        store,
        rule=rule,
        enterprise=enterprise,
        status=status,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return [shape_finding(p, i) for i in items]


def shape_finding(p: Principal, item: dict[str, Any]) -> dict[str, Any]:
    """A finding as the caller may read it: an enterprise sees its own findings, but not who
    else holds a battery or recycled it ("… was recycled by <USCC> …" named the recycler to
    the enterprise whose rejection message had masked it) — other enterprises' USCCs in the
    messages and figures become a neutral word, as in rejection messages. Regulators see
    all."""
    if p.is_regulator:
        return item
    mine = p.enterprise or ""

    def mask(value: Any) -> Any:
        if isinstance(value, str):
            return _mask_enterprises(value, mine)
        if isinstance(value, list):
            return [mask(v) for v in value]
        if isinstance(value, dict):
            return {k: mask(v) for k, v in value.items()}
        return value

    shaped = dict(item)
    for key in ("message_zh", "message_en", "detail", "withdrawn_reason"):
        if key in shaped:
            shaped[key] = mask(shaped[key])
    shaped["events"] = [e if str(e).startswith(f"{mine}/") else mask(e) for e in item["events"]]
    return shaped


def scorecard(store: SqlStore, p: Principal, uscc: str) -> dict[str, Any]:
    """An enterprise's scorecard: the enterprise itself and regulators."""
    require_own_or_regulator(p, uscc, "scorecard")
    return registry_view.scorecard(store, uscc)


def receipt(store: SqlStore, p: Principal, reporter: str, event_id: str) -> dict[str, Any]:
    """A receipt for a stored event: its reporter and regulators."""
    require_own_or_regulator(p, reporter, "receipts")
    return log_service.receipt(store, reporter, event_id)


# ---------------------------------------------------------------- uploads
def upload(
    store: SqlStore,
    p: Principal,
    upload_id: str,
    *,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """An upload's progress and results: its sender and regulators (others are told it does
    not exist, so upload ids leak nothing)."""
    me = require_key(p, "uploads")
    if not p.is_regulator and uploads.owner(store, upload_id) != me:
        raise NotFound(f"no upload {upload_id}")
    return uploads.view(store, upload_id, status=status, limit=limit, offset=offset)


# ---------------------------------------------------------------- key administration
def issue_key(
    store: SqlStore,
    p: Principal,
    *,
    enterprise: str,
    role: str,
    now: dt.datetime,
    label: str | None = None,
) -> IssuedKey:
    """Issue an API key: regulators only."""
    require_regulator(p, "API key administration")
    return apikeys.issue(store, enterprise=enterprise, role=role, now=now, label=label)


def list_keys(
    store: SqlStore,
    p: Principal,
    *,
    enterprise: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[ApiKey]:
    """List API keys (a page of them): regulators only."""
    require_regulator(p, "API key administration")
    return apikeys.list_keys(store, enterprise=enterprise, limit=limit, offset=offset)


def revoke_key(store: SqlStore, p: Principal, key_id: str, *, now: dt.datetime) -> ApiKey:
    """Revoke an API key: regulators only."""
    require_regulator(p, "API key administration")
    return apikeys.revoke(store, key_id, now=now)
