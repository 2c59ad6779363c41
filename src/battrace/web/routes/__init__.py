"""The dashboard's routes, one module per page family."""

from __future__ import annotations

from fastapi import APIRouter

from battrace.web.routes import (
    auth,
    battery,
    enterprises,
    exports,
    findings,
    flows,
    overview,
    public,
    upload,
)


def build_router() -> APIRouter:
    """Every dashboard route (none of them in the OpenAPI document: they serve HTML)."""
    router = APIRouter(include_in_schema=False)
    for module in (auth, overview, findings, enterprises, battery, flows, public, upload, exports):
        router.include_router(module.router)
    return router
