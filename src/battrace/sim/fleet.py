"""Vehicles: a pack's first life from the maker's line to scrapping, one vehicle at a time.

Each vehicle is generated whole — production, delivery, installation, sale, pack replacements
(Weibull pack lifetimes), scrapping (Weibull vehicle lifetimes) — and every retired pack is
handed to `Afterlife`. Injected here: malformed (BT-001), forged (BT-002) and cloned (BT-003)
codes, lifecycle (BT-005) and hierarchy (BT-006) misfits, scrapping without the pack (BT-010)
and sales where the automaker has no outlet (BT-024).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

from battrace.sim import params as P
from battrace.sim.afterlife import Afterlife
from battrace.sim.country import Automaker, Maker, Model
from battrace.sim.emit import DAY, PastEnd
from battrace.sim.factory import LETTER, Ctx, Factory, Pack, kg

YEAR = 365.25 * DAY


class Fleet:
    """Generates every vehicle of the run."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.rng = ctx.rng
        self.e = ctx.emitter
        self.labels = ctx.labels
        self.rate = ctx.params.violation_rate
        self.f = Factory(ctx)
        self.after = Afterlife(ctx, self.f)
        c = ctx.country
        self.autos = c.automakers
        self.auto_w = list(itertools.accumulate(a.weight for a in c.automakers))
        self.makers = c.makers
        self.maker_w = list(itertools.accumulate(m.weight for m in c.makers))
        self.region_w = {
            a.firm.uscc: list(itertools.accumulate(a.region_weights)) for a in c.automakers
        }
        #: BT-024: vehicles sold per uncovered (automaker, region)
        self.uncovered: dict[tuple[str, str], list[str]] = {p: [] for p in c.uncovered}
        self._cert = 0

    # ------------------------------------------------------------ the run
    def run(self, progress: Callable[[int], None] | None = None) -> int:
        """Generate all vehicles; returns how many were sold by the end."""
        p = self.ctx.params
        plan = self._plan()
        done = 0
        for year, n in plan:
            first = dt.date(year, 1, 1).toordinal()
            last = min(dt.date(year, 12, 31), p.end).toordinal()
            for _ in range(n):
                self.vehicle(self.f.ri(first, last), year)
                done += 1
                if progress is not None and done % 500 == 0:
                    progress(done)
        self.after.truth.leak_labels()
        self._coverage_labels()
        if progress is not None:
            progress(done)
        return done

    def _plan(self) -> list[tuple[int, int]]:
        """Vehicles per sales year, growing like the national market."""
        p = self.ctx.params
        weights = []
        for y in p.years:
            w = P.sales_weight(y)
            if y == p.end.year:
                w *= (p.end.timetuple().tm_yday) / 365
            weights.append(w)
        total = sum(weights)
        counts = [int(p.vehicles * w / total) for w in weights]
        counts[-1] += p.vehicles - sum(counts)
        return list(zip(p.years, counts, strict=True))

    # ------------------------------------------------------------ one vehicle
    def vehicle(self, sale_day: int, year: int) -> None:
        """One vehicle's life (and its packs')."""
        rng, f, emit = self.rng, self.f, self.e.emit
        auto: Automaker = rng.choices(self.autos, cum_weights=self.auto_w)[0]
        model: Model = rng.choice(auto.models)
        region = rng.choices(auto.regions, cum_weights=self.region_w[auto.firm.uscc])[0]
        u = rng.random()
        chem = (
            "LFP"
            if u < P.LFP_SHARE
            else "NCA"
            if u < P.LFP_SHARE + (1 - P.LFP_SHARE) * P.NCA_SHARE_OF_TERNARY
            else "NCM"
        )
        maker: Maker = rng.choices(self.makers, cum_weights=self.maker_w)[0]
        vin = f.vin(auto, model.vds, year)
        t_sale = f.business(sale_day)
        t_prod = f.business(sale_day - f.ri(15, 75))
        try:
            pack = f.pack(maker, chem, t_prod)
            clone = self._production_misfits(pack, t_prod)
            t = f.later(t_prod, 1, 3)
            emit(t, "shipped", maker.firm.uscc, {"battery": pack.code, "to": auto.firm.uscc})
            t = f.later(t, 1, 3)
            emit(t, "received", auto.firm.uscc, {"battery": pack.code})
            t_inst = f.business(sale_day - f.ri(1, 4))
            emit(
                t_inst,
                "installed",
                auto.firm.uscc,
                {"battery": pack.code, "vin": vin, "vehicle_model": model.name},
            )
            emit(
                t_sale,
                "vehicle_sold",
                auto.firm.uscc,
                {
                    "vin": vin,
                    "certificate_date": self.e.date(t_sale),
                    "location": {"region": region},
                },
            )
        except PastEnd:
            return
        if (auto.firm.uscc, region) in self.uncovered:
            self.uncovered[(auto.firm.uscc, region)].append(vin)
        fleet = rng.random() < P.FLEET_SHARE
        factor = P.FLEET_FACTOR if fleet else 1.0
        t_scrap = t_sale + int(rng.weibullvariate(*P.VEHICLE_LIFE) * factor * YEAR)
        cur, t_cur = pack, t_sale
        first_out: int | None = None
        while True:
            if rng.random() < P.DEFECT_SHARE:
                life, reason = rng.uniform(*P.DEFECT_YEARS), "defect"
            else:
                life, reason = rng.weibullvariate(*P.PACK_LIFE) * factor, "retired"
            t_fail = f.business((t_cur + int(life * YEAR)) // DAY)
            if t_fail >= t_scrap or not self.e.fits(t_fail) or t_fail <= t_cur + 30 * DAY:
                break
            new = self.replace(auto, model, region, vin, cur, t_fail, reason)
            if new is None:
                break
            first_out = first_out or t_fail
            cur, t_cur = new, t_fail
        if self.e.fits(t_scrap):
            self.scrap(auto, model, region, vin, cur, t_scrap)
            first_out = first_out or t_scrap
        self._vehicle_misfits(auto, model, pack, t_inst, first_out, t_prod if clone else None)

    def replace(
        self,
        auto: Automaker,
        model: Model,
        region: str,
        vin: str,
        old: Pack,
        t_fail: int,
        reason: str,
    ) -> Pack | None:
        """A repairer (a swap operator for swap models) replaces the pack at `t_fail`."""
        rng, f, emit = self.rng, self.f, self.e.emit
        firm = (
            rng.choice(self.ctx.country.swap_operators)
            if model.swap
            else (self.ctx.country.repairers[region])
        )
        maker = (
            old.maker
            if rng.random() < 0.7
            else rng.choices(self.makers, cum_weights=self.maker_w)[0]
        )
        t_new = f.business(t_fail // DAY - f.ri(12, 40))
        new = f.pack(maker, old.chem, t_new)
        t = f.later(t_new, 1, 3)
        emit(t, "shipped", maker.firm.uscc, {"battery": new.code, "to": firm.uscc})
        t = f.later(t, 1, 3)
        emit(t, "received", firm.uscc, {"battery": new.code})
        try:
            emit(
                t_fail,
                "replaced",
                firm.uscc,
                {"battery": new.code, "vin": vin, "removed": old.code, "reason": reason},
            )
        except PastEnd:
            return None
        self.after.run(old, firm.uscc, t_fail, automaker=auto.firm.uscc, region=region)
        return new

    def scrap(
        self, auto: Automaker, model: Model, region: str, vin: str, pack: Pack, t: int
    ) -> None:
        """The vehicle reaches a dismantler at `t`."""
        rng, emit = self.rng, self.e.emit
        c = self.ctx.country
        dismantler = c.dismantlers[region].uscc
        self._cert += 1
        cert = f"BF{region}{self._cert:08d}"
        base = {"vin": vin, "certificate_no": cert}
        if model.swap and rng.random() < 0.5:
            # the pack stays with the swap operator (exempt from BT-010), which removes it
            emit(t, "vehicle_scrapped", dismantler, {**base, "batteries_present": []})
            op = rng.choice(c.swap_operators).uscc
            tr = self.f.later(t, 1, 3)
            try:
                emit(tr, "removed", op, {"battery": pack.code, "vin": vin, "reason": "retired"})
            except PastEnd:
                return  # as of the end it still sits in the scrapped vehicle (not yet used)
            self.after.run(pack, op, tr, automaker=auto.firm.uscc, region=region)
            return
        if not model.swap and rng.random() < self.rate:
            key = emit(t, "vehicle_scrapped", dismantler, {**base, "batteries_present": []})
            self.labels.add(
                "BT-010",
                "scrapped_without_pack",
                events=[key],
                codes=[pack.code],
                vins=[vin],
                enterprise=auto.firm.uscc,
                subject=vin,
            )
            # The pack stays bound to the scrapped vehicle. It never reached the dismantler, so
            # BT-010 names it, not BT-021 (nobody can remove a pack that is not there), and it
            # is not a used battery for BT-022.
            return
        emit(t, "vehicle_scrapped", dismantler, {**base, "batteries_present": [pack.code]})
        self.after.run(pack, dismantler, t, automaker=auto.firm.uscc, region=region, vin=vin)

    # ------------------------------------------------------------ injected misfits
    def _production_misfits(self, pack: Pack, t: int) -> bool:
        """BT-001, BT-002, BT-006 around a pack's production; True to clone it (BT-003)."""
        rng, rate = self.rng, self.rate
        maker = pack.maker
        who = maker.firm.uscc
        if rng.random() < rate:
            self._bt001(pack, t + self.f.ri(10, 300))
        if rng.random() < rate:
            tf = t + self.f.ri(10, 300)
            forged = self.f.code(
                rng.choice(self.ctx.country.unassigned), "P", pack.letter, "P1", tf // DAY, 1
            )
            self._reject("BT-002", "forged_code", tf, who, self._produced(forged, pack), [forged])
        clone = rng.random() < rate
        if rng.random() < rate:
            tb = self.f.later(t, 1, 30)
            if rng.random() < 0.5:
                new = self.f.code(maker.prefix, "P", pack.letter, "P1", tb // DAY, 1)
                fields = self._produced(new, pack)
                fields["components"] = [m.code for m in pack.modules[:2]]
                self._reject("BT-006", "module_in_two_packs", tb, who, fields, [new])
            else:
                other = "E" if pack.letter == "B" else "B"
                chem = "NCM" if other == "E" else "LFP"
                mod = self.f.code(maker.prefix, "M", other, "M1", tb // DAY, 10)
                self.e.emit(
                    tb,
                    "produced",
                    who,
                    {
                        **self._produced(mod, pack),
                        "chemistry": chem,
                        "mass_kg": kg(pack.modules[0].mass_g),
                    },
                )
                new = self.f.code(maker.prefix, "P", pack.letter, "P1", tb // DAY, 1)
                fields = self._produced(new, pack)
                fields["components"] = [mod]
                self._reject("BT-006", "mixed_chemistry", tb + 1, who, fields, [new, mod])
        return clone

    def _bt001(self, pack: Pack, t: int) -> None:
        rng = self.rng
        who = pack.maker.firm.uscc
        if rng.random() < 0.5:
            other = "E" if pack.letter == "B" else "B"
            code = self.f.code(pack.maker.prefix, "P", other, "P1", t // DAY, 1)
            fields = self._produced(code, pack)  # chemistry of the pack, letter of the other
            kind = "chemistry_mismatch"
        else:
            good = self.f.code(pack.maker.prefix, "P", pack.letter, "P1", t // DAY, 1)
            code = good[:15] + "D" + good[16:]  # month 13
            fields = self._produced(code, pack)
            kind = "impossible_date"
        self._reject("BT-001", kind, t, who, fields, [code])

    def _produced(self, code: str, pack: Pack) -> dict[str, object]:
        return {
            "battery": code,
            "chemistry": pack.chem,
            "rated_capacity_ah": round(pack.kwh * 1000 / pack.volts, 1),
            "nominal_voltage_v": pack.volts,
            "energy_kwh": pack.kwh,
            "mass_kg": kg(pack.mass_g),
        }

    def _reject(
        self, rule: str, kind: str, t: int, who: str, fields: dict[str, object], codes: list[str]
    ) -> str | None:
        if not self.e.fits(t):
            return None
        key = self.e.emit(t, "produced", who, fields, rejected=True)
        self.labels.add(rule, kind, events=[key], codes=codes, enterprise=who, subject=key)
        return key

    def _vehicle_misfits(
        self,
        auto: Automaker,
        model: Model,
        pack: Pack,
        t_inst: int,
        first_out: int | None,
        clone_from: int | None,
    ) -> None:
        """BT-003 clones (while the original lives) and BT-005 double installation."""
        rng = self.rng
        if clone_from is not None:
            original, t = pack, clone_from
            tc = self.f.later(t, 5, 400)
            ends = original.ended_t
            if ends is None or tc < ends:
                cloner = rng.choice([m for m in self.makers if m is not original.maker])
                who = cloner.firm.uscc
                fields = self._produced(original.code, original)
                key = self._reject("BT-003", "cloned_code", tc, who, fields, [original.code])
                if key is not None:
                    # the cloner's prefix is not its own either: BT-002 comes with every clone
                    self.labels.add(
                        "BT-002",
                        "cloned_code",
                        events=[key],
                        codes=[original.code],
                        enterprise=who,
                        subject=key,
                    )
        if rng.random() < self.rate / 2:
            ti = self.f.later(t_inst, 1, 20)
            if first_out is None or ti < first_out:
                other = self.f.vin(auto, model.vds, dt.date.fromordinal(ti // DAY).year)
                fields = {"battery": pack.code, "vin": other, "vehicle_model": model.name}
                if self.e.fits(ti):
                    key = self.e.emit(ti, "installed", auto.firm.uscc, fields, rejected=True)
                    self.labels.add(
                        "BT-005",
                        "installed_twice",
                        events=[key],
                        codes=[pack.code],
                        vins=[other],
                        enterprise=auto.firm.uscc,
                        subject=key,
                    )

    # ------------------------------------------------------------ BT-024
    def _coverage_labels(self) -> None:
        for (who, region), vins in sorted(self.uncovered.items()):
            if vins:
                self.labels.add(
                    "BT-024",
                    "no_outlet_where_sold",
                    vins=vins[:20],
                    enterprise=who,
                    subject=f"{who}/{region}",
                    region=region,
                    vehicles=len(vins),
                )


__all__ = ["LETTER", "Fleet"]
