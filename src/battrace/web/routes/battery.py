"""A battery's page: identity, timeline, holders, vehicles, components, reprocessing links,
and each event's inclusion proof checked against the latest signed checkpoint."""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from battrace.errors import NotFound
from battrace.ledger.documents import verify_document
from battrace.services import access
from battrace.store.sql import SqlStore
from battrace.web.context import State, Who, finish, render
from battrace.web.pages import html_errors

router = APIRouter()
#: events whose reporter takes custody of the code (EVENTS.md, docs/events.md "Custody")
TAKES_CUSTODY = {
    "produced",
    "received",
    "collected",
    "removed",
    "replaced",
    "vehicle_scrapped",
    "reprocessed",
    "dismantled",
}
MAX_TREE = 200
#: the characters a battery code has (GB/T 34014): nothing else may reach a header
CODE_CHARS = re.compile(r"[0-9A-Z]{1,64}")


@router.get("/battery/{code}")
@html_errors
def battery_page(request: Request, who: Who, state: State, code: str) -> Response:
    """The full page for regulators and involved enterprises; others go to the public page."""
    code = code.strip().upper()
    view = access.battery_view(
        state.store, who.principal, code, policy=state.policy, tables=state.settings.code_tables
    )
    if view["view"] != "full":
        return finish(RedirectResponse(f"/b/{code}", status_code=303), who)
    history = view["history"]
    proofs = _proofs(state, who, code)
    return render(
        request,
        who,
        "battery.html",
        v=view,
        code=code,
        history=history,
        holders=holders_chain(code, history),
        vins=_vins(history),
        tree=component_tree(state.store, code),
        proofs=proofs,
    )


@router.get("/battery/{code}/bundle.json")
@html_errors
def bundle_download(request: Request, who: Who, state: State, code: str) -> Response:
    """The history bundle (events with inclusion proofs), to verify offline with
    `battrace verify-proof`."""
    code = code.strip().upper()
    if not CODE_CHARS.fullmatch(code):
        raise NotFound(f"{code[:64]!r} is not a battery code")
    bundle = access.battery_bundle(state.store, who.principal, code)
    resp = Response(
        orjson.dumps(bundle, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{code}.bundle.json"'},
    )
    return finish(resp, who)


def _proofs(state: Any, who: Who, code: str) -> dict[str, Any]:
    """Per leaf index: verified / failed (with why) / pending (after the checkpoint)."""
    if state.verifier is None:  # nothing to check the bundle against
        return {"size": None, "by_leaf": {}, "checkpoint_ok": None}
    try:
        bundle = access.battery_bundle(state.store, who.principal, code)
    except NotFound:
        return {"size": None, "by_leaf": {}, "checkpoint_ok": None}
    by_leaf: dict[int, dict[str, Any]] = {}
    report = verify_document(bundle, state.verifier)
    cp_ok = all(c.ok for c in report.checks if c.name in ("format", "checkpoint"))
    size = report.checkpoint.size if report.checkpoint is not None else None
    for check in report.checks:
        label, _, step = check.name.partition(": ")
        if not label.startswith("leaf ") or not step:
            continue
        leaf = int(label.split()[1])
        entry = by_leaf.setdefault(leaf, {"ok": True, "why": []})
        if not check.ok:
            entry["ok"] = False
            entry["why"].append(check.message)
    for entry in by_leaf.values():
        entry["ok"] = entry["ok"] and cp_ok
    return {"size": size, "by_leaf": by_leaf, "checkpoint_ok": cp_ok}


def holders_chain(code: str, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Who held the code, in order: each custody-taking event's reporter, from when."""
    chain: list[dict[str, Any]] = []
    for e in history:
        if e.get("withdrawn_by_leaf") is not None or e.get("type") not in TAKES_CUSTODY:
            continue
        kind = e["type"]
        if kind == "replaced" and e.get("battery") == code:
            continue  # the new pack goes into a vehicle, not into the reporter's stock
        who = e.get("reporter")
        if chain and chain[-1]["holder"] == who:
            continue
        chain.append({"holder": who, "since": e.get("time"), "by": kind})
    return chain


def _vins(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The vehicles the code was bound to, with the events that name them."""
    seen: dict[str, dict[str, Any]] = {}
    for e in history:
        vin = e.get("vin")
        if vin and e.get("withdrawn_by_leaf") is None:
            item = seen.setdefault(vin, {"vin": vin, "first": e.get("time"), "events": []})
            item["events"].append(e.get("type"))
            item["last"] = e.get("time")
    return list(seen.values())


def component_tree(store: SqlStore, code: str) -> dict[str, Any]:
    """The code's parent chain up to its pack, and its components down to cells (bounded)."""
    up: list[str] = []
    b = store.battery(code)
    while b is not None and b.parent and len(up) < 5:
        up.append(b.parent)
        b = store.battery(b.parent)
    budget = [MAX_TREE]

    def down(c: str, depth: int) -> dict[str, Any]:
        kids = store.batteries_where(parent=c) if depth < 3 and budget[0] > 0 else []
        budget[0] -= len(kids)
        return {"code": c, "children": [down(k, depth + 1) for k in kids]}

    return {"ancestors": list(reversed(up)), "root": down(code, 0), "truncated": budget[0] < 0}
