"""Bulk uploads: a JSONL file of any size, ingested in the background batch by batch.

The file is read line by line (`ingest_file.batches`: a line longer than `MAX_LINE` is skipped
unread and rejected), so memory stays bounded by one batch;
each batch commits as one ingest transaction, then its per-line results and the upload's
progress are stored. A server that stops mid-upload leaves the upload `running`;
`fail_interrupted` marks such uploads `failed` at the next start. Sending the file again is
safe: events already accepted come back as duplicates (ids are idempotency keys).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update

from battrace.config import DEFAULT_BATCH
from battrace.domain.events import to_us
from battrace.errors import InvalidInput, NotFound
from battrace.services.common import rfc3339
from battrace.services.ingest import EventResult
from battrace.services.ingest_file import Tally, batches
from battrace.store.schema import upload_results, uploads
from battrace.store.sql import SqlStore

STATUSES = ("queued", "running", "done", "failed")
RESULT_STATUSES = ("accepted", "rejected", "duplicate")
#: ingests one batch of lines as `ingest_file.batches` gives them (None: a line too long to
#: read, which `batch.decode_line` turns into its rejection); the driver adds authorization,
#: locking, metrics
BatchIngest = Callable[[list[bytes | None]], list[EventResult]]
Clock = Callable[[], dt.datetime]


def create(
    store: SqlStore,
    *,
    enterprise: str,
    key_id: str,
    filename: str | None,
    size: int,
    now: dt.datetime,
) -> str:
    """Record a new upload (queued) and return its id."""
    upload_id = secrets.token_hex(16)
    with store.engine.begin() as c:
        c.execute(
            insert(uploads).values(
                id=upload_id,
                enterprise=enterprise,
                key_id=key_id,
                filename=(filename or None) and filename[:500],
                status="queued",
                bytes_total=size,
                bytes_read=0,
                lines=0,
                accepted=0,
                rejected=0,
                duplicates=0,
                flags="{}",
                error=None,
                created_us=to_us(now),
                started_us=None,
                finished_us=None,
            )
        )
    return upload_id


def _set(store: SqlStore, upload_id: str, **values: Any) -> None:
    with store.engine.begin() as c:
        c.execute(update(uploads).where(uploads.c.id == upload_id).values(**values))


#: rejected and duplicate lines kept with their reasons per upload; past this they are only
#: counted (a 300 KB file of `{}` lines stored 93 MB of reasons: ~670 bytes per 3-byte line)
MAX_KEPT_REFUSALS = 10_000


def process(
    store: SqlStore,
    upload_id: str,
    path: Path,
    *,
    ingest: BatchIngest,
    clock: Clock,
    batch_size: int = DEFAULT_BATCH,
) -> None:
    """Ingest the upload's file batch by batch, storing results and progress as it goes;
    the upload ends `done`, or `failed` with the error."""
    _set(store, upload_id, status="running", started_us=to_us(clock()))
    tally = Tally()
    lines = 0
    try:
        with path.open("rb") as fh:
            for chunk, read in batches(fh, batch_size):
                results = ingest([line for _, line in chunk])
                for r in results:
                    tally.add(r)
                lines += len(chunk)
                _store_results(store, upload_id, chunk, results, tally, lines, read)
    except Exception as exc:  # the upload records the failure; the worker goes on
        _set(
            store,
            upload_id,
            status="failed",
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_us=to_us(clock()),
        )
        return
    _set(
        store,
        upload_id,
        status="done",
        bytes_read=path.stat().st_size,
        finished_us=to_us(clock()),
    )


def _store_results(
    store: SqlStore,
    upload_id: str,
    chunk: Sequence[tuple[int, bytes | None]],
    results: Sequence[EventResult],
    tally: Tally,
    lines: int,
    read: int,
) -> None:
    rows = []
    # rejections and duplicates before this chunk (the tally already counts the chunk's)
    kept = tally.rejected + tally.duplicates - sum(r.status != "accepted" for r in results)
    for (line, _), r in zip(chunk, results, strict=True):
        if r.status != "accepted":
            if kept >= MAX_KEPT_REFUSALS:
                continue  # counted in the tally, not kept line by line
            kept += 1
        d = r.as_dict()
        rows.append(
            {
                "upload_id": upload_id,
                "line": line,
                "status": r.status,
                "event_id": r.id if r.id is not None and len(r.id) <= 64 else None,
                "reporter": r.reporter
                if r.reporter is not None and len(r.reporter) <= 18
                else None,
                "leaf_index": r.seq,
                "detail": json.dumps(
                    {
                        "id": r.id,
                        "reporter": r.reporter,
                        "reasons": d["reasons"],
                        "leaf_hash": d.get("leaf_hash"),
                        "flags": r.flags,
                    },
                    ensure_ascii=False,
                ),
            }
        )
    with store.engine.begin() as c:
        if rows:
            c.execute(insert(upload_results), rows)
        c.execute(
            update(uploads)
            .where(uploads.c.id == upload_id)
            .values(
                bytes_read=read,
                lines=lines,
                accepted=tally.accepted,
                rejected=tally.rejected,
                duplicates=tally.duplicates,
                flags=json.dumps(dict(sorted(tally.flags.items()))),
            )
        )


def fail_interrupted(store: SqlStore, *, now: dt.datetime) -> int:
    """Mark uploads left queued or running by a stopped server as failed; how many."""
    with store.engine.begin() as c:
        res = c.execute(
            update(uploads)
            .where(uploads.c.status.in_(("queued", "running")))
            .values(
                status="failed",
                error="interrupted: the server stopped before the upload finished; send the "
                "file again (events already accepted come back as duplicates)",
                finished_us=to_us(now),
            )
        )
        return int(res.rowcount or 0)


def owner(store: SqlStore, upload_id: str) -> str:
    """The enterprise that sent an upload; NotFound for unknown ids."""
    with store.engine.connect() as c:
        row = c.execute(select(uploads.c.enterprise).where(uploads.c.id == upload_id)).first()
    if row is None:
        raise NotFound(f"no upload {upload_id}")
    return str(row.enterprise)


def view(
    store: SqlStore,
    upload_id: str,
    *,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """An upload's progress and a page of its per-line results (in line order)."""
    if status is not None and status not in RESULT_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(RESULT_STATUSES)}")
    if not 1 <= limit <= 1000 or offset < 0:
        raise InvalidInput("limit must be 1–1000 and offset not negative")
    with store.engine.connect() as c:
        u = c.execute(select(uploads).where(uploads.c.id == upload_id)).first()
        if u is None:
            raise NotFound(f"no upload {upload_id}")
        q = select(upload_results).where(upload_results.c.upload_id == upload_id)
        n = select(func.count()).select_from(upload_results)
        n = n.where(upload_results.c.upload_id == upload_id)
        if status is not None:
            q = q.where(upload_results.c.status == status)
            n = n.where(upload_results.c.status == status)
        rows = list(c.execute(q.order_by(upload_results.c.line).limit(limit).offset(offset)))
        total = int(c.execute(n).scalar_one())
    results = []
    for r in rows:
        detail = json.loads(r.detail)
        item: dict[str, Any] = {
            "line": int(r.line),
            "id": detail.get("id"),
            "reporter": detail.get("reporter"),
            "status": r.status,
            "reasons": detail.get("reasons", []),
            "leaf_index": None if r.leaf_index is None else int(r.leaf_index),
            "leaf_hash": detail.get("leaf_hash"),
            "flags": detail.get("flags", []),
        }
        results.append(item)
    total_bytes = int(u.bytes_total)
    return {
        "id": u.id,
        "status": u.status,
        "enterprise": u.enterprise,
        "filename": u.filename,
        "bytes_total": total_bytes,
        "bytes_read": int(u.bytes_read),
        "progress": round(int(u.bytes_read) / total_bytes, 4) if total_bytes else 1.0,
        "lines": int(u.lines),
        "accepted": int(u.accepted),
        "rejected": int(u.rejected),
        "duplicates": int(u.duplicates),
        "flags": json.loads(u.flags),
        "error": u.error,
        "created_at": rfc3339(int(u.created_us)),
        "started_at": rfc3339(int(u.started_us)) if u.started_us is not None else None,
        "finished_at": rfc3339(int(u.finished_us)) if u.finished_us is not None else None,
        "results_total": total,
        "results_kept": (
            "all"
            if int(u.rejected) + int(u.duplicates) <= MAX_KEPT_REFUSALS
            else f"every accepted line and the first {MAX_KEPT_REFUSALS:,} rejected or "
            "duplicate lines (the rest are counted only)"
        ),
        "results": results,
        "next_offset": offset + len(results) if offset + len(results) < total else None,
    }
