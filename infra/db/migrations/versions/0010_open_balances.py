"""payouts: what Amazon holds and has not paid out yet (Finances' open event groups)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 18:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payout_open_balances",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("group_id", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "fetched_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["account_id"], ["seller_accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "group_id"),
    )


def downgrade() -> None:
    op.drop_table("payout_open_balances")
