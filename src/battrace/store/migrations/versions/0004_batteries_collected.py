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

#: the live battery events that name the code, latest by event time first (what the
#: projection follows); a correction's replacement is stored as the correction and is left
#: out, so a battery whose last transition came that way is left unmarked (a second
#: collection is then accepted once more, as before this revision)
LAST_EVENT = """
    SELECT e.type || ' ' || e.reporter FROM events e
    WHERE (e.code = batteries.code
           OR e.seq IN (SELECT c.seq FROM event_codes c WHERE c.code = batteries.code))
      AND e.type <> 'correction'
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
