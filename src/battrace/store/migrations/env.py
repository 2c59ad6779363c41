"""Alembic environment: migrations run on the connection battrace hands in (no ini file)."""

from __future__ import annotations

from alembic import context

from battrace.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - battrace always passes its connection
    raise RuntimeError("run migrations through battrace (battrace init), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
