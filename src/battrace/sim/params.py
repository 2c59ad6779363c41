"""What a simulation run is asked for, and the model's constants (docs/simulator.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from battrace.errors import InvalidInput

DEFAULT_END = dt.date(2026, 11, 20)

#: NEV sales in China by year, millions (CAAM; DOMAIN.md §5 for 2025): the growth curve.
SALES_BY_YEAR: dict[int, float] = {
    2015: 0.33,
    2016: 0.51,
    2017: 0.78,
    2018: 1.26,
    2019: 1.21,
    2020: 1.37,
    2021: 3.52,
    2022: 6.89,
    2023: 9.49,
    2024: 12.87,
    2025: 16.49,
    2026: 17.5,
}
#: share of LFP packs (DOMAIN.md §5: 81 % in 2025); the rest ternary (NCM, some NCA)
LFP_SHARE = 0.81
NCA_SHARE_OF_TERNARY = 0.1
#: pack energy, kWh: normal(mean, sd) clipped (DOMAIN.md §5: average BEV pack ~55 kWh)
PACK_KWH = (55.0, 10.0, 30.0, 90.0)
#: pack-level specific energy, Wh/kg (gives 300–450 kg at 55 kWh)
WH_PER_KG = {"LFP": (125.0, 160.0), "NCM": (150.0, 180.0), "NCA": (155.0, 185.0)}
#: share of the pack's mass in its modules (the rest: casing, BMS, cooling)
MODULE_MASS_SHARE = (0.78, 0.86)
MODULES_PER_PACK = (4, 6, 8, 10, 12)
CELLS_PER_MODULE = (8, 12, 16, 24)
CELL_VOLTS = {"LFP": 3.2, "NCM": 3.7, "NCA": 3.6}
#: Weibull lifetimes in years (scale, shape): vehicles until scrapping, packs until retirement.
#: Published retirement forecasts fit Weibull curves over installed volume (DOMAIN.md §5).
VEHICLE_LIFE = (12.0, 2.6)
PACK_LIFE = (9.0, 2.3)
#: fleet vehicles (taxis, ride-hailing) wear out about twice as fast
FLEET_SHARE = 0.15
FLEET_FACTOR = 0.5
#: early pack defects (warranty replacements): probability and window in years
DEFECT_SHARE = 0.02
DEFECT_YEARS = (0.2, 3.0)
#: residual capacity of retired packs, % (DOMAIN.md §4: 70–80 %)
RESIDUAL_PCT = (68.0, 84.0)
#: share of retired packs routed to reprocessing rather than recycling
REPROCESS_SHARE = 0.35


@dataclass(frozen=True)
class SimParams:
    """One simulation run."""

    vehicles: int = 20_000
    first_year: int = 2018
    last_year: int = 2026
    regions: int = 30
    cells: bool = False
    violation_rate: float = 0.02
    seed: int = 1
    end: dt.date = DEFAULT_END
    automakers: int = 10

    def __post_init__(self) -> None:
        if self.vehicles < 1:
            raise InvalidInput("--vehicles must be at least 1")
        if not 2011 <= self.first_year <= self.last_year <= 2040:
            raise InvalidInput("--years must look like 2018-2026 (first ≤ last, 2011–2040)")
        if self.end.year < self.first_year:
            raise InvalidInput(f"--end {self.end} is before the first year {self.first_year}")
        if not 0 <= self.violation_rate <= 0.5:
            raise InvalidInput("--violation-rate must be between 0 and 0.5")
        if not 1 <= self.regions <= 400:
            raise InvalidInput("--regions must be between 1 and 400")

    @property
    def years(self) -> list[int]:
        """The sales years that lie before the end."""
        return list(range(self.first_year, min(self.last_year, self.end.year) + 1))


def parse_years(text: str) -> tuple[int, int]:
    """`2018-2026` (or a single year) as (first, last)."""
    parts = text.replace("–", "-").split("-")
    try:
        if len(parts) == 1:
            return int(parts[0]), int(parts[0])
        if len(parts) == 2:
            return int(parts[0]), int(parts[1])
    except ValueError:
        pass
    raise InvalidInput(f"--years {text!r}: expected FIRST-LAST, e.g. 2018-2026")


def sales_weight(year: int) -> float:
    """Relative sales of a year (the last known year's for later ones)."""
    if year in SALES_BY_YEAR:
        return SALES_BY_YEAR[year]
    return SALES_BY_YEAR[max(SALES_BY_YEAR)] if year > 2026 else SALES_BY_YEAR[min(SALES_BY_YEAR)]
