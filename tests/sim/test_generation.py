"""The generated stream: reproducible, time-ordered, every identifier valid."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from battrace.identity import ProductType, is_uscc, is_vin, parse_battery_code
from battrace.sim.params import SimParams
from battrace.sim.stream import run
from tests.sim.conftest import DIRTY, Dataset, make

USCC_FIELDS = ("reporter", "to", "enterprise", "automaker")


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def _rejected_on_purpose(ds: Dataset, rules: tuple[str, ...]) -> set[str]:
    keys = set()
    for line in ds.labels.read_text().splitlines():
        lab = json.loads(line)
        if lab["rule"] in rules:
            keys.update(lab["events"])
    return keys


def test_the_same_seed_gives_the_same_bytes(dirty, tmp_path):
    again = make(DIRTY, tmp_path)
    assert again.events.read_bytes() == dirty.events.read_bytes()
    assert again.labels.read_bytes() == dirty.labels.read_bytes()


def test_another_seed_gives_another_country(tmp_path):
    a = run(SimParams(vehicles=50, regions=3, seed=1), tmp_path / "a.jsonl")
    b = run(SimParams(vehicles=50, regions=3, seed=2), tmp_path / "b.jsonl")
    assert a.events > 0 and b.events > 0
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "b.jsonl").read_bytes()


def test_spilling_buckets_to_disk_changes_nothing(dirty, tmp_path):
    out = tmp_path / "spilled.jsonl"
    run(DIRTY, out, spill_bytes=64 * 1024)
    assert out.read_bytes() == dirty.events.read_bytes()


def test_events_come_in_time_order_and_end_by_the_end(dirty):
    end = dt.datetime.combine(
        DIRTY.end, dt.time(23, 59, 59), tzinfo=dt.timezone(dt.timedelta(hours=8))
    )
    times = [dt.datetime.fromisoformat(e["time"]) for e in _events(dirty.events)]
    assert times == sorted(times)
    assert max(times) <= end
    assert all(e["time"].endswith("+08:00") for e in _events(dirty.events)[:500])


def test_every_event_carries_its_record_time_and_a_unique_key(dirty):
    events = _events(dirty.events)
    keys = [(e["reporter"], e["id"]) for e in events]
    assert len(keys) == len(set(keys))
    for e in events:
        assert dt.datetime.fromisoformat(e["recorded_at"]) >= dt.datetime.fromisoformat(e["time"])


def test_every_code_vin_and_uscc_is_valid_except_the_malformed_ones(dirty):
    malformed = _rejected_on_purpose(dirty, ("BT-001",))
    bad_codes = 0
    for e in _events(dirty.events):
        key = f"{e['reporter']}/{e['id']}"
        for name in USCC_FIELDS:
            if name in e:
                assert is_uscc(e[name]), (key, name)
        for name in ("serves",):
            for u in e.get(name, ()):
                assert is_uscc(u), (key, name)
        if "vin" in e:
            assert is_vin(e["vin"]), key
        codes = [e[k] for k in ("battery",) if k in e]
        for k in ("components", "batteries", "inputs", "parts", "batteries_present"):
            codes += e.get(k, [])
        if "removed" in e:
            codes.append(e["removed"])
        for c in codes:
            try:
                parse_battery_code(c)
            except ValueError:
                assert key in malformed, (key, c)
                bad_codes += 1
    assert bad_codes > 0  # the injected BT-001 codes are there


def test_a_produced_code_belongs_to_its_maker_and_is_not_made_in_the_future(dirty):
    events = _events(dirty.events)
    owner = {
        e["manufacturer_code"]: e["enterprise"]
        for e in events
        if e["type"] == "manufacturer_code_assigned"
    }
    on_purpose = _rejected_on_purpose(dirty, ("BT-001", "BT-002", "BT-003"))
    checked = 0
    for e in events:
        if e["type"] not in ("produced", "reprocessed"):
            continue
        key = f"{e['reporter']}/{e['id']}"
        if key in on_purpose:
            continue
        code = parse_battery_code(e["battery"])
        assert owner[code.manufacturer] == e["reporter"], key
        assert code.production_date <= dt.date.fromisoformat(e["time"][:10]), key
        checked += 1
    assert checked > 1000


def test_packs_hold_modules_of_their_own_chemistry(clean):
    cells = modules = 0
    for e in _events(clean.events):
        if e["type"] != "produced" or "components" not in e:
            continue
        parent = parse_battery_code(e["battery"])
        for c in e["components"]:
            child = parse_battery_code(c)
            assert child.battery_type.letter == parent.battery_type.letter
            cells += child.product_type is ProductType.CELL
            modules += child.product_type is ProductType.MODULE
    assert cells > modules > 0


def test_the_mix_is_mostly_lfp_and_masses_are_realistic(clean):
    packs = [
        e
        for e in _events(clean.events)
        if e["type"] == "produced" and e["battery"][3] == "P" and "components" in e
    ]
    lfp = sum(e["chemistry"] == "LFP" for e in packs) / len(packs)
    assert 0.74 < lfp < 0.88
    masses = sorted(e["mass_kg"] for e in packs)
    assert 250 < masses[len(masses) // 2] < 480
    kwh = sorted(e["energy_kwh"] for e in packs)
    assert 48 < kwh[len(kwh) // 2] < 62


def test_sales_grow_over_the_years(dirty):
    by_year: dict[int, int] = {}
    for e in _events(dirty.events):
        if e["type"] == "vehicle_sold":
            year = int(e["certificate_date"][:4])
            by_year[year] = by_year.get(year, 0) + 1
    assert by_year[2025] > 5 * by_year[2019]
    assert all(
        e["location"]["region"].endswith("00")
        for e in _events(dirty.events)
        if e["type"] == "vehicle_sold"
    )
