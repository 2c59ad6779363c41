"""What one app holds: the store, the one ingestor behind its group commit, the policy, metrics,
and the background worker that processes uploads."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from battrace import bootstrap
from battrace.api.commit import MAX_BATCH_EVENTS, GroupCommit, Outcome
from battrace.api.metrics import Metrics
from battrace.config import Settings
from battrace.domain.events import Reason
from battrace.domain.policy import Policy
from battrace.errors import AccessDenied, StoreError
from battrace.ledger.keys import NoteVerifier
from battrace.services import access, apikeys, uploads
from battrace.services.batch import decode_line
from battrace.services.clock import utc_now
from battrace.services.ingest import EventResult, Ingestor
from battrace.store.engine import make_engine
from battrace.store.sql import SqlStore

log = logging.getLogger("battrace.api")
Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class ApiOptions:
    """Limits and knobs of the HTTP API (the deployment's settings stay in `Settings`)."""

    #: largest request body outside uploads (a 10,000-event batch is ~3–20 MB)
    max_body_bytes: int = 64 * 1024 * 1024
    #: events per `POST /v1/events`
    max_batch_events: int = MAX_BATCH_EVENTS
    #: largest upload (None: no limit but the disk); 4 GiB holds ~16 M events of the
    #: benchmark data, and keeps one client from filling the spool's disk
    max_upload_bytes: int | None = 4 << 30
    #: where upload files wait to be processed (None: a temporary directory per app)
    upload_dir: Path | None = None
    #: events per ingest transaction of an upload
    upload_batch: int = 2000
    #: the platform's clock (record times, key and upload timestamps)
    clock: Clock = utc_now
    #: threads that run store reads (None: 2 on SQLite, 8 on PostgreSQL). Python threads
    #: share one interpreter lock, so on an embedded store more threads only queue for it
    #: (measured: 250 full views/s went from p50 5 ms with 1–2 threads to 400 ms with 4–16);
    #: PostgreSQL waits on the network, where a few more help. Writes have their own thread.
    threads: int | None = None
    #: include the dashboard (`battrace.web`) when it is installed
    web: bool = True
    #: at startup, mark uploads a previous server left unfinished as failed. Off in the
    #: workers of a multi-process server: there the supervisor does it once, before any
    #: worker starts (a worker must not fail the uploads its siblings are running)
    recover_uploads: bool = True


@dataclass
class Ingested:
    """One submitted event's result, and its receipt when accepted and asked for."""

    result: EventResult
    receipt: dict[str, Any] | None


@dataclass
class ApiState:
    """Everything the routes need, built once per app by `create_app`."""

    settings: Settings
    options: ApiOptions
    store: SqlStore
    ingestor: Ingestor
    policy: Policy
    verifier: NoteVerifier | None
    writes: GroupCommit
    metrics: Metrics = field(default_factory=Metrics)
    owns_store: bool = True
    _worker: UploadWorker | None = None
    _spool: Path | None = None

    @classmethod
    def build(
        cls, settings: Settings, options: ApiOptions, store: SqlStore | None = None
    ) -> ApiState:
        """Open the store (unless given) and build the ingestor with the settings' policy,
        calendar and signing key."""
        owns = store is None
        if store is None:
            # connections for the read threads, the writer, the upload worker, inline reads
            store = _open_store(settings, pool=16)
        policy = bootstrap.load_policy(settings)
        ingestor = bootstrap.make_ingestor(settings, store, clock=options.clock, policy=policy)
        return cls(
            settings,
            options,
            store,
            ingestor,
            policy,
            bootstrap.verifier(settings),
            GroupCommit(ingestor, store, max_events=options.max_batch_events),
            owns_store=owns,
        )

    @property
    def threads(self) -> int:
        """Threads for store reads (see `ApiOptions.threads`)."""
        if self.options.threads is not None:
            return self.options.threads
        return 2 if self.store.dialect == "sqlite" else 8

    @property
    def inline_reads(self) -> bool:
        """True when single-row reads may run on the event loop (an embedded SQLite file:
        readers never wait for the writer in WAL mode)."""
        return self.store.dialect == "sqlite"

    # ------------------------------------------------------------ ingest
    def ingest(
        self,
        principal: access.Principal,
        raws: Sequence[Any],
        *,
        source: str,
        receipts: bool = True,
    ) -> list[Ingested]:
        """Ingest a batch as the caller: events not reported by the caller are rejected here,
        the rest go through the writer in order (one transaction, possibly shared with
        concurrent requests: see `commit.GroupCommit`)."""
        problems, sub = self._screen(principal, raws)
        outcome = self.writes.ingest(sub, receipts=receipts) if sub else ([], [])
        return self._merge(principal, raws, problems, outcome, source)

    async def ingest_async(
        self,
        principal: access.Principal,
        raws: Sequence[Any],
        *,
        source: str,
        receipts: bool = True,
    ) -> list[Ingested]:
        """`ingest`, awaiting the writer without holding a thread."""
        problems, sub = self._screen(principal, raws)
        outcome: Outcome = ([], [])
        if sub:
            outcome = await asyncio.wrap_future(self.writes.submit(sub, receipts=receipts))
        return self._merge(principal, raws, problems, outcome, source)

    def _screen(
        self, principal: access.Principal, raws: Sequence[Any]
    ) -> tuple[list[Reason | None], list[Any]]:
        problems = access.reporter_problems(principal, raws)
        return problems, [raw for raw, p in zip(raws, problems, strict=True) if p is None]

    def _merge(
        self,
        principal: access.Principal,
        raws: Sequence[Any],
        problems: list[Reason | None],
        outcome: Outcome,
        source: str,
    ) -> list[Ingested]:
        results, proofs = iter(outcome[0]), iter(outcome[1])
        done: list[Ingested] = []
        for i, (raw, problem) in enumerate(zip(raws, problems, strict=True)):
            if problem is None:
                r = next(results)
                r.index = i
                r.reasons = access.shape_reasons(principal, raw, r.reasons)
                done.append(Ingested(r, next(proofs)))
                continue
            rid = raw.get("id") if isinstance(raw, dict) else None
            rep = raw.get("reporter") if isinstance(raw, dict) else None
            rejected = EventResult(
                i,
                rid if isinstance(rid, str) else None,
                rep if isinstance(rep, str) else None,
                "rejected",
                [problem],
            )
            done.append(Ingested(rejected, None))
        self.metrics.record((x.result for x in done), source)
        return done

    def ingest_lines(
        self, principal: access.Principal, lines: list[bytes | None]
    ) -> list[EventResult]:
        """Ingest lines of an upload as the caller (no receipts); None is a line too long to
        read (`ingest_file.batches`), rejected as such."""
        raws = [decode_line(line) for line in lines]
        return [x.result for x in self.ingest(principal, raws, source="upload", receipts=False)]

    def ingest_upload_lines(
        self, principal: access.Principal, lines: list[bytes | None]
    ) -> list[EventResult]:
        """`ingest_lines` for a batch of a queued upload: the key that sent it must still be
        active (a revocation stops the rest of the file; the upload ends failed, saying so)."""
        if (
            principal.key_id is not None
            and not apikeys.find_key(self.store, principal.key_id).active
        ):
            raise AccessDenied(
                f"API key {principal.key_id} was revoked while its upload ran: the rest of "
                "the file was not ingested"
            )
        return self.ingest_lines(principal, lines)

    # ------------------------------------------------------------ uploads
    @property
    def spool(self) -> Path:
        """The directory upload files wait in."""
        if self._spool is None:
            if self.options.upload_dir is not None:
                self.options.upload_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._spool = self.options.upload_dir
            else:
                self._spool = Path(tempfile.mkdtemp(prefix="battrace-uploads-"))
        return self._spool

    def submit_upload(self, upload_id: str, path: Path, principal: access.Principal) -> None:
        """Queue an upload for the background worker (started on first use)."""
        if self._worker is None:
            self._worker = UploadWorker(self)
            self._worker.start()
        self._worker.submit(upload_id, path, principal)

    def startup(self) -> None:
        """Mark uploads a previous server left unfinished as failed (`recover_uploads`)."""
        if not self.options.recover_uploads:
            return
        n = uploads.fail_interrupted(self.store, now=self.options.clock())
        if n:
            log.warning("%d upload(s) interrupted by the last shutdown were marked failed", n)

    def shutdown(self) -> None:
        """Stop the worker (after the upload in progress, if any) and release the store."""
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        self.writes.stop()
        if self._spool is not None and self.options.upload_dir is None:
            shutil.rmtree(self._spool, ignore_errors=True)
            self._spool = None
        if self.owns_store:
            self.store.close()

    def wait_for_uploads(self, timeout: float = 60.0) -> bool:
        """Block until the upload queue is empty (tests); False on timeout."""
        return self._worker is None or self._worker.drain(timeout)


def _open_store(settings: Settings, *, pool: int) -> SqlStore:
    """The settings' store with a connection pool for `pool` concurrent users."""
    try:
        store = SqlStore(make_engine(settings.database_url, pool_size=pool, max_overflow=4))
        store.check_schema()
    except OperationalError as exc:
        raise StoreError(f"cannot open store {settings.database_shown}: {exc.orig}") from exc
    return store


class UploadWorker:
    """One background thread that processes uploads in arrival order."""

    def __init__(self, state: ApiState) -> None:
        self.state = state
        self.jobs: queue.Queue[tuple[str, Path, access.Principal] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="battrace-uploads", daemon=True)
        self.idle = threading.Condition()
        self.pending = 0

    def start(self) -> None:
        """Start the thread."""
        self.thread.start()

    def submit(self, upload_id: str, path: Path, principal: access.Principal) -> None:
        """Queue one upload."""
        with self.idle:
            self.pending += 1
        self.jobs.put((upload_id, path, principal))

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the queued uploads, waiting at most `timeout` seconds (what is left is
        marked failed at the next start)."""
        self.jobs.put(None)
        self.thread.join(timeout)

    def drain(self, timeout: float) -> bool:
        """Wait until nothing is queued or running."""
        with self.idle:
            return self.idle.wait_for(lambda: self.pending == 0, timeout)

    def _run(self) -> None:
        st = self.state
        while True:
            job = self.jobs.get()
            if job is None:
                return
            upload_id, path, principal = job
            try:
                uploads.process(
                    st.store,
                    upload_id,
                    path,
                    ingest=functools.partial(st.ingest_upload_lines, principal),
                    clock=st.options.clock,
                    batch_size=st.options.upload_batch,
                )
                st.metrics.uploads.labels(
                    uploads.view(st.store, upload_id, limit=1)["status"]
                ).inc()
            except Exception:  # the worker must survive a broken store or a bug in one upload
                log.exception("upload %s could not be processed", upload_id)
            finally:
                path.unlink(missing_ok=True)
                with self.idle:
                    self.pending -= 1
                    self.idle.notify_all()
