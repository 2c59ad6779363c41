"""The compliance policy: deadlines, thresholds and vocabularies the rules judge by (RULES.md).

A policy is a versioned TOML file, validated whole at load: unknown keys, wrong types, negative
limits and percentages outside 0–100 are `ConfigError`s naming the key. Every finding records
the `version` and `fingerprint` of the policy it was judged under. The packaged defaults
(`data/default_policy.toml`) follow DOMAIN.md; docs/policy.md explains every key.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
import zoneinfo
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from battrace.domain import data
from battrace.domain.vocab import ELEMENTS, REGISTRY_TYPES, REQUIRED_ELEMENTS, EventType, Role
from battrace.errors import InvalidInput

#: event types a reporting node may name (registry facts have no reporting limit)
REPORTABLE_TYPES = frozenset(t.value for t in EventType if t not in REGISTRY_TYPES)
ROLES = frozenset(r.value for r in Role)
PERIODS = ("month", "quarter", "year")
MISSING_REPORT_KEYS = (
    "shipment_not_received",
    "removed_not_collected",
    "outlet_intake_not_handed_over",
    "recycler_intake_not_processed",
    "scrapped_pack_not_removed",
)
#: applications the regulation itself prohibits [firm]; a policy cannot allow them
ALWAYS_PROHIBITED = frozenset({"e_bike"})
#: zones that may fall back to a fixed +08:00 when no IANA data is installed (no DST since 1991)
_CHINA_ZONES = frozenset({"Asia/Shanghai", "PRC"})
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})", re.ASCII)
_WORD = re.compile(r"[a-z][a-z0-9_]{0,39}")
_TOP_KEYS = frozenset(
    {
        "version",
        "name",
        "timezone",
        "reporting_nodes",
        "missing_report_wd",
        "silent_battery_days",
        "mass_balance",
        "recovery_min_pct",
        "applications",
        "recoding",
    }
)
_NODE_KEYS = frozenset(
    {
        "name",
        "label_zh",
        "label_en",
        "event_types",
        "roles",
        "clock",
        "limit_wd",
        "when",
        "basis",
        "firm",
    }
)


@dataclass(frozen=True, slots=True)
class ReportingNode:
    """A reporting node (DOMAIN.md §3): which events, by whom, timed from which field, how long."""

    name: str
    label_zh: str
    label_en: str
    event_types: frozenset[str]
    #: reporter roles the node applies to; None = any reporter
    roles: frozenset[str] | None
    #: the event field whose date starts the clock (`time` = the event time)
    clock: str
    limit_wd: int
    #: extra conditions: event field -> allowed values (all must hold)
    when: Mapping[str, frozenset[str]]
    basis: str
    firm: bool


class ReportingLimit(NamedTuple):
    """The node an event falls under, its limit in working days and the date its clock starts."""

    node: ReportingNode
    limit_wd: int
    clock_date: dt.date


@dataclass(frozen=True, slots=True)
class MissingReportLimits:
    """BT-021: working days after which an expected next step counts as missing."""

    shipment_not_received: int
    removed_not_collected: int
    outlet_intake_not_handed_over: int
    recycler_intake_not_processed: int
    scrapped_pack_not_removed: int


@dataclass(frozen=True, slots=True)
class RecodingHeuristics:
    """BT-012: signs that a retired traction battery was re-coded for a prohibited use."""

    flag_ebike_codes: bool
    flag_ebike_like_products: bool
    ebike_like_max_voltage_v: Decimal
    ebike_like_max_energy_kwh: Decimal


@dataclass(frozen=True, eq=False)
class Policy:
    """A validated policy; build it with `load`, `default` or `from_mapping`."""

    version: str
    name: str
    timezone: str
    tz: dt.tzinfo = field(repr=False)
    nodes: tuple[ReportingNode, ...] = field(repr=False)
    missing_report_wd: MissingReportLimits = field(repr=False)
    silent_battery_days: int = field(repr=False)
    mass_balance_tolerance_pct: Decimal = field(repr=False)
    mass_balance_period: str = field(repr=False)
    recovery_min_pct: Mapping[str, Decimal] = field(repr=False)
    applications: frozenset[str] = field(repr=False)
    prohibited_applications: frozenset[str] = field(repr=False)
    standards: Mapping[str, tuple[str, ...]] = field(repr=False)
    required_tests: tuple[str, ...] = field(repr=False)
    recoding: RecodingHeuristics = field(repr=False)
    #: sha256 of the policy's canonical content: two files with equal content share it
    fingerprint: str = ""
    #: where the policy came from (a path, or battrace:default_policy.toml)
    source: str = ""
    _by_type: Mapping[str, tuple[ReportingNode, ...]] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ construction

    @classmethod
    def default(cls) -> Policy:
        """The packaged default policy (DOMAIN.md), built once."""
        return _default_policy()

    @classmethod
    def default_mapping(cls) -> dict[str, Any]:
        """A fresh copy of the packaged policy document, to edit into a deployment's own."""
        return copy.deepcopy(dict(data.packaged(data.POLICY_FILE)))

    @classmethod
    def load(cls, path: Path) -> Policy:
        """A policy from a TOML (or JSON) file; `ConfigError` naming the key if it is invalid."""
        return cls.from_mapping(data.read_file(path), source=str(path))

    @classmethod
    def from_mapping(cls, document: Mapping[str, Any], *, source: str = "<mapping>") -> Policy:
        """A policy from a parsed document (the format of the packaged file)."""
        top = data.Table(document, where="", source=source)
        top.only(_TOP_KEYS)
        version = top.text("version").strip()
        if not version or len(version) > 64:
            raise top.error("version", "must be a non-empty string of at most 64 characters")
        timezone = top.text("timezone", "Asia/Shanghai")
        nodes = _nodes(top)
        by_type: dict[str, list[ReportingNode]] = {}
        for node in nodes:
            for event_type in sorted(node.event_types):
                by_type.setdefault(event_type, []).append(node)
        missing = top.table("missing_report_wd")
        missing.only(MISSING_REPORT_KEYS)
        mass = top.table("mass_balance")
        mass.only({"tolerance_pct", "period"})
        period = mass.text("period")
        if period not in PERIODS:
            raise mass.error("period", f"must be one of {', '.join(PERIODS)}, got {period!r}")
        apps = _applications(top.table("applications"))
        policy = cls(
            version=version,
            name=top.text("name", ""),
            timezone=timezone,
            tz=_timezone(timezone, top),
            nodes=nodes,
            missing_report_wd=MissingReportLimits(
                *(missing.integer(k, minimum=1) for k in MISSING_REPORT_KEYS)
            ),
            silent_battery_days=top.integer("silent_battery_days", minimum=1),
            mass_balance_tolerance_pct=mass.percent("tolerance_pct"),
            mass_balance_period=period,
            recovery_min_pct=_recovery(top.table("recovery_min_pct")),
            applications=apps[0],
            prohibited_applications=apps[1],
            standards=apps[2],
            required_tests=apps[3],
            recoding=_recoding(top.table("recoding")),
            source=source,
            _by_type=MappingProxyType({k: tuple(v) for k, v in by_type.items()}),
        )
        object.__setattr__(policy, "fingerprint", _fingerprint(policy))
        return policy

    # ------------------------------------------------------------------ questions

    def reporting_limit(
        self, event_type: str, reporter_roles: Collection[str], event: object
    ) -> ReportingLimit | None:
        """The node, limit and clock date for an event, or None if no limit applies.

        `reporter_roles` are the reporter's roles; `event` is an `Event` or a mapping of its
        fields (`time` and the node's clock field). The first matching node of the file wins.
        """
        node = self.node_for(event_type, reporter_roles, event)
        if node is None:
            return None
        return ReportingLimit(node, node.limit_wd, self.clock_date(event, node))

    def node_for(
        self, event_type: str, reporter_roles: Collection[str], event: object
    ) -> ReportingNode | None:
        """The first node of the file that an event of this type, from a reporter with these
        roles, with these fields (an `Event` or a mapping) falls under; None if none does."""
        candidates = self._by_type.get(event_type)
        if not candidates:
            return None
        if isinstance(reporter_roles, str):
            reporter_roles = (reporter_roles,)
        for node in candidates:
            if node.roles is not None and node.roles.isdisjoint(reporter_roles):
                continue
            if node.when and not _when_holds(node.when, event):
                continue
            return node
        return None

    def clock_date(self, event: object, node: ReportingNode) -> dt.date:
        """The local date in the policy timezone at which `node`'s clock starts for `event`."""
        value = _field(event, node.clock)
        if isinstance(value, dt.datetime):
            return self.local_date(value)
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            day = data.to_date(value)
            if day is not None:
                return day
            try:
                return self.local_date(dt.datetime.fromisoformat(value))
            except ValueError:
                pass
        raise InvalidInput(
            f"the {node.name} clock starts at the event's {node.clock!r}, which is "
            f"{'missing' if value is None else f'not a date or time: {value!r}'}"
        )

    def local_date(self, moment: dt.datetime) -> dt.date:
        """The date of a timezone-aware moment in the policy's timezone."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidInput(f"{moment.isoformat()} has no UTC offset; times must be aware")
        return moment.astimezone(self.tz).date()

    def is_prohibited(self, application: str) -> bool:
        """True if retired batteries may not be used in `application` (BT-012)."""
        return application in self.prohibited_applications

    def standards_for(self, application: str) -> tuple[str, ...]:
        """The standards a reprocessed product for `application` may name (BT-013)."""
        return self.standards.get(application, ())

    def standard_accepted(self, application: str, standard: str) -> bool:
        """True if `standard` is, or is an edition/part of, a standard listed for `application`."""
        declared = _normal_standard(standard)
        for entry in self.standards.get(application, ()):
            listed = _normal_standard(entry)
            if declared == listed or declared.startswith((listed + "-", listed + ".")):
                return True
        return False

    def missing_tests(self, tests: Mapping[str, Any] | None) -> tuple[str, ...]:
        """The required test results absent from a reprocessed product's `tests` (BT-013)."""
        present = tests or {}
        return tuple(k for k in self.required_tests if present.get(k) is None)

    def __repr__(self) -> str:
        return f"Policy(version={self.version!r}, fingerprint={self.fingerprint[:12]!r})"


# ---------------------------------------------------------------------- parsing


def _nodes(top: data.Table) -> tuple[ReportingNode, ...]:
    nodes: list[ReportingNode] = []
    names: set[str] = set()
    for i, item in enumerate(top.items("reporting_nodes")):
        row = data.Table(item, where=f"reporting_nodes[{i}]", source=top.source)
        row.only(_NODE_KEYS)
        name = _word(row, "name")
        if name in names:
            raise row.error("name", f"{name!r} names two nodes")
        names.add(name)
        event_types = row.strings("event_types")
        if not event_types:
            raise row.error("event_types", "name at least one event type")
        for t in event_types:
            if t in REGISTRY_TYPES:
                raise row.error(
                    "event_types", f"{t!r} is a registry fact; it has no reporting limit"
                )
            if t not in REPORTABLE_TYPES:
                raise row.error("event_types", f"unknown event type {t!r}")
        roles: frozenset[str] | None = None
        if row.has("roles"):
            roles = frozenset(row.strings("roles"))
            unknown = sorted(roles - ROLES)
            if not roles or unknown:
                raise row.error(
                    "roles",
                    f"unknown role {unknown[0]!r}"
                    if unknown
                    else "leave the key out to mean any reporter",
                )
        clock = _word(row, "clock") if row.has("clock") else "time"
        when: dict[str, frozenset[str]] = {}
        if row.has("when"):
            cond = row.table("when")
            for key in cond.data:
                when[str(key)] = frozenset(cond.strings(str(key)))
        nodes.append(
            ReportingNode(
                name=name,
                label_zh=row.text("label_zh"),
                label_en=row.text("label_en"),
                event_types=frozenset(event_types),
                roles=roles,
                clock=clock,
                limit_wd=row.integer("limit_wd", minimum=0),
                when=MappingProxyType(when),
                basis=row.text("basis", ""),
                firm=row.flag("firm", False),
            )
        )
    return tuple(nodes)


def _applications(
    table: data.Table,
) -> tuple[frozenset[str], frozenset[str], Mapping[str, tuple[str, ...]], tuple[str, ...]]:
    table.only({"known", "prohibited", "required_tests", "standards"})
    known = table.strings("known")
    for app in known:
        if not _WORD.fullmatch(app):
            raise table.error("known", f"{app!r} is not a lower-case word")
    if len(set(known)) != len(known):
        raise table.error("known", "lists an application twice")
    prohibited = frozenset(table.strings("prohibited"))
    unknown = sorted(prohibited - set(known))
    if unknown:
        raise table.error("prohibited", f"{unknown[0]!r} is not in applications.known")
    allowed_back = sorted(ALWAYS_PROHIBITED - prohibited)
    if allowed_back:
        raise table.error(
            "prohibited", f"must include {allowed_back[0]!r}: the regulation prohibits it"
        )
    tests = table.strings("required_tests")
    for key in tests:
        if not _WORD.fullmatch(key):
            raise table.error("required_tests", f"{key!r} is not a lower-case word")
    standards_table = table.table("standards")
    standards: dict[str, tuple[str, ...]] = {}
    for app in standards_table.data:
        app = str(app)
        if app not in known:
            raise standards_table.error(app, "is not in applications.known")
        if app in prohibited:
            raise standards_table.error(app, "is prohibited; no standard can make it allowed")
        listed = standards_table.strings(app)
        if not listed or any(not s.strip() for s in listed):
            raise standards_table.error(app, "must list at least one non-empty standard")
        standards[app] = listed
    return frozenset(known), prohibited, MappingProxyType(standards), tests


def _recovery(table: data.Table) -> Mapping[str, Decimal]:
    table.only(ELEMENTS)
    rates = {key: table.percent(key) for key in REQUIRED_ELEMENTS}
    rates.update({key: table.percent(key) for key in ELEMENTS if table.has(key)})
    return MappingProxyType(rates)


def _recoding(table: data.Table) -> RecodingHeuristics:
    table.only(
        {
            "flag_ebike_codes",
            "flag_ebike_like_products",
            "ebike_like_max_voltage_v",
            "ebike_like_max_energy_kwh",
        }
    )
    return RecodingHeuristics(
        flag_ebike_codes=table.flag("flag_ebike_codes"),
        flag_ebike_like_products=table.flag("flag_ebike_like_products"),
        ebike_like_max_voltage_v=table.number("ebike_like_max_voltage_v"),
        ebike_like_max_energy_kwh=table.number("ebike_like_max_energy_kwh"),
    )


def _word(row: data.Table, key: str) -> str:
    value = row.text(key)
    if not _WORD.fullmatch(value):
        raise row.error(key, f"{value!r} must be a lower-case word (a-z, 0-9, _)")
    return value


def _load_zone(name: str) -> dt.tzinfo:
    """An IANA zone (a seam for tests that simulate a machine without tzdata)."""
    return zoneinfo.ZoneInfo(name)


def _timezone(name: str, top: data.Table) -> dt.tzinfo:
    if name in ("UTC", "Z"):
        return dt.UTC
    offset = _OFFSET.fullmatch(name)
    if offset:
        sign, hours, minutes = offset.group(1), int(offset.group(2)), int(offset.group(3))
        if hours > 14 or minutes > 59:
            raise top.error("timezone", f"{name!r} is not a UTC offset")
        delta = dt.timedelta(hours=hours, minutes=minutes)
        return dt.timezone(-delta if sign == "-" else delta, name)
    try:
        return _load_zone(name)
    except zoneinfo.ZoneInfoNotFoundError:
        if name in _CHINA_ZONES:
            return dt.timezone(dt.timedelta(hours=8), name)
        raise top.error(
            "timezone",
            f"no time-zone data for {name!r}; install tzdata or give an offset such as +08:00",
        ) from None
    except ValueError as exc:
        raise top.error("timezone", f"{name!r} is not a time-zone name: {exc}") from None


def _field(event: object, name: str) -> Any:
    if name == "time":
        moment = getattr(event, "time", None)
        if moment is not None:
            return moment
    getter = getattr(event, "get", None)
    if getter is None:
        raise TypeError(f"event must be a mapping or an Event, not {type(event).__name__}")
    return getter(name)


def _when_holds(when: Mapping[str, frozenset[str]], event: object) -> bool:
    for key, allowed in when.items():
        value = _field(event, key)
        if not isinstance(value, str) or value not in allowed:
            return False
    return True


def _normal_standard(text: str) -> str:
    return (
        text.upper()
        .replace(" ", "")
        .replace("\u3000", "")
        .replace("／", "/")
        .replace("—", "-")
        .replace("–", "-")
    )


def _fingerprint(policy: Policy) -> str:
    """sha256 over the policy's content (not its file's formatting, comments or source)."""
    content = {f.name: getattr(policy, f.name) for f in fields(policy)}
    for skip in ("tz", "fingerprint", "source", "_by_type"):
        del content[skip]
    blob = json.dumps(_plain(content), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _plain(value: object) -> object:
    """JSON-ready form of policy values: sets sorted, Decimals normalised, dataclasses as dicts."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


@cache
def _default_policy() -> Policy:
    return Policy.from_mapping(
        data.packaged(data.POLICY_FILE), source=f"battrace:{data.POLICY_FILE}"
    )
