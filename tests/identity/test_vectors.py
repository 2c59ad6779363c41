"""The test vectors of CODES.md."""

import datetime as dt

import pytest

from battrace.identity import (
    ProductType,
    check_identifier,
    is_uscc,
    is_vin,
    parse_battery_code,
    uscc_errors,
    vin_errors,
)


def test_worked_example_decodes_field_by_field():
    code = parse_battery_code("X12MCPM27KLPCLX2M2382320")
    assert code.manufacturer == "X12"
    assert code.product_type is ProductType.MODULE
    assert code.battery_type.letter == "C"
    assert code.spec == "PM"
    assert code.trace == "27KLPCL"
    assert code.production_date == dt.date(2040, 2, 21)
    assert code.serial == "2382320"


def test_realistic_example_is_an_lfp_pack_made_on_7_december_2025():
    code = parse_battery_code("001PB01ABC1234FC70000001")
    assert code.manufacturer == "001"
    assert code.product_type is ProductType.PACK
    assert code.battery_type.chemistry == "LFP"
    assert code.production_date == dt.date(2025, 12, 7)
    assert code.serial == "0000001"


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP042788", "JHMCM56557C404453"])
def test_valid_vins_pass(vin):
    assert is_vin(vin)
    assert vin_errors(vin) == []


def test_invalid_vin_names_the_check_digit_position():
    errors = vin_errors("KNEJC524585810962")
    assert [e.position for e in errors] == [9]
    assert errors[0].reason == "check-digit"


@pytest.mark.parametrize("uscc", ["91350100M000100Y43", "91440300708461136T"])
def test_valid_usccs_pass(uscc):
    assert is_uscc(uscc)
    assert uscc_errors(uscc) == []


def test_invalid_uscc_names_the_check_character_position():
    errors = uscc_errors("91110000100000000D")
    assert [e.position for e in errors] == [18]
    assert "'R'" in errors[0].message


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("001PB01ABC1234FC70000001", "battery"),
        ("001PB01FC70000001RP", "battery_reprocessed"),
        ("1M8GDM9AXKP042788", "vin"),
        ("91350100M000100Y43", "uscc"),
    ],
)
def test_the_kind_of_identifier_is_recognised(code, kind):
    result = check_identifier(code)
    assert result.valid
    assert result.kind == kind
