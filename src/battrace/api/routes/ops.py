"""Operations: health, Prometheus metrics, problem types, offline API docs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from battrace.api import problems
from battrace.api.deps import State
from battrace.api.metrics import CONTENT_TYPE
from battrace.api.routes import problem_responses
from battrace.api.schemas import HealthOut, ProblemTypeOut
from battrace.errors import NotFound

router = APIRouter(tags=["operations"])
#: where the Swagger UI assets (shipped by the swagger-ui-bundle-v2 package) are served
DOCS_ASSETS = "/docs/assets"


@router.get("/healthz", response_model=HealthOut, summary="Liveness and store state")
def healthz(state: State) -> dict[str, Any]:
    """200 while the store answers; the log's size and whether checkpoints are signed."""
    return {
        "status": "ok",
        "store": state.store.dialect,
        "tree_size": state.store.tree_size(),
        "signing": state.ingestor.signer is not None,
    }


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}}},
)
def metrics(state: State) -> Response:
    """Ingest counts by outcome, rejections and flags by rule, request latency histograms."""
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)


@router.get("/problems", response_model=list[ProblemTypeOut], summary="Problem types")
def problem_types() -> list[dict[str, Any]]:
    """Every RFC 9457 problem `type` the API answers with."""
    return problems.catalogue()


@router.get(
    "/problems/{kind}",
    response_model=ProblemTypeOut,
    summary="One problem type",
    responses=problem_responses(404),
)
def problem_type(kind: str) -> dict[str, Any]:
    """What a problem `type` means."""
    for item in problems.catalogue():
        if item["kind"] == kind:
            return item
    raise NotFound(f"no problem type {kind!r}")


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """Swagger UI, served with its own assets: works without network access."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="battrace API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
    )
