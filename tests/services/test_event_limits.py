"""Free-form fields are bounded: every stored event stays writable and readable as JSON.

A `tests` value nested 300 levels deep used to be accepted; orjson refuses to write past 255
levels, so the battery's history, bundle and API view answered 500 for everyone, for good
(only the reporter could correct it). A refused event nested that deep broke the enterprise's
rejection message after its batch had committed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from battrace.domain.events import MAX_EVENT_BYTES, Event, ValidationContext, validate_event
from battrace.services.access import Principal, shape_reasons
from battrace.services.batch import check_batch
from battrace.services.key_roles import KeyRole
from tests.kit import MAKER, REPROCESSOR, code

NOW = dt.datetime(2025, 1, 3, 12, tzinfo=dt.UTC)


def deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def reprocessed(**fields: Any) -> dict[str, Any]:
    return {"id": "r1", "type": "reprocessed", "time": "2025-01-03T10:00:00+08:00",
            "reporter": REPROCESSOR, "battery": code(1, maker="R01"), "inputs": [code(2)],
            "application": "energy_storage", "standard": "GB/T 34015.3-2021",
            **fields}  # fmt: skip


def reasons(raw: dict[str, Any]) -> list[tuple[str, str]]:
    out = validate_event(raw, ValidationContext())
    return [] if isinstance(out, Event) else [(r.field, r.message) for r in out]


def test_test_results_are_values_or_one_level_series() -> None:
    ok = {"residual_capacity_pct": 78.5, "operator": "lab 3", "passed": True, "soh": None,
          "cell_mv": [3301, 3299.5], "modules": {"m1": 81.2, "m2": "ok"}}  # fmt: skip
    assert reasons(reprocessed(tests=ok)) == []
    for bad in ({"deep": deep(300)}, {"cells": [[1, 2]]}, {"m": {"a": {"b": 1}}}):
        (field, message), *_ = reasons(reprocessed(tests=bad))
        assert field == "tests"
        assert "not nested" in message
    (field, message), *_ = reasons(reprocessed(tests={"note": "x" * 2001}))
    assert (field, "longer than 2000") == ("tests", message[-len("longer than 2000") - 11 :][:16])


def test_evidence_is_bounded() -> None:
    doc = {"kind": "test report", "uri": "https://lab.example/r/1"}
    assert reasons(reprocessed(tests={}, evidence=[doc] * 100)) == []
    assert reasons(reprocessed(tests={}, evidence=[doc] * 101))[0][0] == "evidence"
    long = {"kind": "k" * 2001, "uri": "u"}
    assert "at most 2000" in reasons(reprocessed(tests={}, evidence=[long]))[0][1]
    long = {"kind": "k", "uri": "u" * 2001}
    assert "at most 2000" in reasons(reprocessed(tests={}, evidence=[long]))[0][1]


def test_a_replacement_nesting_deeper_than_an_event_is_refused() -> None:
    raw = {"id": "c1", "type": "correction", "time": "2025-01-03T10:00:00+08:00",
           "reporter": MAKER, "target": "p1", "reason": "typo",
           "replacement": {"id": "p2", "x": deep(900)}}  # fmt: skip
    assert [f for f, _ in reasons(raw)] == ["replacement"]


def test_an_event_over_the_size_limit_is_refused_at_the_edge() -> None:
    big = {f"t{i}": "x" * 2000 for i in range(MAX_EVENT_BYTES // 2000 + 1)}
    small = {f"t{i}": "x" * 2000 for i in range(100)}
    checked = check_batch(
        ValidationContext(), [reprocessed(tests=big), reprocessed(tests=small)], NOW
    )
    assert isinstance(checked[1], Event)
    assert isinstance(checked[0], list)
    (r,) = checked[0]
    assert r.field == "(event)"
    assert f"at most {MAX_EVENT_BYTES:,}" in r.message


@pytest.mark.parametrize("levels", [300, 1000])
def test_a_deeply_nested_refused_event_still_gets_its_reasons(levels: int) -> None:
    raw = reprocessed(tests={}, extra=deep(levels))
    got = validate_event(raw, ValidationContext())
    assert isinstance(got, list)
    me = Principal(KeyRole.ENTERPRISE, REPROCESSOR)
    shaped = shape_reasons(me, raw, got)  # orjson.dumps(raw) raised here past 255 levels
    assert [r.field for r in shaped] == [r.field for r in got]


def produced(battery: str, **fields: Any) -> dict[str, Any]:
    return {"id": "p1", "type": "produced", "time": "2025-01-03T10:00:00+08:00",
            "reporter": MAKER, "battery": battery, "chemistry": "LFP", "rated_capacity_ah": 150,
            "nominal_voltage_v": 350, "energy_kwh": 52.5, "mass_kg": 350, **fields}  # fmt: skip


def test_quantities_past_any_plausible_one_are_refused() -> None:
    """1e19 kg passed validation, then overflowed the grams column (OverflowError) and took
    its whole batch down with it."""
    assert reasons(produced(code(3), mass_kg=1e9)) == []
    for field in ("mass_kg", "energy_kwh", "rated_capacity_ah", "nominal_voltage_v"):
        ((f, message),) = reasons(produced(code(3), **{field: 1e19}))
        assert f == field and "plausible" in message


def test_a_back_fill_cannot_record_the_future() -> None:
    trusted = ValidationContext(trusted=True, received_at=NOW)
    raw = produced(code(3), recorded_at="2025-01-03T10:00:00+08:00")
    assert isinstance(validate_event(raw, trusted), Event)
    raw = produced(code(3), time="2027-01-03T10:00:00+08:00", recorded_at="2027-01-04T00:00:00Z")
    got = validate_event(raw, trusted)
    assert isinstance(got, list)
    assert [r.field for r in got] == ["recorded_at"]
    assert "back-fill records the past" in got[0].message


def test_a_short_reprocessed_code_is_not_produced() -> None:
    short = "001PB01F360000003RP"
    ((field, message),) = reasons(produced(short, time="2025-03-07T10:00:00+08:00"))
    assert field == "battery" and "reprocessed" in message


def test_a_reprocessed_code_agrees_with_its_chemistry_and_date() -> None:
    assert reasons(reprocessed(tests={}, chemistry="LFP")) == []
    ((field, message),) = reasons(reprocessed(tests={}, chemistry="NCM"))
    assert field == "chemistry" and "battery type" in message
    later = code(1, maker="R01", made=dt.date(2025, 12, 1))
    ((field, message),) = reasons(reprocessed(tests={}, battery=later))
    assert field == "battery" and "after the reprocessed event" in message


def test_digits_are_ascii_digits() -> None:
    """`\\d` matched any script's digits: a region "１１０１００" or "١١٠١٠٠" was accepted."""
    for region in ("１１０１００", "١١٠١٠٠"):
        ((field, _),) = reasons(produced(code(3), location={"region": region}))
        assert field == "location"
    ((field, _),) = reasons(produced(code(3), time="２０２５-01-03T10:00:00+08:00"))
    assert field == "time"


def test_a_vehicle_carries_packs() -> None:
    """A module was accepted as installed in a vehicle (and as its replacement pack)."""
    from battrace.identity import ProductType
    from tests.kit import AUTOMAKER, MODEL, VIN1

    module = code(5, kind=ProductType.MODULE)
    base = {"id": "i1", "time": "2025-01-03T10:00:00+08:00", "reporter": AUTOMAKER,
            "vin": VIN1}  # fmt: skip
    installed = {**base, "type": "installed", "battery": module, "vehicle_model": MODEL}
    ((field, message),) = reasons(installed)
    assert field == "battery" and "vehicle carries packs" in message
    assert reasons({**installed, "battery": code(5)}) == []
    replaced = {**base, "type": "replaced", "battery": module, "removed": code(6)}
    assert [f for f, _ in reasons(replaced)] == ["battery"]


def test_a_sale_cannot_precede_its_certificate_and_messages_read_well() -> None:
    from tests.kit import AUTOMAKER, VIN1

    sold = {"id": "v1", "type": "vehicle_sold", "time": "2026-12-01T10:00:00+08:00",
            "reporter": AUTOMAKER, "vin": VIN1, "certificate_date": "2027-06-30"}  # fmt: skip
    ((field, message),) = reasons(sold)
    assert field == "certificate_date" and "after the sale" in message
    assert reasons({**sold, "certificate_date": "2026-11-30"}) == []
    ((_, message),) = reasons({k: v for k, v in sold.items() if k != "vin"})
    assert message == "is required for a vehicle_sold event"
    installed = {"id": "i", "type": "installed", "time": "2025-01-03T10:00:00+08:00",
                 "reporter": AUTOMAKER, "vin": VIN1, "battery": code(5)}  # fmt: skip
    ((_, message),) = reasons(installed)
    assert message == "is required for an installed event"
