"""Reading request bodies: media types and JSON, with problems instead of 500s."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from battrace.api.problems import ApiProblem
from battrace.services.json_names import Repeated, Unchecked, marked, repeated_names


def media_type(request: Request) -> str:
    """The request's media type, lower-cased, without parameters ('' when absent)."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_json(media: str) -> bool:
    """True for application/json and application/*+json."""
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def json_body(request: Request, *, max_containers: int | None = None) -> tuple[Any, bool]:
    """The body parsed as JSON, and whether some object in it gives a name twice (it is then
    parsed so, `json_names.marked`: `lift` each event); 415 unless it is declared JSON, 400
    unless it parses, or when the outermost object repeats a name. With `max_containers`, a
    body opening more objects and arrays than that (counted before parsing: brackets inside
    strings only make the count higher) is refused unparsed (413): parsed, each 3 bytes of
    `{},` become some 70 bytes of Python objects (64 MiB of them took 2.1 GB)."""
    media = media_type(request)
    if not is_json(media):
        raise ApiProblem(
            "unsupported-media-type",
            f"send the body as application/json, not {media or 'an undeclared type'}",
        )
    body = await request.body()
    if max_containers is not None and body.count(b"{") + body.count(b"[") > max_containers:
        raise ApiProblem(
            "payload-too-large",
            f"the body opens more than {max_containers:,} JSON objects and arrays: far more "
            "than any batch of events at the limit; split it, or use POST /v1/uploads",
        )
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiProblem("malformed-json", f"the body is not valid JSON: {exc}") from None
    if len(body) < _INLINE_CHECK:
        return _names_checked(body, doc)
    return await run_in_threadpool(_names_checked, body, doc)  # a big body: off the loop


#: bodies at least this large are checked for repeated names in a worker thread
_INLINE_CHECK = 1 << 16


def _names_checked(body: bytes, doc: Any) -> tuple[Any, bool]:
    try:
        if not repeated_names(body, doc):
            return doc, False
        doc = marked(body)
    except Unchecked as exc:
        raise ApiProblem("malformed-json", f"the body {exc}") from None
    if type(doc) is Repeated:
        names = ", ".join(f"`{name}`" for name, _ in doc.names)
        raise ApiProblem(
            "malformed-json",
            f"the body gives {names} more than once; a name may appear once in a JSON object "
            "(RFC 8259 §4, I-JSON RFC 7493 §2.3)",
        )
    return doc, True
