"""Create or migrate a store to the schema this code expects (Alembic, run in-process).

Alembic (and Mako, which it loads) is imported only to create or migrate a store: every
other command opens an existing store and only compares its revision with `SCHEMA_HEAD`,
one query instead of Alembic's imports and a read of the migration scripts (about 50 ms of
every `battrace` command here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from battrace.errors import SchemaError

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPT_LOCATION = "battrace.store:migrations"

#: the newest migration in this code (`head_revision()` reads it from the scripts; a test
#: keeps the two equal, so a new migration cannot be added without raising this)
SCHEMA_HEAD = "0006"

#: Alembic's own table, as Alembic names it by default
VERSION_TABLE = "alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration in this code, as Alembic finds it in the scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the store is at (None: not initialised) — what Alembic's
    `MigrationContext.get_current_revision` reads, without importing Alembic."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:  # branches: this code has one line of migrations
        raise SchemaError(f"the store is at several schema revisions at once: {sorted(rows)}")
    return rows[0] if rows else None


def upgrade(engine: Engine) -> None:
    """Migrate the store to the newest schema (creates it when empty)."""
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
