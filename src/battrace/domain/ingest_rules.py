"""Ingest-time compliance rules that record *and flag* (RULES.md): BT-010 … BT-014, BT-020.

They run on an accepted event with the states of its subjects just before and after it; each
returns `Flag`s (rule, responsible enterprise, codes/VINs, facts for the message). Thresholds
and deadlines come from the policy; working days from the official calendar.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from battrace.domain.calendar import WorkingCalendar
from battrace.domain.decide import Flag
from battrace.domain.events import Event
from battrace.domain.lifecycle import Battery, Vehicle
from battrace.domain.policy import Policy
from battrace.domain.registry import Registry
from battrace.domain.vocab import APPLICATION_NAMES, CHEMISTRY_ELEMENTS, EventType, Scope, State

T = EventType

#: GB/T 45565 e-bike module/pack/system codes carry E, F or G where GB/T 34014 has P, M, C
#: (CODES.md §2); the rest of the layout is assumed to follow GB/T 34014 [unsure]
_EBIKE_CODE = re.compile(r"[0-9A-Z]{3}[EFG][0-9A-Z]{20}")


@dataclass(slots=True)
class FlagContext:
    """What the flag rules see about one accepted event."""

    before: dict[str, Battery | None]
    after: dict[str, Battery]
    vehicle_before: Vehicle | None
    vehicle_after: Vehicle | None
    registry: Registry
    recorded_at: dt.datetime
    #: the current state of any other code (e.g. a pack missing from a scrapped vehicle)
    lookup: Callable[[str], Battery | None]


class IngestRules:
    """The flag rules, judged under one policy and one working-day calendar."""

    def __init__(self, policy: Policy, calendar: WorkingCalendar) -> None:
        self.policy = policy
        self.calendar = calendar
        self._last_recorded: tuple[dt.datetime | None, dt.date] = (None, dt.date.min)
        self._by_type: dict[EventType, tuple[Callable[[Event, FlagContext], list[Flag]], ...]] = {
            T.VEHICLE_SCRAPPED: (self.integrated_scrapping,),
            T.SHIPPED: (self.qualified_recipient,),
            T.REPROCESSED: (
                self.qualified_processor,
                self.prohibited_application,
                self.quality_conformity,
            ),
            T.DEPLOYED: (self.prohibited_application, self.quality_conformity),
            T.DISMANTLED: (self.qualified_processor,),
            T.RECYCLED: (self.qualified_processor, self.recovery_rate),
        }

    def _recorded_day(self, moment: dt.datetime) -> dt.date:
        """`policy.local_date` of a record time (a batch shares one: remembered)."""
        last = self._last_recorded
        if moment != last[0]:
            self._last_recorded = last = (moment, self.policy.local_date(moment))
        return last[1]

    @property
    def policy_version(self) -> str:
        """The policy version findings record."""
        return self.policy.version

    def rejected(self, raw: Any) -> list[Flag]:
        """Flags for an event refused at validation that the regulator must still see: a
        product reported under what looks like a GB/T 45565 e-bike code (BT-012), which no
        GB/T 34014 code can be (`recoding.flag_ebike_codes`)."""
        if not self.policy.recoding.flag_ebike_codes or not isinstance(raw, dict):
            return []
        code, reporter = raw.get("battery"), raw.get("reporter")
        if raw.get("type") not in ("reprocessed", "deployed") or not isinstance(reporter, str):
            return []
        if not isinstance(code, str) or not _EBIKE_CODE.fullmatch(code):
            return []
        inputs = [c for c in raw.get("inputs") or () if isinstance(c, str)]
        app = raw.get("application")
        app = app if isinstance(app, str) else "?"
        return [
            Flag(
                "BT-012",
                reporter,
                (code, *inputs),
                (),
                code,
                {
                    "reporter": reporter,
                    "code": code,
                    "application": f"{app} (an e-bike code)",
                    "application_zh": f"{_application_zh(app)}（电动自行车编码）",
                    **_origin(inputs, otherwise=("an unregistered code", "未登记的编码")),
                    "day": str(raw.get("time", "?"))[:10],
                },
            )
        ]

    def flags(self, ev: Event, ctx: FlagContext) -> list[Flag]:
        """Every flag `ev` raises."""
        out: list[Flag] = []
        for check in self._by_type.get(ev.type, ()):
            out += check(ev, ctx)
        out += self.late_report(ev, ctx)
        return out

    # ------------------------------------------------------------ BT-010
    def integrated_scrapping(self, ev: Event, ctx: FlagContext) -> list[Flag]:
        """A non-swap vehicle scrapped without the pack(s) bound to it."""
        v = ctx.vehicle_before
        if v is None or not v.packs:
            return []
        model = ctx.registry.models.get(v.model or "")
        if model is not None and model.swap_model:
            return []
        present = set(ev.payload["batteries_present"])
        missing = [c for c in v.packs if c not in present]
        if not missing:
            return []
        states = {c: ctx.lookup(c) for c in missing}
        holders = sorted({b.holder for b in states.values() if b is not None})
        return [
            Flag(
                "BT-010",
                v.automaker,
                tuple(missing),
                (v.vin,),
                v.vin,
                {
                    "vin": v.vin,
                    "model": v.model or "?",
                    "automaker": v.automaker or "?",
                    "reporter": ev.reporter,
                    "day": _day(ev, self.policy),
                    "missing": ", ".join(missing),
                    "last_holder": ", ".join(holders) or "?",
                    "last_holders": holders,
                },
                tuple(b.last_seq for b in states.values() if b is not None),
            )
        ]

    # ------------------------------------------------------------ BT-011
    def qualified_recipient(self, ev: Event, ctx: FlagContext) -> list[Flag]:
        """A used battery shipped to an enterprise that may not take it."""
        to = ev.payload["to"]
        day = self.policy.local_date(ev.time)
        reg = ctx.registry
        bad = []
        for code in ev.batteries:
            b = ctx.before.get(code)
            if b is None or not (b.retired or b.state in (State.USED, State.IN_USE)):
                continue
            maker = reg.manufacturer_codes.get(b.manufacturer)
            if to in (b.obligated, maker) or reg.serves(to, b.obligated):
                continue
            if reg.qualified(to, day):
                continue
            bad.append(code)
        if not bad:
            return []
        return [
            Flag(
                "BT-011",
                ev.reporter,
                tuple(bad),
                (),
                f"{ev.reporter}->{to}",
                {
                    "reporter": ev.reporter,
                    "recipient": to,
                    "codes": ", ".join(bad),
                    "day": day.isoformat(),
                    "scope": "reprocessing or recycling",
                    "scope_zh": "综合利用",
                },
            )
        ]

    def qualified_processor(self, ev: Event, ctx: FlagContext) -> list[Flag]:
        """Reprocessing without a reprocessing qualification, recycling without a recycling one
        (dismantling is part of either: a reprocessor takes packs apart to reuse modules)."""
        scope = Scope.REPROCESSING if ev.type is T.REPROCESSED else Scope.RECYCLING
        day = self.policy.local_date(ev.time)
        if ctx.registry.qualified(ev.reporter, day, scope):
            return []
        if ev.type is T.DISMANTLED and ctx.registry.qualified(ev.reporter, day):
            return []
        codes = tuple(ev.payload.get("inputs") or [ev.payload["battery"]])
        return [
            Flag(
                "BT-011",
                ev.reporter,
                codes,
                (),
                f"{ev.reporter}:{scope.value}",
                {
                    "reporter": ev.reporter,
                    "recipient": ev.reporter,
                    "codes": ", ".join(codes),
                    "day": day.isoformat(),
                    "scope": scope.value,
                    "scope_zh": "再生利用" if scope is Scope.RECYCLING else "梯次利用（再加工）",
                },
            )
        ]

    # ------------------------------------------------------------ BT-012
    def prohibited_application(self, ev: Event, ctx: FlagContext) -> list[Flag]:
        """Retired traction batteries put, or re-coded, into a prohibited use."""
        p = ev.payload
        app = p["application"]
        code = p["battery"]
        if self.policy.is_prohibited(app):
            why, why_zh = app, _application_zh(app)
        elif ev.type is T.REPROCESSED and self._ebike_like(p):
            why = f"{app} (rated like an e-bike battery)"
            why_zh = f"{_application_zh(app)}（额定参数与电动自行车电池相当）"
        else:
            return []
        b = ctx.before.get(code)
        came = (
            ("reprocessed product", "再生产品")
            if b is not None and b.reprocessed
            else ("retired pack", "退役电池包")
        )
        return [
            Flag(
                "BT-012",
                ev.reporter,
                (code, *p.get("inputs", ())),
                (),
                code,
                {
                    "reporter": ev.reporter,
                    "code": code,
                    "application": why,
                    "application_zh": why_zh,
                    **_origin(p.get("inputs") or [], otherwise=came),
                    "day": _day(ev, self.policy),
                },
            )
        ]

    def _ebike_like(self, p: dict[str, object]) -> bool:
        h = self.policy.recoding
        if not h.flag_ebike_like_products:
            return False
        volts, kwh = p.get("nominal_voltage_v"), p.get("energy_kwh")
        if not isinstance(volts, int | float) or not isinstance(kwh, int | float):
            return False
        return Decimal(str(volts)) <= h.ebike_like_max_voltage_v and (
            Decimal(str(kwh)) <= h.ebike_like_max_energy_kwh
        )

    # ------------------------------------------------------------ BT-013
    def quality_conformity(self, ev: Event, ctx: FlagContext) -> list[Flag]:
        """A reprocessed product without a standard for its application or its tests."""
        p = ev.payload
        app = p["application"]
        problems: list[tuple[str, str]] = []
        if ev.type is T.DEPLOYED:
            b = ctx.before.get(p["battery"])
            if b is None or b.reprocessed or self.policy.is_prohibited(app):
                return []
            problems.append(("was put to use without being reprocessed", "未经再加工即投入使用"))
        else:
            standard = p.get("standard")
            if not standard or not str(standard).strip():
                problems.append(("names no standard", "未标明执行标准"))
            elif self.policy.standards_for(app) and not self.policy.standard_accepted(
                app, standard
            ):
                wanted = ", ".join(self.policy.standards_for(app))
                problems.append(
                    (
                        f"names {standard}, not a standard for {app} ({wanted})",
                        f"标明的标准 {standard} 不适用于该用途（应为 {wanted}）",
                    )
                )
            missing = self.policy.missing_tests(p.get("tests"))
            if missing:
                problems.append(
                    (
                        f"lacks the test result(s) {', '.join(missing)}",
                        f"缺少检测结果：{', '.join(missing)}",
                    )
                )
        if not problems:
            return []
        return [
            Flag(
                "BT-013",
                ev.reporter,
                (p["battery"],),
                (),
                p["battery"],
                {
                    "reporter": ev.reporter,
                    "code": p["battery"],
                    "application": app,
                    "application_zh": _application_zh(app),
                    "day": _day(ev, self.policy),
                    "problem": "; ".join(en for en, _ in problems),
                    "problem_zh": "；".join(zh for _, zh in problems),
                },
            )
        ]

    # ------------------------------------------------------------ BT-014
    def recovery_rate(self, ev: Event, ctx: FlagContext) -> list[Flag]:
        """Material recovery below the policy's minimum rates."""
        p = ev.payload
        recovered, contained = p["recovered"], p["contained"]
        shortfalls = []
        rates = {}
        for element, minimum in self.policy.recovery_min_pct.items():
            held = Decimal(str(contained.get(element, 0)))
            if held <= 0:
                continue
            got = Decimal(str(recovered.get(element, 0)))
            rate = got / held * 100
            rates[element] = str(round(rate, 2))
            if rate < minimum:
                shortfalls.append(f"{element} {round(rate, 2)} % < {minimum} %")
        b = ctx.before.get(p["battery"])
        expected = CHEMISTRY_ELEMENTS.get(b.chemistry, frozenset()) if b else frozenset()
        missing = sorted(
            e for e in expected & self.policy.recovery_min_pct.keys() if e not in contained
        )
        for element in missing:
            shortfalls.append(
                f"{element} not declared (a {b.chemistry if b else '?'} battery contains it)"
            )
        if not shortfalls:
            return []
        return [
            Flag(
                "BT-014",
                ev.reporter,
                (p["battery"],),
                (),
                p["battery"],
                {
                    "reporter": ev.reporter,
                    "code": p["battery"],
                    "day": _day(ev, self.policy),
                    "shortfalls": "; ".join(shortfalls),
                    "rates_pct": rates,
                    "elements_not_declared": missing,
                },
            )
        ]

    # ------------------------------------------------------------ BT-020
    def late_report(self, ev: Event, ctx: FlagContext) -> list[Flag]:
        """Recorded later than the node's limit in working days."""
        roles = ctx.registry.roles_of(ev.reporter)
        limit = self.policy.reporting_limit(ev.type._value_, roles, ev)
        if limit is None:
            return []
        recorded_day = self._recorded_day(ctx.recorded_at)
        if recorded_day.toordinal() - limit.clock_date.toordinal() <= limit.limit_wd:
            return []  # within `limit` calendar days: within `limit` working days
        lateness = self.calendar.is_late(limit.clock_date, recorded_day, limit.limit_wd)
        if not lateness.late:
            return []
        note_en = f" — {lateness.note}" if lateness.note else ""
        return [
            Flag(
                "BT-020",
                ev.reporter,
                tuple(c for c in (ev.payload.get("battery"),) if c) or tuple(ev.batteries),
                tuple(v for v in (ev.payload.get("vin"),) if v),
                f"{ev.reporter}/{ev.id}",
                {
                    "reporter": ev.reporter,
                    "event_id": ev.id,
                    "node": limit.node.label_en,
                    "node_zh": limit.node.label_zh,
                    "node_name": limit.node.name,
                    "day": limit.clock_date.isoformat(),
                    "recorded_day": recorded_day.isoformat(),
                    "limit": limit.limit_wd,
                    "deadline": lateness.deadline.isoformat(),
                    "working_days_taken": lateness.working_days_taken,
                    "calendar_exact": lateness.exact,
                    "calendar_note": note_en,
                    "calendar_note_zh": f"（注意：{lateness.note_zh}）" if lateness.note_zh else "",
                },
            )
        ]


def _day(ev: Event, policy: Policy) -> str:
    return policy.local_date(ev.time).isoformat()


def _application_zh(app: str) -> str:
    """An application's Chinese name (its own name when the policy added one unnamed)."""
    names = APPLICATION_NAMES.get(app)
    return names[0] if names else app


def _origin(inputs: list[str], *, otherwise: tuple[str, str]) -> dict[str, str]:
    """Where a battery put to a prohibited use came from, in English and Chinese (BT-012):
    the codes it was re-coded from, or `otherwise` (English, Chinese) when it names none."""
    if inputs:
        return {
            "origin": "re-coded from " + ", ".join(inputs),
            "origin_zh": "由 " + "、".join(inputs) + " 改码",
        }
    return {"origin": otherwise[0], "origin_zh": otherwise[1]}
