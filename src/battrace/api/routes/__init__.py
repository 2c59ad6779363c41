"""The API's routers, one module per resource family, and their shared OpenAPI pieces."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from battrace.api.problems import MEDIA_TYPE

_PROBLEM_SCHEMA = {"$ref": "#/components/schemas/ProblemOut"}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for the given error statuses, plus `default`: all problem documents."""
    out: dict[int | str, dict[str, Any]] = {
        s: {
            "description": f"{HTTPStatus(s).phrase} (problem details)",
            "content": {MEDIA_TYPE: {"schema": _PROBLEM_SCHEMA}},
        }
        for s in statuses
    }
    out["default"] = {
        "description": "Problem details (RFC 9457)",
        "content": {MEDIA_TYPE: {"schema": _PROBLEM_SCHEMA}},
    }
    return out
