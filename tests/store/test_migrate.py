"""Opening a store checks its schema revision without Alembic; creating or migrating it
runs Alembic."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext

from battrace.errors import SchemaError
from battrace.store import migrate
from battrace.store.engine import make_engine
from battrace.store.sql import SqlStore
from tests.kit import modules_loaded_after


def test_the_schema_head_constant_is_the_newest_migration():
    assert migrate.head_revision() == migrate.SCHEMA_HEAD


def _alembic_says(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_the_revision_is_read_as_alembic_reads_it(store_url: str):
    engine = make_engine(store_url)
    try:
        assert migrate.current_revision(engine) is None is _alembic_says(engine)
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.SCHEMA_HEAD == _alembic_says(engine)
        with engine.begin() as conn:  # a store left at an older revision
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0002'"))
        assert migrate.current_revision(engine) == "0002" == _alembic_says(engine)
        needs = f"store schema is 0002, this code needs {migrate.SCHEMA_HEAD}"
        with pytest.raises(SchemaError, match=needs):
            SqlStore(engine).check_schema()
        with engine.begin() as conn:  # branches, which this code never makes
            conn.execute(
                sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                {"v": migrate.SCHEMA_HEAD},
            )
        with pytest.raises(SchemaError, match="several schema revisions"):
            SqlStore(engine).check_schema()
    finally:
        engine.dispose()


def test_opening_a_store_does_not_load_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'b.db'}"
    SqlStore.open(url, create=True).close()
    opened = (
        f"import battrace.cli\nfrom battrace.store.sql import SqlStore\n"
        f"SqlStore.open({url!r}).close()"
    )
    assert modules_loaded_after(opened, ("alembic", "mako")) == []
