"""Composition: the one place that builds stores, policies and services from settings."""

from __future__ import annotations

from battrace.config import Settings
from battrace.domain.calendar import WorkingCalendar
from battrace.domain.events import ValidationContext
from battrace.domain.ingest_rules import IngestRules
from battrace.domain.policy import Policy
from battrace.services.ingest import Clock, Ingestor, utc_now
from battrace.store.sql import SqlStore


def load_policy(settings: Settings) -> Policy:
    """The policy in force (the deployment's file, or the packaged default)."""
    return Policy.load(settings.policy_path) if settings.policy_path else Policy.default()


def load_calendar(settings: Settings) -> WorkingCalendar:
    """The official working-day calendar, with a deployment's extra year files if any."""
    cal = WorkingCalendar.default()
    return cal.with_file(settings.calendar_dir) if settings.calendar_dir else cal


def open_store(settings: Settings, *, create: bool = False) -> SqlStore:
    """The store named by the settings."""
    return SqlStore.open(settings.database_url, create=create)


def make_ingestor(
    settings: Settings,
    store: SqlStore,
    *,
    trusted: bool = False,
    clock: Clock = utc_now,
    policy: Policy | None = None,
) -> Ingestor:
    """An ingestor with the code tables, policy and calendar of the settings."""
    policy = policy or load_policy(settings)
    validation = ValidationContext(
        tables=settings.code_tables, applications=policy.applications, trusted=trusted
    )
    return Ingestor(
        store,
        validation=validation,
        rules=IngestRules(policy, load_calendar(settings)),
        clock=clock,
    )
