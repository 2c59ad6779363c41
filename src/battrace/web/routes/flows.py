"""Flows: a Sankey of batteries between enterprises, for a period and region."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from battrace.analytics import flows as fl
from battrace.services import access
from battrace.web import i18n
from battrace.web.context import State, Who, cached, render
from battrace.web.pages import html_errors, parse_day

router = APIRouter()


@router.get("/flows")
@html_errors
def flows_page(request: Request, who: Who, state: State) -> Response:
    """The Sankey and the table of its largest links, unqualified recipients first
    (regulators)."""
    access.require_regulator(who.principal, "flows")
    q = request.query_params
    since, until = parse_day(q.get("since")), parse_day(q.get("until"))
    region = (q.get("region") or "").strip()[:6] or None
    f: fl.Flows = cached(
        request,
        ("flows", since, until, region),
        lambda: fl.flows(state.store, since=since, until=until, region=region),
    )
    names = {n.id: n.name for n in f.nodes}
    stages = [i18n.t(f"stage_{s}", who.lang) for s in fl.STAGE_NAMES]
    chart = {
        "nodes": [
            {
                "name": n.id,
                "label": n.name,
                "depth": n.stage,
                "unqualified": n.unqualified,
                "stage": stages[min(n.stage, len(stages) - 1)],
            }
            for n in f.nodes
        ],
        "links": [
            {"source": lk.source, "target": lk.target, "value": lk.batteries, "flagged": lk.flagged}
            for lk in f.links
        ],
        "flaggedLabel": i18n.t("flagged", who.lang),
    }
    return render(
        request,
        who,
        "flows.html",
        f=f,
        since=since,
        until=until,
        region=region,
        names=names,
        stages=stages,
        unqualified=fl.unqualified_recipients(f),
        top=f.links[:30],
        charts={"sankey": chart},
    )
