"""The error value every identifier check returns: which position failed, and why."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from battrace.errors import BattraceError


@dataclass(frozen=True, slots=True)
class CodeError:
    """One failing position of an identifier (1-based, counted in the input as given)."""

    position: int
    reason: str
    message: str

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form: position, reason (stable key) and message."""
        return {"position": self.position, "reason": self.reason, "message": self.message}


class InvalidCode(BattraceError, ValueError):
    """An identifier failed validation; `errors` lists every failing position."""

    kind = "invalid-code"

    def __init__(self, code: str, errors: list[CodeError]) -> None:
        self.code = code
        self.errors = tuple(errors)
        super().__init__(f"{code!r} is not valid: {describe(self.errors)}")


def describe(errors: Iterable[CodeError]) -> str:
    """The failing positions in one line: "position 4: …; position 9: …"."""
    return "; ".join(f"position {e.position}: {e.message}" for e in errors)


def surface_errors(raw: str) -> tuple[str, int, list[CodeError]]:
    """Check what a scanner or keyboard gets wrong before the structure is looked at.

    Returns the stripped, upper-cased text to analyse, the offset of its first character in
    `raw`, and errors for surrounding whitespace and lower-case letters (never silently fixed).
    """
    errors: list[CodeError] = []
    stripped = raw.strip()
    lead = len(raw) - len(raw.lstrip())
    if lead:
        errors.append(
            CodeError(1, "whitespace", f"{lead} leading whitespace character(s): codes carry none")
        )
    trail = len(raw) - len(raw.rstrip())
    if trail and stripped:
        errors.append(
            CodeError(
                lead + len(stripped) + 1,
                "whitespace",
                f"{trail} trailing whitespace character(s): codes carry none",
            )
        )
    for i, ch in enumerate(stripped):
        if ch.islower() and ch.isascii():
            errors.append(
                CodeError(
                    lead + i + 1,
                    "lower-case",
                    f"lower-case {ch!r}: codes are written in upper case ({ch.upper()!r})",
                )
            )
        elif ch.isspace():
            errors.append(CodeError(lead + i + 1, "whitespace", "whitespace inside the code"))
    return stripped.upper(), lead, errors


def check_positions(
    text: str,
    offset: int,
    layout: list[tuple[str, Callable[[str], bool], str]],
    skip: set[int],
) -> list[CodeError]:
    """Check each character against `layout` (name, predicate, what is allowed) by position."""
    errors: list[CodeError] = []
    for i, ch in enumerate(text[: len(layout)]):
        pos = offset + i + 1
        if pos in skip:
            continue
        name, ok, allowed = layout[i]
        if not ok(ch):
            shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
            errors.append(
                CodeError(pos, "character", f"{shown} is not allowed in the {name}: {allowed}")
            )
    return errors


def length_error(text: str, offset: int, expected: int, what: str) -> CodeError | None:
    """An error for a wrong length, placed where the text goes wrong."""
    n = len(text)
    if n == expected:
        return None
    has = f"{what} has {n} character{'' if n == 1 else 's'}, {expected} expected"
    if n < expected:
        return CodeError(offset + n + 1, "length", f"{has} ({expected - n} missing at the end)")
    return CodeError(offset + expected + 1, "length", f"{has} ({n - expected} too many at the end)")
