"""How fast GB/T 34014 codes, VINs and USCCs are validated on one core."""

from __future__ import annotations

import datetime as dt
import random
import time

from battrace.bench._report import Figure
from battrace.identity import (
    ProductType,
    build_battery_code,
    build_uscc,
    build_vin,
    is_battery_code,
    is_uscc,
    is_vin,
    parse_battery_code,
)

SIZES = {"small": 200_000, "medium": 1_000_000, "large": 3_000_000}


def sample_codes(n: int, seed: int = 1) -> list[str]:
    """`n` distinct-looking valid codes over many makers, types and dates."""
    rng = random.Random(seed)
    alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    base = dt.date(2018, 1, 1)
    out = []
    for _ in range(n):
        out.append(
            build_battery_code(
                manufacturer="".join(rng.choices(alnum, k=3)),
                product_type=rng.choice(list(ProductType)),
                battery_type=rng.choice("BBBBE"),
                spec="".join(rng.choices(alnum, k=2)),
                trace="".join(rng.choices(alnum, k=7)),
                production_date=base + dt.timedelta(days=rng.randrange(3000)),
                serial=rng.randrange(1, 10_000_000),
            )
        )
    return out


def _rate(fn: object, items: list[str], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for x in items:
            fn(x)  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return len(items) / best


def run(scale: str = "small") -> list[Figure]:
    """Validation rates for each identifier kind."""
    n = SIZES[scale]
    codes = sample_codes(n)
    rng = random.Random(2)
    vin_chars = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
    uscc_chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    vins = [build_vin("".join(rng.choices(vin_chars, k=16))) for _ in range(n // 4)]
    usccs = [build_uscc("".join(rng.choices(uscc_chars, k=17))) for _ in range(n // 4)]
    parse = _rate(parse_battery_code, codes)
    return [
        Figure(
            "identity",
            "GB/T 34014 parse + full date decoding",
            parse,
            "codes/s",
            ">= 300,000 codes/s",
            parse >= 300_000,
            f"{n:,} codes, one core",
        ),
        Figure(
            "identity", "GB/T 34014 validity check only", _rate(is_battery_code, codes), "codes/s"
        ),
        Figure("identity", "VIN check digit", _rate(is_vin, vins), "VINs/s"),
        Figure("identity", "USCC check character", _rate(is_uscc, usccs), "USCCs/s"),
    ]
