"""Detection quality: ingest a generated dataset, audit it, compare what battrace found with the
labels — precision and recall per rule.

Units compared per rule:

- ingest rules (BT-001 … BT-020): the event, as "reporter/id" — from the reasons of rejected
  events and from the findings the ingest raised (`findings.events`);
- BT-021, BT-022: the battery code;
- BT-023: the enterprise and the quarter (the enterprise alone if findings name no period);
- BT-024: the automaker and the region.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from battrace import bootstrap
from battrace.config import Settings
from battrace.errors import InvalidInput
from battrace.services.ingest import EventResult
from battrace.services.ingest_file import Tally, ingest_file
from battrace.sim.clock import platform_clock
from battrace.store.schema import events as events_table
from battrace.store.schema import findings as findings_table
from battrace.store.sql import SqlStore

AUDIT_RULES = ("BT-021", "BT-022", "BT-023", "BT-024")
#: rules whose outcome is a score, not a finding to match
SCORED = ("BT-025",)
_PERIOD = re.compile(r"(\d{4})\D{0,3}Q([1-4])")
_REGION = re.compile(r"(?<!\d)(\d{6})(?!\d)")
EXAMPLES = 5


@dataclass
class RuleQuality:
    """Labelled and detected units of one rule."""

    rule: str
    labelled: int
    detected: int
    matched: int
    missed: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        """Share of detections that were labelled (None when nothing was detected)."""
        return self.matched / self.detected if self.detected else None

    @property
    def recall(self) -> float | None:
        """Share of labelled units detected (None when nothing was labelled)."""
        return self.matched / self.labelled if self.labelled else None

    @property
    def perfect(self) -> bool:
        """True when every label was found and nothing else."""
        return self.matched == self.labelled == self.detected

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "rule": self.rule,
            "labelled": self.labelled,
            "detected": self.detected,
            "matched": self.matched,
            "precision": self.precision,
            "recall": self.recall,
            "missed": self.missed,
            "unexpected": self.unexpected,
        }


@dataclass
class QualityReport:
    """The outcome of a detection quality check."""

    as_of: dt.date
    audit: str
    accepted: int
    rejected: int
    duplicates: int
    rules: list[RuleQuality]
    #: rejected events no label accounts for (a simulator or rule bug either way)
    unexpected_rejections: list[dict[str, Any]] = field(default_factory=list)
    unexpected_rejection_count: int = 0

    def rule(self, rule_id: str) -> RuleQuality | None:
        """The row of one rule."""
        return next((r for r in self.rules if r.rule == rule_id), None)

    @property
    def audit_ran(self) -> bool:
        """True when battrace's audit ran (its rules can be scored)."""
        return self.audit.startswith("audit ran ")

    def imperfect(self) -> list[RuleQuality]:
        """Rules whose precision or recall is below 100 % (audit rules only if it ran)."""
        return [
            r for r in self.rules if not r.perfect and (self.audit_ran or r.rule not in AUDIT_RULES)
        ]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "as_of": self.as_of.isoformat(),
            "audit": self.audit,
            "audit_ran": self.audit_ran,
            "ingest": {
                "accepted": self.accepted,
                "rejected": self.rejected,
                "duplicates": self.duplicates,
            },
            "rules": [r.as_dict() for r in self.rules],
            "unexpected_rejections": self.unexpected_rejections,
            "unexpected_rejection_count": self.unexpected_rejection_count,
        }


def check(
    events_path: Path,
    labels_path: Path,
    store_url: str,
    *,
    as_of: dt.date,
    settings: Settings | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> QualityReport:
    """Ingest `events_path` into a fresh store at `store_url`, run the audit as of `as_of` if
    battrace has one, and compare findings and rejections with `labels_path`."""
    s = (settings or Settings()).with_database(store_url)
    store = bootstrap.open_store(s, create=True)
    try:
        if _has_events(store):
            raise InvalidInput(f"{store_url} already holds events: the check needs a fresh store")
        ingestor = bootstrap.make_ingestor(
            s, store, trusted=True, clock=platform_clock(events_path)
        )
        rejections: dict[str, set[str | None]] = {}
        rejected_raw: dict[str, list[dict[str, Any]]] = {}

        def collect(batch: list[tuple[int, EventResult]], read: int) -> None:
            for line, r in batch:
                if r.status == "rejected":
                    key = f"{r.reporter}/{r.id}"
                    rejections[key] = {x.rule for x in r.reasons}
                    rejected_raw[key] = [{"line": line, **x.as_dict()} for x in r.reasons[:3]]
            if on_batch is not None:
                on_batch(read)

        tally: Tally = ingest_file(ingestor, events_path, on_batch=collect)
        audit = run_audit(store, s, as_of)
        found = _findings(store)
    finally:
        store.close()
    labels = _labels(labels_path)
    rules = sorted(
        ({r for r, _ in labels} | {f["rule"] for f in found} | _rules_of(rejections))
        - set(SCORED)
        - {None}
    )
    per_rule = [_compare(rule, labels, found, rejections) for rule in rules]
    labelled_events = {u for (rule, units) in labels for u in units if "/" in u}
    unexpected = [k for k in rejections if k not in labelled_events]
    return QualityReport(
        as_of=as_of,
        audit=audit,
        accepted=tally.accepted,
        rejected=tally.rejected,
        duplicates=tally.duplicates,
        rules=per_rule,
        unexpected_rejections=[{"event": k, "reasons": rejected_raw[k]} for k in unexpected[:20]],
        unexpected_rejection_count=len(unexpected),
    )


# ---------------------------------------------------------------- the audit (optional)
def run_audit(store: SqlStore, settings: Settings, as_of: dt.date) -> str:
    """Run `battrace.services.audit` if this battrace has it; a sentence saying what happened."""
    try:
        module = importlib.import_module("battrace.services.audit")
    except ModuleNotFoundError as exc:
        if exc.name not in ("battrace.services.audit", "battrace.services"):
            raise
        return "audit not available"
    entry = next(
        (
            getattr(module, name)
            for name in ("run_audit", "audit", "run")
            if callable(getattr(module, name, None))
        ),
        None,
    )
    if entry is None:
        return "audit not available (battrace.services.audit has no run_audit/audit/run)"
    offered: dict[str, Any] = {
        "store": store,
        "as_of": as_of,
        "settings": settings,
        "policy": bootstrap.load_policy(settings),
        "calendar": bootstrap.load_calendar(settings),
        # the audit judges the past: a simulation may end after today's date
        "now": max(
            dt.datetime.now(dt.UTC),
            dt.datetime.combine(as_of + dt.timedelta(days=2), dt.time(), tzinfo=dt.UTC),
        ),
        "with_findings": False,
    }
    params = inspect.signature(entry).parameters
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for name, p in params.items():
        if name not in offered:
            if p.default is inspect.Parameter.empty and p.kind not in (
                p.VAR_KEYWORD,
                p.VAR_POSITIONAL,
            ):
                return (
                    f"audit not run: {entry.__name__}() needs {name!r}, which the check cannot give"
                )
            continue
        if p.kind is p.POSITIONAL_ONLY or (
            p.kind is p.POSITIONAL_OR_KEYWORD and not args and name == "store"
        ):
            args.append(offered[name])
        else:
            kwargs[name] = offered[name]
    if "store" not in params:
        args.insert(0, store)
    entry(*args, **kwargs)
    return f"audit ran as of {as_of}"


# ---------------------------------------------------------------- reading
def _has_events(store: SqlStore) -> bool:
    with store.engine.connect() as conn:
        return conn.execute(select(events_table.c.seq).limit(1)).first() is not None


def _findings(store: SqlStore) -> list[dict[str, Any]]:
    t = findings_table
    cols = (
        t.c.rule,
        t.c.enterprise,
        t.c.codes,
        t.c.vins,
        t.c.events,
        t.c.status,
        t.c.subject_key,
        t.c.detail,
    )
    out = []
    with store.engine.connect() as conn:
        for row in conn.execute(select(*cols).where(t.c.status != "withdrawn")):
            out.append(
                {
                    "rule": row.rule,
                    "enterprise": row.enterprise,
                    "codes": orjson.loads(row.codes or "[]"),
                    "vins": orjson.loads(row.vins or "[]"),
                    "events": orjson.loads(row.events or "[]"),
                    "subject_key": row.subject_key or "",
                    "detail": orjson.loads(row.detail or "{}"),
                }
            )
    return out


def _labels(path: Path) -> list[tuple[str, set[str]]]:
    """(rule, units) per label line."""
    out = []
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                lab = orjson.loads(line)
                out.append((lab["rule"], _label_units(lab)))
    return out


def _rules_of(rejections: dict[str, set[str | None]]) -> set[str]:
    return {r for rules in rejections.values() for r in rules if r}


# ---------------------------------------------------------------- units
def _label_units(lab: dict[str, Any]) -> set[str]:
    rule = lab["rule"]
    if rule in ("BT-021", "BT-022"):
        return set(lab["codes"])
    if rule == "BT-023":
        return {f"{lab['enterprise']}/{lab['detail']['period']}"}
    if rule == "BT-024":
        return {f"{lab['enterprise']}/{lab['detail']['region']}"}
    return set(lab["events"])


def _finding_units(f: dict[str, Any], *, periods: bool) -> set[str]:
    rule = f["rule"]
    detail = f["detail"] if isinstance(f["detail"], dict) else {}
    if rule in ("BT-021", "BT-022"):
        return set(f["codes"]) or ({detail["code"]} if detail.get("code") else set())
    if rule == "BT-023":
        if not periods:
            return {str(f["enterprise"])}
        return {f"{f['enterprise']}/{_period(f)}"}
    if rule == "BT-024":
        region = detail.get("region") or next(iter(_REGION.findall(f["subject_key"])), "?")
        return {f"{f['enterprise']}/{region}"}
    return set(f["events"])


def _period(f: dict[str, Any]) -> str | None:
    detail = f["detail"] if isinstance(f["detail"], dict) else {}
    for text in (str(detail.get("period", "")), f["subject_key"]):
        m = _PERIOD.search(text)
        if m:
            return f"{m.group(1)}Q{m.group(2)}"
    return None


def _compare(
    rule: str,
    labels: Iterable[tuple[str, set[str]]],
    found: list[dict[str, Any]],
    rejections: dict[str, set[str | None]],
) -> RuleQuality:
    mine = [f for f in found if f["rule"] == rule]
    periods = rule != "BT-023" or all(_period(f) for f in mine)
    labelled: set[str] = set()
    for r, units in labels:
        if r == rule:
            labelled |= units if periods or rule != "BT-023" else {u.split("/")[0] for u in units}
    detected: set[str] = set()
    for f in mine:
        detected |= _finding_units(f, periods=periods)
    detected |= {k for k, rules in rejections.items() if rule in rules}
    matched = labelled & detected
    return RuleQuality(
        rule=rule,
        labelled=len(labelled),
        detected=len(detected),
        matched=len(matched),
        missed=sorted(labelled - detected)[:EXAMPLES],
        unexpected=sorted(detected - labelled)[:EXAMPLES],
    )
