"""The app factory: `create_app(settings)` builds everything; nothing happens at import."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

import battrace
from battrace.api import problems
from battrace.api.deps import presented_key
from battrace.api.middleware import BodyLimit, Timing
from battrace.api.routes import batteries, events, keys, log, ops, registry, uploads
from battrace.api.schemas import ProblemOut
from battrace.api.state import ApiOptions, ApiState
from battrace.config import Settings
from battrace.store.sql import SqlStore

DESCRIPTION = """\
The battrace platform's HTTP API: enterprises report lifecycle events and get signed receipts;
regulators read everything; the public reads a battery's identity; anyone verifies the log.

Authenticate with `Authorization: Bearer <API key>` (`battrace keys issue`). Without a key you
are the public tier. Errors are RFC 9457 problem documents (`application/problem+json`). See
docs/api.md for tiers, limits and examples.
"""

TAGS = [
    {"name": "events", "description": "Report events (enterprises, regulators)."},
    {"name": "uploads", "description": "Bulk JSONL uploads processed in the background."},
    {"name": "batteries", "description": "A code's view, history and proofs, by tier."},
    {"name": "vehicles", "description": "Vehicles and their packs (never public)."},
    {"name": "compliance", "description": "Findings, scorecards and the rule catalogue."},
    {"name": "registry", "description": "The published registry and the policy in force."},
    {"name": "transparency log", "description": "Checkpoints and proofs for verifiers."},
    {"name": "administration", "description": "API keys (regulators)."},
    {"name": "operations", "description": "Health, metrics, problem types."},
]


def create_app(
    settings: Settings,
    *,
    options: ApiOptions | None = None,
    store: SqlStore | None = None,
) -> FastAPI:
    """The API for the store and keys the settings name (or the `store` given, which the
    caller keeps and closes)."""
    options = options or ApiOptions()
    state = ApiState.build(settings, options, store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = state.threads
        await run_in_threadpool(state.startup)
        try:
            yield
        finally:
            await run_in_threadpool(state.shutdown)

    app = FastAPI(
        title="battrace API",
        version=battrace.__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.battrace = state
    problems.install(app)
    for module in (events, uploads, batteries, registry, log, keys, ops):
        # a presented key is checked on every route, public ones too: a malformed, unknown or
        # revoked key is a 401, never a silent fall back to the public tier (once per
        # request: a route that asks for the caller gets the same principal)
        app.include_router(module.router, dependencies=[Depends(presented_key)])
    app.mount(ops.DOCS_ASSETS, StaticFiles(directory=_swagger_ui_dir()), name="docs-assets")
    if options.web:
        plug_in_web(app)
    app.add_middleware(BodyLimit, limit=options.max_body_bytes, exempt=("/v1/uploads",))
    app.add_middleware(Timing, metrics=state.metrics)  # outermost: times everything
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def plug_in_web(app: FastAPI) -> None:
    """Include the dashboard's routes (`battrace.web.router`) and serve its static files
    (`battrace.web.STATIC_DIR`, or the package's `static/` folder) at `/static`, if present."""
    try:
        web = importlib.import_module("battrace.web")
    except ModuleNotFoundError as exc:  # pragma: no cover - web is part of the package
        if exc.name != "battrace.web":
            raise
        return
    router = getattr(web, "router", None)
    if router is not None:
        app.include_router(router)
    app.state.browser_error = getattr(web, "browser_error", None)  # problems.py asks it first
    static = getattr(web, "STATIC_DIR", None)
    if static is None and web.__file__ is not None:
        static = Path(web.__file__).parent / "static"
    if static is not None and Path(static).is_dir():
        app.mount("/static", StaticFiles(directory=Path(static)), name="static")


def _swagger_ui_dir() -> Path:
    # swagger-ui-bundle-v2 ships the Swagger UI 5 distribution (OpenAPI 3.1) as package data
    bundle = importlib.import_module("swagger_ui_bundle")
    return Path(str(bundle.swagger_ui_path))


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI 3.1 document, with the problem-details schema the error responses use."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ProblemOut"] = ProblemOut.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    app.openapi_schema = schema
    return schema
