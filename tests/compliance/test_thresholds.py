"""The BT-021 threshold: "overdue as of D" is "started on or before the last overdue start day"."""

import datetime as dt
import random

from battrace.services.audit_mass import period_bounds
from battrace.services.audit_rules import latest_overdue_start
from tests.compliance.scenes import CAL, POLICY


def test_the_last_overdue_start_day_agrees_with_is_late_everywhere():
    rng = random.Random(3)
    for _ in range(400):
        as_of = dt.date(2017, 6, 1) + dt.timedelta(days=rng.randrange(4000))
        limit = rng.choice((1, 5, 15, 30, 60, 90, 120))
        last = latest_overdue_start(CAL, as_of, limit)
        for start in (last - dt.timedelta(days=1), last, last + dt.timedelta(days=1)):
            assert (start <= last) == CAL.is_late(start, as_of, limit).late, (start, as_of, limit)


def test_the_day_after_a_deadline_on_a_holiday_is_already_overdue():
    start = dt.date(2025, 9, 22)
    due = CAL.add_working_days(start, 8).date  # 30 September, the eve of National Day
    assert latest_overdue_start(CAL, due, 8) < start
    assert latest_overdue_start(CAL, due + dt.timedelta(days=1), 8) >= start


def test_quarters_run_from_the_first_receipt_to_the_as_of_day():
    def day_start(d):
        return d.toordinal()

    periods = period_bounds(POLICY, dt.date(2025, 2, 10), dt.date(2025, 10, 1), day_start)

    assert [p[0] for p in periods] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert periods[0][1:] == (dt.date(2025, 1, 1).toordinal(), dt.date(2025, 4, 1).toordinal())
