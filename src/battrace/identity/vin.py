"""Vehicle identification numbers (GB 16735 / ISO 3779): 17 characters, check digit at 9."""

from __future__ import annotations

import re
from functools import lru_cache

from battrace.identity.errors import (
    CodeError,
    InvalidCode,
    check_positions,
    length_error,
    surface_errors,
)

VIN_LENGTH = 17
_ALLOWED = frozenset("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")
_RE = re.compile(r"[0-9A-HJ-NPR-Z]{17}")
_VALUES = {str(d): d for d in range(10)} | {
    "A": 1,
    "B": 2,
    "C": 3,
    "D": 4,
    "E": 5,
    "F": 6,
    "G": 7,
    "H": 8,
    "J": 1,
    "K": 2,
    "L": 3,
    "M": 4,
    "N": 5,
    "P": 7,
    "R": 9,
    "S": 2,
    "T": 3,
    "U": 4,
    "V": 5,
    "W": 6,
    "X": 7,
    "Y": 8,
    "Z": 9,
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


#: per position: character -> weighted value (one lookup per character)
_WEIGHTED = tuple({c: v * w for c, v in _VALUES.items()} for w in _WEIGHTS)


def vin_check_digit(vin: str) -> str:
    """The check character (position 9) that `vin` should carry."""
    total = 0
    for table, c in zip(_WEIGHTED, vin, strict=True):
        total += table[c]
    rest = total % 11
    return "X" if rest == 10 else str(rest)


@lru_cache(maxsize=1 << 16)
def is_vin(vin: str) -> bool:
    """True when `vin` is a well-formed VIN with a correct check digit."""
    return bool(_RE.fullmatch(vin)) and vin[8] == vin_check_digit(vin)


def vin_errors(vin: str) -> list[CodeError]:
    """Every failing position of `vin` with the reason; empty when valid."""
    text, offset, errors = surface_errors(vin)
    skip = {e.position for e in errors}
    err = length_error(text, offset, VIN_LENGTH, "a VIN")
    if err:
        errors.append(err)
    layout = [("VIN", lambda c: c in _ALLOWED, "digits and letters except I, O and Q")] * 17
    errors.extend(check_positions(text, offset, layout, skip))
    if not errors and len(text) == VIN_LENGTH:
        want = vin_check_digit(text)
        if text[8] != want:
            errors.append(
                CodeError(
                    offset + 9,
                    "check-digit",
                    f"check digit is {text[8]!r} but the other characters give {want!r}",
                )
            )
    return sorted(errors, key=lambda e: e.position)


def parse_vin(vin: str) -> str:
    """Return `vin` if valid; InvalidCode listing every failing position otherwise."""
    if is_vin(vin):
        return vin
    raise InvalidCode(vin, vin_errors(vin))


def build_vin(without_check: str) -> str:
    """A VIN from 16 characters (positions 1-8 and 10-17): the check digit is put at 9."""
    if len(without_check) != 16 or not set(without_check) <= _ALLOWED:
        raise ValueError(f"{without_check!r}: 16 VIN characters expected")
    draft = without_check[:8] + "0" + without_check[8:]
    return draft[:8] + vin_check_digit(draft) + draft[9:]
