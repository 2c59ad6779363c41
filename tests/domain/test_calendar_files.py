"""Next year's calendar is data: a year file is added without a code change, and checked."""

import datetime as dt
import json

import pytest

from battrace.domain.calendar import WorkingCalendar
from battrace.errors import ConfigError

D = dt.date

# A made-up 2027 for the tests (NOT the official arrangement, which was not published when
# this was written): New Year 1–3 January, Sunday 7 February worked.
YEAR_2027 = """
[2027]
notices = [{ title = "test notice for 2027", date = 2026-11-01 }]
holidays = [{ name = "元旦", first = 2027-01-01, last = 2027-01-03 }]
makeup_workdays = [2027-02-07]
"""


def year_table(**overrides):
    table = {
        "notices": [{"title": "t", "date": "2026-11-01"}],
        "holidays": [{"name": "元旦", "first": "2027-01-01", "last": "2027-01-03"}],
        "makeup_workdays": ["2027-01-10"],
    }
    table.update(overrides)
    return table


def test_a_2027_file_extends_the_calendar_and_makes_its_counts_exact(tmp_path):
    path = tmp_path / "2027.toml"
    path.write_text(YEAR_2027, encoding="utf-8")
    calendar = WorkingCalendar.default().with_file(path)
    assert calendar.last_year == 2027
    assert not calendar.is_working_day(D(2027, 1, 1))
    assert calendar.is_working_day(D(2027, 2, 7))  # the Sunday make-up day
    deadline = calendar.add_working_days(D(2026, 12, 28), 15)
    assert deadline.exact
    assert deadline.note is None
    assert deadline.date == D(2027, 1, 19)  # one day later than the weekends-only guess


def test_the_default_calendar_is_left_unchanged_by_an_extension(tmp_path):
    path = tmp_path / "2027.toml"
    path.write_text(YEAR_2027, encoding="utf-8")
    WorkingCalendar.default().with_file(path)
    assert WorkingCalendar.default().last_year == 2026


def test_a_directory_of_year_files_loads_as_one_calendar(tmp_path):
    (tmp_path / "2027.toml").write_text(YEAR_2027, encoding="utf-8")
    (tmp_path / "2028.json").write_text(
        json.dumps({"2028": year_table(holidays=["2028-01-03"], makeup_workdays=[])}),
        encoding="utf-8",
    )
    (tmp_path / "README.txt").write_text("ignored", encoding="utf-8")
    calendar = WorkingCalendar.load(tmp_path)
    assert calendar.years == (2027, 2028)
    assert not calendar.is_working_day(D(2028, 1, 3))
    assert WorkingCalendar.default().with_file(tmp_path).years == tuple(range(2018, 2029))


def test_a_year_already_present_is_replaced_only_when_asked():
    corrected = {"2026": year_table(holidays=["2026-01-01"], makeup_workdays=[])}
    corrected["2026"]["notices"] = [{"title": "correction", "date": "2026-01-01"}]
    with pytest.raises(ConfigError, match="2026 is already present"):
        WorkingCalendar.default().extended(corrected)
    replaced = WorkingCalendar.default().extended(corrected, replace=True)
    assert replaced.is_working_day(D(2026, 1, 2))


def test_a_gap_between_years_is_refused():
    with pytest.raises(ConfigError, match="2027 is missing"):
        WorkingCalendar.default().extended({"2028": year_table(holidays=[], makeup_workdays=[])})


def test_a_weekday_cannot_be_a_make_up_working_day():
    with pytest.raises(ConfigError, match=r"2027\.makeup_workdays\[0\]: 2027-01-11 is a Monday"):
        WorkingCalendar.from_mapping({"2027": year_table(makeup_workdays=["2027-01-11"])})


def test_a_day_cannot_be_both_off_and_a_make_up_working_day():
    with pytest.raises(ConfigError, match="2027-01-02 is both a day off"):
        WorkingCalendar.from_mapping({"2027": year_table(makeup_workdays=["2027-01-02"])})


def test_unknown_keys_in_a_year_file_are_errors():
    with pytest.raises(ConfigError, match=r"2027\.holiday: unknown key"):
        WorkingCalendar.from_mapping({"2027": year_table(holiday=[])})


def test_a_holiday_outside_its_year_is_an_error():
    with pytest.raises(ConfigError, match="lies outside 2027"):
        WorkingCalendar.from_mapping({"2027": year_table(holidays=["2028-01-01"])})


def test_a_year_needs_its_source_notice():
    with pytest.raises(ConfigError, match=r"2027\.notices: name at least one notice"):
        WorkingCalendar.from_mapping({"2027": year_table(notices=[])})


def test_a_period_that_ends_before_it_starts_is_an_error():
    bad = [{"name": "x", "first": "2027-01-03", "last": "2027-01-01"}]
    with pytest.raises(ConfigError, match=r"holidays\[0\]\.last: 2027-01-01 is before first"):
        WorkingCalendar.from_mapping({"2027": year_table(holidays=bad)})


def test_tables_must_be_named_by_their_year():
    with pytest.raises(ConfigError, match="must be named by its year"):
        WorkingCalendar.from_mapping({"next": year_table()})


def test_a_broken_file_is_reported_with_its_path(tmp_path):
    path = tmp_path / "2027.toml"
    path.write_text("[2027\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"2027\.toml: not valid TOML"):
        WorkingCalendar.default().with_file(path)


def test_the_same_year_in_two_files_of_a_directory_is_an_error(tmp_path):
    (tmp_path / "a.toml").write_text(YEAR_2027, encoding="utf-8")
    (tmp_path / "b.toml").write_text(YEAR_2027, encoding="utf-8")
    with pytest.raises(ConfigError, match="year 2027 is also in"):
        WorkingCalendar.load(tmp_path)
