"""Batteries remember that their holder collected them (a second `collected` is refused)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: the last live event that names the code (by event time, as the projection follows them):
#: its own row or an `event_codes` entry, joined through a union so that each side is an
#: index lookup (an OR of the two made PostgreSQL scan the whole log once per battery)
LAST_EVENT = """
    SELECT e.type || ' ' || e.reporter
    FROM (SELECT x.seq FROM events x WHERE x.code = batteries.code
          UNION ALL
          SELECT c.seq FROM event_codes c WHERE c.code = batteries.code) AS named
    JOIN events e ON e.seq = named.seq
    WHERE e.type <> 'correction'
      AND NOT EXISTS (SELECT 1 FROM withdrawals w WHERE w.target_seq = e.seq)
    ORDER BY e.time_us DESC, e.seq DESC
    LIMIT 1
"""


def upgrade() -> None:
    """Apply: add the column and mark the used batteries whose last transition was their
    holder's `collected`, from the log."""
    with op.batch_alter_table("batteries") as batch:
        batch.add_column(
            sa.Column("collected", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        f"""
        UPDATE batteries SET collected = TRUE
        WHERE state = 'used'
          AND ({LAST_EVENT}) = 'collected ' || holder
        """
    )


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("batteries") as batch:
        batch.drop_column("collected")
