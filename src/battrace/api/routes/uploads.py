"""`POST /v1/uploads` (a JSONL file of any size, processed in the background) and
`GET /v1/uploads/{id}` (progress and per-line results)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any, BinaryIO, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from battrace.api.bodies import media_type
from battrace.api.deps import Caller, State
from battrace.api.middleware import content_length, counted
from battrace.api.problems import ApiProblem
from battrace.api.routes import problem_responses
from battrace.api.schemas import UploadCreatedOut, UploadOut
from battrace.services import access, uploads

router = APIRouter(prefix="/v1", tags=["uploads"])
NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/jsonlines")
CHUNK = 1 << 20

_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "a JSONL file: one event per line",
                    }
                },
            }
        },
        "application/x-ndjson": {
            "schema": {"type": "string", "description": "JSONL: one event per line"}
        },
    },
}


@router.post(
    "/uploads",
    status_code=202,
    response_model=UploadCreatedOut,
    summary="Upload a JSONL file of events",
    responses=problem_responses(400, 401, 413, 415),
    openapi_extra={"requestBody": _BODY},
)
async def post_upload(
    request: Request,
    state: State,
    caller: Caller,
    filename: Annotated[
        str | None, Query(max_length=255, description="The file's name (raw bodies).")
    ] = None,
) -> JSONResponse:
    """Store the file and process it in the background, in batches of 2,000 events (one
    transaction each); memory stays bounded whatever the size. Send it as multipart form
    field `file`, or as the raw body with Content-Type `application/x-ndjson`. Each line's
    `reporter` must be the key's enterprise. Poll `GET /v1/uploads/{id}`."""
    me = access.require_key(caller, "uploads")
    media = media_type(request)
    fd, name = tempfile.mkstemp(dir=state.spool, suffix=".jsonl")
    path = FilePath(name)
    try:
        with os.fdopen(fd, "wb") as out:
            if media == "multipart/form-data":
                filename = await _copy_multipart(request, out, state.options.max_upload_bytes)
            elif media in NDJSON_TYPES:
                await _copy_stream(request, out, state.options.max_upload_bytes)
            else:
                raise ApiProblem(
                    "unsupported-media-type",
                    "send the file as multipart/form-data (field `file`) or as a raw "
                    f"application/x-ndjson body, not {media or 'an undeclared type'}",
                )
        size = path.stat().st_size
        assert caller.key_id is not None
        upload_id = await run_in_threadpool(
            uploads.create,
            state.store,
            enterprise=me,
            key_id=caller.key_id,
            filename=filename,
            size=size,
            now=state.options.clock(),
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    state.submit_upload(upload_id, path, caller)
    location = f"/v1/uploads/{upload_id}"
    return JSONResponse(
        {"id": upload_id, "status": "queued", "bytes_total": size, "location": location},
        status_code=202,
        headers={"Location": location},
    )


async def _copy_stream(request: Request, out: BinaryIO, limit: int | None) -> None:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        _check(size, limit)
        out.write(chunk)


#: bytes a multipart body may carry beyond the file: boundaries, part headers, small fields
MULTIPART_OVERHEAD = 64 * 1024


async def _copy_multipart(request: Request, out: BinaryIO, limit: int | None) -> str | None:
    if limit is not None:
        request = _counted(request, limit)
    try:
        form = await request.form(max_files=1, max_fields=10)
    except ApiProblem:
        raise
    except Exception as exc:  # starlette raises its own errors for broken multipart bodies
        raise ApiProblem("invalid-input", f"the multipart body cannot be read: {exc}") from None
    try:
        item = form.get("file")
        if not isinstance(item, UploadFile):
            raise ApiProblem(
                "invalid-input", "a multipart upload carries the JSONL file in the field `file`"
            )
        size = 0
        while chunk := await item.read(CHUNK):
            size += len(chunk)
            _check(size, limit)
            out.write(chunk)
        return item.filename
    finally:
        await form.close()


def _counted(request: Request, limit: int) -> Request:
    """The request, refusing (413) once its body passes `limit` bytes and the multipart
    overhead. Starlette parses a whole multipart body, spooling the file to the temporary
    directory, before the form is handed over: without this a body of any size filled that
    disk before the limit applied."""
    most = limit + MULTIPART_OVERHEAD
    length = content_length(request.scope)
    if length is not None and length > most:
        _check(length, limit)
    too_large = f"the upload is larger than {limit:,} bytes"
    return Request(request.scope, counted(request.receive, most, too_large))


def _check(size: int, limit: int | None) -> None:
    if limit is not None and size > limit:
        raise ApiProblem("payload-too-large", f"the upload is larger than {limit:,} bytes")


@router.get(
    "/uploads/{upload_id}",
    response_model=UploadOut,
    summary="An upload's progress and results",
    responses=problem_responses(401, 404),
)
def get_upload(
    state: State,
    caller: Caller,
    upload_id: Annotated[str, Path(max_length=64)],
    status: Annotated[
        Literal["accepted", "rejected", "duplicate"] | None,
        Query(description="Only results with this status."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> dict[str, Any]:
    """Progress (bytes and lines read, counts) and a page of per-line results in line order;
    visible to the enterprise that sent it and to regulators."""
    return access.upload(state.store, caller, upload_id, status=status, limit=limit, offset=offset)
