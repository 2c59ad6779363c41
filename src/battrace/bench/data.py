"""Benchmark data: a stream of valid events of realistic width, generated fast and lazily."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import orjson

from battrace.identity import DEFAULT_TABLES, build_vin
from battrace.sim.build import CST, event, uscc

REGULATOR = uscc(1, kind="11")
MAKER = uscc(2)
AUTOMAKER = uscc(3)
#: the log the benchmarks sign: the signing key's name and the checkpoints' origin, which must agree
BENCH_ORIGIN = "bench.example/log"
MODEL = "BENCH-EV"


def registry() -> list[dict[str, object]]:
    """A regulator, one battery maker with code 001, one automaker and its model."""
    t = "2018-01-01T09:00:00+08:00"

    def reg(eid: str, kind: str, **f: object) -> dict[str, object]:
        return event(kind, eid, t, REGULATOR, **f)

    return [
        reg(
            "b-1",
            "enterprise_registered",
            enterprise=REGULATOR,
            name="MIIT",
            roles=["regulator"],
            region="110000",
        ),
        reg(
            "b-2",
            "enterprise_registered",
            enterprise=MAKER,
            name="Maker",
            roles=["battery_maker"],
            region="320500",
        ),
        reg(
            "b-3",
            "enterprise_registered",
            enterprise=AUTOMAKER,
            name="Auto",
            roles=["automaker"],
            region="440300",
        ),
        reg("b-4", "manufacturer_code_assigned", enterprise=MAKER, manufacturer_code="001"),
        reg("b-5", "vehicle_model_registered", model=MODEL, automaker=AUTOMAKER, swap_model=False),
    ]


def lifecycle_lines(packs: int, *, start: dt.date = dt.date(2018, 1, 2)) -> Iterator[bytes]:
    """JSONL lines: the registry, then per pack produced, shipped, received, installed, sold
    (5 events per pack), in event-time order, with record times within the limits."""
    for e in registry():
        yield orjson.dumps(e)
    per_day = 2000
    enc = DEFAULT_TABLES.encode_date
    for i in range(packs):
        day = start + dt.timedelta(days=i // per_day)
        serial = i % per_day + 1
        code = f"001PB01TRACE01{enc(day)}{serial:07d}"
        vin = build_vin(f"LBENCH{i:010d}")
        base = dt.datetime(day.year, day.month, day.day, 8, tzinfo=CST)
        t = [(base + dt.timedelta(hours=h)).isoformat() for h in range(5)]
        rec = (base + dt.timedelta(days=1)).isoformat()
        yield orjson.dumps(
            {
                "id": f"p{i}",
                "type": "produced",
                "time": t[0],
                "reporter": MAKER,
                "battery": code,
                "chemistry": "LFP",
                "rated_capacity_ah": 150,
                "nominal_voltage_v": 350.4,
                "energy_kwh": 52.6,
                "mass_kg": 351.5,
                "location": {"region": "320500", "site": "plant 1"},
                "recorded_at": rec,
            }
        )
        yield orjson.dumps(
            {
                "id": f"s{i}",
                "type": "shipped",
                "time": t[1],
                "reporter": MAKER,
                "battery": code,
                "to": AUTOMAKER,
                "recorded_at": rec,
            }
        )
        yield orjson.dumps(
            {
                "id": f"r{i}",
                "type": "received",
                "time": t[2],
                "reporter": AUTOMAKER,
                "battery": code,
                "recorded_at": rec,
            }
        )
        yield orjson.dumps(
            {
                "id": f"i{i}",
                "type": "installed",
                "time": t[3],
                "reporter": AUTOMAKER,
                "battery": code,
                "vin": vin,
                "vehicle_model": MODEL,
                "recorded_at": rec,
            }
        )
        yield orjson.dumps(
            {
                "id": f"v{i}",
                "type": "vehicle_sold",
                "time": t[4],
                "reporter": AUTOMAKER,
                "vin": vin,
                "certificate_date": day.isoformat(),
                "location": {"region": "440300"},
                "recorded_at": rec,
            }
        )


def write_jsonl(path: Path, lines: Iterator[bytes]) -> int:
    """Write lines to `path`; the number written."""
    n = 0
    with path.open("wb") as fh:
        for line in lines:
            fh.write(line)
            fh.write(b"\n")
            n += 1
    return n
