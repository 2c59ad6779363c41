"""Codes, VINs and packs: what battery makers and reprocessors put on record.

Codes are composed directly (prefix, type, battery type, spec, 7-character traceability field,
3-character date, 7-digit serial) for speed; `tests/sim` parses every one of them with
`battrace.identity`. Each assembled pack gets a fresh traceability field (a base-36 counter),
so codes are unique without any lookup; its modules and cells share it with their own serials.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from battrace.domain.policy import Policy
from battrace.identity import DEFAULT_TABLES, build_vin
from battrace.sim import params as P
from battrace.sim.country import Automaker, Country, Maker
from battrace.sim.emit import DAY, Emitter, Labels, WorkDays

_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: VIN model-year characters from 2010 (ISO 3779; no I, O, Q, U, Z, 0)
_VIN_YEAR = "ABCDEFGHJKLMNPRSTVWXY123456789"
_VIN_PLANT = "ABCDEFGHJKLMNPRSTUVWXYZ123456789"
LETTER = {"LFP": "B", "NCM": "E", "NCA": "E"}


@dataclass
class Ctx:
    """What every part of the generator shares."""

    rng: random.Random
    params: P.SimParams
    country: Country
    emitter: Emitter
    labels: Labels
    policy: Policy
    workdays: WorkDays


@dataclass(slots=True)
class Unit:
    """A module (or a product made of modules): code and mass in grams."""

    code: str
    mass_g: int
    kwh: float


@dataclass(slots=True)
class Pack:
    """A traction pack as the simulator knows it."""

    code: str
    chem: str
    letter: str
    maker: Maker
    mass_g: int
    kwh: float
    volts: float
    modules: list[Unit] = field(default_factory=list)
    #: when its first life on record ended (recycled, reprocessed, dismantled), if it did
    ended_t: int | None = None


def b36(n: int, width: int = 7) -> str:
    """`n` in base 36, upper case, zero-padded to `width`."""
    out = []
    for _ in range(width):
        n, r = divmod(n, 36)
        out.append(_B36[r])
    return "".join(reversed(out))


def kg(grams: int) -> float:
    """Grams as kilograms with three decimals (exact back to grams)."""
    return grams / 1000


class Factory:
    """Makes codes, VINs and packs (with their `produced` events)."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.rng = ctx.rng
        self.random = ctx.rng.random
        self.emit = ctx.emitter.emit
        self.cells = ctx.params.cells
        self._trace = 0
        self._dates: dict[int, str] = {}
        self._vins: dict[str, int] = {}

    def trace(self) -> str:
        """A fresh traceability field."""
        self._trace += 1
        return b36(self._trace)

    def date3(self, ordinal: int) -> str:
        """The code's 3-character production date."""
        got = self._dates.get(ordinal)
        if got is None:
            got = DEFAULT_TABLES.encode_date(dt.date.fromordinal(ordinal))
            self._dates[ordinal] = got
        return got

    def vin(self, automaker: Automaker, vds: str, year: int) -> str:
        """A new valid VIN of `automaker` (position 10 = model year)."""
        n = self._vins.get(automaker.firm.uscc, 0)
        self._vins[automaker.firm.uscc] = n + 1
        plant = _VIN_PLANT[(n // 1_000_000) % len(_VIN_PLANT)]
        year_char = _VIN_YEAR[(year - 2010) % len(_VIN_YEAR)]
        return build_vin(f"{automaker.wmi}{vds}{year_char}{plant}{n % 1_000_000:06d}")

    def code(
        self, prefix: str, kind: str, letter: str, spec: str, ordinal: int, serial: int
    ) -> str:
        """A GB/T 34014 code with a fresh traceability field."""
        return f"{prefix}{kind}{letter}{spec}{self.trace()}{self.date3(ordinal)}{serial:07d}"

    # ------------------------------------------------------------ packs
    def pack(self, maker: Maker, chem: str, t: int) -> Pack:
        """Produce a pack (cells, modules, then the pack with its components) starting at `t`."""
        rng = self.rng
        letter = LETTER[chem]
        mean, sd, lo, hi = P.PACK_KWH
        kwh = round(min(hi, max(lo, rng.gauss(mean, sd))), 1)
        lo_d, hi_d = P.WH_PER_KG[chem]
        mass_g = int(kwh * 1_000_000 / rng.uniform(lo_d, hi_d))
        cell_v = P.CELL_VOLTS[chem]
        series = rng.choice((96, 100, 104, 108, 112))
        volts = round(series * cell_v, 1)
        ah = round(kwh * 1000 / volts, 1)
        n_mod = rng.choice(P.MODULES_PER_PACK)
        mod_g = int(mass_g * rng.uniform(*P.MODULE_MASS_SHARE) / n_mod)
        mod_kwh = round(kwh / n_mod, 2)
        mod_v = round(volts / n_mod, 1)
        ordinal = t // DAY
        trace = self.trace()
        base = f"{trace}{self.date3(ordinal)}"
        pre = maker.prefix
        rep = maker.firm.uscc
        emit = self.emit
        modules = [
            Unit(f"{pre}M{letter}M1{base}{10 + i:07d}", mod_g, mod_kwh) for i in range(n_mod)
        ]
        common: dict[str, object] = {
            "chemistry": chem,
            "rated_capacity_ah": ah,
            "nominal_voltage_v": mod_v,
            "energy_kwh": mod_kwh,
            "mass_kg": kg(mod_g),
        }
        if self.cells:
            for i, m in enumerate(modules):
                n_cells = rng.choice(P.CELLS_PER_MODULE)
                cell = {
                    "chemistry": chem,
                    "rated_capacity_ah": round(ah * n_mod / n_cells * 4, 1),
                    "nominal_voltage_v": cell_v,
                    "energy_kwh": round(mod_kwh / n_cells, 3),
                    "mass_kg": kg(int(mod_g * 0.9 / n_cells)),
                }
                cells = [f"{pre}C{letter}C1{base}{1000 + i * 100 + j:07d}" for j in range(n_cells)]
                self.ctx.emitter.produced_batch(t, rep, cells, cell)
                emit(t + 1, "produced", rep, {"battery": m.code, **common, "components": cells})
        else:
            self.ctx.emitter.produced_batch(t + 1, rep, [m.code for m in modules], common)
        code = f"{pre}P{letter}P1{base}0000001"
        emit(
            t + 2,
            "produced",
            rep,
            {
                "battery": code,
                "chemistry": chem,
                "rated_capacity_ah": ah,
                "nominal_voltage_v": volts,
                "energy_kwh": kwh,
                "mass_kg": kg(mass_g),
                "components": [m.code for m in modules],
            },
        )
        return Pack(code, chem, letter, maker, mass_g, kwh, volts, modules)

    def business(self, ordinal: int) -> int:
        """A time during office hours (08:00–17:00) on a day."""
        return ordinal * DAY + 480 + int(self.random() * 541)

    def later(self, t: int, lo: int, hi: int) -> int:
        """Office hours `lo`..`hi` days after `t` (`lo` ≥ 1: always strictly later)."""
        return (
            (t // DAY + lo + int(self.random() * (hi - lo + 1))) * DAY
            + 480
            + int(self.random() * 541)
        )

    def ri(self, lo: int, hi: int) -> int:
        """A uniform integer in [lo, hi] (faster than `random.randint`)."""
        return lo + int(self.random() * (hi - lo + 1))
