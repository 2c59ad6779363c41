"""Findings: a filterable table, and each finding with its evidence and legal basis."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from battrace.analytics import findings as fa
from battrace.domain.rules import CATALOGUE, RULES
from battrace.errors import AccessDenied, NotFound
from battrace.services import access
from battrace.services.common import rfc3339
from battrace.web import i18n
from battrace.web.context import State, Who, render
from battrace.web.pages import PAGE, html_errors, pager, parse_day, parse_offset

router = APIRouter()
MAX_TIMELINES = 5


def finding_filter(request: Request, who: Who) -> fa.FindingFilter:
    """The table's filter from the query string, limited by the viewer's tier."""
    q = request.query_params
    rule = q.get("rule") or None
    if rule is not None and rule not in RULES:
        rule = None
    status = q.get("status", "open")
    return fa.FindingFilter(
        rule=rule,
        enterprise=access.findings_scope(who.principal, q.get("enterprise") or None),
        region=(q.get("region") or "").strip()[:6] or None,
        status=status if status in ("open", "withdrawn") else None,
        since=parse_day(q.get("since")),
        until=parse_day(q.get("until")),
    )


@router.get("/findings")
@html_errors
def findings_page(request: Request, who: Who, state: State) -> Response:
    """The findings table (regulators: all; an enterprise: its own)."""
    f = finding_filter(request, who)
    offset = parse_offset(request.query_params.get("offset"))
    items, total = fa.find(state.store, f, limit=PAGE, offset=offset)
    counts = fa.counts_by_rule(state.store, f)
    return render(
        request,
        who,
        "findings.html",
        f=f,
        items=[access.shape_finding(who.principal, i) for i in items],
        page=pager(offset, len(items), total),
        counts=counts,
        # rules that raise findings, and any that has some (BT-005 rejects and flags)
        rules=[r for r in CATALOGUE if r.outcome.value != "reject" or r.id in counts],
        query=str(request.query_params),
    )


@router.get("/findings/{finding_id}")
@html_errors
def finding_page(request: Request, who: Who, state: State, finding_id: int) -> Response:
    """One finding: its message, figures, legal basis, evidence events and battery timelines."""
    access.require_key(who.principal, "findings")
    item = fa.one(state.store, finding_id) if 0 < finding_id < 2**63 else None
    if item is None:
        raise NotFound(f"no finding {finding_id}")
    access.require_own_or_regulator(who.principal, item["enterprise"], "findings")
    item = access.shape_finding(who.principal, item)
    rule = RULES.get(item["rule"])
    return render(
        request,
        who,
        "finding.html",
        item=item,
        rule=rule,
        events=_evidence(state, who, item["events"]),
        timelines=_timelines(state, who, item["codes"][:MAX_TIMELINES]),
        detail=_detail_rows(item["detail"], who.lang),
    )


def _evidence(state: Any, who: Who, refs: list[str]) -> list[dict[str, Any]]:
    """The evidence events ("reporter/id") as stored; an enterprise sees its own only (the
    others' refs were masked by `access.shape_finding`, and are shown as missing)."""
    out = []
    mine = who.principal.is_regulator
    for ref in refs[:50]:
        reporter, _, event_id = str(ref).partition("/")
        own = mine or reporter == who.enterprise
        stored = state.store.event_by_key(reporter, event_id) if own else None
        if stored is None:
            out.append({"ref": ref, "missing": True})
            continue
        payload = orjson.loads(stored.payload)
        out.append(
            {
                "ref": ref,
                "missing": False,
                "type": stored.type,
                "time": payload.get("time"),
                "recorded_at": rfc3339(stored.recorded_us),
                "reporter": stored.reporter,
                "leaf_index": stored.seq,
                "code": stored.code,
                "json": orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode(),
            }
        )
    return out


def _timelines(state: Any, who: Who, codes: list[str]) -> list[dict[str, Any]]:
    """Each code's history, for codes the viewer may see in full."""
    out = []
    for code in codes:
        try:
            history = access.battery_history(state.store, who.principal, code)["history"]
        except (AccessDenied, NotFound):
            continue
        out.append({"code": code, "history": history})
    return out


def _detail_rows(detail: dict[str, Any], lang: str) -> list[tuple[str, str, str]]:
    """The finding's figures as (key, name in the viewer's language, value) rows, lists and
    objects as compact JSON; of a figure given in both languages (`x` and `x_zh`) only the
    viewer's, under the key `x`, and no empty ones."""
    rows = []
    for k, v in detail.items():
        if k in ("evidence_seqs", "policy_fingerprint") or v in (None, "", [], {}):
            continue
        if k.endswith("_zh") and lang != "zh":
            continue
        if lang == "zh" and detail.get(f"{k}_zh") not in (None, ""):
            continue  # shown by its Chinese twin
        text = v if isinstance(v, str) else orjson.dumps(v).decode()
        text = text if len(text) < 400 else text[:400] + " …"
        key = k.removesuffix("_zh")
        rows.append((key, i18n.detail_label(key, lang), text))
    return rows
