"""Unified Social Credit Codes (统一社会信用代码, GB 32100-2015): 18 characters, check at 18."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from battrace.identity.errors import (
    CodeError,
    InvalidCode,
    check_positions,
    length_error,
    surface_errors,
)

USCC_LENGTH = 18
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES = {c: i for i, c in enumerate(CHARSET)}
_ALLOWED = frozenset(CHARSET)
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_RE = re.compile(r"[0-9A-HJ-NP-RTUW-Y]{18}")

#: position 1: the registering authority (GB 32100-2015 table 1)
AUTHORITIES = {
    "1": ("organisation-establishment authority", "机构编制"),
    "2": ("foreign affairs", "外交"),
    "3": ("judicial administration", "司法行政"),
    "4": ("culture", "文化"),
    "5": ("civil affairs", "民政"),
    "6": ("tourism", "旅游"),
    "7": ("religious affairs", "宗教"),
    "8": ("trade unions", "工会"),
    "9": ("market regulation (industry and commerce)", "市场监管（工商）"),
    "A": ("central military commission", "中央军委改革和编制办公室"),
    "N": ("agriculture", "农业"),
    "Y": ("other", "其他"),
}


@dataclass(frozen=True, slots=True)
class Uscc:
    """A decoded USCC."""

    code: str
    authority: str
    entity_type: str
    region: str
    organisation_code: str


def uscc_check_char(code: str) -> str:
    """The check character (position 18) that the first 17 characters of `code` call for."""
    total = sum(_VALUES[c] * w for c, w in zip(code[:17], _WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


@lru_cache(maxsize=1 << 16)
def is_uscc(code: str) -> bool:
    """True when `code` is a well-formed USCC with a correct check character.

    Cached: a platform sees the same few thousand enterprises on every event.
    """
    return bool(_RE.fullmatch(code)) and code[17] == uscc_check_char(code)


def uscc_errors(code: str) -> list[CodeError]:
    """Every failing position of `code` with the reason; empty when valid."""
    text, offset, errors = surface_errors(code)
    skip = {e.position for e in errors}
    err = length_error(text, offset, USCC_LENGTH, "a USCC")
    if err:
        errors.append(err)
    layout = [("USCC", lambda c: c in _ALLOWED, f"one of {CHARSET} (no I, O, S, V, Z)")] * 18
    errors.extend(check_positions(text, offset, layout, skip))
    if not errors and len(text) == USCC_LENGTH:
        want = uscc_check_char(text)
        if text[17] != want:
            errors.append(
                CodeError(
                    offset + 18,
                    "check-character",
                    f"check character is {text[17]!r} but the other characters give {want!r}",
                )
            )
    return sorted(errors, key=lambda e: e.position)


def parse_uscc(code: str) -> Uscc:
    """Decode a valid USCC; InvalidCode listing every failing position otherwise."""
    if not is_uscc(code):
        raise InvalidCode(code, uscc_errors(code))
    return Uscc(code, code[0], code[1], code[2:8], code[8:17])


def build_uscc(first17: str) -> str:
    """Append the check character to 17 characters (for the simulator and tests)."""
    if len(first17) != 17 or not set(first17) <= _ALLOWED:
        raise ValueError(f"{first17!r}: 17 characters of {CHARSET} expected")
    return first17 + uscc_check_char(first17)
