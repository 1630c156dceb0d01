"""orders: where the stored copy came from ('full': the Orders API; 'report': a backfill's order
report, poorer, which never replaces a full copy)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 20:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "orders",
        sa.Column("detail", sa.String(length=10), server_default=sa.text("'full'"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("orders", "detail")
