"""The synthetic country: regions, enterprises, manufacturer codes, models, outlets, qualifications.

Everything is drawn from one seeded `random.Random`, so the same seed gives the same country.
The registry facts that put it on record (`registry_events`) follow the bootstrap sequence of
`tests/kit.py`: the regulator registers itself first, then everyone else.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from battrace.sim.build import at, event, uscc

#: Real prefecture-level division codes (GB/T 2260), roughly by NEV sales: (code, weight).
PREFECTURES: tuple[tuple[str, float], ...] = (
    ("440300", 9.0),  # Shenzhen
    ("310100", 8.5),  # Shanghai
    ("440100", 7.5),  # Guangzhou
    ("510100", 7.0),  # Chengdu
    ("330100", 7.0),  # Hangzhou
    ("110100", 6.5),  # Beijing
    ("500100", 6.0),  # Chongqing
    ("610100", 5.5),  # Xi'an
    ("410100", 5.5),  # Zhengzhou
    ("120100", 5.0),  # Tianjin
    ("320500", 4.8),  # Suzhou
    ("420100", 4.6),  # Wuhan
    ("430100", 4.4),  # Changsha
    ("320100", 4.2),  # Nanjing
    ("340100", 4.0),  # Hefei
    ("440600", 3.8),  # Foshan
    ("441900", 3.6),  # Dongguan
    ("330200", 3.4),  # Ningbo
    ("370200", 3.2),  # Qingdao
    ("370100", 3.0),  # Jinan
    ("350200", 2.8),  # Xiamen
    ("350100", 2.6),  # Fuzhou
    ("530100", 2.5),  # Kunming
    ("450100", 2.4),  # Nanning
    ("520100", 2.3),  # Guiyang
    ("210100", 2.2),  # Shenyang
    ("130100", 2.1),  # Shijiazhuang
    ("320200", 2.0),  # Wuxi
    ("330300", 2.0),  # Wenzhou
    ("360100", 1.9),  # Nanchang
    ("460100", 1.8),  # Haikou
    ("140100", 1.7),  # Taiyuan
    ("220100", 1.6),  # Changchun
    ("210200", 1.6),  # Dalian
    ("230100", 1.5),  # Harbin
    ("620100", 1.3),  # Lanzhou
    ("650100", 1.2),  # Urumqi
    ("150100", 1.1),  # Hohhot
    ("640100", 1.0),  # Yinchuan
    ("630100", 0.9),  # Xining
    ("540100", 0.6),  # Lhasa
    ("440400", 1.8),  # Zhuhai
    ("441300", 1.7),  # Huizhou
    ("320400", 1.7),  # Changzhou
    ("330400", 1.6),  # Jiaxing
    ("370600", 1.5),  # Yantai
    ("130200", 1.4),  # Tangshan
    ("410300", 1.3),  # Luoyang
    ("430200", 1.2),  # Zhuzhou
    ("450200", 1.2),  # Liuzhou
)
#: Province codes used to make up further prefectures (`PP` + `CC` + `00`) beyond the list.
_PROVINCES = ("13", "14", "21", "23", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44")
_WMI = ("LSV", "LFV", "LGX", "LB3", "LVG", "LNB", "LRW", "LJ1", "LDC", "LZW", "LGB", "LSG")
_MFR_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


@dataclass(frozen=True, slots=True)
class Firm:
    """One registered enterprise with a single role."""

    uscc: str
    name: str
    role: str
    region: str


@dataclass(slots=True)
class Maker:
    """A battery maker and its manufacturer code."""

    firm: Firm
    prefix: str
    weight: float


@dataclass(slots=True)
class Model:
    """A vehicle model of an automaker."""

    name: str
    swap: bool
    vds: str


@dataclass(slots=True)
class Automaker:
    """An automaker: its models, the regions it sells in (weights) and its VIN prefix."""

    firm: Firm
    wmi: str
    models: list[Model]
    regions: list[str]
    region_weights: list[float]
    weight: float
    index: int


@dataclass(slots=True)
class Utiliser:
    """A reprocessor or recycler; `qualified_from` None = not on the white list."""

    firm: Firm
    qualified_from: dt.date | None
    prefix: str | None = None
    #: declares less mass than it takes in (injected BT-023)
    leaky: bool = False

    def qualified_on(self, day: dt.date) -> bool:
        """True when the utiliser holds its qualification on `day`."""
        return self.qualified_from is not None and day >= self.qualified_from


@dataclass(slots=True)
class Outlet:
    """A recycling service outlet in a region, collecting for some automakers."""

    firm: Firm
    region: str
    serves: frozenset[str]


@dataclass
class Country:
    """Everything the event stream refers to."""

    regions: list[str]
    region_weights: list[float]
    regulator: Firm
    makers: list[Maker]
    automakers: list[Automaker]
    repairers: dict[str, Firm]
    swap_operators: list[Firm]
    dismantlers: dict[str, Firm]
    outlets: list[Outlet]
    reprocessors: list[Utiliser]
    recyclers: list[Utiliser]
    #: (automaker USCC, region) pairs sold in without an outlet (injected BT-024)
    uncovered: set[tuple[str, str]] = field(default_factory=set)
    #: manufacturer codes assigned to nobody (for forged codes, BT-002)
    unassigned: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    outlets_for: dict[tuple[str, str], list[Outlet]] = field(default_factory=dict)
    #: the registry goes on record on this day (before the first production)
    registry_day: dt.date = dt.date(2017, 9, 1)

    def firms(self) -> list[Firm]:
        """Every enterprise after the regulator, in registration order."""
        out = [m.firm for m in self.makers] + [a.firm for a in self.automakers]
        out += list(self.repairers.values()) + self.swap_operators
        out += list(self.dismantlers.values()) + [o.firm for o in self.outlets]
        out += [u.firm for u in self.reprocessors] + [u.firm for u in self.recyclers]
        return out

    def registry_events(self) -> list[dict[str, Any]]:
        """The registry facts, in an order the platform accepts (regulator first)."""
        reg = self.regulator.uscc
        out: list[dict[str, Any]] = []

        def fact(kind: str, **fields: Any) -> None:
            minute = len(out)
            t = at(self.registry_day, 8 + minute // 60, minute % 60)
            out.append(event(kind, f"reg-{len(out) + 1}", t, reg, **fields))

        for firm in [self.regulator, *self.firms()]:
            fact(
                "enterprise_registered",
                enterprise=firm.uscc,
                name=firm.name,
                roles=[firm.role],
                region=firm.region,
            )
        for m in self.makers:
            fact("manufacturer_code_assigned", enterprise=m.firm.uscc, manufacturer_code=m.prefix)
        for u in self.reprocessors:
            if u.prefix:
                fact(
                    "manufacturer_code_assigned", enterprise=u.firm.uscc, manufacturer_code=u.prefix
                )
        for u in self.reprocessors + self.recyclers:
            if u.qualified_from is not None:
                fact(
                    "qualification_granted",
                    enterprise=u.firm.uscc,
                    scope=u.firm.role.replace("reprocessor", "reprocessing").replace(
                        "recycler", "recycling"
                    ),
                    valid_from=u.qualified_from.isoformat(),
                )
        for o in self.outlets:
            fact(
                "outlet_registered",
                enterprise=o.firm.uscc,
                serves=sorted(o.serves),
                region=o.region,
                address=f"{o.firm.name}, {o.region}",
            )
        for a in self.automakers:
            for model in a.models:
                fact(
                    "vehicle_model_registered",
                    model=model.name,
                    automaker=a.firm.uscc,
                    swap_model=model.swap,
                )
        return out


def prefectures(n: int) -> list[tuple[str, float]]:
    """`n` prefecture codes with sales weights: the real list first, then made-up ones."""
    out = list(PREFECTURES[:n])
    known = {c for c, _ in out}
    city = 21
    while len(out) < n:
        for prov in _PROVINCES:
            code = f"{prov}{city:02d}00"
            if code not in known:
                out.append((code, 0.5))
                known.add(code)
            if len(out) == n:
                break
        city += 1
    return out


class _Ids:
    """Made-up, valid and unique USCCs."""

    def __init__(self) -> None:
        self.n = 100

    def next(self, region: str) -> str:
        self.n += 1
        return uscc(self.n, region=region)


def build_country(
    rng: random.Random,
    *,
    regions: int,
    violation_rate: float,
    first_year: int = 2018,
    automakers: int = 10,
) -> Country:
    """A reproducible country with `regions` prefectures (see docs/simulator.md)."""
    if regions < 1:
        raise ValueError("at least one region is needed")
    qualified_from = dt.date(first_year - 1, 1, 1)
    late_listed = (
        dt.date(max(first_year + 2, 2020), 7, 1),
        dt.date(max(first_year + 3, 2021), 1, 1),
    )
    pref = prefectures(regions)
    codes = [c for c, _ in pref]
    weights = [w for _, w in pref]
    ids = _Ids()
    hq = codes[: min(len(codes), 12)]
    regulator = Firm(uscc(1, region="110000", kind="11"), "MIIT (regulator)", "regulator", "110000")
    used_prefixes: set[str] = set()

    def prefix() -> str:
        while True:
            p = "".join(rng.choice(_MFR_ALPHABET) for _ in range(3))
            if p not in used_prefixes:
                used_prefixes.add(p)
                return p

    def firm(name: str, role: str, region: str) -> Firm:
        return Firm(ids.next(region), name, role, region)

    maker_weights = (34.0, 22.0, 8.0, 6.0, 5.0, 4.0, 3.0, 2.0)
    makers = [
        Maker(firm(f"Battery Maker {i + 1:02d}", "battery_maker", rng.choice(hq)), prefix(), w)
        for i, w in enumerate(maker_weights)
    ]
    autos: list[Automaker] = []
    share = (24.0, 12.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 3.0, 2.0, 2.0)
    for i in range(automakers):
        wmi = _WMI[i % len(_WMI)]
        n_models = rng.randint(2, 4)
        swapper = i == 2  # one automaker sells battery-swap models
        models = [
            Model(
                f"A{i + 1:02d}-{'S' if swapper and k < 2 else 'M'}{k + 1}",
                swapper and k < 2,
                f"{chr(65 + (i % 8))}{k + 1}{rng.choice('ABCDEFGH')}{rng.randint(1, 9)}{k}",
            )
            for k in range(n_models)
        ]
        # every automaker sells in the biggest regions; the others with some probability
        sold = [c for j, c in enumerate(codes) if j < 3 or rng.random() < 0.75]
        autos.append(
            Automaker(
                firm(f"Automaker {i + 1:02d}", "automaker", rng.choice(hq)),
                wmi,
                models,
                sold,
                [weights[codes.index(c)] for c in sold],
                share[i % len(share)],
                i,
            )
        )
    repairers = {c: firm(f"Service {c}", "repairer", c) for c in codes}
    dismantlers = {c: firm(f"Dismantler {c}", "dismantler", c) for c in codes}
    swap_ops = [firm(f"Swap Operator {k + 1}", "swap_operator", rng.choice(hq)) for k in range(2)]
    # BT-024: pairs (automaker, region) sold in without an outlet
    pairs = [(a.firm.uscc, c) for a in autos for c in a.regions]
    uncovered = {p for p in pairs if rng.random() < violation_rate}
    if violation_rate > 0 and not uncovered and pairs:
        uncovered.add(rng.choice(pairs))
    outlets: list[Outlet] = []
    for c in codes:
        sellers = [
            a.firm.uscc for a in autos if c in a.regions and (a.firm.uscc, c) not in uncovered
        ]
        rng.shuffle(sellers)
        for k in range(0, len(sellers), 3):
            of = firm(f"Outlet {c}-{k // 3 + 1}", "outlet", c)
            outlets.append(Outlet(of, c, frozenset(sellers[k : k + 3])))
    n_rep = max(3, regions // 4)
    reprocessors = [
        Utiliser(
            firm(f"Reprocessor {k + 1:02d}", "reprocessor", rng.choice(codes)),
            qualified_from if k != 1 else late_listed[0],
            prefix(),
        )
        for k in range(n_rep)
    ]
    reprocessors.append(
        Utiliser(firm("Unlisted Reprocessor", "reprocessor", rng.choice(codes)), None, prefix())
    )
    n_rec = max(4, regions // 3)
    recyclers = [
        Utiliser(
            firm(f"Recycler {k + 1:02d}", "recycler", rng.choice(codes)),
            qualified_from if k != 1 else late_listed[1],
        )
        for k in range(n_rec)
    ]
    # BT-023: qualified recyclers that declare less than they take in
    leaky = [u for u in recyclers[2:] if rng.random() < violation_rate]
    if violation_rate > 0 and not leaky:
        leaky = [recyclers[-1]]
    for u in leaky:
        u.leaky = True
    recyclers += [
        Utiliser(firm(f"Workshop {k + 1}", "recycler", rng.choice(codes)), None) for k in range(2)
    ]
    unassigned: list[str] = []
    while len(unassigned) < 8:
        p = "Z" + "".join(rng.choice(_MFR_ALPHABET) for _ in range(2))
        if p not in used_prefixes:
            used_prefixes.add(p)
            unassigned.append(p)
    country = Country(
        regions=codes,
        region_weights=weights,
        regulator=regulator,
        makers=makers,
        automakers=autos,
        repairers=repairers,
        swap_operators=swap_ops,
        dismantlers=dismantlers,
        outlets=outlets,
        reprocessors=reprocessors,
        recyclers=recyclers,
        uncovered=uncovered,
        unassigned=unassigned,
        registry_day=dt.date(first_year - 1, 9, 1),
    )
    country.roles = {f.uscc: f.role for f in [regulator, *country.firms()]}
    for o in outlets:
        for a in o.serves:
            country.outlets_for.setdefault((a, o.region), []).append(o)
    return country
