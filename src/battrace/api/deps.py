"""Dependencies shared by the routes (and the dashboard): the app's state and the caller.

`principal` turns `Authorization: Bearer <key>` into an `access.Principal`: no header is the
public tier; a malformed, unknown or revoked key is a 401, never a silent downgrade to public.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from battrace.api.problems import ApiProblem
from battrace.api.state import ApiState
from battrace.services import access, apikeys
from battrace.store.sql import SqlStore

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key issued with `battrace keys issue` or `POST /v1/keys`. "
    "Leave it out for the public tier.",
)


async def get_state(request: Request) -> ApiState:
    """The app's state (async: FastAPI would run a plain function in the thread pool)."""
    state: ApiState = request.app.state.battrace
    return state


async def principal(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> access.Principal:
    """The caller, from its bearer key (public without one). Only a presented key costs a
    store lookup, done in the thread pool."""
    return await presented_key(request)


async def presented_key(request: Request) -> access.Principal:
    """The caller, as `principal` (without declaring the bearer scheme in the OpenAPI
    document): every route checks a presented key, so a bad one is a 401 on public routes
    too. Worked out once per request."""
    known: access.Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    header = request.headers.get("authorization")
    if header is None:
        p = access.PUBLIC
    else:
        scheme, _sep, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiProblem(
                "unauthenticated",
                "the Authorization header must be `Bearer <API key>`",
                headers={"WWW-Authenticate": 'Bearer realm="battrace", error="invalid_request"'},
            )
        store = request.app.state.battrace.store
        found = await run_in_threadpool(_authenticate, store, token.strip())
        if found is None:
            raise ApiProblem(
                "unauthenticated",
                "the API key is malformed, unknown or revoked",
                headers={"WWW-Authenticate": 'Bearer realm="battrace", error="invalid_token"'},
            )
        p = found
    request.state.principal = p
    return p


def _authenticate(store: SqlStore, token: str) -> access.Principal | None:
    key = apikeys.authenticate(store, token)
    return None if key is None else access.Principal.from_key(store, key)


State = Annotated[ApiState, Depends(get_state)]
Caller = Annotated[access.Principal, Depends(principal)]
