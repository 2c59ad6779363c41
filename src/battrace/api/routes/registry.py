"""Findings, enterprises and scorecards, the published registry, rules and the policy."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from battrace.api.deps import Caller, State
from battrace.api.routes import problem_responses
from battrace.api.schemas import (
    EnterpriseOut,
    EnterprisesPageOut,
    FindingsPageOut,
    OutletsPageOut,
    PolicyOut,
    QualificationsPageOut,
    RoleName,
    RuleId,
    ScorecardOut,
    VehicleModelsPageOut,
)
from battrace.domain.rules import catalogue
from battrace.services import access, registry_view

router = APIRouter(prefix="/v1")
MAX_OFFSET = 1_000_000_000
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]
Uscc = Annotated[str, Path(min_length=1, max_length=32, description="USCC")]


def page(items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    """A page of items with the offset of the next one (None on the last page)."""
    return {
        "items": items,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(items) == limit else None,
    }


@router.get(
    "/findings",
    response_model=FindingsPageOut,
    tags=["compliance"],
    summary="Compliance findings",
    responses=problem_responses(401, 403, 422),
)
def get_findings(
    state: State,
    caller: Caller,
    rule: Annotated[RuleId | None, Query(description="A rule id, e.g. BT-020.")] = None,
    enterprise: Annotated[str | None, Query(max_length=18, description="USCC.")] = None,
    status: Literal["open", "withdrawn"] | None = None,
    since: Annotated[dt.date | None, Query(description="Found on or after (CST day).")] = None,
    until: Annotated[dt.date | None, Query(description="Found on or before (CST day).")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Findings newest first: regulators see all; an enterprise sees those naming it."""
    items = access.findings(
        state.store,
        caller,
        rule=rule.value if rule is not None else None,
        enterprise=enterprise,
        status=status,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return page(items, limit, offset)


@router.get("/rules", tags=["compliance"], summary="The rule catalogue")
def get_rules() -> list[dict[str, str]]:
    """Every compliance rule: id, name, moment, outcome, severity, titles and provision."""
    return catalogue()


@router.get(
    "/enterprises",
    response_model=EnterprisesPageOut,
    tags=["registry"],
    summary="Registered enterprises",
    responses=problem_responses(422),
)
def get_enterprises(
    state: State,
    role: RoleName | None = None,
    region: Annotated[str | None, Query(max_length=6, description="Region code prefix.")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The registry's enterprises (public: the registry is published)."""
    items = registry_view.list_enterprises(
        state.store,
        role=role.value if role is not None else None,
        region=region,
        limit=limit,
        offset=offset,
    )
    return page(items, limit, offset)


@router.get(
    "/enterprises/{uscc}",
    response_model=EnterpriseOut,
    tags=["registry"],
    summary="A registered enterprise",
    responses=problem_responses(404),
)
def get_enterprise(state: State, uscc: Uscc) -> dict[str, Any]:
    """Name, roles, region, manufacturer codes, qualifications and outlet registration
    (public: the white list and outlet lists are published)."""
    return registry_view.enterprise(state.store, uscc)


@router.get(
    "/enterprises/{uscc}/scorecard",
    response_model=ScorecardOut,
    tags=["compliance"],
    summary="An enterprise's reporting scorecard",
    responses=problem_responses(401, 403, 404),
)
def get_scorecard(state: State, caller: Caller, uscc: Uscc) -> dict[str, Any]:
    """On-time share and gaps (BT-025, as of the latest audit) and open findings by rule:
    the enterprise itself and regulators."""
    return access.scorecard(state.store, caller, uscc)


@router.get(
    "/qualifications",
    response_model=QualificationsPageOut,
    tags=["registry"],
    summary="The white list",
    responses=problem_responses(422),
)
def get_qualifications(
    state: State,
    scope: Literal["reprocessing", "recycling"] | None = None,
    enterprise: Annotated[str | None, Query(max_length=18)] = None,
    valid_on: Annotated[dt.date | None, Query(description="Only grants valid that day.")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Grants of comprehensive-utilisation qualifications (public)."""
    items = registry_view.list_qualifications(
        state.store,
        scope=scope,
        enterprise=enterprise,
        valid_on=valid_on,
        limit=limit,
        offset=offset,
    )
    return page(items, limit, offset)


@router.get(
    "/outlets",
    response_model=OutletsPageOut,
    tags=["registry"],
    summary="Recycling service outlets",
    responses=problem_responses(422),
)
def get_outlets(
    state: State,
    serves: Annotated[str | None, Query(max_length=18, description="Automaker USCC.")] = None,
    region: Annotated[str | None, Query(max_length=6)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Registered outlets and whom they collect for (public)."""
    items = registry_view.list_outlets(
        state.store, serves=serves, region=region, limit=limit, offset=offset
    )
    return page(items, limit, offset)


@router.get(
    "/vehicle-models",
    response_model=VehicleModelsPageOut,
    tags=["registry"],
    summary="Vehicle models",
    responses=problem_responses(422),
)
def get_vehicle_models(
    state: State,
    automaker: Annotated[str | None, Query(max_length=18)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Registered vehicle models, with the swap-model exemption (public)."""
    items = registry_view.list_vehicle_models(
        state.store, automaker=automaker, limit=limit, offset=offset
    )
    return page(items, limit, offset)


@router.get("/policy", response_model=PolicyOut, tags=["registry"], summary="The policy in force")
def get_policy(state: State) -> dict[str, Any]:
    """Version, fingerprint, reporting limits, thresholds and prohibited applications of the
    policy the rules judge by (public). The policy is a deployment file (docs/policy.md)."""
    return registry_view.policy_view(state.policy)
