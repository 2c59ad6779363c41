"""Recognise which identifier a string is, and check it: one entry point for people and tools."""

from __future__ import annotations

from dataclasses import dataclass, field

from battrace.identity.errors import CodeError, InvalidCode
from battrace.identity.gbt34014 import (
    CODE_LENGTH,
    SHORT_LENGTH,
    BatteryCode,
    battery_code_errors,
    parse_battery_code,
)
from battrace.identity.tables import DEFAULT_TABLES, CodeTables
from battrace.identity.uscc import USCC_LENGTH, Uscc, parse_uscc
from battrace.identity.vin import VIN_LENGTH, is_vin, vin_errors

KINDS = ("battery", "battery_reprocessed", "vin", "uscc", "unknown")


@dataclass(frozen=True, slots=True)
class IdentifierCheck:
    """The outcome of checking one identifier."""

    code: str
    kind: str
    errors: tuple[CodeError, ...] = ()
    battery: BatteryCode | None = None
    uscc: Uscc | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool:
        """True when no position failed."""
        return not self.errors and self.kind != "unknown"

    def as_dict(self) -> dict[str, object]:
        """The JSON object of `battrace code check --json`."""
        out: dict[str, object] = {
            "code": self.code,
            "valid": self.valid,
            "kind": self.kind,
            "errors": [e.as_dict() for e in self.errors],
        }
        if self.battery is not None:
            b = self.battery
            out |= {
                "manufacturer": b.manufacturer,
                "product_type": b.product_type.value,
                "battery_type": b.battery_type.letter,
                "chemistry": b.battery_type.chemistry,
                "spec": b.spec,
                "trace": b.trace,
                "production_date": b.production_date.isoformat(),
                "serial": b.serial,
            }
        if self.uscc is not None:
            out |= {"region": self.uscc.region, "organisation_code": self.uscc.organisation_code}
        return out


def guess_kind(raw: str) -> str:
    """Which identifier `raw` most likely is, judged by its length once surface noise is gone."""
    n = len(raw.strip())
    if n == VIN_LENGTH:
        return "vin"
    if n == USCC_LENGTH:
        return "uscc"
    if n == SHORT_LENGTH:
        return "battery_reprocessed"
    if n == CODE_LENGTH or n > SHORT_LENGTH:
        return "battery"
    return "unknown"


def check_identifier(raw: str, *, tables: CodeTables = DEFAULT_TABLES) -> IdentifierCheck:
    """Recognise and validate a battery code, VIN or USCC, reporting every failing position."""
    kind = guess_kind(raw)
    if kind in ("battery", "battery_reprocessed"):
        try:
            code = parse_battery_code(raw, tables=tables)
        except InvalidCode as exc:
            return IdentifierCheck(raw, kind, exc.errors)
        return IdentifierCheck(raw, code.kind, battery=code)
    if kind == "vin":
        return IdentifierCheck(raw, kind, () if is_vin(raw) else tuple(vin_errors(raw)))
    if kind == "uscc":
        try:
            return IdentifierCheck(raw, kind, uscc=parse_uscc(raw))
        except InvalidCode as exc:
            return IdentifierCheck(raw, kind, exc.errors)
    n = len(raw.strip())
    return IdentifierCheck(
        raw,
        "unknown",
        (
            CodeError(
                1,
                "kind",
                f"{n} characters: not a battery code (24, or 19 reprocessed), "
                "a VIN (17) or a USCC (18)",
            ),
        ),
    )


__all__ = ["KINDS", "IdentifierCheck", "battery_code_errors", "check_identifier", "guess_kind"]
