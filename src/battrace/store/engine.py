"""Engines for SQLite (embedded default) and PostgreSQL, configured for a durable ledger."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from battrace.errors import StoreError

#: SQLite settings: WAL so readers never block the writer; FULL sync so an acknowledged event
#: survives power loss as well as a killed process.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA foreign_keys=OFF",
)


def make_engine(url: str, **kw: Any) -> Engine:
    """An engine for `url` (sqlite:///path or postgresql+psycopg://…)."""
    try:
        if url.startswith("sqlite"):
            # A pooled connection stays open between batches: closing the last connection to a
            # WAL database checkpoints it, which would cost a full write per batch.
            engine = create_engine(url, **kw)
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_on_begin)
            return engine
        # No pre-ping: it costs a round trip per checkout; stale connections are recycled.
        return create_engine(url, pool_recycle=1800, **kw)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StoreError(f"cannot use store URL {url!r}: {exc}") from exc


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy (and our writer) own transactions: the driver must not BEGIN on its own.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    for pragma in SQLITE_PRAGMAS:
        cur.execute(pragma)
    cur.close()


def _sqlite_on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")
