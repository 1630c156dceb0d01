"""spapi_calls: the SP-API calls made for each order (bounded retention)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 17:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spapi_calls",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("amazon_order_ids", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("operation", sa.String(length=80), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        sa.Column("error_code", sa.String(length=100), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("elapsed_ms", sa.Integer(), nullable=False),
        sa.Column("task_name", sa.String(length=200), nullable=True),
        sa.Column("task_id", sa.String(length=200), nullable=True),
        sa.Column(
            "called_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["seller_accounts.id"],
            name=op.f("fk_spapi_calls_account_id_seller_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spapi_calls")),
    )
    op.create_index(
        "ix_spapi_calls_amazon_order_ids",
        "spapi_calls",
        ["amazon_order_ids"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index("ix_spapi_calls_called_at", "spapi_calls", ["called_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_spapi_calls_called_at", table_name="spapi_calls")
    op.drop_index(
        "ix_spapi_calls_amazon_order_ids", table_name="spapi_calls", postgresql_using="gin"
    )
    op.drop_table("spapi_calls")
