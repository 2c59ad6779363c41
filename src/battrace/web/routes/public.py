"""The public lookup at `/b/{code}` (the short URL a label encodes) and the label generator.

The lookup always shows the public tier, whoever is signed in: it is the page a member of the
public, a market inspector or a buyer of a second-hand battery sees after scanning a label.
"""

from __future__ import annotations

import urllib.parse
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from battrace.errors import NotFound
from battrace.identity.detect import check_identifier
from battrace.services import access
from battrace.web import labels
from battrace.web.context import State, Who, finish, get_state, render

router = APIRouter()
MAX_CODE = 64


@router.get("/b")
def lookup_form(request: Request, who: Who, code: str | None = None) -> Response:
    """The lookup form (a submitted code goes to its short URL)."""
    if code and code.strip():
        clean = code.strip().upper()[:MAX_CODE]
        # quoted whole: a "/" or "?" typed into the box must stay part of the code
        target = f"/b/{urllib.parse.quote(clean, safe='')}"
        return finish(RedirectResponse(target, status_code=303), who)
    return render(request, who, "lookup.html", code="", result=None, check=None)


@router.get("/b/{code}")
def lookup(request: Request, who: Who, state: State, code: str) -> Response:
    """A code's public identity and status, with a warning for retired traction batteries."""
    code = code.strip().upper()[:MAX_CODE]
    check = check_identifier(code, tables=state.settings.code_tables)
    result = None
    status = 200
    if check.kind.startswith("battery") and check.valid:
        try:
            result = access.battery_view(
                state.store,
                access.PUBLIC,
                code,
                policy=state.policy,
                tables=state.settings.code_tables,
            )
        except NotFound:
            status = 404
    else:
        status = 404
    return render(
        request,
        who,
        "lookup.html",
        status_code=status,
        code=code,
        result=result,
        check=check,
        warn_retired=bool(result and result["status"] in RETIRED_CATEGORIES),
    )


#: public status categories of a battery that left traction use (EVENTS.md lifecycle)
RETIRED_CATEGORIES = ("retired", "reprocessed", "dismantled", "recycled")


def _short_url(request: Request, code: str) -> str:
    """What a label encodes: the configured public address (BATTRACE_PUBLIC_URL), else the
    one this request came to — its Host header, which any client sets."""
    base = get_state(request).settings.public_url or str(request.base_url)
    return base.rstrip("/") + f"/b/{code}"


def _labelled(request: Request, code: str) -> bool:
    """Labels are printed for battery codes only (a valid GB/T 34014 code of either form)."""
    check = check_identifier(code, tables=get_state(request).settings.code_tables)
    return check.valid and check.kind.startswith("battery")


@router.get("/labels")
def label_page(
    request: Request,
    who: Who,
    code: Annotated[str, Query(max_length=MAX_CODE)] = "",
    mm: Annotated[str | None, Query(max_length=4)] = None,
) -> Response:
    """The label generator: preview and downloads for a code."""
    code = code.strip().upper()
    size = labels.clamp_mm(mm)
    check = check_identifier(code) if code else None
    return render(
        request,
        who,
        "label.html",
        code=code,
        mm=size,
        check=check,
        printable=bool(code) and _labelled(request, code),
        url=_short_url(request, code) if code else "",
    )


@router.get("/labels/{code}.{ext}")
def label_file(request: Request, who: Who, code: str, ext: str, mm: str | None = None) -> Response:
    """`CODE.svg` / `CODE.png` (QR), `CODE.dm.svg` / `CODE.dm.png` (Data Matrix)."""
    symbology: labels.Symbology = "qr"
    if code.endswith(".dm"):
        code, symbology = code[:-3], "dm"
    code = code.strip().upper()[:MAX_CODE]
    if not _labelled(request, code):
        return Response(f"no label for {code!r}: not a battery code", status_code=404)
    size = labels.clamp_mm(mm)
    data = _short_url(request, code)
    name = f"{code}{'.dm' if symbology == 'dm' else ''}.{ext}"
    disposition = {"Content-Disposition": f'inline; filename="{name}"'}
    if ext == "svg":
        body = labels.label_svg(data, code, mm=size, symbology=symbology).encode()
        resp = Response(body, media_type="image/svg+xml", headers=disposition)
    elif ext == "png":
        png = labels.label_png(data, mm=size, symbology=symbology)
        resp = Response(png, media_type="image/png", headers=disposition)
    else:
        return Response("unknown format: use .svg or .png", status_code=404)
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return finish(resp, who)
