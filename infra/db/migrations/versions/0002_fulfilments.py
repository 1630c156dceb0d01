"""fulfilments: packages to confirm on Amazon, their lines, refused requests, ship-by alerts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 03:24:18.241404
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rejected_fulfilments",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("account_ref", sa.String(length=100), nullable=True),
        sa.Column("amazon_order_id", sa.String(length=40), nullable=True),
        sa.Column("platform_fulfilment_id", sa.String(length=100), nullable=True),
        sa.Column("errors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("request", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("times_seen", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "first_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["seller_accounts.id"],
            name=op.f("fk_rejected_fulfilments_account_id_seller_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejected_fulfilments")),
        sa.UniqueConstraint("request_hash", name=op.f("uq_rejected_fulfilments_request_hash")),
    )
    op.create_table(
        "fulfilments",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("amazon_order_id", sa.String(length=40), nullable=False),
        sa.Column("platform_fulfilment_id", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column(
            "state", sa.String(length=20), server_default=sa.text("'accepted'"), nullable=False
        ),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("carrier_code", sa.String(length=60), nullable=False),
        sa.Column("carrier_name", sa.String(length=100), nullable=True),
        sa.Column("shipping_method", sa.String(length=100), nullable=True),
        sa.Column("tracking_number", sa.String(length=100), nullable=False),
        sa.Column(
            "cancellation_request_reviewed",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failure_code", sa.String(length=100), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("amazon_order_status", sa.String(length=30), nullable=True),
        sa.Column("amazon_package_status", sa.String(length=30), nullable=True),
        sa.Column("amazon_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "accepted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["seller_accounts.id"],
            name=op.f("fk_fulfilments_account_id_seller_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_fulfilments_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfilments")),
        sa.UniqueConstraint(
            "account_id",
            "platform_fulfilment_id",
            name=op.f("uq_fulfilments_account_id_platform_fulfilment_id"),
        ),
    )
    op.create_index("ix_fulfilments_order_id", "fulfilments", ["order_id"], unique=False)
    op.create_index(
        "ix_fulfilments_state_next_attempt_at",
        "fulfilments",
        ["state", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "ship_by_alerts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ship_by_latest", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_ship_by_alerts_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ship_by_alerts")),
        sa.UniqueConstraint(
            "order_id",
            "kind",
            "ship_by_latest",
            name=op.f("uq_ship_by_alerts_order_id_kind_ship_by_latest"),
        ),
    )
    op.create_table(
        "fulfilment_lines",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("fulfilment_id", sa.BigInteger(), nullable=False),
        sa.Column("order_item_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fulfilment_id"],
            ["fulfilments.id"],
            name=op.f("fk_fulfilment_lines_fulfilment_id_fulfilments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfilment_lines")),
        sa.UniqueConstraint(
            "fulfilment_id",
            "order_item_id",
            name=op.f("uq_fulfilment_lines_fulfilment_id_order_item_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("fulfilment_lines")
    op.drop_table("ship_by_alerts")
    op.drop_index("ix_fulfilments_state_next_attempt_at", table_name="fulfilments")
    op.drop_index("ix_fulfilments_order_id", table_name="fulfilments")
    op.drop_table("fulfilments")
    op.drop_table("rejected_fulfilments")
