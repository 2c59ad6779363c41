"""The labels file: well formed, pointing at real events, and true by the platform's own rules."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from battrace.domain.calendar import WorkingCalendar
from battrace.domain.policy import Policy
from battrace.domain.rules import RULES

EXPECTED = {
    "BT-001", "BT-002", "BT-003", "BT-004", "BT-005", "BT-006", "BT-010", "BT-011", "BT-012",
    "BT-013", "BT-014", "BT-020", "BT-021", "BT-022", "BT-023", "BT-024",
}  # fmt: skip


def _labels(ds):
    return [json.loads(line) for line in ds.labels.read_text().splitlines()]


def _events(ds):
    return {
        f"{e['reporter']}/{e['id']}": e
        for e in (json.loads(line) for line in ds.events.read_bytes().splitlines())
    }


def test_every_kind_of_violation_is_injected_and_labelled(dirty):
    counts = Counter(lab["rule"] for lab in _labels(dirty))
    assert set(counts) == EXPECTED
    assert counts == Counter(dirty.result.labels_by_rule)


def test_labels_are_well_formed_and_name_known_rules(dirty):
    for lab in _labels(dirty):
        assert lab["rule"] in RULES
        assert set(lab) >= {"rule", "kind", "codes", "vins", "enterprise", "events", "subject"}
        assert lab["subject"]
        assert lab["events"] or lab["codes"] or lab["vins"] or lab["rule"] in ("BT-023", "BT-024")


def test_labelled_events_are_in_the_stream(dirty):
    events = _events(dirty)
    for lab in _labels(dirty):
        for key in lab["events"]:
            assert key in events, (lab["rule"], key)


def test_subjects_are_unique_per_rule(dirty):
    seen = Counter((lab["rule"], lab["subject"]) for lab in _labels(dirty))
    assert max(seen.values()) == 1


def test_late_labels_are_exactly_the_late_reports(dirty):
    """Recomputed from the stream with the platform's policy and calendar: every report past
    its limit is labelled BT-020, and nothing else is (near misses on the deadline day too)."""
    policy, calendar = Policy.default(), WorkingCalendar.default()
    roles = {}
    events = _events(dirty)
    for e in events.values():
        if e["type"] == "enterprise_registered":
            roles[e["enterprise"]] = e["roles"]
    labelled = {k for lab in _labels(dirty) if lab["rule"] == "BT-020" for k in lab["events"]}
    rejected = {
        k
        for lab in _labels(dirty)
        if lab["rule"] in ("BT-001", "BT-002", "BT-003", "BT-004", "BT-005", "BT-006")
        for k in lab["events"]
    }
    late, on_deadline = set(), 0
    for key, e in events.items():
        limit = policy.reporting_limit(e["type"], roles[e["reporter"]], e)
        if limit is None or key in rejected:
            continue
        recorded = dt.date.fromisoformat(e["recorded_at"][:10])
        verdict = calendar.is_late(limit.clock_date, recorded, limit.limit_wd)
        if verdict.late:
            late.add(key)
        elif recorded == verdict.deadline:
            on_deadline += 1
    assert late == labelled
    assert on_deadline > 0  # near misses exist and are not labelled


def test_scrapping_without_the_pack_is_never_labelled_for_swap_models(dirty):
    events = _events(dirty)
    swap = {e["model"] for e in events.values() if e.get("swap_model") is True}
    model_of = {e["vin"]: e["vehicle_model"] for e in events.values() if e["type"] == "installed"}
    labelled = [lab for lab in _labels(dirty) if lab["rule"] == "BT-010"]
    assert labelled
    assert all(model_of[lab["vins"][0]] not in swap for lab in labelled)
    exempt = [
        e
        for e in events.values()
        if e["type"] == "vehicle_scrapped"
        and not e["batteries_present"]
        and model_of.get(e["vin"]) in swap
    ]
    assert exempt  # swap models do arrive without their pack, unlabelled


def test_shipments_to_the_obligated_automakers_outlets_are_not_labelled(dirty):
    events = _events(dirty)
    outlets = {e["enterprise"] for e in events.values() if e["type"] == "outlet_registered"}
    to_outlet = {
        k
        for k, e in events.items()
        if e["type"] == "shipped" and e["to"] in outlets and e["reporter"] not in outlets
    }
    bt011 = {k for lab in _labels(dirty) if lab["rule"] == "BT-011" for k in lab["events"]}
    assert to_outlet - bt011  # most hand-overs to outlets are legitimate
    assert to_outlet & bt011  # and a few go to another automaker's outlet
