"""Batteries and vehicles, shaped by the caller's tier (services/access.py decides)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from battrace.api.deps import Caller, State
from battrace.api.routes import problem_responses
from battrace.api.schemas import BatteryOut, BundleOut, HistoryOut, VehicleOut
from battrace.services import access

router = APIRouter(prefix="/v1", tags=["batteries"])
Code = Annotated[str, Path(min_length=1, max_length=64, description="GB/T 34014 battery code")]


@router.get(
    "/batteries/{code}",
    response_model=BatteryOut,
    summary="A battery's current view, shaped by the caller's tier",
    responses=problem_responses(401, 404),
)
async def get_battery(state: State, caller: Caller, code: Code) -> Response:
    """Public: identity, state category and prohibited uses. Regulators and enterprises that
    hold or held the code: also holder, VIN, links, masses and the full history."""

    def view() -> dict[str, Any]:
        return access.battery_view(
            state.store, caller, code, policy=state.policy, tables=state.settings.code_tables
        )

    # The public view (a QR scan) is one indexed read; on SQLite that is a local call of
    # tens of microseconds, cheaper on the event loop than a hop to the thread pool.
    data = view() if caller.is_public and state.inline_reads else await run_in_threadpool(view)
    return Response(orjson.dumps(data), media_type="application/json")


@router.get(
    "/batteries/{code}/history",
    response_model=HistoryOut,
    summary="A battery's full history",
    responses=problem_responses(401, 403, 404),
)
def get_history(state: State, caller: Caller, code: Code) -> dict[str, Any]:
    """Every event naming the code in event-time order, with record time, leaf index and
    withdrawal: regulators and enterprises that hold or held the code."""
    return access.battery_history(state.store, caller, code)


@router.get(
    "/batteries/{code}/bundle",
    response_model=BundleOut,
    response_model_exclude_unset=True,
    summary="A battery's history with inclusion proofs",
    responses=problem_responses(401, 403, 404),
)
def get_bundle(
    state: State,
    caller: Caller,
    code: Code,
    previous_size: Annotated[
        int | None,
        Query(
            ge=0,
            le=2**63 - 1,
            description="Also prove consistency from the checkpoint of this size.",
        ),
    ] = None,
) -> dict[str, Any]:
    """The history proven against the latest checkpoint (docs/transparency-log.md §5), to
    verify offline with `battrace verify-proof`."""
    return access.battery_bundle(state.store, caller, code, previous_size=previous_size)


@router.get(
    "/vehicles/{vin}",
    response_model=VehicleOut,
    tags=["vehicles"],
    summary="A vehicle and every pack it carried",
    responses=problem_responses(401, 403, 404),
)
def get_vehicle(
    state: State,
    caller: Caller,
    vin: Annotated[str, Path(min_length=1, max_length=32, description="VIN")],
) -> dict[str, Any]:
    """Regulators, the vehicle's automaker and enterprises that reported an event about it.
    VINs are never public."""
    return access.vehicle(state.store, caller, vin)
