"""Daily event statistics (a projection for dashboards), filled from the log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DAY = "((e.time_us + 28800000000) / 86400000000)"
LIVE = "NOT EXISTS (SELECT 1 FROM withdrawals w WHERE w.target_seq = e.seq)"


def upgrade() -> None:
    """Apply: create the table and count the log as it stands."""
    op.create_table(
        "event_stats",
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("retirements", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "type", name=op.f("pk_event_stats")),
        sqlite_with_rowid=False,
    )
    op.execute(
        f"""
        INSERT INTO event_stats (day, type, events, retirements)
        SELECT {DAY}, e.type, COUNT(*),
               SUM(CASE WHEN e.type = 'replaced' THEN 1
                        WHEN e.type = 'removed'
                             AND e.payload NOT LIKE '%"reason":"scrapping"%' THEN 1
                        ELSE 0 END)
        FROM events e WHERE {LIVE} GROUP BY {DAY}, e.type
        """
    )
    bind = op.get_bind()
    scrapped = bind.execute(
        sa.text(
            f"""
            SELECT {DAY} AS day, COUNT(*) AS packs
            FROM event_codes c JOIN events e ON e.seq = c.seq
            WHERE e.type = 'vehicle_scrapped' AND {LIVE}
            GROUP BY {DAY}
            """
        )
    ).all()
    if scrapped:
        bind.execute(
            sa.text(
                "UPDATE event_stats SET retirements = :packs "
                "WHERE type = 'vehicle_scrapped' AND day = :day"
            ),
            [{"day": int(d), "packs": int(n)} for d, n in scrapped],
        )


def downgrade() -> None:
    """Revert."""
    op.drop_table("event_stats")
