"""Parts freed by dismantling take their manufacturer code's owner once it is assigned

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply: index the codes with nobody obligated by manufacturer, and give each the owner
    its manufacturer code has now (what a rebuild, folding with today's registry, gives)."""
    op.create_index(
        "ix_batteries_unobligated",
        "batteries",
        ["manufacturer"],
        sqlite_where=sa.text("obligated IS NULL"),
        postgresql_where=sa.text("obligated IS NULL"),
    )
    op.execute(
        "UPDATE batteries SET obligated = (SELECT m.enterprise FROM manufacturer_codes m"
        " WHERE m.manufacturer_code = batteries.manufacturer)"
        " WHERE obligated IS NULL AND EXISTS (SELECT 1 FROM manufacturer_codes m"
        " WHERE m.manufacturer_code = batteries.manufacturer)"
    )


def downgrade() -> None:
    """Revert: drop the index (the owners given stay: 0005 reads them the same)."""
    op.drop_index("ix_batteries_unobligated", table_name="batteries")
