"""A synthetic national store for the audit benchmark, written with bulk inserts.

The audit reads projections and the log, never the ingest path, so the benchmark builds its
store directly: registry tables, `batteries`, `vehicles`, `events` (with canonical JSON
payloads of realistic size), `event_codes` and BT-020 findings, as ingest would have left them.
It is *not* the simulator: lifecycles are plausible, not a calibrated model, and leaf hashes are
placeholders (the log does not verify). A share of lifecycles stops half way, and a few
recyclers under-declare their input mass, so every audit rule has work to do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import orjson

from battrace.identity import ProductType, build_battery_code, build_uscc, build_vin
from battrace.store.rows import BATTERY_COLUMNS, EVENT_COLUMNS, VEHICLE_COLUMNS
from battrace.store.sql import SqlStore

CST = dt.timezone(dt.timedelta(hours=8))
DAY_US = 86_400_000_000
#: the synthetic store's "today": no event is later
AS_OF = dt.date(2026, 6, 30)
_START = dt.date(2019, 1, 1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FINDING_COLUMNS = (
    "rule",
    "severity",
    "enterprise",
    "codes",
    "vins",
    "events",
    "subject_key",
    "trigger_seq",
    "found_us",
    "as_of",
    "message_zh",
    "message_en",
    "status",
    "policy_version",
    "detail",
)


def _us(day: dt.date, hour: int = 10) -> int:
    moment = dt.datetime(day.year, day.month, day.day, hour, tzinfo=CST)
    return int((moment - _EPOCH).total_seconds()) * 1_000_000


def _iso(us: int) -> str:
    return (_EPOCH + dt.timedelta(microseconds=us)).astimezone(CST).isoformat()


@dataclass
class Parties:
    """The synthetic registry: enterprises by role, outlets by automaker, prefectures."""

    regulator: str
    makers: list[tuple[str, str]]
    automakers: list[str]
    repairers: list[str]
    dismantlers: list[str]
    reprocessors: list[str]
    recyclers: list[str]
    leaky: set[str]
    outlets: dict[str, list[str]]
    prefectures: list[str]
    regions: dict[str, str] = field(default_factory=dict)


def parties(rng: random.Random) -> Parties:
    """Enterprises of every role, outlets serving automakers in most of their prefectures."""
    serial = iter(range(1, 10**6))

    def ent() -> str:
        return build_uscc(f"91110000{next(serial):09d}")

    prefectures = [f"{p:02d}{c:02d}" for p in range(11, 66) for c in range(1, 7)]
    makers = [(ent(), f"{m:03d}") for m in range(100, 120)]
    automakers = [ent() for _ in range(30)]
    out = Parties(
        regulator=build_uscc(f"11110000{next(serial):09d}"),
        makers=makers,
        automakers=automakers,
        repairers=[ent() for _ in range(200)],
        dismantlers=[ent() for _ in range(100)],
        reprocessors=[ent() for _ in range(40)],
        recyclers=[ent() for _ in range(80)],
        leaky=set(),
        outlets={},
        prefectures=prefectures,
    )
    out.leaky = set(out.recyclers[:3])
    for a in automakers:
        covered = rng.sample(prefectures, k=int(len(prefectures) * 0.97))
        out.outlets[a] = []
        for pref in covered:
            o = ent()
            out.outlets[a].append(o)
            out.regions[o] = pref + "01"
    return out


class Sink:
    """Bulk writer on the raw driver connection: sqlite3 executemany or psycopg COPY."""

    def __init__(self, store: SqlStore) -> None:
        self.raw = store.engine.raw_connection()
        self.conn = cast(Any, self.raw.driver_connection)
        self.pg = store.dialect == "postgresql"
        self.cur = self.conn.cursor()
        if not self.pg:
            self.cur.execute("PRAGMA synchronous=OFF")
            self.cur.execute("PRAGMA cache_size=-1000000")
            self.cur.execute("BEGIN")

    def rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Append rows to a table."""
        if not rows:
            return
        if self.pg:
            with self.cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
        else:
            marks = ",".join("?" * len(columns))
            self.cur.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
            )

    def commit(self) -> None:
        """Make what was written durable (and start the next chunk on SQLite)."""
        if self.pg:
            self.conn.commit()
        else:
            self.cur.execute("COMMIT")
            self.cur.execute("BEGIN")

    def close(self) -> None:
        """Commit and release the connection."""
        if self.pg:
            self.conn.commit()
        else:
            self.cur.execute("COMMIT")
            self.cur.execute("PRAGMA synchronous=FULL")
        self.raw.close()


class Generator:
    """Lifecycles of `n` packs, streamed to the store in chunks."""

    def __init__(self, sink: Sink, world: Parties, rng: random.Random) -> None:
        self.sink = sink
        self.p = world
        self.rng = rng
        self.seq = 0
        self.events: list[tuple[Any, ...]] = []
        self.codes: list[tuple[str, int]] = []
        self.batteries: list[tuple[Any, ...]] = []
        self.vehicles: list[tuple[Any, ...]] = []
        self.findings: list[tuple[Any, ...]] = []
        self.horizon = _us(AS_OF, 23)

    # ------------------------------------------------------------ output
    def event(
        self,
        kind: str,
        t: int,
        reporter: str,
        code_col: str | None,
        vin_col: str | None,
        **f: Any,
    ) -> int:
        """Stage one event (its `code` and `vin` columns, its payload fields); its seq."""
        seq = self.seq
        self.seq += 1
        eid = f"s{seq:09d}"
        body = {"id": eid, "type": kind, "time": _iso(t), "reporter": reporter, **f}
        payload = orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()
        leaf = hashlib.sha256(seq.to_bytes(8, "big")).digest()
        nodes = leaf if seq & 1 else b""
        self.events.append(
            (seq, reporter, eid, kind, code_col, vin_col, t, t, payload, leaf, nodes)
        )
        if self.rng.random() < 0.01:  # a late report, flagged at ingest
            self.findings.append(
                (
                    "BT-020",
                    "low",
                    reporter,
                    "[]",
                    "[]",
                    f'["{reporter}/{eid}"]',
                    f"{reporter}/{eid}#{reporter}/{eid}",
                    seq,
                    t,
                    None,
                    "迟报",
                    "late report",
                    "open",
                    "cn-2018-provisions/1",
                    "{}",
                )
            )
        return seq

    def flush(self) -> None:
        """Write the staged rows."""
        s = self.sink
        s.rows("events", EVENT_COLUMNS, self.events)
        s.rows("event_codes", ("code", "seq"), self.codes)
        s.rows("batteries", BATTERY_COLUMNS, self.batteries)
        s.rows("vehicles", VEHICLE_COLUMNS, self.vehicles)
        s.rows("findings", FINDING_COLUMNS, self.findings)
        s.commit()
        for rows in (self.events, self.codes, self.batteries, self.vehicles, self.findings):
            rows.clear()

    # ------------------------------------------------------------ one lifecycle
    def pack(self, i: int) -> None:
        """One pack from production to wherever its lifecycle stops by AS_OF."""
        rng = self.rng
        maker, mcode = self.p.makers[i % len(self.p.makers)]
        made = _START + dt.timedelta(days=rng.randrange(6 * 365 + 180))
        code = build_battery_code(
            manufacturer=mcode,
            product_type=ProductType.PACK,
            battery_type="B",
            spec="01",
            trace=f"T{i // 9_999_999:06d}",
            production_date=made,
            serial=i % 9_999_999 + 1,
        )
        mass_g = rng.randrange(300_000, 450_000)
        b = _Pack(code, mcode, maker, mass_g, _us(made, 9))
        automaker = rng.choice(self.p.automakers)
        b.obligated = maker
        t = b.since
        first = self.event(
            "produced",
            t,
            maker,
            code,
            None,
            battery=code,
            chemistry="LFP",
            rated_capacity_ah=150,
            nominal_voltage_v=350,
            energy_kwh=52.5,
            mass_kg=mass_g / 1000,
            location={"region": "320500", "site": "plant 1"},
        )
        b.first = b.last = first
        roll = rng.random()
        if roll < 0.03:
            self.keep(b)
            return
        t = self.step(b, t, 1, 5, "shipped", maker, code=code, battery=code, to=automaker)
        b.state, b.to = "in_transit", automaker
        if roll < 0.05 or t > self.horizon:
            self.keep(b)
            return
        t = self.step(b, t, 1, 5, "received", automaker, code=code, battery=code)
        b.state, b.holder, b.to = "in_stock", automaker, None
        if roll < 0.08:
            self.keep(b)
            return
        vin = build_vin(f"LSV{i:013d}")
        t = self.step(
            b,
            t,
            1,
            20,
            "installed",
            automaker,
            code=code,
            vin=vin,
            battery=code,
            vehicle_model="SYN-1",
        )
        b.state, b.vin, b.obligated = "in_vehicle", vin, automaker
        sold = t + rng.randrange(1, 30) * DAY_US
        pref = rng.choice(self.p.prefectures)
        veh = _Vehicle(vin, automaker, code)
        if sold <= self.horizon:
            day = (_EPOCH + dt.timedelta(microseconds=sold)).astimezone(CST).date().isoformat()
            self.event(
                "vehicle_sold",
                sold,
                automaker,
                None,
                vin,
                vin=vin,
                certificate_date=day,
                location={"region": pref + f"{rng.randrange(1, 20):02d}"},
            )
            veh.sold_on, veh.region = day, pref + "01"
            veh.last = sold
        if rng.random() < 0.8:
            self.retire(b, veh, max(t, sold), automaker)
        self.keep(b)
        self.vehicles.append(veh.row())

    def step(
        self,
        b: _Pack,
        t: int,
        lo: int,
        hi: int,
        kind: str,
        reporter: str,
        *,
        code: str | None,
        vin: str | None = None,
        **f: Any,
    ) -> int:
        """Stage the next event of `b` `lo`..`hi` days after `t` (if before the horizon)."""
        t2 = t + self.rng.randrange(lo, hi + 1) * DAY_US + self.rng.randrange(3600) * 1_000_000
        if t2 > self.horizon:
            return t2
        if vin is not None:
            f["vin"] = vin
        seq = self.event(kind, t2, reporter, code, vin, **f)
        b.last, b.last_us = seq, t2
        # as `Battery.collected`: the holder's collection holds until another takes it over
        b.collected = kind == "collected" or (b.collected and reporter == b.holder)
        if kind != "collected":  # removal restarts a used battery's clock, too
            b.since = t2
        return t2

    def retire(self, b: _Pack, veh: _Vehicle, t: int, automaker: str) -> None:
        """A second life: retirement and (mostly) recycling or reprocessing."""
        rng = self.rng
        t = t + rng.randrange(200, 1500) * DAY_US
        if t > self.horizon:
            return
        code, vin = b.code, b.vin
        path = rng.random()
        stop = rng.random()
        if path < 0.35:
            dis = rng.choice(self.p.dismantlers)
            seq = self.event(
                "vehicle_scrapped",
                t,
                dis,
                None,
                vin,
                vin=vin,
                certificate_no=f"C{b.last}",
                batteries_present=[code],
            )
            self.codes.append((code, seq))
            b.last, b.last_us, b.since = seq, t, t
            b.state, b.holder, b.retired = "used", dis, True
            veh.scrapped_on = veh.day(t)
            veh.scrapped_by, veh.last = dis, t
            if stop < 0.04:
                return
            t = self.step(
                b,
                t,
                1,
                20,
                "removed",
                dis,
                code=code,
                vin=vin,
                battery=code,
                reason="scrapping",
            )
            if t > self.horizon:
                return
            b.vin, veh.packs, veh.last = None, "", t
            holder = dis
        else:
            rep = rng.choice(self.p.repairers)
            t = self.step(
                b,
                t - DAY_US,
                1,
                1,
                "removed",
                rep,
                code=code,
                vin=vin,
                battery=code,
                reason="retired",
            )
            if t > self.horizon:
                return
            b.state, b.holder, b.vin, b.retired = "used", rep, None, True
            veh.packs, veh.last = "", t
            holder = rep
            if stop < 0.03:
                return
            if path < 0.75:
                outlets = self.p.outlets[automaker]
                outlet = rng.choice(outlets)
                if not self.move(b, t, holder, outlet):
                    return
                t = b.last_us
                t = self.step(b, t, 0, 3, "collected", outlet, code=code, battery=code)
                if t > self.horizon or stop < 0.06:
                    return
                holder = outlet
        if path < 0.8:
            recycler = rng.choice(self.p.recyclers)
            if not self.move(b, b.last_us, holder, recycler, listed=rng.random() < 0.1):
                return
            if stop < 0.09:
                return
            self.recycle(b, recycler)
        else:
            self.reprocess(b, holder)

    def move(self, b: _Pack, t: int, sender: str, to: str, *, listed: bool = False) -> bool:
        """Shipped and received; False when the lifecycle stops in between."""
        code = b.code
        fields: dict[str, Any] = {"batteries": [code]} if listed else {"battery": code}
        t = self.step(
            b, t, 1, 15, "shipped", sender, code=None if listed else code, to=to, **fields
        )
        if listed and t <= self.horizon:
            self.codes.append((code, b.last))
        if t > self.horizon:
            return False
        b.state, b.to = "in_transit", to
        if self.rng.random() < 0.02:
            return False
        t = self.step(b, t, 1, 10, "received", to, code=code, battery=code)
        if t > self.horizon:
            return False
        b.state, b.holder, b.to = "used", to, None
        return True

    def recycle(self, b: _Pack, recycler: str) -> None:
        """Recycled whole, or dismantled into two modules that are recycled."""
        rng = self.rng
        leak = recycler in self.p.leaky
        share = rng.uniform(0.6, 0.75) if leak else rng.uniform(0.985, 1.015)
        mass = b.mass_g or 0
        if rng.random() < 0.7:
            declared = round(mass * share)
            t = self.step(
                b,
                b.last_us,
                5,
                60,
                "recycled",
                recycler,
                code=b.code,
                battery=b.code,
                input_mass_kg=declared / 1000,
                **_recovery(declared),
            )
            if t > self.horizon:
                return
            b.state = "recycled"
            self.step(
                b, t, 1, 30, "disposed", recycler, code=b.code, battery=b.code, method="landfill"
            )
            if b.last_us == t:
                return
            b.state = "disposed"
            return
        parts = [
            build_battery_code(
                manufacturer=b.manufacturer,
                product_type=ProductType.MODULE,
                battery_type="B",
                spec="01",
                trace=f"P{b.first // 4_999_999:06d}",
                production_date=dt.date(2025, 1, 1),
                serial=b.first % 4_999_999 * 2 + k + 1,
            )
            for k in (0, 1)
        ]
        t = self.step(
            b, b.last_us, 5, 60, "dismantled", recycler, code=b.code, battery=b.code, parts=parts
        )
        if t > self.horizon:
            return
        b.state = "dismantled"
        seq = b.last
        for part in parts:
            self.codes.append((part, seq))
            p = _Pack(part, b.manufacturer, recycler, None, t)
            p.parent, p.retired, p.state, p.obligated = b.code, True, "used", b.obligated
            p.first = p.last = seq
            declared = round(mass * share / 2)
            t2 = self.step(
                p,
                t,
                1,
                40,
                "recycled",
                recycler,
                code=part,
                battery=part,
                input_mass_kg=declared / 1000,
                **_recovery(declared),
            )
            if t2 <= self.horizon:
                p.state = "recycled"
            self.keep(p)

    def reprocess(self, b: _Pack, holder: str) -> None:
        """Shipped to a reprocessor, re-coded into a storage product, deployed."""
        rng = self.rng
        rep = rng.choice(self.p.reprocessors)
        if not self.move(b, b.last_us, holder, rep):
            return
        t = b.last_us + rng.randrange(5, 60) * DAY_US
        if t > self.horizon:
            return
        new = build_battery_code(
            manufacturer="R" + b.manufacturer[1:],
            product_type=ProductType.PACK,
            battery_type="B",
            spec="02",
            trace=f"R{b.first // 9_999_999:06d}",
            production_date=dt.date(2025, 1, 1),
            serial=b.first % 9_999_999 + 1,
        )
        seq = self.event(
            "reprocessed",
            t,
            rep,
            new,
            None,
            battery=new,
            inputs=[b.code],
            application="energy_storage",
            standard="GB/T 34015.3-2021",
            tests={"residual_capacity_pct": 78.5},
        )
        self.codes.append((b.code, seq))
        b.state, b.successor, b.last, b.last_us, b.since = "superseded", new, seq, t, t
        p = _Pack(new, b.manufacturer, rep, b.mass_g, t)
        p.reprocessed, p.obligated, p.first, p.last = True, rep, seq, seq
        p.state = "registered"
        self.step(
            p,
            t,
            1,
            30,
            "deployed",
            rep,
            code=new,
            battery=new,
            application="energy_storage",
            site="grid site",
        )
        if p.last != seq:
            p.state, p.application = "in_use", "energy_storage"
        self.keep(p)

    def keep(self, b: _Pack) -> None:
        """Stage the pack's projection row."""
        self.batteries.append(b.row())


def _recovery(mass_g: int) -> dict[str, Any]:
    li = round(mass_g * 0.012 / 1000, 3)
    return {
        "contained": {"li": li, "ni": 0, "co": 0, "mn": 0},
        "recovered": {"li": round(li * 0.92, 3), "ni": 0, "co": 0, "mn": 0},
    }


class _Pack:
    """A pack's projection as the generator moves it."""

    def __init__(self, code: str, manufacturer: str, holder: str, mass_g: int | None, t: int):
        self.code = code
        self.manufacturer = manufacturer
        self.holder = holder
        self.mass_g = mass_g
        self.state = "registered"
        self.to: str | None = None
        self.retired = False
        self.vin: str | None = None
        self.parent: str | None = None
        self.successor: str | None = None
        self.reprocessed = False
        self.application: str | None = None
        self.obligated: str | None = None
        self.since = t
        self.last_us = t
        self.first = 0
        self.last = 0
        self.collected = False

    def row(self) -> tuple[Any, ...]:
        return (
            self.code,
            self.code[3],
            self.code[4],
            "LFP",
            self.manufacturer,
            self.state,
            self.holder,
            self.to,
            self.retired,
            self.vin,
            self.parent,
            self.successor,
            self.reprocessed,
            self.application,
            self.obligated,
            self.mass_g,
            52_500 if self.mass_g else None,
            self.since,
            self.last_us,
            self.first,
            self.last,
            self.collected,
        )


class _Vehicle:
    def __init__(self, vin: str, automaker: str, pack: str) -> None:
        self.vin = vin
        self.automaker = automaker
        self.packs = pack
        self.sold_on: str | None = None
        self.region: str | None = None
        self.scrapped_on: str | None = None
        self.scrapped_by: str | None = None
        self.last = 0

    @staticmethod
    def day(t: int) -> str:
        return (_EPOCH + dt.timedelta(microseconds=t)).astimezone(CST).date().isoformat()

    def row(self) -> tuple[Any, ...]:
        return (
            self.vin,
            "SYN-1",
            self.automaker,
            self.packs,
            self.sold_on,
            self.region,
            self.scrapped_on,
            self.scrapped_by,
            self.last,
            0,
            0,
        )


def registry_rows(world: Parties) -> dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
    """Rows of the registry projection tables."""
    ents: list[tuple[Any, ...]] = [(world.regulator, "MIIT", "regulator", "110000")]
    ents += [(m, f"maker {c}", "battery_maker", "320500") for m, c in world.makers]
    ents += [(a, "automaker", "automaker", "310100") for a in world.automakers]
    ents += [(r, "repairer", "repairer", "440300") for r in world.repairers]
    ents += [(d, "dismantler", "dismantler", "330100") for d in world.dismantlers]
    ents += [(r, "reprocessor", "reprocessor", "430100") for r in world.reprocessors]
    ents += [(r, "recycler", "recycler", "360900") for r in world.recyclers]
    outlets = [(o, world.regions[o], "outlet road") for os in world.outlets.values() for o in os]
    ents += [(o, "outlet", "outlet", region) for o, region, _ in outlets]
    quals = [(r, "recycling", "2018-01-01", None, None, world.regulator) for r in world.recyclers]
    quals += [
        (r, "reprocessing", "2018-01-01", None, None, world.regulator) for r in world.reprocessors
    ]
    return {
        "enterprises": (("uscc", "name", "roles", "region"), ents),
        "manufacturer_codes": (
            ("manufacturer_code", "enterprise"),
            [(c, m) for m, c in world.makers],
        ),
        "qualifications": (
            ("enterprise", "scope", "valid_from", "valid_until", "revoked_on", "granted_by"),
            quals,
        ),
        "outlets": (("enterprise", "region", "address"), outlets),
        "outlet_serves": (
            ("outlet", "party"),
            [(o, a) for a, os in world.outlets.items() for o in os],
        ),
        "vehicle_models": (
            ("model", "automaker", "swap_model"),
            [("SYN-1", world.automakers[0], False)],
        ),
    }


def build(
    store: SqlStore,
    batteries: int,
    *,
    seed: int = 7,
    chunk: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Fill an empty store with `batteries` synthetic packs; the number of events written."""
    rng = random.Random(seed)
    world = parties(rng)
    sink = Sink(store)
    try:
        for table, (cols, rows) in registry_rows(world).items():
            sink.rows(table, cols, rows)
        gen = Generator(sink, world, rng)
        for i in range(batteries):
            gen.pack(i)
            if (i + 1) % chunk == 0:
                gen.flush()
                if progress:
                    progress(i + 1)
        gen.flush()
        n = gen.seq
        if sink.pg:
            sink.cur.execute(
                "UPDATE log_head SET tree_size = %s, updated_us = %s WHERE id = 1",
                (n, _us(AS_OF)),
            )
        else:
            sink.cur.execute(
                "UPDATE log_head SET tree_size = ?, updated_us = ? WHERE id = 1", (n, _us(AS_OF))
            )
    finally:
        sink.close()
    return n
