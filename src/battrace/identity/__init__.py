"""Identifiers battrace understands: GB/T 34014 battery codes, VINs, USCCs. Pure functions."""

from battrace.identity.detect import KINDS, IdentifierCheck, check_identifier, guess_kind
from battrace.identity.errors import CodeError, InvalidCode, describe
from battrace.identity.gbt34014 import (
    PRODUCT_RANK,
    BatteryCode,
    ProductType,
    battery_code_errors,
    build_battery_code,
    build_reprocessed_short_code,
    is_battery_code,
    parse_battery_code,
)
from battrace.identity.tables import DEFAULT_TABLES, BatteryType, CodeTables
from battrace.identity.uscc import build_uscc, is_uscc, parse_uscc, uscc_errors
from battrace.identity.vin import build_vin, is_vin, parse_vin, vin_errors

__all__ = [
    "DEFAULT_TABLES",
    "KINDS",
    "PRODUCT_RANK",
    "BatteryCode",
    "BatteryType",
    "CodeError",
    "CodeTables",
    "IdentifierCheck",
    "InvalidCode",
    "ProductType",
    "battery_code_errors",
    "build_battery_code",
    "build_reprocessed_short_code",
    "build_uscc",
    "build_vin",
    "check_identifier",
    "describe",
    "guess_kind",
    "is_battery_code",
    "is_uscc",
    "is_vin",
    "parse_battery_code",
    "parse_uscc",
    "parse_vin",
    "uscc_errors",
    "vin_errors",
]
