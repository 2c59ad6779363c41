"""Enterprise upload: templates per event type, and a filled-in sheet ingested row by row
through the API's ingest path (`ApiState.ingest`: the caller's reporter check, then the one
ingestor) — there is no second write path."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from battrace.domain.rules import RULES
from battrace.errors import AccessDenied
from battrace.services import access
from battrace.web import session, sheets
from battrace.web.context import State, Web, Who, finish, render
from battrace.web.pages import error_page, html_errors
from battrace.web.tabular import CSV_TYPE, XLSX_TYPE

router = APIRouter()


@router.get("/upload")
@html_errors
def upload_form(request: Request, who: Who) -> Response:
    """The upload page with a template per event type."""
    access.require_key(who.principal, "uploads")
    return render(request, who, "upload.html", **_page(None, "shipped"))


@router.get("/upload/template/{event_type}.{fmt}")
@html_errors
def template_file(request: Request, who: Who, event_type: str, fmt: str) -> Response:
    """An empty template (CSV or XLSX) with Chinese headers."""
    if event_type not in sheets.TEMPLATES or fmt not in ("csv", "xlsx"):
        return error_page(request, who, 404, "not_found", f"no template {event_type}.{fmt}")
    body = sheets.template(event_type, fmt)
    resp = Response(
        body,
        media_type=XLSX_TYPE if fmt == "xlsx" else CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="battrace-{event_type}.{fmt}"'},
    )
    return finish(resp, who)


@router.post("/upload")
@html_errors
async def upload(
    request: Request,
    who: Who,
    state: State,
    web: Web,
    event_type: Annotated[str, Form(max_length=32)],
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Read the sheet, send its readable rows to ingest as the signed-in enterprise, and show
    every row's outcome next to its cells."""
    me = access.require_key(who.principal, "uploads")
    if not session.check_csrf(web.secret, who.session, csrf):
        raise AccessDenied("the form expired: reload the page and upload again")
    data = await file.read(sheets.MAX_BYTES + 1)
    try:
        table = sheets.read_table(file.filename or "", data)
        rows = sheets.parse(event_type, table, reporter=me)
    except sheets.SheetError as exc:
        msg = exc.zh if who.lang == "zh" else exc.en
        return render(request, who, "upload.html", status_code=422, **_page(None, event_type, msg))
    ready = [r for r in rows if r.event is not None]
    results = []
    if ready:
        results = await run_in_threadpool(
            state.ingest, who.principal, [r.event for r in ready], source="web", receipts=False
        )
    outcome: dict[int, Any] = {r.line: x.result for r, x in zip(ready, results, strict=True)}
    report = [_report(r, outcome.get(r.line), who.lang, event_type) for r in rows]
    return render(request, who, "upload.html", **_page(report, event_type))


def _page(
    report: list[dict[str, Any]] | None, event_type: str, error: str | None = None
) -> dict[str, Any]:
    counts = {"rows": 0, "accepted": 0, "duplicates": 0, "rejected": 0}
    for r in report or []:
        counts["rows"] += 1
        key = {"accepted": "accepted", "duplicate": "duplicates"}.get(r["status"], "rejected")
        counts[key] += 1
    return {
        "types": list(sheets.TEMPLATES),
        "event_type": event_type if event_type in sheets.TEMPLATES else "shipped",
        "columns": sheets.columns(event_type) if event_type in sheets.TEMPLATES else (),
        "report": report,
        "counts": counts,
        "error": error,
    }


def _report(row: sheets.Row, result: Any, lang: str, event_type: str) -> dict[str, Any]:
    """A row's outcome in plain words: the cell it is about, the rule's title, the reason."""
    zh = lang == "zh"
    if result is None:
        problems = [p[0] if zh else p[1] for p in row.problems]
        return {
            "line": row.line,
            "cells": row.cells,
            "status": "skipped",
            "problems": problems,
            "flags": [],
        }
    names = {c.key: (c.zh if zh else c.en) for c in sheets.columns(event_type)}
    problems = []
    for reason in result.reasons:
        where = names.get(reason.field, reason.field)
        rule = RULES.get(reason.rule or "")
        title = (rule.title_zh if zh else rule.title_en) if rule else None
        problems.append(f"{where}：{reason.message}" + (f"（{title}）" if title else ""))
    flags = [
        f"{f} {RULES[f].title_zh if zh else RULES[f].title_en}" if f in RULES else f
        for f in result.flags
    ]
    return {
        "line": row.line,
        "cells": row.cells,
        "status": result.status,
        "problems": problems,
        "flags": flags,
        "id": result.id,
        "leaf_index": result.seq,
    }
