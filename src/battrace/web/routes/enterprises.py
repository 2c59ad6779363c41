"""Enterprise scorecards (all, and one), and the batteries an enterprise holds."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from battrace.analytics import holdings, scorecards
from battrace.analytics.regions import province_name
from battrace.errors import NotFound
from battrace.services import access
from battrace.web.context import State, Who, cached, render
from battrace.web.pages import PAGE, html_errors, pager, parse_offset

router = APIRouter()


@router.get("/enterprises")
@html_errors
def scorecards_page(request: Request, who: Who, state: State) -> Response:
    """Every enterprise's scorecard (regulators)."""
    access.require_regulator(who.principal, "all scorecards")
    rows = cached(request, "scorecards", lambda: scorecards.all_scorecards(state.store))
    role = request.query_params.get("role") or None
    if role:
        rows = [r for r in rows if role in r["roles"]]
    order = request.query_params.get("sort", "open_findings")
    if order in ("open_findings", "events_reported", "batteries_held", "late"):
        rows = sorted(rows, key=lambda r: (-(r[order] or 0), r["uscc"]))
    return render(request, who, "enterprises.html", rows=rows, role=role, sort=order)


@router.get("/enterprises/{uscc}")
@html_errors
def scorecard_page(request: Request, who: Who, state: State, uscc: str) -> Response:
    """One enterprise: on time by node, open findings, batteries held, mass balance."""
    access.require_own_or_regulator(who.principal, uscc, "scorecard")
    d = cached(
        request,
        ("scorecard", uscc),
        lambda: scorecards.scorecard_detail(state.store, uscc, policy=state.policy),
    )
    if d is None:
        raise NotFound(f"{uscc} is not a registered enterprise")
    return render(
        request,
        who,
        "enterprise.html",
        d=d,
        row=d.row,
        province=province_name((d.row["region"] or "")[:2], who.lang),
    )


@router.get("/batteries")
@html_errors
def holdings_page(request: Request, who: Who, state: State) -> Response:
    """The codes an enterprise holds (regulators: any holder; an enterprise: its own)."""
    access.require_key(who.principal, "batteries of a holder")
    holder = request.query_params.get("holder") or who.enterprise or ""
    access.require_own_or_regulator(who.principal, holder, "batteries")
    offset = parse_offset(request.query_params.get("offset"))
    st = request.query_params.get("state") or None
    items, total = holdings.of_holder(state.store, holder, state=st, limit=PAGE, offset=offset)
    return render(
        request,
        who,
        "batteries.html",
        holder=holder,
        items=items,
        incoming=holdings.incoming(state.store, holder) if not offset and not st else [],
        state_filter=st,
        page=pager(offset, len(items), total),
    )
