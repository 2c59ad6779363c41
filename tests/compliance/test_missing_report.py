"""BT-021 missing report: an expected next step overdue by more than its working-day limit."""

import datetime as dt

import pytest

from battrace.domain.calendar import WorkingCalendar
from tests.compliance import scenes as s
from tests.kit import AUTOMAKER, DISMANTLER, OUTLET, RECYCLER, REPAIRER, code

SINCE = "2025-09-22"  # a Monday; every limit from here spans National Day (1–8 October)

SITUATIONS = {
    "scrapped_pack_not_removed": (
        lambda w, p, v: s.scrapped_with_pack(w, p, v, SINCE),
        30,
        DISMANTLER,
    ),
    "shipment_not_received": (lambda w, p, v: s.shipped_never_received(w, p, SINCE), 30, AUTOMAKER),
    "removed_not_collected": (lambda w, p, v: s.removed_by_repairer(w, p, v, SINCE), 60, REPAIRER),
    "outlet_intake_not_handed_over": (lambda w, p, v: s.at_outlet(w, p, v, SINCE), 90, OUTLET),
    "recycler_intake_not_processed": (lambda w, p, v: s.at_recycler(w, p, v, SINCE), 120, RECYCLER),
}


@pytest.mark.parametrize("situation", list(SITUATIONS))
def test_an_overdue_step_is_flagged_the_day_after_its_deadline_and_not_on_it(
    world, store, situation
):
    build, limit, responsible = SITUATIONS[situation]
    pack = code(21)
    build(world, pack, s.vin(1))
    due = s.deadline(SINCE, limit)

    s.run(store, due, rules={"BT-021"})
    assert s.open_findings(store, "BT-021") == []

    report = s.run(store, due + dt.timedelta(days=1), rules={"BT-021"})
    [f] = s.open_findings(store, "BT-021")
    assert report.counts == {"BT-021": 1}
    assert f["enterprise"] == responsible
    assert f["codes"] == [pack]
    assert f["detail"]["situation"] == situation
    assert f["detail"]["deadline"] == due.isoformat()
    assert f["detail"]["limit"] == limit
    assert f["detail"]["calendar_exact"] is True
    assert f["events"], "the last event on record is named as evidence"
    assert f["policy_version"] == s.POLICY.version
    assert f["moment"] == "audit"
    assert pack in f["message_zh"] and pack in f["message_en"]


def test_national_day_is_not_counted_so_a_weekday_count_would_flag_too_early(world, store):
    pack = code(22)
    s.scrapped_with_pack(world, pack, s.vin(2), SINCE)
    due = s.deadline(SINCE, 30)
    naive = s.weekdays_between(s.day(SINCE), due)
    assert naive > 30, "Monday–Friday counting would already see it overdue"

    s.run(store, due - dt.timedelta(days=1), rules={"BT-021"})
    s.run(store, due, rules={"BT-021"})

    assert s.open_findings(store, "BT-021") == []


def test_a_shipment_across_spring_festival_is_due_only_after_the_official_working_days(
    world, store
):
    pack = code(23)
    s.shipped_never_received(world, pack, "2025-01-20")
    due = s.deadline("2025-01-20", 30)
    assert s.weekdays_between(s.day("2025-01-20"), due) > 30

    s.run(store, due, rules={"BT-021"})
    assert s.open_findings(store, "BT-021") == []
    s.run(store, due + dt.timedelta(days=1), rules={"BT-021"})
    [f] = s.open_findings(store, "BT-021")
    assert f["enterprise"] == AUTOMAKER
    assert f["detail"]["addressee"] == AUTOMAKER


def test_the_finding_is_withdrawn_once_the_missing_step_is_reported_late(world, store):
    pack, v = code(24), s.vin(3)
    s.scrapped_with_pack(world, pack, v, SINCE)
    as_of = s.deadline(SINCE, 30) + dt.timedelta(days=3)
    s.run(store, as_of, rules={"BT-021"})
    [before] = s.open_findings(store, "BT-021")

    # the dismantler removed the pack in time but reports it only now
    world.set_now((as_of + dt.timedelta(days=2)).isoformat())
    world.ok(world.ev("removed", "2025-10-20", DISMANTLER, battery=pack, vin=v, reason="scrapping"))
    report = s.run(store, as_of, rules={"BT-021"})

    assert s.open_findings(store, "BT-021") == []
    [run] = report.runs
    assert (run.new, run.kept, run.withdrawn) == (0, 0, 1)
    [after] = [f for f in s.list_findings(store, rule="BT-021") if f["id"] == before["id"]]
    assert after["status"] == "withdrawn"
    assert str(as_of) in after["withdrawn_reason"]
    late = s.open_findings(store, "BT-020")
    assert [f["enterprise"] for f in late] == [DISMANTLER], "the late report itself is flagged"


def test_the_next_situation_opens_a_new_finding_while_the_old_one_is_withdrawn(world, store):
    pack, v = code(25), s.vin(4)
    s.scrapped_with_pack(world, pack, v, SINCE)
    world.set_now("2025-09-23")
    world.ok(world.ev("removed", "2025-09-23", DISMANTLER, battery=pack, vin=v, reason="scrapping"))

    s.run(store, s.deadline("2025-09-23", 60) + dt.timedelta(days=1), rules={"BT-021"})

    [f] = s.open_findings(store, "BT-021")
    assert f["detail"]["situation"] == "removed_not_collected"
    assert f["detail"]["since"] == "2025-09-23", "the hand-over is due from the removal"


def test_a_date_beyond_the_official_calendar_is_counted_on_weekdays_and_says_so(world, store):
    pack = code(26)
    s.shipped_never_received(world, pack, "2026-12-01")

    s.run(store, "2027-02-01", rules={"BT-021"})

    [f] = s.open_findings(store, "BT-021")
    assert f["detail"]["calendar_exact"] is False
    assert "2027" in f["detail"]["calendar_note"]
    assert "2027" in f["message_en"] and "2027" in f["message_zh"]
    assert "not in the official calendar" in f["message_en"]
    assert "2027年不在官方日历" in f["message_zh"] and "weekends" not in f["message_zh"]


def test_a_calendar_with_the_next_year_added_makes_the_count_exact(world, store):
    pack = code(27)
    s.shipped_never_received(world, pack, "2026-12-01")
    next_year = {
        2027: {
            "notices": [{"title": "test notice", "date": dt.date(2026, 11, 1)}],
            "holidays": [
                {"name": "元旦", "first": dt.date(2027, 1, 1), "last": dt.date(2027, 1, 3)}
            ],
            "makeup_workdays": [],
        }
    }
    calendar = WorkingCalendar.default().extended(next_year)

    s.run(store, "2027-02-01", rules={"BT-021"}, calendar=calendar)

    [f] = s.open_findings(store, "BT-021")
    assert f["detail"]["calendar_exact"] is True
    assert f["detail"]["calendar_note"] == ""


def test_new_packs_in_stock_and_packs_in_vehicles_are_never_missing_reports(world, store):
    world.pack_in_vehicle(code(28), s.vin(5))

    s.run(store, "2026-06-30", rules={"BT-021"})

    assert s.open_findings(store, "BT-021") == []
