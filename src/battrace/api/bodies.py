"""Reading request bodies: media types and JSON, with problems instead of 500s."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from battrace.api.problems import ApiProblem


def media_type(request: Request) -> str:
    """The request's media type, lower-cased, without parameters ('' when absent)."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_json(media: str) -> bool:
    """True for application/json and application/*+json."""
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def json_body(request: Request) -> Any:
    """The body parsed as JSON; 415 unless it is declared JSON, 400 unless it parses."""
    media = media_type(request)
    if not is_json(media):
        raise ApiProblem(
            "unsupported-media-type",
            f"send the body as application/json, not {media or 'an undeclared type'}",
        )
    body = await request.body()
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiProblem("malformed-json", f"the body is not valid JSON: {exc}") from None
