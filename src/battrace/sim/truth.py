"""Ground truth for the audit rules (BT-021, BT-022, BT-023): what is true as of the end.

Not "what was injected": every used pack's chain keeps a `Track` — the next step it waits for
and since when — and the labels follow from the policy's limits, counted in working days of the
official calendar, exactly as battrace counts them. Stalls are only injected where the outcome
is clear-cut, so threshold near-misses never decide a label.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from battrace.sim.country import Utiliser
from battrace.sim.emit import DAY
from battrace.sim.factory import Ctx, kg

#: working days (and days) of margin kept between an injected stall and any audit threshold
MARGIN_WD = 4
MARGIN_DAYS = 5


@dataclass(slots=True)
class LeakAccount:
    """One leaky recycler's quarter: mass received, mass it failed to declare, its events."""

    received_g: int = 0
    leaked_g: int = 0
    events: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Track:
    """What a used code is waiting for: the BT-021 step (`kind`) and since when (`t0`)."""

    code: str
    holder: str
    kind: str | None
    t0: int
    last: int
    #: still a used battery (for BT-022); False once processed or put to use
    used: bool = True
    #: a second clock that also runs (a scrapped vehicle's: removal *and* hand-over)
    alt: tuple[str, int] | None = None

    def step(self, t: int, kind: str | None, holder: str | None = None) -> None:
        """The code moved on at `t`; it now waits for `kind`."""
        self.last = t
        self.t0 = t
        self.kind = kind
        if holder is not None:
            self.holder = holder

    def done(self, t: int) -> None:
        """Processed or put to use: nothing more is expected."""
        self.last = t
        self.kind = None
        self.used = False
        self.alt = None


def quarter(ordinal: int) -> str:
    """The calendar quarter of a day, e.g. 2025Q3."""
    d = dt.date.fromordinal(ordinal)
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def quarter_end(ordinal: int) -> int:
    """The last day of the day's quarter."""
    d = dt.date.fromordinal(ordinal)
    m = ((d.month - 1) // 3 + 1) * 3
    nxt = dt.date(d.year + 1, 1, 1) if m == 12 else dt.date(d.year, m + 1, 1)
    return nxt.toordinal() - 1


class AuditTruth:
    """Labels BT-021 and BT-022 for tracks, and BT-023 for leaky recyclers' quarters."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.labels = ctx.labels
        self.limits = ctx.policy.missing_report_wd
        self.silent = ctx.policy.silent_battery_days
        self.end = ctx.params.end.toordinal()
        self.date = ctx.emitter.date
        #: BT-023 accounts of leaky recyclers by (uscc, quarter)
        self.leaks: dict[tuple[str, str], LeakAccount] = {}

    # ------------------------------------------------------------ BT-023 accounts
    def leak_received(self, u: Utiliser, t: int, mass_g: int) -> None:
        key = (u.firm.uscc, quarter(t // DAY))
        self.leaks.setdefault(key, LeakAccount()).received_g += mass_g

    def leak_processed(self, u: Utiliser, t: int, leaked_g: int, key: str) -> None:
        acct = self.leaks.setdefault((u.firm.uscc, quarter(t // DAY)), LeakAccount())
        acct.leaked_g += leaked_g
        acct.events.append(key)

    def leak_labels(self) -> None:
        """BT-023 ground truth: each quarter a leaky recycler left mass unaccounted."""
        tolerance = float(self.ctx.policy.mass_balance_tolerance_pct)
        for (who, q), acct in sorted(self.leaks.items()):
            if not acct.received_g or not acct.leaked_g:
                continue
            gap = 100 * acct.leaked_g / acct.received_g
            if gap > tolerance:
                self.labels.add(
                    "BT-023",
                    "mass_leak",
                    events=acct.events,
                    enterprise=who,
                    subject=f"{who}/{q}",
                    period=q,
                    received_kg=kg(acct.received_g),
                    unaccounted_kg=kg(acct.leaked_g),
                    gap_pct=round(gap, 1),
                )

    # ------------------------------------------------------------ audit ground truth
    def clocks(self, tr: Track) -> list[tuple[str, int]]:
        clocks = [(tr.kind, tr.t0)] if tr.kind else []
        if tr.alt is not None:
            clocks.append(tr.alt)
        return clocks

    def may_stall(self, tr: Track, intent: str | None) -> bool:
        """Stall here only if the outcome as of the end is clear-cut (no threshold near-miss)."""
        if intent is None or not tr.kind:
            return False
        wd = self.ctx.workdays
        overs = [
            wd.overdue(t0 // DAY, self.end, getattr(self.limits, kind))
            for kind, t0 in self.clocks(tr)
        ]
        idle = self.end - tr.last // DAY
        if any(-MARGIN_WD < o < MARGIN_WD for o in overs) or min(overs) < 0 < max(overs):
            return False
        if abs(idle - self.silent) < MARGIN_DAYS:
            return False
        if intent == "BT-022":
            return idle > self.silent and min(overs) > 0
        return min(overs) > 0

    def label(self, tr: Track) -> None:
        """Label BT-021 / BT-022 for what `tr` still waits for as of the end."""
        wd = self.ctx.workdays
        for kind, t0 in self.clocks(tr):
            if self.end > wd.add(t0 // DAY, getattr(self.limits, kind)):
                self.labels.add(
                    "BT-021",
                    kind,
                    codes=[tr.code],
                    enterprise=tr.holder,
                    subject=tr.code,
                    since=self.date(t0),
                )
                break
        if tr.used and self.end - tr.last // DAY > self.silent:
            self.labels.add(
                "BT-022",
                "silent_battery",
                codes=[tr.code],
                enterprise=tr.holder,
                subject=tr.code,
                last_day=self.date(tr.last),
            )
