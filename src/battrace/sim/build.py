"""Builders for native events (EVENTS.md) — used by the simulator, the demo and the tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from battrace.identity import build_uscc

CST = dt.timezone(dt.timedelta(hours=8))


def at(day: str | dt.date, hour: int = 10, minute: int = 0) -> str:
    """An RFC 3339 time in China Standard Time on `day` (YYYY-MM-DD)."""
    d = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return dt.datetime(d.year, d.month, d.day, hour, minute, tzinfo=CST).isoformat()


def uscc(serial: int, *, region: str = "110000", kind: str = "91") -> str:
    """A valid, made-up USCC: authority/type `kind`, `region`, a 9-character serial."""
    body = f"{kind}{region}{serial:09d}"
    return build_uscc(body.replace("I", "1").replace("O", "0"))


def event(kind: str, eid: str, time: str, reporter: str, **fields: Any) -> dict[str, Any]:
    """An event: the envelope plus type-specific fields (None values are left out)."""
    out: dict[str, Any] = {"id": eid, "type": kind, "time": time, "reporter": reporter}
    out.update({k: v for k, v in fields.items() if v is not None})
    return out


def enterprise(
    eid: str, time: str, reporter: str, who: str, name: str, roles: list[str], region: str
) -> dict[str, Any]:
    """`enterprise_registered`."""
    return event(
        "enterprise_registered",
        eid,
        time,
        reporter,
        enterprise=who,
        name=name,
        roles=roles,
        region=region,
    )


def produced(
    eid: str,
    time: str,
    reporter: str,
    battery: str,
    *,
    chemistry: str = "LFP",
    capacity_ah: float = 150,
    voltage_v: float = 350,
    energy_kwh: float = 52.5,
    mass_kg: float = 350,
    components: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """`produced`."""
    return event(
        "produced",
        eid,
        time,
        reporter,
        battery=battery,
        chemistry=chemistry,
        rated_capacity_ah=capacity_ah,
        nominal_voltage_v=voltage_v,
        energy_kwh=energy_kwh,
        mass_kg=mass_kg,
        components=components,
        **extra,
    )
