"""Run the API with uvicorn: one process, the event loop plus a thread pool for store calls.

One process per store: the Ingestor is guarded by an in-process lock, and the store itself
serialises writers (SQLite `BEGIN IMMEDIATE`, PostgreSQL row lock on the log head), so writes go
one at a time while reads run concurrently (SQLite in WAL mode).
"""

from __future__ import annotations

import gc

import uvicorn

from battrace.api.app import create_app
from battrace.config import Settings


def run(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    access_log: bool = True,
    log_level: str = "info",
) -> None:
    """Serve the API until interrupted."""
    app = create_app(settings)
    # What exists now (modules, schemas, policy) lives as long as the server: keep it out of
    # the collector's generations so full collections stay short (tail latency).
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=access_log,
        log_level=log_level,
        server_header=False,
        proxy_headers=False,
    )
