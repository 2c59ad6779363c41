"""GB/T 34014-2017 battery codes: parse, validate (every failing position), build.

Layout of the 24-character code (CODES.md §1):

    1-3 manufacturer | 4 product type | 5 battery type | 6-7 spec | 8-14 traceability
    15-17 production date (year, month, day) | 18-24 serial within the day

The 19-character short form of a reprocessed product drops the traceability field and ends in
`R` + product type. There is no check character in the standard; none is invented here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from battrace.identity.errors import (
    CodeError,
    InvalidCode,
    check_positions,
    length_error,
    surface_errors,
)
from battrace.identity.tables import DEFAULT_TABLES, BatteryType, CodeTables

CODE_LENGTH = 24
SHORT_LENGTH = 19

_Pred = Callable[[str], bool]
_DIGITS = frozenset("0123456789")
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class ProductType(StrEnum):
    """Code position 4: what kind of unit the code names."""

    PACK = "pack"
    MODULE = "module"
    CELL = "cell"

    @property
    def letter(self) -> str:
        """The code letter (P, M, C)."""
        return _PRODUCT_LETTERS[self]

    @property
    def name_zh(self) -> str:
        """Chinese name of the unit."""
        return {"pack": "电池包", "module": "模块", "cell": "单体"}[self.value]

    @classmethod
    def from_letter(cls, letter: str) -> ProductType:
        """The product type for a code letter; KeyError if unknown."""
        return _LETTER_PRODUCTS[letter]


_LETTER_PRODUCTS = {"P": ProductType.PACK, "M": ProductType.MODULE, "C": ProductType.CELL}
_PRODUCT_LETTERS = {v: k for k, v in _LETTER_PRODUCTS.items()}

#: hierarchy rank: a pack holds modules, a module holds cells
PRODUCT_RANK = {ProductType.PACK: 2, ProductType.MODULE: 1, ProductType.CELL: 0}


@dataclass(frozen=True, slots=True)
class BatteryCode:
    """A decoded GB/T 34014 code (full form, or the reprocessed short form)."""

    code: str
    manufacturer: str
    product_type: ProductType
    battery_type: BatteryType
    spec: str
    #: traceability code (positions 8-14); None in the reprocessed short form
    trace: str | None
    production_date: dt.date
    serial: str
    #: True for the 19-character reprocessed short form
    reprocessed_form: bool = False

    @property
    def kind(self) -> str:
        """`battery` or `battery_reprocessed` (the kinds of `battrace code check --json`)."""
        return "battery_reprocessed" if self.reprocessed_form else "battery"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready decoded fields."""
        return {
            "code": self.code,
            "kind": self.kind,
            "manufacturer": self.manufacturer,
            "product_type": self.product_type.value,
            "battery_type": self.battery_type.letter,
            "chemistry": self.battery_type.chemistry,
            "spec": self.spec,
            "trace": self.trace,
            "production_date": self.production_date.isoformat(),
            "serial": self.serial,
        }


def parse_battery_code(
    code: str,
    *,
    tables: CodeTables = DEFAULT_TABLES,
    not_after: dt.date | None = None,
) -> BatteryCode:
    """Decode a full (24) or short reprocessed (19) code; InvalidCode lists every failing position.

    `not_after` is the date of the event that registers the code: a production date after it
    is an error.
    """
    decoded = _decode(code, tables)
    if decoded is not None and (not_after is None or decoded.production_date <= not_after):
        return decoded
    raise InvalidCode(code, battery_code_errors(code, tables=tables, not_after=not_after))


@lru_cache(maxsize=1 << 13)
def _decode(code: str, tables: CodeTables) -> BatteryCode | None:
    """The decoded code, or None when it is not valid; remembered (a batch names the same
    packs and modules again and again, and building the frozen record costs more than
    checking the code)."""
    n = len(code)
    if n == CODE_LENGTH and tables.battery_regex.fullmatch(code):
        day = tables.dates.get(code[14:17])
        if day is not None and code[17:] != "0000000":
            return BatteryCode(
                code,
                code[0:3],
                _LETTER_PRODUCTS[code[3]],
                tables.types_by_letter[code[4]],
                code[5:7],
                code[7:14],
                day,
                code[17:24],
            )
    elif n == SHORT_LENGTH and tables.reprocessed_regex.fullmatch(code):
        day = tables.dates.get(code[7:10])
        if day is not None and code[10:17] != "0000000":
            return BatteryCode(
                code,
                code[0:3],
                _LETTER_PRODUCTS[code[3]],
                tables.types_by_letter[code[4]],
                code[5:7],
                None,
                day,
                code[10:17],
                reprocessed_form=True,
            )
    return None


def is_battery_code(code: str, *, tables: CodeTables = DEFAULT_TABLES) -> bool:
    """True when `code` is a valid full or short-form code (the fast path, no error detail)."""
    if len(code) == CODE_LENGTH:
        return bool(
            tables.battery_regex.fullmatch(code)
            and code[14:17] in tables.dates
            and code[17:] != "0000000"
        )
    if len(code) == SHORT_LENGTH:
        return bool(
            tables.reprocessed_regex.fullmatch(code)
            and code[7:10] in tables.dates
            and code[10:17] != "0000000"
        )
    return False


def battery_code_errors(
    code: str,
    *,
    tables: CodeTables = DEFAULT_TABLES,
    not_after: dt.date | None = None,
) -> list[CodeError]:
    """Every failing position of `code` with the reason; empty when the code is valid."""
    text, offset, errors = surface_errors(code)
    skip = {e.position for e in errors}
    short = _looks_short(text)
    layout = _layout(tables, short=short)
    expected = SHORT_LENGTH if short else CODE_LENGTH
    what = "a GB/T 34014 code" + (" (reprocessed short form)" if short else "")
    err = length_error(text, offset, expected, what)
    if err:
        errors.append(err)
    errors.extend(check_positions(text, offset, layout, skip))
    bad = {e.position for e in errors}
    date_at = 7 if short else 14
    serial_at = date_at + 3
    errors.extend(_date_errors(text, offset, date_at, tables, bad, not_after))
    serial = text[serial_at : serial_at + 7]
    if len(serial) == 7 and serial == "0000000":
        errors.append(
            CodeError(
                offset + serial_at + 1,
                "serial",
                "serial 0000000 is not allowed: serials run from 0000001 to 9999999",
            )
        )
    errors.sort(key=lambda e: e.position)
    return errors


def _looks_short(text: str) -> bool:
    """Treat the text as the reprocessed short form when it has that length or that ending."""
    return len(text) == SHORT_LENGTH or (
        len(text) in (SHORT_LENGTH - 1, SHORT_LENGTH + 1) and "R" in text[-3:]
    )


def _layout(tables: CodeTables, *, short: bool) -> list[tuple[str, _Pred, str]]:
    alnum = ("digits and upper-case Latin letters", lambda c: c in _ALNUM)
    types = "".join(t.letter for t in tables.battery_types)
    date_chars = frozenset(tables.date_alphabet)

    def field(name: str, allowed: tuple[str, _Pred]) -> tuple[str, _Pred, str]:
        return (name, allowed[1], allowed[0])

    head = [
        field("manufacturer code", alnum),
        field("manufacturer code", alnum),
        field("manufacturer code", alnum),
        ("product type", lambda c: c in "PMC", "P (pack), M (module) or C (cell)"),
        ("battery type", lambda c: c in types, f"one of {', '.join(types)}"),
        field("specification code", alnum),
        field("specification code", alnum),
    ]
    trace = [field("traceability code", alnum)] * 7
    date = [
        (
            "production year",
            lambda c: c in date_chars,
            f"a value of the date table ({tables.name})",
        ),
        ("production month", lambda c: c in date_chars, "1-9, A (Oct), B (Nov), C (Dec)"),
        ("production day", lambda c: c in date_chars, f"a value of the date table ({tables.name})"),
    ]
    serial = [("serial", lambda c: c in _DIGITS, "digits 0-9")] * 7
    if short:
        tail = [
            ("reprocessed marker", lambda c: c == "R", "R"),
            ("reprocessed product type", lambda c: c in "PMC", "P, M or C"),
        ]
        return head + date + serial + tail
    return head + trace + date + serial


def _date_errors(
    text: str,
    offset: int,
    at: int,
    tables: CodeTables,
    bad: set[int],
    not_after: dt.date | None,
) -> list[CodeError]:
    chars = text[at : at + 3]
    if len(chars) < 3:
        return []
    positions = [offset + at + i + 1 for i in range(3)]
    if any(p in bad for p in positions):
        return []
    values = tables.date_values
    year, month, day = (values[c] for c in chars)
    if month > 12:
        return [
            CodeError(positions[1], "date", f"month value {month} ({chars[1]!r}) does not exist")
        ]
    try:
        made = dt.date(tables.year_base + year, month, day)
    except ValueError:
        return [
            CodeError(
                positions[2],
                "date",
                f"day {day} ({chars[2]!r}) does not exist in "
                f"{tables.year_base + year}-{month:02d}: not a calendar date",
            )
        ]
    if not_after is not None and made > not_after:
        return [
            CodeError(
                positions[0],
                "date-future",
                f"production date {made.isoformat()} is after the event that registers the "
                f"code ({not_after.isoformat()})",
            )
        ]
    return []


def build_battery_code(
    *,
    manufacturer: str,
    product_type: ProductType,
    battery_type: str,
    spec: str,
    trace: str,
    production_date: dt.date,
    serial: int,
    tables: CodeTables = DEFAULT_TABLES,
) -> str:
    """Compose a full 24-character code (used by the simulator and tests); validates the result."""
    code = (
        f"{manufacturer}{product_type.letter}{battery_type}{spec}{trace}"
        f"{tables.encode_date(production_date)}{serial:07d}"
    )
    parse_battery_code(code, tables=tables)
    return code


def build_reprocessed_short_code(
    *,
    manufacturer: str,
    product_type: ProductType,
    battery_type: str,
    spec: str,
    production_date: dt.date,
    serial: int,
    tables: CodeTables = DEFAULT_TABLES,
) -> str:
    """Compose a 19-character reprocessed short-form code; validates the result."""
    code = (
        f"{manufacturer}{product_type.letter}{battery_type}{spec}"
        f"{tables.encode_date(production_date)}{serial:07d}R{product_type.letter}"
    )
    parse_battery_code(code, tables=tables)
    return code
