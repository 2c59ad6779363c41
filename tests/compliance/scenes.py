"""Scenes for the compliance tests: a pack brought to a situation on a given day, and audit runs.

Every helper moves the world's clock to the event day before reporting, so nothing is late
unless a test wants it to be.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from battrace.domain.calendar import WorkingCalendar
from battrace.domain.policy import Policy
from battrace.identity import build_vin
from battrace.services.audit import AuditReport, audit, list_findings
from battrace.store.sql import SqlStore
from tests.kit import AUTOMAKER, DISMANTLER, MAKER, OUTLET, RECYCLER, REPAIRER, World

CAL = WorkingCalendar.default()
POLICY = Policy.default()


def vin(n: int) -> str:
    """A valid VIN, one per number."""
    return build_vin(f"LSVCC218N{n:07d}")


def day(text: str | dt.date) -> dt.date:
    """A date from YYYY-MM-DD."""
    return text if isinstance(text, dt.date) else dt.date.fromisoformat(text)


def run(
    store: SqlStore,
    as_of: str | dt.date,
    *,
    rules: set[str] | None = None,
    policy: Policy = POLICY,
    calendar: WorkingCalendar = CAL,
    rewind: bool = False,
) -> AuditReport:
    """Audit as of a day, run at noon UTC the day after."""
    d = day(as_of)
    now = dt.datetime.combine(d + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
    return audit(
        store, as_of=d, policy=policy, calendar=calendar, rules=rules, now=now, rewind=rewind
    )


def open_findings(store: SqlStore, rule: str) -> list[dict[str, Any]]:
    """The open findings of one rule."""
    return list_findings(store, rule=rule, status="open")


def deadline(since: str, limit: int) -> dt.date:
    """The `limit`-th official working day after `since`."""
    return CAL.add_working_days(day(since), limit).date


def weekdays_between(start: dt.date, end: dt.date) -> int:
    """Mondays–Fridays in (start, end]: the count a naive calendar would make."""
    return sum(
        1 for i in range(1, (end - start).days + 1) if (start + dt.timedelta(i)).weekday() < 5
    )


# ---------------------------------------------------------------------- situations
def scrapped_with_pack(world: World, pack: str, v: str, when: str) -> None:
    """A sold vehicle scrapped by the dismantler with its pack, which is never removed."""
    world.pack_in_vehicle(pack, v)
    world.set_now(when)
    world.ok(
        world.ev(
            "vehicle_scrapped", when, DISMANTLER, vin=v, certificate_no="C-1",
            batteries_present=[pack],
        )
    )  # fmt: skip


def shipped_never_received(world: World, pack: str, when: str) -> None:
    """A new pack shipped by its maker to the automaker, never received."""
    world.set_now(when)
    world.ok(
        world.produce(pack, when, hour=9),
        world.ev("shipped", when, MAKER, battery=pack, to=AUTOMAKER, hour=11),
    )


def removed_by_repairer(world: World, pack: str, v: str, when: str) -> None:
    """A pack taken out of its vehicle by a repairer, retired, not passed on."""
    world.pack_in_vehicle(pack, v)
    world.set_now(when)
    world.ok(world.ev("removed", when, REPAIRER, battery=pack, vin=v, reason="retired"))


def handed_to(
    world: World, pack: str, v: str, when: str, to: str, *, collect: bool = False
) -> None:
    """A retired pack shipped by the repairer to `to` and received there the same day."""
    removed_by_repairer(world, pack, v, when)
    events = [
        world.ev("shipped", when, REPAIRER, battery=pack, to=to, hour=11),
        world.ev("received", when, to, battery=pack, hour=12),
    ]
    if collect:
        events.append(world.ev("collected", when, to, battery=pack, hour=13))
    world.ok(*events)


def at_outlet(world: World, pack: str, v: str, when: str) -> None:
    """A retired pack collected at the automaker's outlet and not handed over."""
    handed_to(world, pack, v, when, OUTLET, collect=True)


def at_recycler(world: World, pack: str, v: str, when: str) -> None:
    """A retired pack received by the recycler and not processed."""
    handed_to(world, pack, v, when, RECYCLER)


def recycled(world: World, pack: str, when: str, *, input_kg: float, by: str = RECYCLER) -> None:
    """The recycler recycles a pack it holds, declaring `input_kg` with good recovery."""
    world.set_now(when)
    world.ok(
        world.ev(
            "recycled", when, by, battery=pack, input_mass_kg=input_kg,
            contained={"li": 4.0, "ni": 10.0, "co": 2.0, "mn": 2.0},
            recovered={"li": 3.8, "ni": 9.9, "co": 1.98, "mn": 1.98},
        )
    )  # fmt: skip
