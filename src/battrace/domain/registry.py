"""Registry facts: enterprises, manufacturer codes, qualifications, outlets, vehicle models.

They arrive as events in the same log as battery events. The registry is small (thousands of
enterprises nationally), so it lives in memory as a projection of those events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from battrace.domain.events import Event, Reason
from battrace.domain.vocab import EventType, Role, Scope

UTILIZER_ROLES = frozenset({Role.REPROCESSOR, Role.RECYCLER})


@dataclass(frozen=True, slots=True)
class Enterprise:
    """A registered enterprise (or regulator) and its roles."""

    uscc: str
    name: str
    roles: frozenset[Role]
    region: str


@dataclass(frozen=True, slots=True)
class Qualification:
    """One grant of a white-list qualification; `revoked_on` once withdrawn."""

    enterprise: str
    scope: Scope
    valid_from: dt.date
    valid_until: dt.date | None
    revoked_on: dt.date | None = None
    granted_by: str = ""

    def valid_on(self, day: dt.date) -> bool:
        """True when the qualification covers `day`."""
        if day < self.valid_from:
            return False
        if self.valid_until is not None and day > self.valid_until:
            return False
        return self.revoked_on is None or day < self.revoked_on


@dataclass(frozen=True, slots=True)
class Outlet:
    """A recycling service outlet and the automakers (or utilisers) it collects for."""

    enterprise: str
    serves: frozenset[str]
    region: str
    address: str


@dataclass(frozen=True, slots=True)
class VehicleModel:
    """A vehicle model; swap models are exempt from integrated scrapping (BT-010)."""

    model: str
    automaker: str
    swap_model: bool


@dataclass
class Registry:
    """The registry as of the events applied so far."""

    enterprises: dict[str, Enterprise] = field(default_factory=dict)
    manufacturer_codes: dict[str, str] = field(default_factory=dict)
    qualifications: dict[str, list[Qualification]] = field(default_factory=dict)
    outlets: dict[str, Outlet] = field(default_factory=dict)
    models: dict[str, VehicleModel] = field(default_factory=dict)

    def roles_of(self, uscc: str) -> frozenset[Role]:
        """The roles of an enterprise (empty when not registered)."""
        ent = self.enterprises.get(uscc)
        return ent.roles if ent else frozenset()

    def qualified(self, uscc: str, day: dt.date, scope: Scope | None = None) -> bool:
        """True when `uscc` holds a valid qualification (of `scope`, or any) on `day`."""
        return any(
            q.valid_on(day) and (scope is None or q.scope is scope)
            for q in self.qualifications.get(uscc, ())
        )

    def serves(self, outlet: str, party: str | None) -> bool:
        """True when `outlet` is a registered outlet collecting for `party`."""
        o = self.outlets.get(outlet)
        return o is not None and party is not None and party in o.serves

    def copy(self) -> Registry:
        """An independent copy (the dicts are copied; their values are immutable)."""
        return Registry(
            dict(self.enterprises),
            dict(self.manufacturer_codes),
            {k: list(v) for k, v in self.qualifications.items()},
            dict(self.outlets),
            dict(self.models),
        )


def _last_regulator(reg: Registry, ent: str) -> bool:
    """True when `ent` is the only enterprise registered with the role regulator."""
    regulators = [e for e in reg.enterprises.values() if Role.REGULATOR in e.roles]
    return [e.uscc for e in regulators] == [ent]


def _outlet_refused(
    reg: Registry, reporter: str, ent: str, serves: frozenset[str], before: Outlet | None
) -> Reason | None:
    """Why an enterprise other than a regulator may not report this outlet registration.
    An automaker registers an outlet as one of its own (`serves` names only itself, and
    whoever the outlet served before stays served); the outlet itself may update its record
    but not add anyone it collects for. Only a regulator replaces a record."""
    if reporter == ent:
        if before is None:
            return Reason(
                "reporter",
                "BT-004",
                "an outlet is first registered by a regulator or by an automaker it collects for",
            )
        if not serves <= before.serves:
            added = ", ".join(sorted(serves - before.serves))
            return Reason(
                "serves",
                "BT-004",
                f"an outlet cannot add whom it collects for ({added}): that enterprise or a "
                "regulator registers it",
            )
        return None
    if serves != {reporter}:
        return Reason(
            "serves",
            "BT-004",
            "an enterprise registers an outlet for itself: `serves` must list only the "
            f"reporter {reporter} (a regulator registers it for others)",
        )
    if Role.AUTOMAKER not in reg.roles_of(reporter):
        # `serves` lists automakers: anyone else listing itself would stand as an automaker
        # with an outlet (BT-024's coverage) without being one
        return Reason(
            "reporter",
            "BT-004",
            f"{reporter} is not registered as an automaker: only an automaker registers an "
            "outlet that collects for it (a regulator registers any outlet)",
        )
    return None


def apply_registry_fact(reg: Registry, ev: Event) -> list[Reason]:
    """Apply a registry fact to `reg` in place; the reasons if it may not be applied."""
    p = ev.payload
    reporter = ev.reporter
    is_regulator = Role.REGULATOR in reg.roles_of(reporter)
    t = ev.type
    if t is EventType.ENTERPRISE_REGISTERED:
        roles = frozenset(Role(r) for r in p["roles"])
        bootstrap = not reg.enterprises
        if bootstrap:
            if Role.REGULATOR not in roles or p["enterprise"] != reporter:
                return [
                    Reason(
                        "roles",
                        "BT-004",
                        "an empty store is bootstrapped by a regulator registering itself",
                    )
                ]
        elif not is_regulator:
            return [_only_regulator(t)]
        elif Role.REGULATOR not in roles and _last_regulator(reg, p["enterprise"]):
            return [
                Reason(
                    "roles",
                    "BT-004",
                    f"{p['enterprise']} is the last regulator: register another regulator "
                    "before taking the role away (nobody could report registry facts after)",
                )
            ]
        reg.enterprises[p["enterprise"]] = Enterprise(
            p["enterprise"], p["name"], roles, p["region"]
        )
        return []
    if reporter not in reg.enterprises:
        return [Reason("reporter", "BT-004", f"{reporter} is not a registered enterprise")]
    if t is EventType.MANUFACTURER_CODE_ASSIGNED:
        if not is_regulator:
            return [_only_regulator(t)]
        ent, code = p["enterprise"], p["manufacturer_code"]
        if ent not in reg.enterprises:
            return [_unregistered("enterprise", ent)]
        owner = reg.manufacturer_codes.get(code)
        if owner is not None and owner != ent:
            return [
                Reason(
                    "manufacturer_code",
                    "BT-002",
                    f"manufacturer code {code} is already assigned to {owner}",
                )
            ]
        reg.manufacturer_codes[code] = ent
        return []
    if t is EventType.QUALIFICATION_GRANTED:
        if not is_regulator:
            return [_only_regulator(t)]
        ent = p["enterprise"]
        if ent not in reg.enterprises:
            return [_unregistered("enterprise", ent)]
        until = p.get("valid_until")
        grant = Qualification(
            ent,
            Scope(p["scope"]),
            dt.date.fromisoformat(p["valid_from"]),
            dt.date.fromisoformat(until) if until else None,
            granted_by=reporter,
        )
        reg.qualifications.setdefault(ent, []).append(grant)
        return []
    if t is EventType.QUALIFICATION_REVOKED:
        if not is_regulator:
            return [_only_regulator(t)]
        ent, scope = p["enterprise"], Scope(p["scope"])
        day = ev.time.date()
        grants = reg.qualifications.get(ent, [])
        active = [q for q in grants if q.scope is scope and q.revoked_on is None]
        if not active:
            return [Reason("scope", None, f"{ent} holds no {scope.value} qualification to revoke")]
        reg.qualifications[ent] = [replace(q, revoked_on=day) if q in active else q for q in grants]
        return []
    if t is EventType.OUTLET_REGISTERED:
        ent = p["enterprise"]
        serves = frozenset(p["serves"])
        before = reg.outlets.get(ent)
        refused = None if is_regulator else _outlet_refused(reg, reporter, ent, serves, before)
        if refused is not None:
            return [refused]
        reasons = []
        if Role.OUTLET not in reg.roles_of(ent):
            reasons.append(
                Reason("enterprise", None, f"{ent} is not registered with the role outlet")
            )
        for party in sorted(serves):
            if party not in reg.enterprises:
                reasons.append(_unregistered("serves", party))
        if reasons:
            return reasons
        if is_regulator or before is None:
            reg.outlets[ent] = Outlet(ent, serves, p["region"], p["address"])
        elif reporter == ent:  # the outlet says where it is now; nobody it served is dropped
            reg.outlets[ent] = Outlet(ent, before.serves, p["region"], p["address"])
        else:  # an automaker adds itself to an outlet on record, as it is
            reg.outlets[ent] = replace(before, serves=before.serves | serves)
        return []
    if t is EventType.VEHICLE_MODEL_REGISTERED:
        maker = p["automaker"]
        if not (is_regulator or reporter == maker):
            return [
                Reason(
                    "reporter",
                    "BT-004",
                    "a vehicle model is registered by its automaker or a regulator",
                )
            ]
        if not reg.roles_of(maker) & {Role.AUTOMAKER, Role.IMPORTER}:
            return [Reason("automaker", None, f"{maker} is not a registered automaker/importer")]
        known = reg.models.get(p["model"])
        if known is not None and known.automaker != maker:
            return [Reason("model", None, f"model {p['model']!r} belongs to {known.automaker}")]
        reg.models[p["model"]] = VehicleModel(p["model"], maker, p["swap_model"])
        return []
    raise AssertionError(f"not a registry fact: {t}")


def _only_regulator(t: EventType) -> Reason:
    return Reason("reporter", "BT-004", f"only a regulator may report {t.value}")


def _unregistered(field_name: str, uscc: str) -> Reason:
    return Reason(field_name, None, f"{uscc} is not a registered enterprise")
