"""Deadlines in working days (BT-020): exact inside the calendar, said plainly outside it."""

import datetime as dt

import pytest

from battrace.domain.calendar import OutsideCalendar, WorkingCalendar, bench_is_late

D = dt.date


@pytest.fixture(scope="module")
def calendar():
    return WorkingCalendar.default()


def weekdays_only_deadline(start, n):
    """What a naive Monday–Friday count would say."""
    day = start
    while n:
        day += dt.timedelta(days=1)
        n -= day.weekday() < 5
    return day


def test_fifteen_working_days_after_the_eve_of_national_day_2024(calendar):
    deadline = calendar.add_working_days(D(2024, 9, 30), 15)
    assert deadline.date == D(2024, 10, 25)
    assert deadline.exact
    assert deadline.note is None
    # a Monday–Friday count would have ended four days early, on 21 October
    assert weekdays_only_deadline(D(2024, 9, 30), 15) == D(2024, 10, 21)


def test_a_report_on_the_fifteenth_working_day_after_national_day_eve_is_on_time(calendar):
    verdict = calendar.is_late(D(2024, 9, 30), D(2024, 10, 25), 15)
    assert not verdict.late
    assert verdict.working_days_taken == 15
    assert verdict.deadline == D(2024, 10, 25)
    assert verdict.exact


def test_a_report_on_the_sixteenth_working_day_after_national_day_eve_is_late(calendar):
    verdict = calendar.is_late(D(2024, 9, 30), D(2024, 10, 28), 15)
    assert verdict.late
    assert verdict.working_days_taken == 16


def test_the_2026_national_day_counts_its_saturday_make_up_day(calendar):
    # 1–7 October off; Saturday 10 October worked: it is the third working day
    assert calendar.add_working_days(D(2026, 9, 30), 3).date == D(2026, 10, 10)
    assert calendar.add_working_days(D(2026, 9, 30), 15).date == D(2026, 10, 27)
    assert not calendar.is_late(D(2026, 9, 30), D(2026, 10, 27), 15).late
    assert calendar.is_late(D(2026, 9, 30), D(2026, 10, 28), 15).late


def test_a_report_made_on_a_day_off_after_the_deadline_is_late(calendar):
    # deadline Friday 25 October 2024; Saturday 26 October is not a working day
    verdict = calendar.is_late(D(2024, 9, 30), D(2024, 10, 26), 15)
    assert verdict.late
    assert verdict.working_days_taken == 15


def test_thirty_working_days_across_the_2026_spring_festival(calendar):
    # 15–23 February off (seven weekdays), Saturdays 14 and 28 February worked
    assert calendar.add_working_days(D(2026, 2, 10), 30).date == D(2026, 3, 30)
    assert weekdays_only_deadline(D(2026, 2, 10), 30) == D(2026, 3, 24)


def test_the_start_day_itself_is_not_counted(calendar):
    # a Monday event: the first working day after it is Tuesday
    assert calendar.add_working_days(D(2024, 3, 4), 1).date == D(2024, 3, 5)
    # an event on a holiday: the count starts at the next working day
    assert calendar.add_working_days(D(2024, 10, 3), 1).date == D(2024, 10, 8)


def test_zero_working_days_is_the_start_day(calendar):
    assert calendar.add_working_days(D(2024, 10, 3), 0).date == D(2024, 10, 3)
    assert calendar.is_late(D(2024, 10, 3), D(2024, 10, 3), 0).late is False
    assert calendar.is_late(D(2024, 10, 3), D(2024, 10, 4), 0).late is True


def test_working_days_between_counts_the_end_but_not_the_start(calendar):
    assert calendar.working_days_between(D(2024, 9, 30), D(2024, 10, 8)).days == 1
    assert calendar.working_days_between(D(2024, 10, 8), D(2024, 10, 8)).days == 0
    assert calendar.working_days_between(D(2024, 10, 8), D(2024, 9, 30)).days == -1


def test_a_report_recorded_before_its_event_is_not_late(calendar):
    verdict = calendar.is_late(D(2024, 10, 8), D(2024, 9, 30), 15)
    assert not verdict.late
    assert verdict.working_days_taken == -1


def test_counting_past_the_calendar_assumes_weekends_only_and_says_so(calendar):
    deadline = calendar.add_working_days(D(2026, 12, 28), 15)
    assert deadline.date == D(2027, 1, 18)
    assert not deadline.exact
    assert deadline.note == (
        "2027 is not in the official calendar (2018–2026): "
        "weekends only were assumed from 2027-01-01"
    )


def test_counting_before_the_calendar_assumes_weekends_only_and_says_so(calendar):
    deadline = calendar.add_working_days(D(2017, 12, 20), 10)
    assert deadline.date == D(2018, 1, 4)  # 1 January 2018 is a holiday again
    assert not deadline.exact
    assert "2017 is not in the official calendar (2018–2026)" in deadline.note
    assert "up to 2017-12-31" in deadline.note


def test_a_count_spanning_several_unknown_years_names_them_all(calendar):
    count = calendar.working_days_between(D(2026, 12, 31), D(2028, 1, 3))
    assert count.days == 261 + 1  # every weekday of 2027, and Monday 3 January 2028
    assert not count.exact
    assert count.note.startswith("2027–2028 are not in the official calendar")


def test_lateness_across_the_calendar_end_is_judged_but_marked_inexact(calendar):
    verdict = calendar.is_late(D(2026, 12, 28), D(2027, 1, 19), 15)
    assert verdict.late
    assert verdict.deadline == D(2027, 1, 18)
    assert not verdict.exact
    assert "2027" in verdict.note
    # and in Chinese, for the finding's Chinese message
    assert verdict.note_zh == "2027年不在官方日历（2018–2026年）内：2027-01-01 起只按周末计"
    before = calendar.is_late(D(2016, 12, 28), D(2018, 1, 19), 15)
    assert before.note_zh is not None
    assert before.note_zh.startswith("2016–2017年不在官方日历（2018–2026年）内：2017-12-31 及以前")


def test_lateness_inside_the_calendar_is_exact_even_at_its_edges(calendar):
    verdict = calendar.is_late(D(2018, 1, 1), D(2018, 1, 2), 1)
    assert verdict.exact
    assert not verdict.late
    assert calendar.is_late(D(2026, 12, 30), D(2026, 12, 31), 1).exact


def test_asking_whether_an_uncovered_day_is_a_working_day_is_an_error(calendar):
    with pytest.raises(OutsideCalendar, match="2027 is not in the official calendar"):
        calendar.is_working_day(D(2027, 1, 1))


def test_times_must_be_turned_into_dates_before_counting(calendar):
    moment = dt.datetime(2024, 9, 30, 23, 30, tzinfo=dt.UTC)
    with pytest.raises(TypeError, match=r"Policy\.local_date"):
        calendar.is_late(moment, D(2024, 10, 28), 15)
    with pytest.raises(TypeError):
        calendar.add_working_days(moment, 15)


def test_negative_or_non_integer_limits_are_refused(calendar):
    with pytest.raises(ValueError, match="must not be negative"):
        calendar.is_late(D(2024, 9, 30), D(2024, 10, 28), -1)
    with pytest.raises(TypeError):
        calendar.add_working_days(D(2024, 9, 30), 1.5)
    with pytest.raises(TypeError):
        calendar.is_late(D(2024, 9, 30), D(2024, 10, 28), True)


def test_the_fast_path_agrees_with_a_day_by_day_count(calendar):
    start = D(2018, 1, 1)
    for offset in range(0, 3200, 7):
        event = start + dt.timedelta(days=offset)
        for limit in (1, 15, 30):
            verdict = calendar.is_late(event, event + dt.timedelta(days=40), limit)
            day, left = event, limit
            while left:
                day += dt.timedelta(days=1)
                left -= calendar.is_working_day(day)
            assert verdict.deadline == day
            assert verdict.late is (event + dt.timedelta(days=40) > day)


def test_the_benchmark_reports_calls_per_second():
    assert bench_is_late(2_000) > 0


def test_counts_across_the_calendar_edges_agree_with_a_day_by_day_reference(calendar):
    def working(day):
        return calendar.is_working_day(day) if calendar.covers(day) else day.weekday() < 5

    for start in [D(2017, 12, 1) + dt.timedelta(days=k) for k in range(0, 60, 3)] + [
        D(2026, 11, 20) + dt.timedelta(days=k) for k in range(0, 60, 3)
    ]:
        day, left = start, 25
        while left:
            day += dt.timedelta(days=1)
            left -= working(day)
        deadline = calendar.add_working_days(start, 25)
        assert deadline.date == day
        assert calendar.working_days_between(start, day).days == 25
        assert deadline.exact is (
            calendar.covers(start + dt.timedelta(days=1)) and calendar.covers(day)
        )
