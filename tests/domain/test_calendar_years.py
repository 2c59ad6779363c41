"""The packaged official calendar, year by year, against facts of each State Council notice."""

import datetime as dt

import pytest

from battrace.domain.calendar import WorkingCalendar

D = dt.date

#: (day, working?) facts stated by each year's notice(s); weekend make-up days and the first
#: working day after Spring Festival are the ones a Monday–Friday count gets wrong.
FACTS = [
    # 2018 — 国办发明电〔2017〕12号
    (D(2018, 2, 11), True),  # Sunday worked before Spring Festival
    (D(2018, 2, 21), False),  # last day of Spring Festival
    (D(2018, 2, 22), True),  # first working day after it
    (D(2018, 9, 29), True),  # Saturday and Sunday worked before National Day
    (D(2018, 9, 30), True),
    (D(2018, 12, 29), True),  # Saturday worked for New Year 2019 (the 2019 notice)
    (D(2018, 12, 31), False),
    # 2019 — 国办发明电〔2018〕15号 and the Labour Day adjustment 国办发明电〔2019〕3号
    (D(2019, 2, 2), True),
    (D(2019, 2, 3), True),
    (D(2019, 2, 11), True),  # first working day after Spring Festival
    (D(2019, 5, 2), False),  # Labour Day was widened to 1–4 May by the adjustment
    (D(2019, 5, 5), True),  # ... with Sunday 5 May worked
    (D(2019, 4, 28), True),
    (D(2019, 10, 12), True),
    # 2020 — 国办发明电〔2019〕16号 and the COVID extension 国办发明电〔2020〕1号
    (D(2020, 1, 19), True),
    (D(2020, 1, 31), False),  # Friday inside the extension
    (D(2020, 2, 1), False),  # the Saturday make-up day lapsed with the extension
    (D(2020, 2, 3), True),  # first working day after the extended Spring Festival
    (D(2020, 6, 28), True),
    (D(2020, 10, 8), False),
    (D(2020, 10, 10), True),
    # 2021 — 国办发明电〔2020〕27号
    (D(2021, 2, 7), True),
    (D(2021, 2, 17), False),
    (D(2021, 2, 18), True),
    (D(2021, 2, 20), True),
    (D(2021, 9, 18), True),
    (D(2021, 9, 26), True),
    (D(2021, 10, 9), True),
    # 2022 — 国办发明电〔2021〕11号
    (D(2022, 1, 29), True),
    (D(2022, 1, 30), True),
    (D(2022, 2, 7), True),
    (D(2022, 4, 2), True),
    (D(2022, 9, 12), False),
    (D(2022, 10, 8), True),
    (D(2022, 10, 9), True),
    # 2023 — 国办发明电〔2022〕16号
    (D(2022, 12, 31), False),  # New Year 2023 starts in 2022 (a Saturday: off anyway)
    (D(2023, 1, 2), False),
    (D(2023, 1, 28), True),  # first working day after Spring Festival is a Saturday
    (D(2023, 1, 29), True),
    (D(2023, 9, 29), False),
    (D(2023, 10, 7), True),
    (D(2023, 10, 8), True),
    # 2024 — 国办发明电〔2023〕7号
    (D(2024, 2, 4), True),  # Sunday worked
    (D(2024, 2, 9), True),  # 除夕 only "encouraged" off: still a working day
    (D(2024, 2, 10), False),
    (D(2024, 2, 17), False),
    (D(2024, 2, 18), True),  # first working day after Spring Festival is a Sunday
    (D(2024, 9, 14), True),
    (D(2024, 10, 12), True),
    # 2025 — 国办发明电〔2024〕12号, the first year with 13 statutory days
    (D(2025, 1, 2), True),
    (D(2025, 1, 26), True),
    (D(2025, 1, 28), False),  # 除夕 is now a holiday
    (D(2025, 2, 4), False),
    (D(2025, 2, 5), True),
    (D(2025, 2, 8), True),
    (D(2025, 4, 27), True),
    (D(2025, 5, 5), False),
    (D(2025, 9, 28), True),
    (D(2025, 10, 8), False),
    (D(2025, 10, 11), True),
    # 2026 — 国办发明电〔2025〕7号
    (D(2026, 1, 2), False),
    (D(2026, 1, 4), True),  # Sunday worked after New Year
    (D(2026, 2, 14), True),
    (D(2026, 2, 23), False),  # nine days of Spring Festival, 15–23 February
    (D(2026, 2, 24), True),
    (D(2026, 2, 28), True),
    (D(2026, 5, 5), False),
    (D(2026, 5, 9), True),
    (D(2026, 9, 20), True),  # Sunday worked before National Day
    (D(2026, 10, 7), False),
    (D(2026, 10, 8), True),
    (D(2026, 10, 10), True),
]


@pytest.fixture(scope="module")
def calendar():
    return WorkingCalendar.default()


@pytest.mark.parametrize(("day", "working"), FACTS, ids=[f"{d}" for d, _ in FACTS])
def test_each_year_matches_its_notice(calendar, day, working):
    assert calendar.is_working_day(day) is working


def test_every_year_from_2018_to_2026_has_at_least_three_facts_checked():
    years = [d.year for d, _ in FACTS]
    assert all(years.count(y) >= 3 for y in range(2018, 2027))


def test_the_packaged_calendar_spans_2018_to_2026_and_nothing_else(calendar):
    assert (calendar.first_year, calendar.last_year) == (2018, 2026)
    assert calendar.years == tuple(range(2018, 2027))
    assert calendar.covers(D(2026, 12, 31))
    assert not calendar.covers(D(2027, 1, 1))


# "共N天" of each notice for the three long holidays.
PERIOD_LENGTHS = [
    (2018, "春节", 7),
    (2019, "劳动节", 4),
    (2020, "春节", 10),  # 7 by the annual notice, extended to 2 February
    (2021, "春节", 7),
    (2022, "劳动节", 5),
    (2023, "中秋节、国庆节", 8),
    (2024, "春节", 8),
    (2025, "春节", 8),
    (2025, "劳动节", 5),
    (2025, "国庆节、中秋节", 8),
    (2026, "春节", 9),
    (2026, "国庆节", 7),
]


@pytest.mark.parametrize(("year", "name", "days"), PERIOD_LENGTHS)
def test_holiday_periods_are_as_long_as_the_notice_says(calendar, year, name, days):
    (period,) = [p for p in calendar.year(year).holidays if p.name == name]
    assert period.length == days


def test_every_make_up_working_day_is_a_weekend_day(calendar):
    for year in calendar.years:
        assert all(d.weekday() >= 5 for d in calendar.year(year).makeup_workdays)


def test_each_year_names_the_notice_it_comes_from(calendar):
    for year in calendar.years:
        first = calendar.year(year).notices[0]
        assert first.title == f"国务院办公厅关于{year}年部分节假日安排的通知"
        assert first.date.year == year - 1


def test_2019_and_2020_record_the_notices_that_changed_them_mid_course(calendar):
    assert "调整2019年劳动节" in calendar.year(2019).notices[1].title
    assert "延长2020年春节假期" in calendar.year(2020).notices[1].title


def test_holiday_names_come_from_the_notice(calendar):
    assert calendar.holiday_name(D(2026, 2, 17)) == "春节"
    assert calendar.holiday_name(D(2025, 10, 6)) == "国庆节、中秋节"
    assert calendar.holiday_name(D(2026, 2, 24)) is None
