"""RFC 9457 problem details: one stable `type` per error kind, and the handlers that turn
battrace errors, validation errors and HTTP errors into `application/problem+json`.

A problem's `type` is the relative URI `/problems/<kind>`; the API serves a description of
each kind there, and docs/api.md lists them.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from battrace import errors
from battrace.services.access import Principal

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("battrace.api")

#: kind -> (HTTP status, title, when it happens)
PROBLEMS: dict[str, tuple[int, str, str]] = {
    "unauthenticated": (
        401,
        "Authentication required",
        "No API key, or the key is malformed, unknown or revoked. Send "
        "`Authorization: Bearer <key>`.",
    ),
    "access-denied": (
        403,
        "Access denied",
        "The key is valid but its tier or enterprise may not do or see this.",
    ),
    "not-found": (404, "Not found", "No such code, vehicle, enterprise, upload, route or proof."),
    "method-not-allowed": (405, "Method not allowed", "The route exists for other methods."),
    "not-acceptable": (406, "Not acceptable", "The API answers JSON only."),
    "payload-too-large": (413, "Content too large", "The request body exceeds the limit."),
    "too-many-events": (
        422,
        "Too many events",
        "A batch holds more events than the limit (10,000 unless configured).",
    ),
    "unsupported-media-type": (
        415,
        "Unsupported media type",
        "The body's Content-Type is not one the endpoint accepts.",
    ),
    "bad-request": (
        400,
        "Bad request",
        "The request line or headers are malformed (a NUL character in the URL, a "
        "Content-Length that is not a number).",
    ),
    "malformed-json": (400, "Malformed JSON", "The body is not valid JSON (UTF-8)."),
    "invalid-input": (
        422,
        "Invalid input",
        "A parameter or the body's shape is invalid; `errors` says which.",
    ),
    "config": (500, "Configuration error", "The deployment's settings or files are invalid."),
    "store": (503, "Store unavailable", "The store cannot be used right now."),
    "schema": (503, "Store schema mismatch", "The store must be migrated (`battrace init`)."),
    "integrity": (500, "Log integrity violated", "The log or its checkpoints do not verify."),
    "signing-key": (500, "Signing key problem", "The log's signing key is missing or unsafe."),
    "error": (500, "Error", "An error battrace raised on purpose, of no more specific kind."),
    "internal": (500, "Internal error", "A bug: the platform logs it; nothing was committed."),
}

_BY_STATUS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "access-denied",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "invalid-input",
}


def type_uri(kind: str) -> str:
    """The stable `type` of a kind of problem."""
    return f"/problems/{kind}"


class ApiProblem(Exception):
    """An HTTP-level problem raised by the API layer itself (bodies, media types, limits)."""

    def __init__(
        self,
        kind: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions


def problem_response(
    kind: str,
    detail: str | None,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    status: int | None = None,
    **extensions: Any,
) -> Response:
    """A problem document response."""
    code, title, _ = PROBLEMS.get(kind, PROBLEMS["error"])
    status = status or code
    body: dict[str, Any] = {"type": type_uri(kind), "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extensions)
    hdrs = dict(headers or {})
    if status == 401:
        hdrs.setdefault("WWW-Authenticate", 'Bearer realm="battrace"')
    return Response(orjson.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=hdrs)


def _principal(request: Request) -> Principal | None:
    return getattr(request.state, "principal", None)


async def _battrace_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.BattraceError)
    kind = exc.kind if exc.kind in PROBLEMS else "error"
    if isinstance(exc, errors.AccessDenied):
        p = _principal(request)
        if p is None or p.is_public:
            kind = "unauthenticated"
    if PROBLEMS[kind][0] >= 500:
        log.error("%s on %s %s: %s", kind, request.method, request.url.path, exc)
    return problem_response(kind, str(exc), instance=request.url.path)


async def _api_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    return problem_response(
        exc.kind,
        exc.detail,
        instance=request.url.path,
        headers=exc.headers,
        **exc.extensions,
    )


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    found = [
        {
            "loc": [str(part) for part in e.get("loc", ())],
            "message": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    first = found[0] if found else None
    detail = f"{'.'.join(first['loc'])}: {first['message']}" if first else "the request is invalid"
    page = _browser_page(request, 422, detail)
    if page is not None:
        return page
    return problem_response("invalid-input", detail, instance=request.url.path, errors=found)


def _browser_page(request: Request, status: int, detail: str | None) -> Response | None:
    """The dashboard's HTML error page for a browser asking for a page (`web.browser_error`,
    when the web is plugged in), else None."""
    hook = getattr(request.app.state, "browser_error", None)
    return hook(request, status, detail or "") if hook is not None else None


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    kind = _BY_STATUS.get(exc.status_code, "error" if exc.status_code >= 500 else "invalid-input")
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code in (404, 405, 422):
        page = _browser_page(request, exc.status_code, detail)
        if page is not None:
            return page
    return problem_response(
        kind,
        detail,
        instance=request.url.path,
        headers=dict(exc.headers or {}),
        status=exc.status_code,
    )


async def _internal(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        "internal", "an internal error occurred; it was logged", instance=request.url.path
    )


def install(app: FastAPI) -> None:
    """Register the problem handlers on an app."""
    app.add_exception_handler(errors.BattraceError, _battrace_error)
    app.add_exception_handler(ApiProblem, _api_problem)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _internal)


def catalogue() -> list[dict[str, Any]]:
    """Every problem type (for `/problems` and the docs)."""
    return [
        {"type": type_uri(k), "kind": k, "status": s, "title": t, "description": d}
        for k, (s, t, d) in PROBLEMS.items()
    ]
