"""Pure ASGI middleware: request-body limits and request latency metrics."""

from __future__ import annotations

import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from battrace.api.metrics import Metrics
from battrace.api.problems import ApiProblem, problem_response


class BodyLimit:
    """Refuse request bodies over `limit` bytes (413), by Content-Length up front and by
    counting streamed chunks; paths under `exempt` (uploads) set their own limit. Also refuse
    URLs carrying NUL characters (400): no identifier has one, and PostgreSQL cannot compare
    text holding one. API keys in a URL are cut to their key id (`_redact_tokens`)."""

    def __init__(self, app: ASGIApp, *, limit: int, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"btk_" in scope.get("raw_path", b"") or b"btk_" in scope["query_string"]:
            _redact_tokens(scope)
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            response = problem_response("bad-request", "the URL holds a NUL character")
            await response(scope, receive, send)
            return
        if scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        length = content_length(scope)
        if length == -1 or (length is not None and length > self.limit):
            kind, detail = (
                ("bad-request", "the Content-Length header is not a number")
                if length == -1
                else ("payload-too-large", f"the body is larger than {self.limit:,} bytes")
            )
            await problem_response(kind, detail, instance=scope["path"])(scope, receive, send)
            return
        too_large = f"the body is larger than {self.limit:,} bytes"
        await self.app(scope, counted(receive, self.limit, too_large), send)


def counted(receive: Receive, limit: int, too_large: str) -> Receive:
    """`receive`, raising ApiProblem 413 (`too_large`) once the body passes `limit` bytes:
    a body without a Content-Length (chunked) is counted as it arrives."""
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise ApiProblem("payload-too-large", too_large)
        return message

    return limited


_TOKEN_IN_URL = re.compile(r"btk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")
_TOKEN_IN_RAW = re.compile(rb"btk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")


def _redact_tokens(scope: Scope) -> None:
    """A whole API key in a URL (`DELETE /v1/keys/btk_…`: an operator revoking what they were
    handed) is cut to its key id before anything reads the URL: it is never echoed in an
    error, and the server's access log — which reads this same scope — never holds the
    secret. The id alone names the key, so the revocation still works."""
    scope["path"] = _TOKEN_IN_URL.sub(r"\1", scope["path"])
    if "raw_path" in scope and scope["raw_path"] is not None:
        scope["raw_path"] = _TOKEN_IN_RAW.sub(rb"\1", scope["raw_path"])
    scope["query_string"] = _TOKEN_IN_RAW.sub(rb"\1", scope["query_string"])


def content_length(scope: Scope) -> int | None:
    """The request's Content-Length (None: absent; -1: not a number)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                n = int(value)
            except ValueError:
                return -1
            return n if n >= 0 else -1
    return None


class Timing:
    """Observe each request's latency by method, route template and status."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "(unmatched)"
            self.metrics.latency.labels(scope["method"], template, str(status[0])).observe(
                time.perf_counter() - start
            )
