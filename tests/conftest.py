"""Fixtures: stores on real SQLite files and a real PostgreSQL server, and a ready world."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from battrace.domain.calendar import WorkingCalendar
from battrace.domain.ingest_rules import IngestRules
from battrace.domain.policy import Policy
from battrace.services.ingest import Ingestor
from battrace.store.sql import SqlStore
from tests.kit import World, registry_events

PG_URL = os.environ.get("BATTRACE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("BATTRACE_REQUIRE_POSTGRES") == "1"


def _pg_available() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


_PG_PROBLEM = _pg_available()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL test server's URL (skips, or fails under CI, when it is down)."""
    if _PG_PROBLEM is not None:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required but unreachable at {PG_URL}: {_PG_PROBLEM}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {_PG_PROBLEM}")
    return PG_URL


@pytest.fixture
def pg_schema_url(pg_url: str) -> Iterator[str]:
    """A fresh, empty schema on the PostgreSQL server, dropped afterwards."""
    schema = f"bt_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    host_part = pg_url.split("://", 1)[1]
    yield f"postgresql+psycopg://{host_part}?options=-csearch_path%3D{schema}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A URL for an empty store on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'battrace.db'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    """An initialised, empty store on each backend."""
    s = SqlStore.open(store_url, create=True)
    yield s
    s.close()


@pytest.fixture
def world(store: SqlStore) -> World:
    """A store with the test registry loaded and a clock on 2025-01-10."""
    clock = [dt.datetime(2025, 1, 10, 10, tzinfo=dt.UTC)]
    ingestor = Ingestor(
        store,
        rules=IngestRules(Policy.default(), WorkingCalendar.default()),
        clock=lambda: clock[0],
    )
    w = World(ingestor, clock)
    w.ok(*registry_events())
    return w
