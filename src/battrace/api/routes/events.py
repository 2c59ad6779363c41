"""`POST /v1/events` (a batch, with receipts) and `GET /v1/receipts/{reporter}/{event_id}`."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from battrace.api.bodies import json_body
from battrace.api.commit import MAX_BATCH_EVENTS
from battrace.api.deps import Caller, State
from battrace.api.problems import ApiProblem
from battrace.api.routes import problem_responses
from battrace.api.schemas import BatchResultOut, ReceiptOut, batch_schema
from battrace.api.state import Ingested
from battrace.services import access
from battrace.services.ingest_file import Tally
from battrace.services.json_names import lift

router = APIRouter(prefix="/v1", tags=["events"])
#: responses for up to this many events are rendered on the event loop
INLINE_RESULTS = 100


@router.post(
    "/events",
    response_model=BatchResultOut,
    summary="Report a batch of events",
    responses=problem_responses(400, 401, 413, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": batch_schema(MAX_BATCH_EVENTS)}},
        }
    },
)
async def post_events(
    request: Request,
    state: State,
    caller: Caller,
    receipts: Annotated[
        bool, Query(description="Give a receipt (with inclusion proof) per accepted event.")
    ] = True,
) -> Response:
    """Ingest up to 10,000 events in one transaction; a result per event, in order.

    Every event's `reporter` must be the enterprise of the API key: other events are rejected
    (field `reporter`, rule BT-004) and the rest of the batch goes on. The platform stamps the
    record time; an event carrying `recorded_at` is rejected. Accepted events get a receipt
    whose inclusion proof is against the checkpoint signed right after the batch.
    """
    access.require_key(caller, "reporting events")
    limit = state.options.max_batch_events
    doc, repeats = await json_body(request, max_containers=limit * CONTAINERS_PER_EVENT)
    events = _events(doc, limit)
    if repeats:  # the events that repeat a name are refused, saying which
        events = [lift(e) for e in events]
    done = await state.ingest_async(caller, events, source="api", receipts=receipts)
    if len(done) > INLINE_RESULTS:  # rendering thousands of receipts is work for a thread
        return Response(await run_in_threadpool(_render, done), media_type="application/json")
    return Response(_render(done), media_type="application/json")


#: JSON objects and arrays an event may average before a batch at the limit is refused
#: unparsed: an event opens 1–10 (location, lists, test series), at most ~110 with 100 pieces
#: of evidence
CONTAINERS_PER_EVENT = 256


def _render(done: list[Ingested]) -> bytes:
    return orjson.dumps(batch_body(done))


def _events(doc: Any, limit: int) -> list[Any]:
    if not isinstance(doc, dict) or "events" not in doc:
        raise ApiProblem("invalid-input", 'the body must be a JSON object {"events": [ ... ]}')
    extra = sorted(k for k in doc if k != "events")
    if extra:
        raise ApiProblem("invalid-input", f"unknown member {extra[0]!r}: only `events` is allowed")
    events = doc["events"]
    if not isinstance(events, list):
        raise ApiProblem("invalid-input", "`events` must be an array of event objects")
    if len(events) > limit:
        raise ApiProblem(
            "too-many-events",
            f"{len(events):,} events: a batch holds at most {limit:,}; split it, or use "
            "POST /v1/uploads for files of any size",
        )
    return events


def batch_body(done: list[Ingested]) -> dict[str, Any]:
    """The response body of a batch."""
    tally = Tally()
    results = []
    for x in done:
        r = x.result
        tally.add(r)
        results.append(
            {
                "index": r.index,
                "id": r.id,
                "reporter": r.reporter,
                "status": r.status,
                "reasons": [reason.as_dict() for reason in r.reasons],
                "leaf_index": r.seq,
                "leaf_hash": r.leaf_hash.hex() if r.leaf_hash is not None else None,
                "flags": r.flags,
                "recorded_at": r.recorded_at,
                "receipt": x.receipt,
            }
        )
    return {
        "accepted": tally.accepted,
        "rejected": tally.rejected,
        "duplicates": tally.duplicates,
        "flags": dict(sorted(tally.flags.items())),
        "results": results,
    }


@router.get(
    "/receipts/{reporter}/{event_id}",
    response_model=ReceiptOut,
    response_model_exclude_unset=True,
    summary="A receipt for a stored event",
    responses=problem_responses(401, 403, 404),
)
def get_receipt(
    state: State,
    caller: Caller,
    reporter: Annotated[str, Path(max_length=64)],
    event_id: Annotated[str, Path(max_length=64)],
) -> dict[str, Any]:
    """A fresh receipt for an event (its reporter, or a regulator), proven against the
    latest checkpoint: the way to get proofs for events sent by upload."""
    return access.receipt(state.store, caller, reporter, event_id)
