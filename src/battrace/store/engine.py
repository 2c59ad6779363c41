"""Engines for SQLite (embedded default) and PostgreSQL, configured for a durable ledger."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, cast

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


def fast_sqlite_binding() -> None:
    """Let the `sqlite3` driver bind `bytes`, `None` and `bool` without its slow path.

    The driver binds exact `int`, `float`, `str` and `bytearray` values directly; any other
    value (`bytes`, `None`, `bool` included) goes through its adaptation protocol, which asks
    the protocol *type* for `__adapt__` and so raises and clears a formatted AttributeError
    per value: about 2,000 instructions, and an ingested event binds 4-5 such values (leaf
    hash, Merkle nodes, absent VIN, the projection's empty and boolean columns). With an
    adapter registered for the type the driver finds it in its table and calls it instead.
    Each adapter returns an equal value of a type SQLite stores the same way, so nothing
    stored changes. The driver keeps one table for the process: `make_engine` registers them
    for every SQLite engine, and the benchmark's raw insert baseline does too (same driver,
    same binding cost, a fair ratio).
    """
    sqlite3.register_adapter(bytes, bytes)  # bytes(b) is b itself for an exact `bytes`
    # a callable written in C that returns None (a lambda would cost a Python frame)
    sqlite3.register_adapter(type(None), cast("Callable[[None], None]", {}.get))
    sqlite3.register_adapter(bool, int)  # stored as 0/1 either way


#: the databases battrace stores on (SQLAlchemy dialect names)
DIALECTS = ("sqlite", "postgresql")
EXPECTED = "expected sqlite:///path.db, postgresql://host/db or a file path"


def make_engine(url: str, **kw: Any) -> Engine:
    """An engine for `url` (sqlite:///path or postgresql+psycopg://…); StoreError for anything
    else, naming the forms expected."""
    scheme, sep, _ = url.partition("://")
    if not sep:  # `config.normalise_database_url` makes every file path a sqlite:/// URL
        raise StoreError(
            f"{url!r} is neither a store URL nor a file path: {EXPECTED} (a file path that "
            "starts like a URL needs ./ in front)"
        )
    dialect = scheme.split("+", 1)[0].lower()
    if dialect not in DIALECTS:
        raise StoreError(f"battrace stores on SQLite or PostgreSQL, not {dialect!r}: {EXPECTED}")
    try:
        if dialect == "sqlite":
            fast_sqlite_binding()
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
    except ImportError as exc:  # a driver named in the URL that is not installed (+psycopg2)
        raise StoreError(
            f"cannot use store URL {url!r}: its driver is not installed ({exc}); "
            "postgresql://host/db uses psycopg, which is"
        ) from exc


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy (and our writer) own transactions: the driver must not BEGIN on its own.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    for pragma in SQLITE_PRAGMAS:
        cur.execute(pragma)
    cur.close()


def _sqlite_on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")
