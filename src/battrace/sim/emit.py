"""Stamping generated events: ids, RFC 3339 times, record times (reporting delays), labels.

Times inside the simulator are integers: minutes since 0001-01-01 00:00 China Standard Time
(`ordinal * 1440 + minute of the day`). Formatting goes through per-day caches, so an event's
time string costs two look-ups.

Record times (`recorded_at`) are drawn in working days of the official calendar and judged with
the platform's own policy and calendar (`Policy.reporting_limit`, `WorkingCalendar.is_late`), so
a report labelled on time is on time for battrace too, around Spring Festival and National Day
included. Normal reports never pass their limit; a few land exactly on the deadline day (near
misses, not labelled); injected late ones land 1–25 working days after it (labelled BT-020).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import IO, Any, Protocol

import orjson

from battrace.domain.calendar import WorkingCalendar
from battrace.domain.policy import Policy

DAY = 1440
HOUR = 60
_HM = [f"T{m // 60:02d}:{m % 60:02d}:00+08:00" for m in range(DAY)]
#: probability that an on-time report is made on its deadline day (a near miss)
NEAR_MISS = 0.02


class Sink(Protocol):
    """Where event lines go — each prefixed with its time as 10 digits (minutes) and ended by a
    newline — in buffers by bucket, spilled when `size` passes `spill_bytes`."""

    buf: dict[int, list[bytes]]
    size: int
    spill_bytes: int

    def spill(self) -> None:
        """Write the buffers out and empty them."""


class PastEnd(Exception):
    """The event would happen after the simulation's end: the chain stops here."""


class Labels:
    """Ground truth, one JSON object per line (see docs/simulator.md)."""

    def __init__(self, fh: IO[bytes] | None) -> None:
        self.fh = fh
        self.counts: dict[str, int] = {}

    def add(
        self,
        rule: str,
        kind: str,
        *,
        events: list[str] | tuple[str, ...] = (),
        codes: list[str] | tuple[str, ...] = (),
        vins: list[str] | tuple[str, ...] = (),
        enterprise: str | None = None,
        subject: str,
        **detail: Any,
    ) -> None:
        """Record that `rule` must fire on this subject."""
        self.counts[rule] = self.counts.get(rule, 0) + 1
        if self.fh is None:
            return
        row: dict[str, Any] = {
            "rule": rule,
            "kind": kind,
            "codes": list(codes),
            "vins": list(vins),
            "enterprise": enterprise,
            "events": list(events),
            "subject": subject,
        }
        if detail:
            row["detail"] = detail
        self.fh.write(orjson.dumps(row) + b"\n")


class WorkDays:
    """Working-day arithmetic on the official calendar, cached per (day, n)."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self._add: dict[tuple[int, int], int] = {}

    def add(self, ordinal: int, n: int) -> int:
        """The ordinal of the n-th working day after `ordinal` (n = 0: the day itself)."""
        key = (ordinal, n)
        got = self._add.get(key)
        if got is None:
            day = dt.date.fromordinal(ordinal)
            got = self.calendar.add_working_days(day, n).date.toordinal()
            self._add[key] = got
        return got

    def is_late(self, clock: int, recorded: int, limit: int) -> bool:
        """The platform's own judgement (BT-020)."""
        return self.calendar.is_late(
            dt.date.fromordinal(clock), dt.date.fromordinal(recorded), limit
        ).late

    def overdue(self, start: int, as_of: int, limit: int) -> int:
        """Working days `as_of` lies past the `limit`-th working day after `start` (≤ 0: not)."""
        deadline = self.add(start, limit)
        if as_of <= deadline:
            return -self.calendar.working_days_between(
                dt.date.fromordinal(as_of), dt.date.fromordinal(deadline)
            ).days
        return self.calendar.working_days_between(
            dt.date.fromordinal(deadline), dt.date.fromordinal(as_of)
        ).days


class Emitter:
    """Gives each event its id, time and record time, and hands its JSON line to `sink`."""

    def __init__(
        self,
        *,
        rng: random.Random,
        end: dt.date,
        policy: Policy,
        workdays: WorkDays,
        roles: dict[str, str],
        late_rate: float,
        labels: Labels,
        sink: Sink,
    ) -> None:
        self.rng = rng
        self.random = rng.random
        self.end_t = (end.toordinal() + 1) * DAY - 1
        self.end_ordinal = end.toordinal()
        self.policy = policy
        self.wd = workdays
        self.roles = roles
        self.late_rate = late_rate
        self.labels = labels
        self.sink = sink
        self.buf = sink.buf
        self.n = 0
        self.counts: dict[str, int] = {}
        self._days: dict[int, tuple[str, int]] = {}
        #: (event type, reporter) -> (limit in working days, clock field), None: no limit
        self._limits: dict[tuple[str, str], tuple[int, str] | None] = {}

    # ------------------------------------------------------------ time
    def day(self, ordinal: int) -> tuple[str, int]:
        """(YYYY-MM-DD, bucket) of a day; the bucket is the month (year * 12 + month - 1)."""
        got = self._days.get(ordinal)
        if got is None:
            d = dt.date.fromordinal(ordinal)
            got = (d.isoformat(), d.year * 12 + d.month - 1)
            self._days[ordinal] = got
        return got

    def fmt(self, t: int) -> str:
        """RFC 3339 with +08:00."""
        d = t // DAY
        return (self._days.get(d) or self.day(d))[0] + _HM[t - d * DAY]

    def date(self, t: int) -> str:
        """YYYY-MM-DD of a time."""
        return self.day(t // DAY)[0]

    # ------------------------------------------------------------ events
    def emit(
        self, t: int, kind: str, reporter: str, fields: dict[str, Any], *, rejected: bool = False
    ) -> str:
        """Stamp and write one event; its key "reporter/id". PastEnd after the end.

        `rejected`: the event is meant to be refused (no late-report label for it).
        """
        if t > self.end_t:
            raise PastEnd
        self.n += 1
        eid = f"e{self.n:x}"
        d = t // DAY
        day = self._days.get(d) or self.day(d)
        ev: dict[str, Any] = {
            "id": eid,
            "type": kind,
            "time": day[0] + _HM[t - d * DAY],
            "reporter": reporter,
        }
        ev.update(fields)
        key = (kind, reporter)
        if key in self._limits:
            limit = self._limits[key]
        else:
            limit = self._limits[key] = self._limit(kind, self.roles[reporter])
        if limit is None:
            rec = t + 5 + int(self.random() * 4320)
        else:
            rec = self._recorded(t, kind, reporter, fields, eid, rejected, limit)
        d = rec // DAY
        ev["recorded_at"] = (self._days.get(d) or self.day(d))[0] + _HM[rec - d * DAY]
        counts = self.counts
        counts[kind] = counts.get(kind, 0) + 1
        # one compact bytes object (orjson's own keeps ~1 KiB of spare capacity), prefixed with
        # its sort key; plain bytes are not tracked by the cyclic GC, tuples would be
        line = b"%010d%s\n" % (t, orjson.dumps(ev))
        lst = self.buf.get(day[1])
        if lst is None:
            lst = self.buf[day[1]] = []
        lst.append(line)
        self.sink.size += len(line)
        if self.sink.size > self.sink.spill_bytes:
            self.sink.spill()
        return f"{reporter}/{eid}"

    def produced_batch(
        self, t: int, reporter: str, codes: list[str], common: dict[str, Any]
    ) -> None:
        """`produced` events at `t` for `codes` that share every other field (cells of a module,
        modules of a pack): formatted from one serialised fragment, several times faster."""
        if t > self.end_t:
            raise PastEnd
        d = t // DAY
        day = self._days.get(d) or self.day(d)
        when = day[0] + _HM[t - d * DAY]
        head = f'","type":"produced","time":"{when}","reporter":"{reporter}","battery":"'
        tail = "," + orjson.dumps(common).decode()[1:-1] + ',"recorded_at":"'
        fmt, rnd = self.fmt, self.random
        n = self.n
        lines = []
        for i, code in enumerate(codes, start=1):
            rec = fmt(t + 5 + int(rnd() * 4320))
            lines.append(f'{t:010d}{{"id":"e{n + i:x}{head}{code}"{tail}{rec}"}}\n'.encode())
        self.n = n + len(codes)
        lst = self.buf.get(day[1])
        if lst is None:
            lst = self.buf[day[1]] = []
        lst += lines
        self.sink.size += len(lines) * len(lines[0])
        if self.sink.size > self.sink.spill_bytes:
            self.sink.spill()
        self.counts["produced"] = self.counts.get("produced", 0) + len(codes)

    def fits(self, t: int) -> bool:
        """True when `t` is not after the end."""
        return t <= self.end_t

    def _limit(self, kind: str, role: str) -> tuple[int, str] | None:
        sample = {"time": "2020-01-02T10:00:00+08:00", "certificate_date": "2020-01-02"}
        got = self.policy.reporting_limit(kind, (role,), sample)
        return None if got is None else (got.limit_wd, got.node.clock)

    def _recorded(
        self,
        t: int,
        kind: str,
        reporter: str,
        fields: dict[str, Any],
        eid: str,
        rejected: bool,
        limit: tuple[int, str],
    ) -> int:
        rnd = self.random
        wd, clock_field = limit
        today = t // DAY
        clock = today
        if clock_field != "time":
            clock = dt.date.fromisoformat(fields[clock_field]).toordinal()
        late = not rejected and rnd() < self.late_rate
        if late:
            day = self.wd.add(clock, wd + 1 + int(rnd() * 25))
        else:
            r = rnd()
            if r < NEAR_MISS:
                day = self.wd.add(clock, wd)
            elif r < 0.6:
                day = clock
            else:
                day = self.wd.add(clock, min(wd - 1, 1 + int(self.rng.expovariate(0.4))))
        if day <= today:
            rec = min(t + 5 + int(rnd() * 6 * HOUR), (today + 1) * DAY - 1)
        else:
            rec = day * DAY + 8 * HOUR + int(rnd() * 12 * HOUR)
        key = f"{reporter}/{eid}"
        if self.wd.is_late(clock, rec // DAY, wd) != late:
            raise AssertionError(f"{key}: lateness drawn {late} is not the platform's judgement")
        if late:
            self.labels.add(
                "BT-020",
                "late_report",
                events=[key],
                enterprise=reporter,
                subject=key,
                codes=[c for c in (fields.get("battery"),) if c],
                vins=[v for v in (fields.get("vin"),) if v],
            )
        return rec
