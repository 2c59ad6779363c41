"""A used pack's second life: hand-over, collection, reprocessing or recycling, and mishaps.

One call follows one retired pack from the enterprise that took it out of the vehicle to the end
of its record (superseded by a product, recycled, dismantled) or to the simulation's end. The
chain is strictly increasing in time, so cutting it at `--end` always leaves a consistent prefix.

Violations injected here: custody fraud (BT-004), a recycled code seen again (BT-005), used
batteries sent to unqualified firms or foreign outlets (BT-011), prohibited applications
(BT-012), missing standard or tests (BT-013), low recovery (BT-014), stalled chains (BT-021,
BT-022) and leaking recyclers (BT-023); their labels come from `truth.AuditTruth`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math

from battrace.sim import params as P
from battrace.sim.country import Outlet, Utiliser
from battrace.sim.emit import DAY, PastEnd
from battrace.sim.factory import Ctx, Factory, Pack, kg
from battrace.sim.truth import AuditTruth, Track, quarter_end

APPLICATIONS = (
    ("energy_storage", 0.6),
    ("backup_power", 0.15),
    ("telecom_base_station", 0.15),
    ("low_speed_vehicle", 0.05),
    ("street_lighting", 0.05),
)
_STD = "GB/T 34015.3-2021"
#: mass fractions of the pack (lo, hi) per element and chemistry (DOMAIN.md §4; the brief)
CONTENT: dict[str, dict[str, tuple[float, float]]] = {
    "LFP": {"li": (1.1, 1.4), "cu": (8.0, 10.0), "al": (12.0, 18.0)},
    "NCM": {
        "li": (1.4, 1.6),
        "ni": (6.0, 8.0),
        "co": (1.5, 2.5),
        "mn": (1.5, 2.5),
        "cu": (7.0, 9.0),
        "al": (10.0, 15.0),
    },
    "NCA": {
        "li": (1.4, 1.6),
        "ni": (7.5, 9.0),
        "co": (1.2, 1.8),
        "cu": (7.0, 9.0),
        "al": (12.0, 16.0),
    },
}
#: normal recovery rates, % (above the policy's Li 90, Ni/Co/Mn 98)
RECOVERY = {
    "li": (91.0, 97.0),
    "ni": (98.4, 99.7),
    "co": (98.4, 99.7),
    "mn": (98.4, 99.7),
    "cu": (90.0, 99.0),
    "al": (85.0, 98.0),
}


class Afterlife:
    """Generates the used-battery chains."""

    def __init__(self, ctx: Ctx, factory: Factory) -> None:
        self.ctx = ctx
        self.f = factory
        self.rng = ctx.rng
        self.e = ctx.emitter
        self.labels = ctx.labels
        self.rate = ctx.params.violation_rate
        c = ctx.country
        self.reps = [u for u in c.reprocessors if u.qualified_from is not None]
        self.recs = [u for u in c.recyclers if u.qualified_from is not None]
        self.workshops = [u for u in c.recyclers if u.qualified_from is None]
        self.unlisted = [u for u in c.reprocessors if u.qualified_from is None]
        self.fraudsters = [u.firm.uscc for u in c.recyclers] + [o.firm.uscc for o in c.outlets]
        self.minimum = {e: float(v) for e, v in ctx.policy.recovery_min_pct.items()}
        self.truth = AuditTruth(ctx)
        self._site = 0

    # ------------------------------------------------------------ entry
    def run(
        self,
        pack: Pack,
        holder: str,
        t0: int,
        *,
        automaker: str,
        region: str,
        vin: str | None = None,
    ) -> None:
        """Follow `pack`, used and held by `holder` since `t0`. With `vin`, it still sits in
        the scrapped vehicle and the dismantler `holder` must remove it first."""
        kind = "scrapped_pack_not_removed" if vin else "removed_not_collected"
        tr = Track(pack.code, holder, kind, t0, t0)
        with contextlib.suppress(PastEnd):
            self._flow(pack, tr, automaker, region, vin)
        self.truth.label(tr)

    def _flow(self, pack: Pack, tr: Track, automaker: str, region: str, vin: str | None) -> None:
        rng, f, emit = self.rng, self.f, self.e.emit
        rate = self.rate
        r = rng.random()
        stall = "BT-021" if r < rate else "BT-022" if r < 2 * rate else None
        points = ["held", "transit", "outlet", "intake"] + (["scrapped"] if vin else [])
        stall_at = rng.choice(points) if stall else None
        fraud_at = rng.choice(("held", "outlet")) if rng.random() < rate else None
        bt011 = rng.choice(("foreign_outlet", "unqualified")) if rng.random() < rate else None
        code = pack.code
        if vin:
            if stall_at == "scrapped" and self.truth.may_stall(tr, stall):
                return
            t = f.later(tr.t0, 1, 4)
            emit(t, "removed", tr.holder, {"battery": code, "vin": vin, "reason": "scrapping"})
            tr.alt = ("scrapped_pack_not_removed", tr.t0)
            tr.step(t, "removed_not_collected")
        if stall_at == "held" and self.truth.may_stall(tr, stall):
            return
        t_ship = f.later(tr.last, 1, 10)
        if fraud_at == "held":
            self._fraud(code, tr.holder, tr.last, t_ship)
        outlets = self.ctx.country.outlets_for.get((automaker, region), [])
        outlet: Outlet | None = None
        util: Utiliser | None = None
        if bt011 == "foreign_outlet":
            outlet = self._foreign_outlet(automaker, region)
            if outlet is None:
                bt011 = None
        if outlet is None and outlets and rng.random() < 0.85:
            outlet = rng.choice(outlets)
        if outlet is None:
            util = self._utiliser(t_ship // DAY, unqualified=bt011 == "unqualified")
        to = outlet.firm.uscc if outlet is not None else util.firm.uscc if util else ""
        key = emit(t_ship, "shipped", tr.holder, {"battery": code, "to": to})
        if bt011 == "foreign_outlet" or (bt011 == "unqualified" and util is not None):
            self._bt011(key, tr.holder, to, code, bt011)
            bt011 = "done" if bt011 == "unqualified" else None
        tr.alt = None
        tr.step(t_ship, "shipment_not_received", to)
        if stall_at == "transit" and self.truth.may_stall(tr, stall):
            return
        t = f.later(t_ship, 1, 4)
        if outlet is not None:
            emit(t, "collected", outlet.firm.uscc, {"battery": code})
            tr.step(t, "outlet_intake_not_handed_over", outlet.firm.uscc)
            if stall_at == "outlet" and self.truth.may_stall(tr, stall):
                return
            t_ship = f.later(t, 5, 45)
            if fraud_at == "outlet":
                self._fraud(code, outlet.firm.uscc, t, t_ship)
            util = self._utiliser(t_ship // DAY, unqualified=bt011 == "unqualified")
            key = emit(t_ship, "shipped", outlet.firm.uscc, {"battery": code, "to": util.firm.uscc})
            if bt011 == "unqualified":
                self._bt011(key, outlet.firm.uscc, util.firm.uscc, code, bt011)
            tr.step(t_ship, "shipment_not_received", util.firm.uscc)
            if stall_at == "transit" and self.truth.may_stall(tr, stall):
                return
            t = f.later(t_ship, 1, 4)
        assert util is not None
        emit(t, "received", util.firm.uscc, {"battery": code})
        recycler = util.firm.role == "recycler"
        # battrace holds every utiliser (reprocessors too) to the recycler-intake limit
        tr.step(t, "recycler_intake_not_processed", util.firm.uscc)
        if util.leaky:
            self.truth.leak_received(util, t, pack.mass_g)
        elif recycler and stall_at == "intake" and self.truth.may_stall(tr, stall):
            return
        if recycler:
            self._recycle(pack, tr, util, t)
        else:
            self._reprocess(pack, tr, util, t)

    # ------------------------------------------------------------ destinations
    def _utiliser(self, ordinal: int, *, unqualified: bool = False) -> Utiliser:
        rng = self.rng
        if unqualified:
            return rng.choice(self.unlisted if rng.random() < 0.3 else self.workshops)
        day = dt.date.fromordinal(ordinal)
        pool = self.reps if rng.random() < P.REPROCESS_SHARE else self.recs
        # a leaky recycler must process in the quarter it receives (clean BT-023 ground truth)
        near_end = ordinal > quarter_end(ordinal) - 8
        cands = [u for u in pool if u.qualified_on(day) and not (u.leaky and near_end)]
        return rng.choice(cands or [u for u in self.recs if u.qualified_on(day) and not u.leaky])

    def _foreign_outlet(self, automaker: str, region: str) -> Outlet | None:
        everywhere = [o for o in self.ctx.country.outlets if automaker not in o.serves]
        local = [o for o in everywhere if o.region == region]
        pool = local or everywhere
        return self.rng.choice(pool) if pool else None

    def _bt011(self, key: str, shipper: str, to: str, code: str, kind: str) -> None:
        self.labels.add(
            "BT-011",
            f"shipped_to_{kind}",
            events=[key],
            codes=[code],
            enterprise=shipper,
            subject=key,
            recipient=to,
        )

    # ------------------------------------------------------------ injected misfits
    def _fraud(self, code: str, holder: str, a: int, b: int) -> None:
        """BT-004: someone who does not hold the battery reports shipping it."""
        if b - a < 4:
            return
        t = a + (b - a) // 2
        who = self.rng.choice([u for u in self.fraudsters if u != holder])
        to = self.rng.choice([u.firm.uscc for u in self.recs if u.firm.uscc != who])
        if not self.e.fits(t):
            return
        key = self.e.emit(t, "shipped", who, {"battery": code, "to": to}, rejected=True)
        self.labels.add(
            "BT-004", "custody_fraud", events=[key], codes=[code], enterprise=who, subject=key
        )

    def _seen_again(self, code: str, holder: str, after: int) -> None:
        """BT-005: a recycled code turns up again (the recycler ships it once more)."""
        t = self.f.later(after, 5, 90)
        if not self.e.fits(t):
            return
        to = self.rng.choice([u.firm.uscc for u in self.recs if u.firm.uscc != holder])
        key = self.e.emit(t, "shipped", holder, {"battery": code, "to": to}, rejected=True)
        self.labels.add(
            "BT-005",
            "recycled_code_seen_again",
            events=[key],
            codes=[code],
            enterprise=holder,
            subject=key,
        )

    # ------------------------------------------------------------ recycling
    def _recycle(self, pack: Pack, tr: Track, u: Utiliser, t: int) -> None:
        rng, f, emit = self.rng, self.f, self.e.emit
        who = u.firm.uscc
        if u.leaky:
            day = t // DAY
            room = max(1, min(15, quarter_end(day) - day - 1))
            tp = f.business(day + f.ri(1, room))
            declared = int(pack.mass_g * rng.uniform(0.55, 0.75))
            key = emit(tp, "recycled", who, self._recycled(pack.code, pack.chem, declared))
            self.truth.leak_processed(u, tp, pack.mass_g - declared, key)
            pack.ended_t = tp
            tr.done(tp)
            return
        if u.qualified_from is not None and rng.random() < 0.3:
            td = f.later(t, 3, 40)
            emit(
                td,
                "dismantled",
                who,
                {"battery": pack.code, "parts": [m.code for m in pack.modules]},
            )
            pack.ended_t = td
            tr.done(td)
            last = td
            for m in pack.modules:
                tm = f.later(td, 1, 15)
                if self.e.fits(tm):
                    emit(tm, "recycled", who, self._recycled(m.code, pack.chem, m.mass_g))
                    last = max(last, tm)
            shell = pack.mass_g - sum(m.mass_g for m in pack.modules)
            ts = f.later(td, 1, 10)
            if self.e.fits(ts):
                emit(
                    ts,
                    "disposed",
                    who,
                    {
                        "battery": pack.code,
                        "method": "casing to licensed scrap",
                        "mass_kg": kg(shell),
                    },
                )
                last = max(last, ts)
            if rng.random() < self.rate:
                self._seen_again(pack.code, who, last)
            return
        tp = f.later(t, 3, 45)
        low = u.qualified_from is not None and rng.random() < self.rate
        key = emit(tp, "recycled", who, self._recycled(pack.code, pack.chem, pack.mass_g, low=low))
        pack.ended_t = tp
        tr.done(tp)
        if u.qualified_from is None:
            self.labels.add(
                "BT-011",
                "processed_unqualified",
                events=[key],
                codes=[pack.code],
                enterprise=who,
                subject=key,
            )
        if low:
            self.labels.add(
                "BT-014",
                "low_recovery",
                events=[key],
                codes=[pack.code],
                enterprise=who,
                subject=key,
            )
        last = tp
        if rng.random() < 0.6:
            td = f.later(tp, 1, 30)
            if self.e.fits(td):
                emit(
                    td,
                    "disposed",
                    who,
                    {"battery": pack.code, "method": "slag to licensed landfill"},
                )
                last = td
        if rng.random() < self.rate:
            self._seen_again(pack.code, who, last)

    def _recycled(
        self, code: str, chem: str, mass_g: int, *, low: bool = False
    ) -> dict[str, object]:
        rng = self.rng
        minimum = self.minimum
        contained: dict[str, float] = {}
        recovered: dict[str, float] = {}
        short = rng.choice([e for e in CONTENT[chem] if e in minimum]) if low else None
        for element, (lo, hi) in CONTENT[chem].items():
            held = int(mass_g * rng.uniform(lo, hi) / 100)
            floor = minimum.get(element)
            if element == short and floor is not None:
                got = int(held * rng.uniform(floor - 20.0, floor - 2.0) / 100)
            else:
                got = round(held * rng.uniform(*RECOVERY[element]) / 100)
                if floor is not None:
                    # grams are whole: keep the rate clear of the minimum after rounding
                    got = max(got, math.ceil(held * (floor + 0.2) / 100))
            contained[element] = kg(held)
            recovered[element] = kg(int(min(got, held)))
        return {
            "battery": code,
            "input_mass_kg": kg(mass_g),
            "recovered": recovered,
            "contained": contained,
        }

    # ------------------------------------------------------------ reprocessing
    def _reprocess(self, pack: Pack, tr: Track, u: Utiliser, t: int) -> None:
        rng, f, emit = self.rng, self.f, self.e.emit
        who = u.firm.uscc
        r = rng.random()
        bt012 = (
            rng.choice(("deploy_ebike", "recode_ebike", "ebike_like")) if r < self.rate else None
        )
        bt013 = None
        if bt012 is None and r < 2 * self.rate:
            bt013 = rng.choice(
                ("no_standard", "no_residual_test", "wrong_standard", "unreprocessed")
            )
        tp = f.later(t, 3, 30)
        self._site += 1
        site = f"site {self._site}"
        if bt013 == "unreprocessed":
            key = emit(
                tp,
                "deployed",
                who,
                {"battery": pack.code, "application": "energy_storage", "site": site},
            )
            tr.done(tp)
            self._label("BT-013", "deployed_unreprocessed", key, who, [pack.code])
            return
        app = rng.choices([a for a, _ in APPLICATIONS], [w for _, w in APPLICATIONS])[0]
        resid = round(rng.uniform(*P.RESIDUAL_PCT), 1)
        volts = 48.0 if app == "telecom_base_station" else pack.volts
        energy = round(pack.kwh * resid / 100, 1)
        tests: dict[str, float] = {"residual_capacity_pct": resid, "soh_pct": resid}
        if bt012 == "recode_ebike":
            app, volts, energy = "e_bike", 48.0, 1.2
        elif bt012 == "ebike_like":
            app, volts, energy = "low_speed_vehicle", 48.0, 1.5
        elif bt013 == "no_residual_test":
            del tests["residual_capacity_pct"]
        elif bt013 == "wrong_standard":
            app = "backup_power"
        # the standard follows the final application (GB/T 36276 is for energy storage only)
        standard = rng.choice((_STD, "GB/T 36276-2023")) if app == "energy_storage" else _STD
        if bt013 == "wrong_standard":
            standard = "GB/T 36276-2023"
        assert u.prefix is not None
        product = f.code(u.prefix, "P", pack.letter, "R1", tp // DAY, 1)
        fields: dict[str, object] = {
            "battery": product,
            "inputs": [pack.code],
            "application": app,
            "standard": standard,
            "tests": tests,
            "chemistry": pack.chem,
            "rated_capacity_ah": round(energy * 1000 / volts, 1),
            "nominal_voltage_v": volts,
            "energy_kwh": energy,
        }
        if bt013 == "no_standard":
            del fields["standard"]
        key = emit(tp, "reprocessed", who, fields)
        pack.ended_t = tp
        tr.done(tp)
        if u.qualified_from is None:
            self._label("BT-011", "processed_unqualified", key, who, [pack.code])
        if bt012 in ("recode_ebike", "ebike_like"):
            self._label("BT-012", bt012, key, who, [product, pack.code])
        if bt013 is not None:
            self._label("BT-013", bt013, key, who, [product])
        td = f.later(tp, 2, 25)
        deploy_app = "e_bike" if bt012 in ("deploy_ebike", "recode_ebike") else app
        key = emit(
            td, "deployed", who, {"battery": product, "application": deploy_app, "site": site}
        )
        if deploy_app == "e_bike":
            self._label("BT-012", f"{bt012}_deployed", key, who, [product])

    def _label(self, rule: str, kind: str, key: str, who: str, codes: list[str]) -> None:
        self.labels.add(rule, kind, events=[key], codes=codes, enterprise=who, subject=key)
