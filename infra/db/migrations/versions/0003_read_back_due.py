"""fulfilments.read_back_due_at: read-backs put off while getOrder's budget is spent

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 15:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "fulfilments", sa.Column("read_back_due_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_fulfilments_read_back_due_at",
        "fulfilments",
        ["read_back_due_at"],
        unique=False,
        postgresql_where=sa.text("read_back_due_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_fulfilments_read_back_due_at",
        table_name="fulfilments",
        postgresql_where=sa.text("read_back_due_at IS NOT NULL"),
    )
    op.drop_column("fulfilments", "read_back_due_at")
