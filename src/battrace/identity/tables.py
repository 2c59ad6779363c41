"""Decoding tables for GB/T 34014 codes: the date value table and the battery-type table.

Both are configuration (CODES.md marks their details as unsure): a deployment may load its own
tables from a TOML file without a code change. The defaults below are those of CODES.md.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from battrace.errors import ConfigError

#: Values 1-9 are digits; 10-31 are letters without I, O, Q and Z.
DEFAULT_DATE_ALPHABET = "123456789ABCDEFGHJKLMNPRSTUVWXY"
DEFAULT_YEAR_BASE = 2010

_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True, slots=True)
class BatteryType:
    """One row of the battery-type table (code position 5)."""

    letter: str
    name_en: str
    name_zh: str
    #: the chemistry label shown to people and in `code check --json`
    chemistry: str
    #: the `chemistry` values of EVENTS.md that agree with this letter (empty = any)
    chemistries: frozenset[str]


DEFAULT_BATTERY_TYPES: tuple[BatteryType, ...] = (
    BatteryType("A", "nickel-metal hydride", "镍氢电池", "NiMH", frozenset({"NiMH"})),
    BatteryType("B", "lithium iron phosphate", "磷酸铁锂电池", "LFP", frozenset({"LFP"})),
    BatteryType("C", "lithium manganese oxide", "锰酸锂电池", "LMO", frozenset({"LMO"})),
    BatteryType("D", "lithium cobalt oxide", "钴酸锂电池", "LCO", frozenset({"LCO"})),
    BatteryType(
        "E",
        "ternary (nickel-cobalt-manganese/aluminium)",
        "三元材料电池",
        "ternary",
        frozenset({"NCM", "NCA"}),
    ),
    BatteryType("F", "supercapacitor", "超级电容器", "supercapacitor", frozenset({"other"})),
    BatteryType("G", "lithium titanate", "钛酸锂电池", "LTO", frozenset({"LTO"})),
    BatteryType("Z", "other", "其他", "other", frozenset()),
)


@dataclass(frozen=True, eq=False)
class CodeTables:
    """The tables a code is decoded with; build one with `from_mapping` or `load` a file."""

    name: str = "CODES.md default"
    date_alphabet: str = DEFAULT_DATE_ALPHABET
    year_base: int = DEFAULT_YEAR_BASE
    battery_types: tuple[BatteryType, ...] = DEFAULT_BATTERY_TYPES
    # Derived lookups, computed once per table set.
    date_values: Mapping[str, int] = field(init=False, repr=False)
    types_by_letter: Mapping[str, BatteryType] = field(init=False, repr=False)
    dates: Mapping[str, dt.date] = field(init=False, repr=False)
    battery_regex: re.Pattern[str] = field(init=False, repr=False)
    reprocessed_regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        problems = _table_problems(self.date_alphabet, self.battery_types)
        if problems:
            raise ConfigError(f"code tables {self.name!r}: " + "; ".join(problems))
        values = {ch: i + 1 for i, ch in enumerate(self.date_alphabet)}
        types = {t.letter: t for t in self.battery_types}
        object.__setattr__(self, "date_values", MappingProxyType(values))
        object.__setattr__(self, "types_by_letter", MappingProxyType(types))
        object.__setattr__(self, "dates", MappingProxyType(self._all_dates(values)))
        date_cls = "[" + re.escape(self.date_alphabet) + "]"
        type_cls = "[" + "".join(sorted(types)) + "]"
        head = f"[0-9A-Z]{{3}}[PMC]{type_cls}[0-9A-Z]{{2}}"
        object.__setattr__(
            self,
            "battery_regex",
            re.compile(f"{head}[0-9A-Z]{{7}}{date_cls}{{3}}[0-9]{{7}}"),
        )
        object.__setattr__(
            self, "reprocessed_regex", re.compile(f"{head}{date_cls}{{3}}[0-9]{{7}}R[PMC]")
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its definition (the derived lookups are rebuilt): a helper process of
        `battrace ingest` receives the tables it validates with."""
        return (CodeTables, (self.name, self.date_alphabet, self.year_base, self.battery_types))

    def _all_dates(self, values: Mapping[str, int]) -> dict[str, dt.date]:
        """Every valid 3-character date of the table, decoded once (lookups are then O(1))."""
        out: dict[str, dt.date] = {}
        for yc, yv in values.items():
            for mc, mv in values.items():
                if mv > 12:
                    continue
                for dc, dv in values.items():
                    try:
                        out[yc + mc + dc] = dt.date(self.year_base + yv, mv, dv)
                    except ValueError:
                        continue
        return out

    def encode_date(self, day: dt.date) -> str:
        """The 3-character production date for `day`; ValueError outside the table's range."""
        y = day.year - self.year_base
        alphabet = self.date_alphabet
        if not 1 <= y <= len(alphabet):
            raise ValueError(f"year {day.year} cannot be written with table {self.name!r}")
        return alphabet[y - 1] + alphabet[day.month - 1] + alphabet[day.day - 1]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, name: str = "custom") -> CodeTables:
        """Tables from a parsed TOML/JSON document (see docs/code-tables.md)."""
        date = data.get("date", {})
        alphabet = str(date.get("alphabet", DEFAULT_DATE_ALPHABET))
        year_base = int(date.get("year_base", DEFAULT_YEAR_BASE))
        types: tuple[BatteryType, ...] = DEFAULT_BATTERY_TYPES
        if "battery_types" in data:
            rows = []
            for letter, row in data["battery_types"].items():
                rows.append(
                    BatteryType(
                        letter=str(letter),
                        name_en=str(row.get("name_en", letter)),
                        name_zh=str(row.get("name_zh", letter)),
                        chemistry=str(row.get("chemistry", "other")),
                        chemistries=frozenset(str(c) for c in row.get("chemistries", [])),
                    )
                )
            types = tuple(rows)
        return cls(
            name=str(data.get("name", name)),
            date_alphabet=alphabet,
            year_base=year_base,
            battery_types=types,
        )

    @classmethod
    def load(cls, path: Path) -> CodeTables:
        """Load tables from a TOML file."""
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read code tables {path}: {exc}") from exc
        return cls.from_mapping(data, name=str(data.get("name", path.name)))


def _table_problems(alphabet: str, types: tuple[BatteryType, ...]) -> list[str]:
    problems = []
    if len(alphabet) < 12:
        problems.append("the date alphabet needs at least 12 values (months)")
    if len(set(alphabet)) != len(alphabet):
        problems.append("the date alphabet repeats a character")
    if not set(alphabet) <= _ALNUM:
        problems.append("the date alphabet may hold only digits and upper-case letters")
    letters = [t.letter for t in types]
    if len(set(letters)) != len(letters):
        problems.append("a battery-type letter appears twice")
    if any(len(x) != 1 or x not in _ALNUM for x in letters):
        problems.append("battery-type letters must be single upper-case letters or digits")
    return problems


DEFAULT_TABLES = CodeTables()
