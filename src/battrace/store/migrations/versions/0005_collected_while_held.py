"""A battery stays collected while the outlet that collected it holds it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: The flag of 0004 held until the battery's next transition. It now holds until the holder
#: changes: shipping it on (until the addressee receives it) or the collecting enterprise
#: taking it out of a scrapped vehicle keeps it. The holder changes only by an event its new
#: holder reports, so the flag is on when the last live event that is a collection, or that
#: someone other than the holder reported, is the holder's collection. Each side of the union
#: is an index lookup (as in 0004).
LAST_COLLECTION_OR_OTHER = """
    SELECT e.type || ' ' || e.reporter
    FROM (SELECT x.seq FROM events x WHERE x.code = batteries.code
          UNION ALL
          SELECT c.seq FROM event_codes c WHERE c.code = batteries.code) AS named
    JOIN events e ON e.seq = named.seq
    WHERE e.type <> 'correction'
      AND (e.type = 'collected' OR e.reporter <> batteries.holder)
      AND NOT EXISTS (SELECT 1 FROM withdrawals w WHERE w.target_seq = e.seq)
    ORDER BY e.time_us DESC, e.seq DESC
    LIMIT 1
"""


def upgrade() -> None:
    """Apply: mark the retired batteries their holder collected and has held since."""
    op.execute(
        f"""
        UPDATE batteries SET collected = TRUE
        WHERE retired AND NOT collected
          AND ({LAST_COLLECTION_OR_OTHER}) = 'collected ' || holder
        """
    )


def downgrade() -> None:
    """Revert: nothing to undo. Code of 0004 reads the flag only to refuse a second
    collection by the holder, which the batteries marked here would have been (it resets the
    flag at their next transition)."""
