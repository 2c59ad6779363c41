"""Large batches are decided without first looking up their idempotency keys
(`services.ingest.OPTIMISTIC_MIN`). A key the store already holds must still come out as a
duplicate (same content) or a conflict (different content), with nothing stored twice and
no finding raised by deciding it again — exactly as when the keys are looked up first."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from battrace.domain.calendar import WorkingCalendar
from battrace.domain.ingest_rules import IngestRules
from battrace.domain.policy import Policy
from battrace.services import ingest as ingest_module
from battrace.services.ingest import Ingestor
from battrace.store.schema import events, findings
from battrace.store.sql import SqlStore
from tests.kit import simple_lifecycles, spy_key_lookups

NOW = dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC)


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The lookups made; batches of 10 or more go optimistic."""
    monkeypatch.setattr(ingest_module, "OPTIMISTIC_MIN", 10)
    return spy_key_lookups(monkeypatch)


def _ingestor(store: SqlStore) -> Ingestor:
    return Ingestor(
        store, rules=IngestRules(Policy.default(), WorkingCalendar.default()), clock=lambda: NOW
    )


def _counts(store: SqlStore) -> tuple[int, int]:
    with store.engine.connect() as c:
        n_events = c.execute(sa.select(sa.func.count()).select_from(events)).scalar_one()
        n_findings = c.execute(sa.select(sa.func.count()).select_from(findings)).scalar_one()
    return n_events, n_findings


def test_a_new_batch_is_decided_without_looking_its_keys_up(store: SqlStore, lookups):
    evs = simple_lifecycles(4)  # the registry facts and 20 battery events
    results = _ingestor(store).ingest(evs)
    assert [r.status for r in results] == ["accepted"] * len(evs)
    assert lookups == []  # no event was rejected: nothing to look up, before or after


def test_a_retried_batch_comes_out_as_duplicates(store: SqlStore, lookups):
    """Re-sent registry facts are accepted again when decided afresh (a regulator may
    re-register an enterprise), battery events are rejected (their states moved on): the
    first meet the unique key when written, the second the lookup after the loop."""
    evs = simple_lifecycles(4)
    first = _ingestor(store).ingest(evs)
    before = _counts(store), store.head()
    again = _ingestor(store).ingest(evs)
    assert [r.status for r in again] == ["duplicate"] * len(evs)
    assert [(r.seq, r.leaf_hash) for r in again] == [(r.seq, r.leaf_hash) for r in first]
    assert (_counts(store), store.head()) == before  # nothing stored twice, no finding raised
    assert lookups and lookups[-1] == len(evs)  # decided again with every key looked up


def test_stored_keys_among_new_events(store: SqlStore, lookups):
    evs = simple_lifecycles(6)
    ing = _ingestor(store)
    ing.ingest(evs[:-10])  # the last two packs' events are new in the next batch
    n_events, n_findings = _counts(store)
    produced = evs[len(evs) - 15]  # a stored `produced`: decided again it would be a clone
    assert produced["type"] == "produced"
    changed = {**evs[len(evs) - 14], "time": "2025-01-02T09:30:00+08:00"}  # same id, new content
    batch = [produced, changed, *evs[-10:]]
    results = ing.ingest(batch)
    assert [r.status for r in results] == ["duplicate", "rejected"] + ["accepted"] * 10
    why = results[1].reasons[0]
    assert why.field == "id" and "already used id" in why.message
    assert not any(r.flags for r in results[:2])  # no BT-003 for the re-sent production
    raised = sum(len(r.flags) for r in results)
    assert _counts(store) == (n_events + 10, n_findings + raised)


def test_small_batches_look_their_keys_up_first(store: SqlStore, monkeypatch):
    asked = spy_key_lookups(monkeypatch)
    evs = simple_lifecycles(2)
    assert len(evs) < ingest_module.OPTIMISTIC_MIN
    _ingestor(store).ingest(evs)
    assert asked == [len(evs)]
