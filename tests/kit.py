"""A small, consistent world for tests: a regulator, one enterprise per role, helpers for events.

Tests read as sentences: `world.ship(code, to=world.outlet)`, then assert on results.
"""

from __future__ import annotations

import datetime as dt
import itertools
import socket
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from battrace.identity import ProductType, build_battery_code, build_vin
from battrace.services.ingest import EventResult, Ingestor
from battrace.sim.build import at, event, produced, uscc
from battrace.store.writer import Writer

REGULATOR = uscc(1, kind="11")
MAKER = uscc(2)
AUTOMAKER = uscc(3)
AUTOMAKER2 = uscc(4)
REPAIRER = uscc(5)
OUTLET = uscc(6)
OUTLET2 = uscc(7)
DISMANTLER = uscc(8)
REPROCESSOR = uscc(9)
RECYCLER = uscc(10)
SHADY = uscc(11)
MAKER2 = uscc(12)

MODEL = "EV-1"
SWAP_MODEL = "SWAP-1"
VIN1 = build_vin("LSVAA218N2000017")
VIN2 = build_vin("LSVAA218N2000018")
VIN3 = build_vin("LSVAA218N2000019")


def registry_events(start: str = "2025-01-02") -> list[dict[str, Any]]:
    """Registry facts that bootstrap the world."""
    t = at(start, 9)
    ids = (f"reg-{i}" for i in itertools.count(1))

    def reg(kind: str, **f: Any) -> dict[str, Any]:
        return event(kind, next(ids), t, REGULATOR, **f)

    def ent(who: str, name: str, *roles: str, region: str = "110100") -> dict[str, Any]:
        return reg(
            "enterprise_registered", enterprise=who, name=name, roles=list(roles), region=region
        )

    return [
        ent(REGULATOR, "MIIT", "regulator", region="110000"),
        ent(MAKER, "Maker A", "battery_maker"),
        ent(MAKER2, "Maker B", "battery_maker"),
        ent(AUTOMAKER, "Auto A", "automaker"),
        ent(AUTOMAKER2, "Auto B", "automaker"),
        ent(REPAIRER, "Repair A", "repairer"),
        ent(OUTLET, "Outlet of Auto A", "outlet"),
        ent(OUTLET2, "Outlet of Auto B", "outlet"),
        ent(DISMANTLER, "Dismantler A", "dismantler"),
        ent(REPROCESSOR, "Reprocessor A", "reprocessor"),
        ent(RECYCLER, "Recycler A", "recycler"),
        ent(SHADY, "Workshop", "recycler"),
        reg("manufacturer_code_assigned", enterprise=MAKER, manufacturer_code="001"),
        reg("manufacturer_code_assigned", enterprise=MAKER2, manufacturer_code="002"),
        reg("manufacturer_code_assigned", enterprise=REPROCESSOR, manufacturer_code="R01"),
        reg(
            "qualification_granted",
            enterprise=REPROCESSOR,
            scope="reprocessing",
            valid_from="2024-01-01",
        ),
        reg(
            "qualification_granted", enterprise=RECYCLER, scope="recycling", valid_from="2024-01-01"
        ),
        reg(
            "outlet_registered",
            enterprise=OUTLET,
            serves=[AUTOMAKER],
            region="110100",
            address="1 Outlet Road",
        ),
        reg(
            "outlet_registered",
            enterprise=OUTLET2,
            serves=[AUTOMAKER2],
            region="110100",
            address="2 Outlet Road",
        ),
        reg("vehicle_model_registered", model=MODEL, automaker=AUTOMAKER, swap_model=False),
        reg("vehicle_model_registered", model=SWAP_MODEL, automaker=AUTOMAKER, swap_model=True),
    ]


def code(
    serial: int,
    *,
    kind: ProductType = ProductType.PACK,
    maker: str = "001",
    battery_type: str = "B",
    made: dt.date = dt.date(2025, 1, 2),
) -> str:
    """A valid GB/T 34014 code."""
    return build_battery_code(
        manufacturer=maker,
        product_type=kind,
        battery_type=battery_type,
        spec="01",
        trace="TRACE01",
        production_date=made,
        serial=serial,
    )


@dataclass
class World:
    """An ingestor over a store with the registry loaded, and event helpers."""

    ingestor: Ingestor
    clock: list[dt.datetime]
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def ids(self) -> str:
        """A fresh event id."""
        return f"e-{next(self._counter)}"

    def set_now(self, day: str, hour: int = 18) -> None:
        """Move the platform's clock (record time of what is ingested next)."""
        self.clock[0] = dt.datetime.fromisoformat(at(day, hour))

    def send(self, *events: dict[str, Any]) -> list[EventResult]:
        """Ingest events as one batch."""
        return self.ingestor.ingest(list(events))

    def one(self, ev: dict[str, Any]) -> EventResult:
        """Ingest one event; its result."""
        return self.send(ev)[0]

    def ok(self, *events: dict[str, Any]) -> list[EventResult]:
        """Ingest events and insist they are all accepted."""
        results = self.send(*events)
        bad = [r for r in results if r.status != "accepted"]
        assert not bad, [r.as_dict() for r in bad]
        return results

    def ev(self, kind: str, day: str, reporter: str, **f: Any) -> dict[str, Any]:
        """A new event with a fresh id."""
        hour = f.pop("hour", 10)
        return event(kind, self.ids(), at(day, hour), reporter, **f)

    def produce(
        self,
        battery: str,
        day: str = "2025-01-03",
        *,
        reporter: str = MAKER,
        hour: int = 10,
        **f: Any,
    ) -> dict[str, Any]:
        """A production event with a fresh id."""
        return produced(self.ids(), at(day, hour), reporter, battery, **f)

    def pack_in_vehicle(
        self, battery: str, vin: str = VIN1, *, day: str = "2025-01-03", model: str = MODEL
    ) -> None:
        """Produce a pack, ship it to the automaker, install it, sell the vehicle."""
        self.ok(
            self.produce(battery, day),
            self.ev("shipped", day, MAKER, battery=battery, to=AUTOMAKER, hour=11),
            self.ev("received", day, AUTOMAKER, battery=battery, hour=12),
            self.ev(
                "installed", day, AUTOMAKER, battery=battery, vin=vin, vehicle_model=model, hour=13
            ),
            self.ev("vehicle_sold", day, AUTOMAKER, vin=vin, certificate_date=day, hour=14),
        )

    def dismantled_into(self, pack: str, part: str, vin: str = VIN1) -> None:
        """A pack in `vin`, taken out on 02-01, shipped to the recycler, which dismantles it
        on 02-04 freeing `part` (a code never registered on its own)."""
        self.pack_in_vehicle(pack, vin)
        self.ok(
            self.ev("removed", "2025-02-01", AUTOMAKER, battery=pack, vin=vin, reason="retired"),
            self.ev("shipped", "2025-02-02", AUTOMAKER, battery=pack, to=RECYCLER),
            self.ev("received", "2025-02-03", RECYCLER, battery=pack),
            self.ev("dismantled", "2025-02-04", RECYCLER, battery=pack, parts=[part]),
        )


def simple_lifecycles(n: int, *, start: str = "2025-01-02") -> list[dict[str, Any]]:
    """Registry facts, then `n` packs produced, shipped, received, installed and sold."""
    out = registry_events()
    base = dt.date.fromisoformat(start)
    for i in range(n):
        day = base + dt.timedelta(days=i // 500)
        pack = code(i + 1, made=day)
        vin = build_vin(f"LSVBB218{i:08d}")

        def t(h: int, day: dt.date = day) -> str:
            return at(day, 8 + h)

        out += [
            produced(f"p{i}", t(0), MAKER, pack),
            event("shipped", f"s{i}", t(1), MAKER, battery=pack, to=AUTOMAKER),
            event("received", f"r{i}", t(2), AUTOMAKER, battery=pack),
            event("installed", f"i{i}", t(3), AUTOMAKER, battery=pack, vin=vin,
                  vehicle_model=MODEL),
            event("vehicle_sold", f"v{i}", t(4), AUTOMAKER, vin=vin,
                  certificate_date=day.isoformat(), location={"region": "110100"}),
        ]  # fmt: skip
    return out


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spy_key_lookups(monkeypatch: Any) -> list[int]:
    """How many keys each idempotency lookup (`Writer.existing`) asks for, from now on."""
    asked: list[int] = []
    real = Writer.existing

    def spy(self: Writer, keys: Any) -> Any:
        keys = list(keys)
        asked.append(len(keys))
        return real(self, keys)

    monkeypatch.setattr(Writer, "existing", spy)
    return asked


def modules_loaded_after(code: str, names: Iterable[str], *, cwd: Any = None) -> list[str]:
    """Which of the modules `names` a fresh interpreter has loaded after running `code`."""
    wanted = tuple(names)
    probe = f"print('loaded:' + ','.join(sorted(m for m in {wanted!r} if m in sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}\n{probe}\n"],
        check=True,
        capture_output=True,
        text=True,
        cwd=cwd,
    ).stdout
    last = out.strip().splitlines()[-1]
    assert last.startswith("loaded:"), out
    return [m for m in last.removeprefix("loaded:").split(",") if m]
