"""China's official working-day calendar (工作日) and the deadlines counted in it.

Reporting limits are counted in working days: Monday–Friday, except the days off announced each
year by the State Council General Office, plus the weekend days it makes working days (调休上班).
The calendar is data (`data/cn_working_calendar.toml`, 2018–2026); next year's notice is added
as one more year file, without a code change.

Counting never falls back silently: a day counted outside the known years is counted Monday–
Friday and the result says so (`exact=False` and a `note`). Counts are O(1): the calendar keeps
a running total of working days per date ordinal and the ordinal of every n-th working day.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from battrace.domain import data
from battrace.errors import BattraceError, ConfigError

_DATE = dt.date
_fromordinal = dt.date.fromordinal
_SATURDAY, _SUNDAY = 5, 6
_MAX_PERIOD_DAYS = 31


class OutsideCalendar(BattraceError, LookupError):
    """A question only the official calendar can answer, about a day it does not cover."""

    kind = "outside-calendar"


@dataclass(frozen=True, slots=True)
class Notice:
    """A State Council General Office notice that set (or changed) a year's days off."""

    title: str
    date: dt.date
    number: str = ""
    url: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Period:
    """Consecutive official days off, as a notice states them (`first`..`last` inclusive)."""

    name: str
    first: dt.date
    last: dt.date
    note: str = ""

    def days(self) -> Iterator[dt.date]:
        """Every day of the period."""
        for ordinal in range(self.first.toordinal(), self.last.toordinal() + 1):
            yield _fromordinal(ordinal)

    @property
    def length(self) -> int:
        """Number of days in the period."""
        return self.last.toordinal() - self.first.toordinal() + 1


@dataclass(frozen=True, slots=True)
class YearData:
    """One year of the calendar: its notices, official days off and make-up working days."""

    year: int
    notices: tuple[Notice, ...]
    holidays: tuple[Period, ...]
    makeup_workdays: tuple[dt.date, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class Deadline:
    """The n-th working day after a start; `exact` is False when days outside the calendar
    were counted Monday–Friday, and `note` then says which."""

    date: dt.date
    exact: bool
    note: str | None


@dataclass(frozen=True, slots=True)
class Count:
    """Working days in `(start, end]` (negative when `end` is before `start`)."""

    days: int
    exact: bool
    note: str | None


@dataclass(frozen=True, slots=True)
class Lateness:
    """Whether a report came after its deadline (BT-020).

    `late` is True iff the recorded day is after `deadline`, the `limit`-th working day after
    the event day. `working_days_taken` counts working days in `(event_day, recorded_day]`; a
    report made on a day off just after the deadline is late with `working_days_taken == limit`.
    """

    late: bool
    deadline: dt.date
    working_days_taken: int
    limit: int
    exact: bool
    note: str | None
    #: `note` in Chinese (finding messages)
    note_zh: str | None = None


class WorkingCalendar:
    """The official working-day calendar over a contiguous range of years."""

    __slots__ = ("_base", "_cum", "_end", "_names", "_nth", "_total", "_years")

    def __init__(self, years: Iterable[YearData]) -> None:
        by_year: dict[int, YearData] = {}
        for year in years:
            if year.year in by_year:
                raise ConfigError(f"working calendar: year {year.year} is given twice")
            by_year[year.year] = year
        if not by_year:
            raise ConfigError("working calendar: no years given")
        first, last = min(by_year), max(by_year)
        missing = [y for y in range(first, last + 1) if y not in by_year]
        if missing:
            raise ConfigError(
                f"working calendar: years must be contiguous; {missing[0]} is missing "
                f"between {first} and {last}"
            )
        self._years: dict[int, YearData] = dict(sorted(by_year.items()))
        off, work = _days_off_and_makeup(self._years.values())
        self._names: dict[int, str] = off
        self._base = _DATE(first, 1, 1).toordinal()
        self._end = _DATE(last, 12, 31).toordinal()
        cum: list[int] = []
        nth: list[int] = []
        total = 0
        for ordinal in range(self._base, self._end + 1):
            weekend = (ordinal - 1) % 7 >= _SATURDAY
            if ordinal in work or not (weekend or ordinal in off):
                total += 1
                nth.append(ordinal)
            cum.append(total)
        self._cum = cum
        self._nth = nth
        self._total = total

    # ------------------------------------------------------------------ construction

    @classmethod
    def default(cls) -> WorkingCalendar:
        """The packaged official calendar (2018–2026), built once."""
        return _default_calendar()

    @classmethod
    def from_mapping(
        cls, years: Mapping[Any, Any], *, source: str = "<mapping>"
    ) -> WorkingCalendar:
        """A calendar from a parsed document: one table per year (see the packaged file)."""
        return cls(parse_years(years, source=source))

    @classmethod
    def load(cls, path: Path) -> WorkingCalendar:
        """A calendar from one TOML/JSON file, or from every such file of a directory."""
        return cls(_read_years(path))

    def extended(
        self, years: Mapping[Any, Any], *, replace: bool = False, source: str = "<mapping>"
    ) -> WorkingCalendar:
        """This calendar plus the years of a parsed document.

        A year already present is an error unless `replace` is True (e.g. a corrected file or
        a notice that changed a year after the fact, as in 2019 and 2020).
        """
        return self._with(parse_years(years, source=source), replace=replace)

    def with_file(self, path: Path, *, replace: bool = False) -> WorkingCalendar:
        """This calendar plus the years of a TOML/JSON file or a directory of them."""
        return self._with(_read_years(path), replace=replace)

    def _with(self, extra: list[YearData], *, replace: bool) -> WorkingCalendar:
        merged = dict(self._years)
        for year in extra:
            if year.year in merged and not replace:
                raise ConfigError(
                    f"working calendar: year {year.year} is already present "
                    "(pass replace=True to replace it)"
                )
            merged[year.year] = year
        return WorkingCalendar(merged.values())

    # ------------------------------------------------------------------ questions

    @property
    def first_year(self) -> int:
        """The first year of the calendar."""
        return _fromordinal(self._base).year

    @property
    def last_year(self) -> int:
        """The last year of the calendar."""
        return _fromordinal(self._end).year

    @property
    def years(self) -> tuple[int, ...]:
        """Every year of the calendar, in order."""
        return tuple(self._years)

    def year(self, year: int) -> YearData:
        """The notices and days of one year."""
        try:
            return self._years[year]
        except KeyError:
            raise OutsideCalendar(self._outside_message(year)) from None

    def covers(self, day: dt.date) -> bool:
        """True if `day` falls in a year of the official calendar."""
        return self._base <= day.toordinal() <= self._end

    def is_working_day(self, day: dt.date) -> bool:
        """True on a working day; `OutsideCalendar` for a day the calendar does not cover."""
        _check_date(day, "day")
        ordinal = day.toordinal()
        if not self._base <= ordinal <= self._end:
            raise OutsideCalendar(self._outside_message(day.year))
        index = ordinal - self._base
        previous = self._cum[index - 1] if index else 0
        return self._cum[index] != previous

    def holiday_name(self, day: dt.date) -> str | None:
        """The name of the official holiday period `day` belongs to, if any."""
        return self._names.get(day.toordinal())

    def add_working_days(self, start: dt.date, n: int) -> Deadline:
        """The n-th working day after `start` (`start` itself is not counted)."""
        _check_date(start, "start")
        _check_count(n, "n")
        s = start.toordinal()
        if n == 0:
            return Deadline(start, True, None)
        x = self._nth_after(s, n)
        if s + 1 >= self._base and x <= self._end:
            return Deadline(_fromordinal(x), True, None)
        return Deadline(_fromordinal(x), False, self._note(s + 1, x)[0])

    def working_days_between(self, start: dt.date, end: dt.date) -> Count:
        """Working days in `(start, end]`; negative when `end` is before `start`."""
        _check_date(start, "start")
        _check_date(end, "end")
        a, b = start.toordinal(), end.toordinal()
        days = self._w(b) - self._w(a)
        lo, hi = (a + 1, b) if a <= b else (b + 1, a)
        if lo > hi or (lo >= self._base and hi <= self._end):
            return Count(days, True, None)
        return Count(days, False, self._note(lo, hi)[0])

    def is_late(self, event_day: dt.date, recorded_day: dt.date, limit: int) -> Lateness:
        """Late iff `recorded_day` is after the `limit`-th working day after `event_day`."""
        if event_day.__class__ is not _DATE:
            _check_date(event_day, "event_day")
        if recorded_day.__class__ is not _DATE:
            _check_date(recorded_day, "recorded_day")
        if limit.__class__ is not int or limit < 0:
            _check_count(limit, "limit")
        e = event_day.toordinal()
        r = recorded_day.toordinal()
        base = self._base
        end = self._end
        if base <= e <= end and base <= r <= end:
            cum = self._cum
            we = cum[e - base]
            target = we + limit
            if target <= self._total:
                d = self._nth[target - 1] if limit else e
                return Lateness(r > d, _fromordinal(d), cum[r - base] - we, limit, True, None)
        return self._lateness_anywhere(e, r, limit)

    def _lateness_anywhere(self, e: int, r: int, limit: int) -> Lateness:
        d = self._nth_after(e, limit) if limit else e
        taken = self._w(r) - self._w(e)
        lo, hi = min(e, r) + 1, max(d, r, e)
        exact = lo > hi or (lo >= self._base and hi <= self._end)
        note, note_zh = (None, None) if exact else self._note(lo, hi)
        return Lateness(r > d, _fromordinal(d), taken, limit, exact, note, note_zh)

    # ------------------------------------------------------------------ arithmetic

    def _w(self, x: int) -> int:
        """Working days from the calendar's first day up to ordinal `x` (weekdays outside)."""
        if x < self._base:
            return _weekdays_through(x) - _weekdays_through(self._base - 1)
        if x > self._end:
            return self._total + _weekdays_through(x) - _weekdays_through(self._end)
        return self._cum[x - self._base]

    def _nth_after(self, s: int, n: int) -> int:
        """Ordinal of the n-th (n >= 1) working day after ordinal `s`."""
        target = self._w(s) + n
        if target > self._total:
            return _nth_weekday(_weekdays_through(self._end) + target - self._total)
        if target <= 0:
            return _nth_weekday(_weekdays_through(self._base - 1) + target)
        return self._nth[target - 1]

    def _note(self, lo: int, hi: int) -> tuple[str, str]:
        """Why a count over ordinals `lo`..`hi` is not exact, in English and Chinese."""
        known = f"{self.first_year}–{self.last_year}"
        parts, parts_zh = [], []
        if lo < self._base:
            y1, y2 = _fromordinal(lo).year, self.first_year - 1
            parts.append(
                f"{_years(y1, y2)} not in the official calendar ({known}): "
                f"weekends only were assumed up to {y2}-12-31"
            )
            parts_zh.append(
                f"{_years_zh(y1, y2)}年不在官方日历（{known}年）内：{y2}-12-31 及以前只按周末计"
            )
        if hi > self._end:
            y1, y2 = self.last_year + 1, _fromordinal(hi).year
            parts.append(
                f"{_years(y1, y2)} not in the official calendar ({known}): "
                f"weekends only were assumed from {y1}-01-01"
            )
            parts_zh.append(
                f"{_years_zh(y1, y2)}年不在官方日历（{known}年）内：{y1}-01-01 起只按周末计"
            )
        return "; ".join(parts), "；".join(parts_zh)

    def _outside_message(self, year: int) -> str:
        return (
            f"{year} is not in the official calendar ({self.first_year}–{self.last_year}); "
            "add its year file (see docs/policy.md)"
        )

    def __repr__(self) -> str:
        return f"WorkingCalendar({self.first_year}–{self.last_year})"


# ---------------------------------------------------------------------- parsing


def parse_years(years: Mapping[Any, Any], *, source: str = "<mapping>") -> list[YearData]:
    """Validate a parsed calendar document: `{year: {notices, holidays, makeup_workdays}}`."""
    out = []
    for key, value in years.items():
        text = str(key)
        if not (text.isdigit() and len(text) == 4 and 1949 < int(text) < 3000):
            raise ConfigError(f"{source}: {text}: a calendar table must be named by its year")
        out.append(_parse_year(int(text), data.Table(value, where=text, source=source)))
    return out


def _parse_year(year: int, table: data.Table) -> YearData:
    table.only({"notices", "holidays", "makeup_workdays", "note"})
    notices = []
    for i, item in enumerate(table.items("notices")):
        row = data.Table(item, where=f"{table.where}.notices[{i}]", source=table.source)
        row.only({"title", "number", "date", "url", "note"})
        notices.append(
            Notice(
                title=row.text("title"),
                date=row.day("date"),
                number=row.text("number", ""),
                url=row.text("url", ""),
                note=row.text("note", ""),
            )
        )
    if not notices:
        raise table.error("notices", "name at least one notice (the source of the year)")
    earliest, latest = _DATE(year - 1, 12, 1), _DATE(year, 12, 31)
    periods = []
    for i, item in enumerate(table.items("holidays")):
        period = _parse_period(item, where=f"{table.where}.holidays[{i}]", source=table.source)
        if period.first < earliest or period.last > latest:
            raise table.error(
                f"holidays[{i}]",
                f"{period.first}..{period.last} lies outside {year} "
                f"(a {year} notice may only reach back into December {year - 1})",
            )
        periods.append(period)
    makeup = []
    for i, item in enumerate(table.items("makeup_workdays")):
        day = data.to_date(item)
        if day is None:
            raise table.error(f"makeup_workdays[{i}]", f"must be a date, got {item!r}")
        if day.weekday() < _SATURDAY:
            raise table.error(
                f"makeup_workdays[{i}]",
                f"{day} is a {day:%A}; only a Saturday or Sunday can be a make-up working day",
            )
        if not earliest <= day <= latest:
            raise table.error(f"makeup_workdays[{i}]", f"{day} lies outside {year}")
        makeup.append(day)
    return YearData(year, tuple(notices), tuple(periods), tuple(makeup), table.text("note", ""))


def _parse_period(item: object, *, where: str, source: str) -> Period:
    day = data.to_date(item)
    if day is not None:
        return Period(name="", first=day, last=day)
    row = data.Table(item, where=where, source=source)
    row.only({"name", "first", "last", "note"})
    first = row.day("first")
    last = row.day("last") if row.has("last") else first
    if last < first:
        raise row.error("last", f"{last} is before first ({first})")
    if last.toordinal() - first.toordinal() >= _MAX_PERIOD_DAYS:
        raise row.error("last", f"a period of more than {_MAX_PERIOD_DAYS} days is not credible")
    return Period(row.text("name", ""), first, last, row.text("note", ""))


def _days_off_and_makeup(years: Iterable[YearData]) -> tuple[dict[int, str], set[int]]:
    """Ordinals of official days off (with their names) and of make-up working days."""
    off: dict[int, str] = {}
    work: dict[int, int] = {}
    for year in years:
        for period in year.holidays:
            for day in period.days():
                off[day.toordinal()] = period.name or "holiday"
        for day in year.makeup_workdays:
            work[day.toordinal()] = year.year
    clash = sorted(set(off) & set(work))
    if clash:
        day = _fromordinal(clash[0])
        raise ConfigError(
            f"working calendar: {day} is both a day off ({off[clash[0]]}) and a make-up "
            f"working day ({work[clash[0]]} table)"
        )
    return off, set(work)


def _read_years(path: Path) -> list[YearData]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".toml", ".json"))
        if not files:
            raise ConfigError(f"{path}: no .toml or .json calendar files in this directory")
    else:
        files = [path]
    out: list[YearData] = []
    seen: dict[int, Path] = {}
    for file in files:
        for year in parse_years(data.read_file(file), source=str(file)):
            if year.year in seen:
                raise ConfigError(f"{file}: year {year.year} is also in {seen[year.year]}")
            seen[year.year] = file
            out.append(year)
    return out


@cache
def _default_calendar() -> WorkingCalendar:
    source = f"battrace:{data.CALENDAR_FILE}"
    return WorkingCalendar(parse_years(data.packaged(data.CALENDAR_FILE), source=source))


# ---------------------------------------------------------------------- helpers


def _weekdays_through(x: int) -> int:
    """Mondays–Fridays among ordinals 1..x (ordinal 1, 0001-01-01, is a Monday)."""
    weeks, rest = divmod(x, 7)
    return 5 * weeks + min(rest, 5)


def _nth_weekday(m: int) -> int:
    """The smallest ordinal x with `_weekdays_through(x) >= m`."""
    weeks, rest = divmod(m - 1, 5)
    return 7 * weeks + rest + 1


def _years(first: int, last: int) -> str:
    return f"{first} is" if first == last else f"{first}–{last} are"


def _years_zh(first: int, last: int) -> str:
    return f"{first}" if first == last else f"{first}–{last}"


def _check_date(value: object, name: str) -> None:
    if value.__class__ is not _DATE:
        raise TypeError(
            f"{name} must be a datetime.date, not {type(value).__name__} "
            "(convert times to local dates first, e.g. with Policy.local_date)"
        )


def _check_count(value: int, name: str) -> None:
    if value.__class__ is not int:
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


def bench_is_late(n: int = 200_000, *, seed: int = 1) -> float:
    """`is_late` calls per second on the default calendar, over `n` random events."""
    calendar = WorkingCalendar.default()
    rng = random.Random(seed)
    first = _DATE(calendar.first_year, 1, 1).toordinal()
    span = _DATE(calendar.last_year, 11, 30).toordinal() - first
    cases = []
    for _ in range(n):
        event = first + rng.randrange(span)
        cases.append(
            (_fromordinal(event), _fromordinal(event + rng.randrange(60)), rng.choice((15, 30)))
        )
    is_late = calendar.is_late
    t0 = time.perf_counter()
    for event_day, recorded_day, limit in cases:
        is_late(event_day, recorded_day, limit)
    return n / (time.perf_counter() - t0)
