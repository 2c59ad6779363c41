"""Composition: the one place that builds stores, policies and services from settings.

The ingest path (validation, rules, the ingestor) is imported by `make_ingestor` when it is
first called: `battrace trace` and the other read commands open a store through this module
and should not pay for loading what only ingest uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from battrace.compat import fast_enum_members
from battrace.config import Settings
from battrace.errors import SigningKeyError
from battrace.ledger.keys import (
    SIGNING_KEY_FILE,
    VERIFIER_KEY_FILE,
    KeyDir,
    NoteSigner,
    NoteVerifier,
    init_key_dir,
    load_signer,
    load_verifier,
)
from battrace.store.sql import SqlStore

if TYPE_CHECKING:
    from battrace.domain.calendar import WorkingCalendar
    from battrace.domain.events import ValidationContext
    from battrace.domain.policy import Policy
    from battrace.services.clock import Clock
    from battrace.services.ingest import Ingestor


def load_policy(settings: Settings) -> Policy:
    """The policy in force (the deployment's file, or the packaged default)."""
    from battrace.domain.policy import Policy

    return Policy.load(settings.policy_path) if settings.policy_path else Policy.default()


def load_calendar(settings: Settings) -> WorkingCalendar:
    """The official working-day calendar, with a deployment's extra year files if any."""
    from battrace.domain.calendar import WorkingCalendar

    cal = WorkingCalendar.default()
    return cal.with_file(settings.calendar_dir) if settings.calendar_dir else cal


def open_store(settings: Settings, *, create: bool = False) -> SqlStore:
    """The store named by the settings."""
    fast_enum_members()  # every process that serves or ingests opens a store first
    return SqlStore.open(settings.database_url, create=create)


def signer(settings: Settings) -> NoteSigner | None:
    """The log's signing key if the key directory exists (None: checkpoints are not cut);
    SigningKeyError if the key is named for another log than the settings' origin."""
    if not (settings.key_dir / SIGNING_KEY_FILE).exists():
        return None
    key = load_signer(settings.key_dir)
    if key.name != settings.log_origin:
        # checkpoints would name one log and be signed as another, and a consistency proof
        # between checkpoints cut under two origins fails ("the older checkpoint is for log …")
        raise SigningKeyError(
            f"the signing key in {settings.key_dir} is named {key.name!r}, but the log's "
            f"origin is {settings.log_origin!r}: set BATTRACE_LOG_ORIGIN={key.name} to sign "
            f"as that log, or point BATTRACE_KEY_DIR at a key made for "
            f"{settings.log_origin!r} (`battrace keys init --name {settings.log_origin}`)"
        )
    return key


def verifier(settings: Settings, key: str | None = None) -> NoteVerifier | None:
    """The verifier key given (text or file), or the deployment's own, if any."""
    if key:
        return load_verifier(key)
    if (settings.key_dir / VERIFIER_KEY_FILE).exists():
        return load_verifier(settings.key_dir)
    return None


def ensure_keys(settings: Settings) -> KeyDir | None:
    """Create the signing key on first use (returns it when it was just created)."""
    if (settings.key_dir / SIGNING_KEY_FILE).exists():
        return None
    return init_key_dir(settings.key_dir, settings.log_origin)


def validation_context(
    settings: Settings, *, trusted: bool = False, policy: Policy | None = None
) -> ValidationContext:
    """What checking an event needs from the deployment: its code tables and the applications
    its policy allows. Whatever reads stored events back (`trace --as-of`, `rebuild`) needs the
    same as ingest did: with the packaged defaults instead, a code decoded by the deployment's
    own tables may not decode at all."""
    from battrace.domain.events import ValidationContext

    policy = policy or load_policy(settings)
    return ValidationContext(
        tables=settings.code_tables, applications=policy.applications, trusted=trusted
    )


def make_ingestor(
    settings: Settings,
    store: SqlStore,
    *,
    trusted: bool = False,
    clock: Clock | None = None,
    policy: Policy | None = None,
) -> Ingestor:
    """An ingestor with the code tables, policy, calendar and signing key of the settings
    (`clock`: the platform's, `services.clock.utc_now`, unless given)."""
    from battrace.domain.ingest_rules import IngestRules
    from battrace.services.clock import utc_now
    from battrace.services.ingest import Ingestor

    fast_enum_members()  # the API opens its store itself; every ingest builds its ingestor here
    policy = policy or load_policy(settings)
    return Ingestor(
        store,
        validation=validation_context(settings, trusted=trusted, policy=policy),
        rules=IngestRules(policy, load_calendar(settings)),
        clock=clock or utc_now,
        signer=signer(settings),
        origin=settings.log_origin,
    )
