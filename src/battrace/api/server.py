"""Run the API with uvicorn: the event loop plus a thread pool for store calls, in one process
or in several.

Within a process the Ingestor's writes go through one writer thread (`commit.GroupCommit`).
Across processes the store serialises writers (SQLite `BEGIN IMMEDIATE`, PostgreSQL row lock on
the log head) and every batch starts from the head it reads under that lock (tree frontier,
registry version, the states it touches), so several workers may write to one store: parsing,
validation, receipts and responses then run in parallel and only the decision and the insert
take turns. Each worker accepts on a listening socket of its own (`api.workers`: SO_REUSEPORT,
so the kernel spreads connections over the workers). Per-process things stay per process:
`/metrics` counts the worker that answers, each worker has its own upload queue, and the
supervisor (not a worker) marks the uploads an earlier server left unfinished as failed, once,
before the workers start.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import os
from typing import Any

import uvicorn
from fastapi import FastAPI

from battrace import bootstrap
from battrace.api.app import create_app
from battrace.api.state import ApiOptions
from battrace.api.workers import listening_sockets
from battrace.api.workers import serve as supervise
from battrace.config import Settings
from battrace.services import uploads

log = logging.getLogger(__name__)


def run(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    access_log: bool = True,
    log_level: str = "info",
    workers: int = 1,
    forwarded_allow_ips: str | None = None,
) -> None:
    """Serve the API until interrupted, in `workers` processes (`api.workers`: each worker
    accepts on a socket of its own). `forwarded_allow_ips` (comma-separated addresses or
    networks of the reverse proxies in front, or `*`) turns on `X-Forwarded-For` and
    `X-Forwarded-Proto` from those peers only: the client's address in the access log, and
    `https` as the scheme of requests the proxy received over TLS."""
    options: dict[str, Any] = {
        "access_log": access_log,
        "log_level": log_level,
        "server_header": False,
        "proxy_headers": bool(forwarded_allow_ips),
    }
    if forwarded_allow_ips:
        options["forwarded_allow_ips"] = forwarded_allow_ips
    if workers > 1:
        # a key the workers would refuse (another log's name, unsafe rights) stops the server
        # here with one line, not with a traceback from every worker
        bootstrap.signer(settings)
        uvicorn.Config(worker_app, log_level=log_level)  # configures uvicorn's loggers here too
        socks = listening_sockets(host, port, workers)  # before anything changes the store
        try:
            _recover_uploads(settings)
        except BaseException:
            for sock in socks:
                sock.close()
            raise
        os.environ.update(settings.to_env())  # the workers build their settings from it
        status = supervise(socks, options)
        if status:
            raise SystemExit(status)
        return
    app = create_app(settings)
    _freeze()
    uvicorn.run(app, host=host, port=port, **options)


def worker_app() -> FastAPI:
    """The app of one worker of a multi-process server (settings from the environment)."""
    app = create_app(Settings.from_env(), options=ApiOptions(recover_uploads=False))
    _freeze()
    return app


def _freeze() -> None:
    # What exists now (modules, schemas, policy) lives as long as the server: keep it out of
    # the collector's generations so full collections stay short (tail latency).
    gc.collect()
    gc.freeze()


def _recover_uploads(settings: Settings) -> None:
    """What `ApiState.startup` does in a one-process server, done once by the supervisor."""
    store = bootstrap.open_store(settings)
    try:
        n = uploads.fail_interrupted(store, now=dt.datetime.now(dt.UTC))
    finally:
        store.close()
    if n:
        log.warning("%d upload(s) interrupted by the last shutdown were marked failed", n)
