"""Findings: idempotent audits, withdrawal, ingest findings left alone, listing and filters."""

import datetime as dt

import pytest

from battrace.domain.policy import Policy
from battrace.domain.rules import catalogue
from battrace.errors import InvalidInput
from battrace.services.audit import audit, list_findings
from tests.compliance import scenes as s
from tests.kit import AUTOMAKER, DISMANTLER, RECYCLER, code

AS_OF = "2026-06-30"


def busy_world(world):
    """Something for every audit rule: overdue steps, a silent pack, a leaky recycler, a sale
    without an outlet, and a late report (an ingest-time finding)."""
    s.scrapped_with_pack(world, code(71), s.vin(71), "2025-09-22")
    s.at_recycler(world, code(72), s.vin(72), "2025-09-22")
    s.at_recycler(world, code(73), s.vin(73), "2025-09-22")
    s.recycled(world, code(73), "2025-09-30", input_kg=200)
    world.set_now("2025-12-01")
    world.ok(world.ev("vehicle_sold", "2025-12-01", AUTOMAKER, vin=s.vin(74),
                      certificate_date="2025-12-01", location={"region": "440305"}))  # fmt: skip
    s.removed_by_repairer(world, code(75), s.vin(75), "2025-03-03")
    world.set_now("2026-06-01")  # long after: a late report


def open_keys(store):
    return sorted(
        (f["rule"], f["subject_key"], f["id"]) for f in list_findings(store, status="open")
    )


def test_two_audits_leave_the_same_open_findings(world, store):
    busy_world(world)
    first = s.run(store, AS_OF)
    before = open_keys(store)
    second = s.run(store, AS_OF)

    assert open_keys(store) == before
    assert {r.rule for r in first.runs} == {"BT-021", "BT-022", "BT-023", "BT-024", "BT-025"}
    assert all(r.found > 0 for r in first.runs)
    assert [r.new for r in second.runs] == [0] * 5
    assert [r.withdrawn for r in second.runs] == [0] * 5
    assert [r.kept for r in second.runs] == [r.found for r in first.runs]


def test_the_report_lists_the_open_findings_and_the_time_of_every_rule(world, store):
    busy_world(world)

    report = s.run(store, AS_OF)
    data = report.as_dict()

    assert data["as_of"] == AS_OF
    assert data["policy_version"] == s.POLICY.version
    assert len(data["findings"]) == sum(report.counts.values())
    assert {r["rule"] for r in data["rules"]} == set(report.counts)
    assert all(r["seconds"] >= 0 for r in data["rules"])
    keys = {"rule", "severity", "enterprise", "codes", "vins", "events", "found_at",
            "message_zh", "message_en", "status", "detail", "policy_version"}  # fmt: skip
    assert all(keys <= f.keys() for f in data["findings"])


def test_ingest_time_findings_are_never_touched_by_the_audit(world, store):
    busy_world(world)
    late = s.open_findings(store, "BT-020")
    assert late

    s.run(store, AS_OF)
    s.run(store, "2026-01-05", rewind=True)

    assert s.open_findings(store, "BT-020") == late


def test_an_audit_of_an_earlier_day_than_the_open_findings_must_be_asked_for(world, store):
    """`audit --as-of 1999-01-01` withdrew every open audit finding (none existed then), and
    the next audit opened them again under new ids: the withdrawn copies piled up."""
    busy_world(world)
    s.run(store, AS_OF)
    before = open_keys(store)
    with pytest.raises(InvalidInput, match="rewind"):
        s.run(store, "2026-01-05")
    assert open_keys(store) == before
    s.run(store, AS_OF)  # the same day again is fine
    assert open_keys(store) == before


def test_running_one_rule_leaves_the_other_rules_findings_alone(world, store):
    busy_world(world)
    s.run(store, AS_OF)
    before = open_keys(store)

    report = s.run(store, AS_OF, rules={"BT-022"})

    assert [r.rule for r in report.runs] == ["BT-022"]
    assert open_keys(store) == before


def test_every_finding_records_the_policy_it_was_judged_under(world, store):
    busy_world(world)
    mapping = Policy.default_mapping()
    mapping["version"] = "test-policy/2"
    policy = Policy.from_mapping(mapping)

    s.run(store, AS_OF)
    s.run(store, AS_OF, policy=policy)

    audit_findings = [f for f in list_findings(store, status="open") if f["moment"] == "audit"]
    assert audit_findings
    assert {f["policy_version"] for f in audit_findings} == {"test-policy/2"}
    assert {f["detail"]["policy_fingerprint"] for f in audit_findings} == {policy.fingerprint}


def test_a_stricter_policy_finds_more_and_a_laxer_one_withdraws_them(world, store):
    s.at_recycler(world, code(77), s.vin(77), "2025-09-22")
    mapping = Policy.default_mapping()
    mapping["version"] = "strict/1"
    mapping["silent_battery_days"] = 30
    strict = Policy.from_mapping(mapping)

    s.run(store, "2025-11-30", rules={"BT-022"}, policy=strict)
    assert len(s.open_findings(store, "BT-022")) == 1
    s.run(store, "2025-11-30", rules={"BT-022"})
    assert s.open_findings(store, "BT-022") == []


def test_an_empty_or_unknown_rule_set_fails_closed(store):
    for rules, words in (
        (set(), "no audit rule"),
        ({"BT-020"}, "ingest-time"),
        ({"X"}, "not a rule"),
    ):
        with pytest.raises(InvalidInput, match=words):
            s.run(store, AS_OF, rules=rules)


def test_an_audit_of_a_day_after_today_is_refused(store):
    with pytest.raises(InvalidInput, match="after today"):
        audit(
            store,
            as_of=dt.date(2026, 7, 2),
            policy=s.POLICY,
            calendar=s.CAL,
            now=dt.datetime(2026, 7, 1, 12, tzinfo=dt.UTC),
        )


def test_findings_can_be_filtered_by_rule_enterprise_status_time_and_paged(world, store):
    busy_world(world)
    s.run(store, AS_OF)
    every = list_findings(store)

    assert {f["rule"] for f in list_findings(store, rule="BT-021")} == {"BT-021"}
    assert {f["enterprise"] for f in list_findings(store, enterprise=DISMANTLER)} == {DISMANTLER}
    assert list_findings(store, status="withdrawn") == []
    assert len(list_findings(store, limit=2)) == 2
    assert list_findings(store, limit=2, offset=1)[0] == every[1]
    assert list_findings(store, since=dt.date(2026, 7, 1)) == [
        f for f in every if f["moment"] == "audit"
    ]
    assert [f["moment"] for f in list_findings(store, until=dt.date(2026, 6, 30))] == [
        "ingest"
    ] * len([f for f in every if f["moment"] == "ingest"])
    assert [f["enterprise"] for f in list_findings(store, rule="BT-023")] == [RECYCLER]
    with pytest.raises(InvalidInput):
        list_findings(store, status="closed")


def test_the_catalogue_names_every_rule_with_its_moment_and_provision():
    rules = {r["id"]: r for r in catalogue()}
    assert {"BT-001", "BT-010", "BT-020", "BT-021", "BT-025"} <= rules.keys()
    assert rules["BT-021"]["moment"] == "audit" and rules["BT-010"]["moment"] == "ingest"
    assert all(r["provision_zh"] and r["provision_en"] for r in rules.values())
