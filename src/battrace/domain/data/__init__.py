"""Packaged data of the domain (working calendar, default policy) and strict readers for it.

Every reader names the file and the dotted key of a problem, so a bad deployment file fails at
load with one clear `ConfigError` instead of a wrong result later.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from battrace.errors import ConfigError

CALENDAR_FILE = "cn_working_calendar.toml"
POLICY_FILE = "default_policy.toml"


def packaged(name: str) -> Mapping[str, Any]:
    """A packaged TOML file of this directory, parsed (floats as `Decimal`)."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return parse_text(text, suffix=".toml", source=f"battrace:{name}")


def read_file(path: Path) -> Mapping[str, Any]:
    """A TOML or JSON file, parsed; floats become `Decimal` so thresholds stay exact."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    return parse_text(text, suffix=path.suffix.lower(), source=str(path))


def parse_text(text: str, *, suffix: str, source: str) -> Mapping[str, Any]:
    """Parse TOML (`.toml`) or JSON (`.json`) text into a mapping."""
    try:
        if suffix == ".toml":
            return tomllib.loads(text, parse_float=Decimal)
        if suffix == ".json":
            data = json.loads(text, parse_float=Decimal)
        else:
            raise ConfigError(f"{source}: only .toml and .json files are understood")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{source}: not valid {suffix[1:].upper()}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the document must be a table (JSON object)")
    return data


class Table:
    """One table of a configuration document, read strictly: unknown keys and wrong types fail.

    `where` is the dotted path of the table (e.g. `reporting_nodes[2]`) and `source` the file;
    both appear in every error.
    """

    def __init__(self, data: object, *, where: str, source: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: {where or 'document'}: must be a table")
        self.data: Mapping[str, Any] = data
        self.where = where
        self.source = source

    def error(self, key: str | None, problem: str) -> ConfigError:
        """A ConfigError naming the file, the key and the problem."""
        path = ".".join(p for p in (self.where, key) if p)
        return ConfigError(f"{self.source}: {path or 'document'}: {problem}")

    def only(self, allowed: Collection[str]) -> None:
        """Fail on any key not in `allowed`."""
        unknown = sorted(str(k) for k in self.data if k not in allowed)
        if unknown:
            raise self.error(unknown[0], f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def has(self, key: str) -> bool:
        """True if `key` is present."""
        return key in self.data

    def raw(self, key: str) -> Any:
        """The value of a required key."""
        if key not in self.data:
            raise self.error(key, "is required")
        return self.data[key]

    def table(self, key: str) -> Table:
        """A required sub-table."""
        return Table(self.raw(key), where=self._sub(key), source=self.source)

    def text(self, key: str, default: str | None = None) -> str:
        """A string (required unless a default is given)."""
        if default is not None and key not in self.data:
            return default
        value = self.raw(key)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {_kind(value)}")
        return value

    def flag(self, key: str, default: bool | None = None) -> bool:
        """A boolean (required unless a default is given)."""
        if default is not None and key not in self.data:
            return default
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {_kind(value)}")
        return value

    def integer(self, key: str, *, minimum: int = 0) -> int:
        """An integer of at least `minimum`."""
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be an integer, got {_kind(value)}")
        if value < minimum:
            raise self.error(key, f"must be at least {minimum}, got {value}")
        return value

    def percent(self, key: str) -> Decimal:
        """A percentage in 0–100, kept exact as a Decimal."""
        value = self.raw(key)
        number = to_decimal(value)
        if number is None:
            raise self.error(key, f"must be a number, got {_kind(value)}")
        if not Decimal(0) <= number <= Decimal(100):
            raise self.error(key, f"must be between 0 and 100, got {number}")
        return number

    def number(self, key: str) -> Decimal:
        """A non-negative number, kept exact as a Decimal."""
        value = self.raw(key)
        number = to_decimal(value)
        if number is None:
            raise self.error(key, f"must be a number, got {_kind(value)}")
        if number < 0:
            raise self.error(key, f"must not be negative, got {number}")
        return number

    def day(self, key: str) -> dt.date:
        """A date (TOML date or `YYYY-MM-DD` string)."""
        value = self.raw(key)
        parsed = to_date(value)
        if parsed is None:
            raise self.error(key, f"must be a date (YYYY-MM-DD), got {value!r}")
        return parsed

    def strings(self, key: str, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
        """A list of strings (required unless a default is given)."""
        if default is not None and key not in self.data:
            return default
        value = self.raw(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, f"must be a list of strings, got {_kind(value)}")
        return tuple(value)

    def items(self, key: str) -> list[Any]:
        """A required list."""
        value = self.raw(key)
        if not isinstance(value, list):
            raise self.error(key, f"must be a list, got {_kind(value)}")
        return value

    def _sub(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key


def to_decimal(value: object) -> Decimal | None:
    """An exact Decimal for an int, Decimal or float (via its shortest repr); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        try:
            number = Decimal(repr(value))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def to_date(value: object) -> dt.date | None:
    """A date from a TOML date or an ISO `YYYY-MM-DD` string; None for anything else."""
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | Decimal | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__
