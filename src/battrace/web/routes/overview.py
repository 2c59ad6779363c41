"""The regulator's overview."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from battrace.analytics import overview as stats
from battrace.analytics.regions import TILES, province_name
from battrace.services import access
from battrace.services import log as log_service
from battrace.web import i18n
from battrace.web.context import State, Who, cached, render
from battrace.web.pages import html_errors

router = APIRouter()


@router.get("/overview")
@html_errors
def overview_page(request: Request, who: Who, state: State) -> Response:
    """Batteries by state and chemistry, events, retirements and findings per month, provinces,
    and the latest checkpoint (regulators)."""
    access.require_regulator(who.principal, "the overview")
    o: stats.Overview = cached(request, "overview", lambda: stats.overview(state.store))
    cp = log_service.latest_checkpoint(state.store)
    lang = who.lang
    regions = [
        {**r, "name": province_name(r["province"], lang)}
        for r in sorted(o.regions, key=lambda r: (-r["vehicles"], r["province"]))
    ]
    return render(
        request,
        who,
        "overview.html",
        o=o,
        cp=cp,
        regions=regions,
        tiles=_tiles(o, lang),
        charts=_charts(o, lang),
    )


def _charts(o: stats.Overview, lang: str) -> dict[str, Any]:
    """The data of the four charts (drawn by static/app.js with the vendored ECharts)."""

    def term(value: str) -> str:
        return i18n.term(value, lang)

    return {
        "state_chemistry": {
            "categories": [term(s) for s in o.states],
            "series": [
                {"name": chem, "data": [o.by_state_chemistry.get((s, chem), 0) for s in o.states]}
                for chem in o.chemistries
            ],
        },
        "events": {
            "categories": o.months,
            "series": [
                {
                    "name": i18n.t("events_per_month", lang),
                    "data": [o.events_per_month.get(m, 0) for m in o.months],
                }
            ],
        },
        "retirements": {
            "categories": o.months,
            "series": [
                {
                    "name": i18n.t("retirements_per_month", lang),
                    "data": [o.retirements_per_month.get(m, 0) for m in o.months],
                }
            ],
        },
        "findings": {
            "categories": o.months,
            "series": [
                {"name": rule, "data": [months.get(m, 0) for m in o.months]}
                for rule, months in o.findings_per_month.items()
            ],
        },
    }


def _tiles(o: stats.Overview, lang: str) -> list[dict[str, Any]]:
    """The province tile map: position, name, open findings and a shade 0–4."""
    by = {r["province"]: r for r in o.regions}
    top = max((r["findings"] for r in o.regions), default=0) or 1
    out = []
    for prefix, (row, col) in TILES.items():
        r = by.get(prefix)
        n = r["findings"] if r else 0
        out.append(
            {
                "prefix": prefix,
                "row": row + 1,
                "col": col + 1,
                "name": province_name(prefix, lang),
                "findings": n,
                "vehicles": r["vehicles"] if r else 0,
                "shade": 0 if not n else 1 + min(3, int(3 * n / top)),
            }
        )
    return out
