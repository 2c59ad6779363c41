"""API-key administration for regulators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from battrace.api.deps import Caller, State
from battrace.api.routes import problem_responses
from battrace.api.routes.registry import Limit, Offset, page
from battrace.api.schemas import ApiKeyOut, ApiKeysOut, IssuedKeyOut, KeyIssueIn
from battrace.services import access

router = APIRouter(prefix="/v1/keys", tags=["administration"])


@router.post(
    "",
    status_code=201,
    response_model=IssuedKeyOut,
    summary="Issue an API key",
    responses=problem_responses(401, 403, 422),
)
def issue_key(state: State, caller: Caller, body: KeyIssueIn) -> JSONResponse:
    """Issue a key for a registered enterprise (role `enterprise`) or regulator (role
    `regulator`). The key is in this response only: the platform keeps its SHA-256."""
    issued = access.issue_key(
        state.store,
        caller,
        enterprise=body.enterprise,
        role=body.role,
        label=body.label,
        now=state.options.clock(),
    )
    return JSONResponse(issued.as_dict(), status_code=201, headers={"Cache-Control": "no-store"})


@router.get(
    "",
    response_model=ApiKeysOut,
    summary="List API keys",
    responses=problem_responses(401, 403),
)
def list_keys(
    state: State,
    caller: Caller,
    enterprise: Annotated[str | None, Query(max_length=18)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Every key (active and revoked), oldest first, with its enterprise and role, never a
    secret."""
    keys = access.list_keys(state.store, caller, enterprise=enterprise, limit=limit, offset=offset)
    return page([k.as_dict() for k in keys], limit, offset)


@router.delete(
    "/{key_id}",
    response_model=ApiKeyOut,
    summary="Revoke an API key",
    responses=problem_responses(401, 403, 404, 422),
)
def revoke_key(
    state: State,
    caller: Caller,
    key_id: Annotated[str, Path(pattern="^[0-9a-f]{12}$", description="The key's id.")],
) -> dict[str, Any]:
    """Revoke a key by its full id; it stops working at once."""
    return access.revoke_key(state.store, caller, key_id, now=state.options.clock()).as_dict()
