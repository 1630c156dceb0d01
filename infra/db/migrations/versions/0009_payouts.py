"""payouts: settlements, their lines and the rows set aside

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 17:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MONEY = sa.Numeric(precision=18, scale=4)
_TIME = sa.DateTime(timezone=True)


def _now(name: str) -> sa.Column[object]:
    return sa.Column(name, _TIME, server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "settlements",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("settlement_id", sa.Text(), nullable=False),
        sa.Column("report_id", sa.Text(), nullable=False),
        sa.Column("document_id", sa.Text(), nullable=False),
        sa.Column("period_start", _TIME, nullable=False),
        sa.Column("period_end", _TIME, nullable=False),
        sa.Column("deposit_date", _TIME, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", _MONEY, nullable=False),
        sa.Column("marketplace_name", sa.Text(), nullable=True),
        sa.Column("lines_stored", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "state", sa.String(length=20), server_default=sa.text("'fetching'"), nullable=False
        ),
        sa.Column("sales", _MONEY, nullable=True),
        sa.Column("refunds", _MONEY, nullable=True),
        sa.Column("fees", _MONEY, nullable=True),
        sa.Column("other", _MONEY, nullable=True),
        sa.Column("lines_total", _MONEY, nullable=True),
        sa.Column("difference", _MONEY, nullable=True),
        sa.Column("line_count", sa.Integer(), nullable=True),
        sa.Column("set_aside", sa.Integer(), nullable=True),
        sa.Column("unmatched", sa.Integer(), nullable=True),
        sa.Column("matched", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("problems", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        _now("created_at"),
        sa.Column("reconciled_at", _TIME, nullable=True),
        _now("updated_at"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["seller_accounts.id"],
            name=op.f("fk_settlements_account_id_seller_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlements")),
        sa.UniqueConstraint(
            "account_id", "settlement_id", name=op.f("uq_settlements_account_id_settlement_id")
        ),
    )
    op.create_index(
        "ix_settlements_account_id_period_end",
        "settlements",
        ["account_id", "period_end"],
        unique=False,
    )
    op.create_table(
        "settlement_lines",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("settlement_row_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("transaction_type", sa.Text(), nullable=False),
        sa.Column("amount_type", sa.Text(), nullable=False),
        sa.Column("amount_description", sa.Text(), nullable=False),
        sa.Column("amount", _MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("merchant_order_id", sa.Text(), nullable=True),
        sa.Column("adjustment_id", sa.Text(), nullable=True),
        sa.Column("shipment_id", sa.Text(), nullable=True),
        sa.Column("marketplace_name", sa.Text(), nullable=True),
        sa.Column("fulfillment_id", sa.Text(), nullable=True),
        sa.Column("posted_at", _TIME, nullable=True),
        sa.Column("order_item_code", sa.Text(), nullable=True),
        sa.Column("merchant_order_item_id", sa.Text(), nullable=True),
        sa.Column("merchant_adjustment_item_id", sa.Text(), nullable=True),
        sa.Column("sku", sa.Text(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("promotion_id", sa.Text(), nullable=True),
        sa.Column("unmatched", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_lines")),
        sa.UniqueConstraint(
            "settlement_row_id",
            "line_no",
            name=op.f("uq_settlement_lines_settlement_row_id_line_no"),
        ),
    )
    op.create_index(
        "ix_settlement_lines_order_id",
        "settlement_lines",
        ["order_id"],
        unique=False,
        postgresql_where=sa.text("order_id IS NOT NULL"),
    )
    op.create_table(
        "settlement_lines_set_aside",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("settlement_row_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["settlement_row_id"],
            ["settlements.id"],
            name=op.f("fk_settlement_lines_set_aside_settlement_row_id_settlements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_lines_set_aside")),
        sa.UniqueConstraint(
            "settlement_row_id",
            "line_no",
            name=op.f("uq_settlement_lines_set_aside_settlement_row_id_line_no"),
        ),
    )


def downgrade() -> None:
    op.drop_table("settlement_lines_set_aside")
    op.drop_index(
        "ix_settlement_lines_order_id",
        table_name="settlement_lines",
        postgresql_where=sa.text("order_id IS NOT NULL"),
    )
    op.drop_table("settlement_lines")
    op.drop_index("ix_settlements_account_id_period_end", table_name="settlements")
    op.drop_table("settlements")
