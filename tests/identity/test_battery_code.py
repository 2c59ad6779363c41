"""GB/T 34014 validation: every failing position, with the reason."""

import datetime as dt

import pytest

from battrace.errors import ConfigError
from battrace.identity import (
    CodeTables,
    InvalidCode,
    ProductType,
    battery_code_errors,
    build_battery_code,
    build_reprocessed_short_code,
    is_battery_code,
    parse_battery_code,
)

GOOD = "001PB01ABC1234FC70000001"


def positions(code, **kw):
    return [e.position for e in battery_code_errors(code, **kw)]


def test_a_valid_code_has_no_errors():
    assert battery_code_errors(GOOD) == []
    assert is_battery_code(GOOD)


def test_surrounding_spaces_are_an_error_not_silently_stripped():
    errors = battery_code_errors(f" {GOOD} ")
    assert [e.reason for e in errors] == ["whitespace", "whitespace"]
    assert [e.position for e in errors] == [1, 26]
    with pytest.raises(InvalidCode):
        parse_battery_code(f"{GOOD}\n")


def test_lower_case_letters_are_named_by_position():
    errors = battery_code_errors("001pb01abc1234fc70000001")
    assert {e.reason for e in errors} == {"lower-case"}
    assert [e.position for e in errors] == [4, 5, 8, 9, 10, 15, 16]


def test_every_failing_position_is_reported_not_just_the_first():
    # product type X, battery type Q, a lower-case trace letter, year O, serial letter
    bad = "001XQ01ABc1234OC700A0001"
    assert positions(bad) == [4, 5, 10, 15, 20]


def test_thirtieth_of_february_is_not_a_date():
    code = "001PB01ABC1234G2X0000001"  # 2026-02-30
    errors = battery_code_errors(code)
    assert [(e.position, e.reason) for e in errors] == [(17, "date")]
    assert "2026-02" in errors[0].message


def test_month_thirteen_is_named_at_the_month_position():
    assert positions("001PB01ABC1234GD10000001") == [16]


def test_serial_zero_is_not_allowed():
    assert positions("001PB01ABC1234FC70000000") == [18]


def test_wrong_length_is_reported_where_it_goes_wrong():
    errors = battery_code_errors(GOOD[:-2])
    assert errors[0].reason == "length"
    assert errors[0].position == 23
    assert "has 22 characters, 24 expected (2 missing at the end)" in errors[0].message
    assert "has 1 character, 24 expected" in battery_code_errors("0")[0].message


def test_production_date_after_the_registering_event_is_rejected():
    with pytest.raises(InvalidCode) as info:
        parse_battery_code(GOOD, not_after=dt.date(2025, 12, 6))
    assert [e.reason for e in info.value.errors] == ["date-future"]
    assert parse_battery_code(GOOD, not_after=dt.date(2025, 12, 7)).serial == "0000001"


def test_reprocessed_short_form_is_recognised_as_such():
    code = parse_battery_code("001PB01FC70000001RP")
    assert code.reprocessed_form
    assert code.kind == "battery_reprocessed"
    assert code.trace is None
    assert code.production_date == dt.date(2025, 12, 7)


def test_reprocessed_short_form_without_marker_is_rejected_at_the_marker():
    assert positions("001PB01FC70000001XP") == [18]


def test_builder_round_trips():
    code = build_battery_code(
        manufacturer="A1Z",
        product_type=ProductType.CELL,
        battery_type="E",
        spec="9K",
        trace="TRACE01",
        production_date=dt.date(2031, 10, 31),
        serial=42,
    )
    parsed = parse_battery_code(code)
    assert (parsed.manufacturer, parsed.product_type, parsed.serial) == (
        "A1Z",
        ProductType.CELL,
        "0000042",
    )
    assert parsed.production_date == dt.date(2031, 10, 31)
    short = build_reprocessed_short_code(
        manufacturer="A1Z",
        product_type=ProductType.PACK,
        battery_type="B",
        spec="01",
        production_date=dt.date(2026, 5, 1),
        serial=7,
    )
    assert parse_battery_code(short).reprocessed_form


def test_tables_switch_without_code_change(tmp_path):
    # A published variant writes day 31 as '0' and runs the letters to X only.
    path = tmp_path / "tables.toml"
    path.write_text(
        'name = "day-31-is-zero"\n[date]\nalphabet = "123456789ABCDEFGHJKLMNPRSTUVWX0"\n'
        "year_base = 2010\n",
        encoding="utf-8",
    )
    tables = CodeTables.load(path)
    code = "001PB01ABC1234FC00000001"  # 2025-12-31 in that table
    assert parse_battery_code(code, tables=tables).production_date == dt.date(2025, 12, 31)
    assert not is_battery_code(code)  # the default table has no '0'
    assert positions("001PB01ABC1234FCY0000001", tables=tables) == [17]


def test_battery_type_table_is_configuration():
    tables = CodeTables.from_mapping(
        {
            "battery_types": {
                "B": {"chemistry": "LFP", "chemistries": ["LFP"]},
                "S": {"chemistry": "sodium", "chemistries": ["sodium_ion"]},
            }
        }
    )
    code = "001PS01ABC1234FC70000001"
    assert parse_battery_code(code, tables=tables).battery_type.chemistry == "sodium"
    assert positions(code) == [5]


def test_broken_tables_are_refused_at_load():
    with pytest.raises(ConfigError, match="repeats"):
        CodeTables(date_alphabet="1123456789ABCD")
