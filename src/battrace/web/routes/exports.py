"""Every table as CSV or XLSX: findings (as filtered on the page), scorecards, the batteries
of a holder, and the overview's province table. Headers are in the viewer's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from battrace.analytics import findings as fa
from battrace.analytics import holdings, scorecards
from battrace.analytics import overview as ov
from battrace.analytics.regions import province_name
from battrace.errors import NotFound
from battrace.services import access
from battrace.web import i18n
from battrace.web.context import State, Who, cached, finish
from battrace.web.pages import html_errors
from battrace.web.routes.findings import finding_filter
from battrace.web.tabular import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx

router = APIRouter()
#: the largest export (a holder may hold many codes; the API pages beyond)
MAX_ROWS = 200_000

Table = tuple[list[str], list[list[Any]]]


def _findings(request: Request, who: Who, state: Any) -> Table:
    f = finding_filter(request, who)
    found, _ = fa.find(state.store, f, limit=MAX_ROWS)
    items = [access.shape_finding(who.principal, i) for i in found]
    heads = ["id", "rule", "severity", "enterprise", "enterprise_name", "region", "status",
             "found_at", "as_of", "codes", "vins", "events", "message_zh",
             "message_en"]  # fmt: skip
    return heads, [[i.get(h) for h in heads] for i in items]


def _scorecards(request: Request, who: Who, state: Any) -> Table:
    access.require_key(who.principal, "scorecards")
    if who.principal.is_regulator:
        rows = cached(request, "scorecards", lambda: scorecards.all_scorecards(state.store))
    else:
        rows = scorecards.all_scorecards(state.store, enterprise=who.enterprise)
    heads = ["uscc", "name", "roles", "region", "events_reported", "on_time_pct", "reportable",
             "late", "complete_pct", "gaps", "open_findings", "batteries_held", "retired_held",
             "as_of"]  # fmt: skip
    return heads, [[r.get(h) for h in heads] for r in rows]


def _batteries(request: Request, who: Who, state: Any) -> Table:
    holder = request.query_params.get("holder") or who.enterprise or ""
    access.require_own_or_regulator(who.principal, holder, "batteries")
    items, _ = holdings.of_holder(state.store, holder, limit=MAX_ROWS)
    items += holdings.incoming(state.store, holder, limit=MAX_ROWS)
    heads = [*holdings.COLUMNS, "holder"]
    return heads, [[i.get(h) for h in heads] for i in items]


def _regions(request: Request, who: Who, state: Any) -> Table:
    access.require_regulator(who.principal, "the overview")
    o: ov.Overview = cached(request, "overview", lambda: ov.overview(state.store))
    heads = ["province", "province_name", "enterprises", "vehicles", "held", "retired_held",
             "findings"]  # fmt: skip
    rows = [{**r, "province_name": province_name(r["province"], who.lang)} for r in o.regions]
    return heads, [[r.get(h) for h in heads] for r in rows]


TABLES: dict[str, Callable[[Request, Who, Any], Table]] = {
    "findings": _findings,
    "scorecards": _scorecards,
    "batteries": _batteries,
    "regions": _regions,
}
#: header words for the columns that have a page label
HEADERS = {
    "rule": "rule", "severity": "severity", "enterprise": "enterprise", "region": "region",
    "status": "status", "found_at": "found_at", "codes": "codes", "vins": "vins",
    "events": "evidence", "name": "enterprise", "roles": "roles",
    "events_reported": "events_reported", "on_time_pct": "on_time_pct", "late": "late",
    "complete_pct": "complete_pct", "open_findings": "open_findings",
    "batteries_held": "batteries_held", "retired_held": "retired_held", "code": "code",
    "chemistry": "chemistry", "state": "state", "vin": "vin", "holder": "holder",
    "product_type": "product_type", "province": "province", "enterprises": "col_enterprises",
    "vehicles": "col_vehicles", "held": "col_held", "findings": "col_findings",
    "province_name": "province", "id": "x_id", "enterprise_name": "x_enterprise_name",
    "as_of": "x_as_of", "message_zh": "x_message_zh", "message_en": "x_message_en",
    "uscc": "x_uscc", "reportable": "x_reportable", "gaps": "x_gaps", "as_of_day": "x_as_of",
    "retired": "x_retired", "reprocessed": "x_reprocessed", "to_party": "x_to_party",
    "mass_kg": "mass_kg", "energy_kwh": "x_energy_kwh", "since": "since_time",
}  # fmt: skip


@router.get("/export/{table}.{fmt}")
@html_errors
def export(request: Request, who: Who, state: State, table: str, fmt: str) -> Response:
    """Download a table."""
    if table not in TABLES or fmt not in ("csv", "xlsx"):
        raise NotFound(f"no export {table}.{fmt}")
    heads, rows = TABLES[table](request, who, state)
    words = [f"{i18n.t(HEADERS[h], who.lang)} ({h})" if h in HEADERS else h for h in heads]
    if fmt == "csv":
        body, media = to_csv(words, rows), CSV_TYPE
    else:
        body, media = to_xlsx(words, rows, title=table), XLSX_TYPE
    resp = Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="battrace-{table}.{fmt}"'},
    )
    return finish(resp, who)
