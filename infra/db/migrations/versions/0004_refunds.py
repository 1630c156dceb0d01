"""refunds, cancellations and feed submissions; order item charges; accounts connected

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 13:25:49.979010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feed_submissions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("marketplace_id", sa.String(length=20), nullable=False),
        sa.Column("feed_type", sa.String(length=60), nullable=False),
        sa.Column("state", sa.String(length=20), server_default=sa.text("'built'"), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("feed_document_id", sa.String(length=200), nullable=True),
        sa.Column("amazon_feed_id", sa.String(length=60), nullable=True),
        sa.Column("create_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("create_ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("processing_status", sa.String(length=20), nullable=True),
        sa.Column("result_document_id", sa.String(length=200), nullable=True),
        sa.Column("report", sa.LargeBinary(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["seller_accounts.id"],
            name=op.f("fk_feed_submissions_account_id_seller_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_submissions")),
    )
    op.create_index(
        "ix_feed_submissions_account_id_amazon_feed_id",
        "feed_submissions",
        ["account_id", "amazon_feed_id"],
        unique=False,
    )
    op.create_index(
        "ix_feed_submissions_state_next_attempt_at",
        "feed_submissions",
        ["state", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "finance_cursors",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("posted_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("covered_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["seller_accounts.id"],
            name=op.f("fk_finance_cursors_account_id_seller_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_finance_cursors")),
    )
    op.create_table(
        "rejected_refunds",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("account_ref", sa.String(length=100), nullable=True),
        sa.Column("amazon_order_id", sa.String(length=40), nullable=True),
        sa.Column("platform_id", sa.String(length=100), nullable=True),
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
            name=op.f("fk_rejected_refunds_account_id_seller_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejected_refunds")),
        sa.UniqueConstraint("request_hash", name=op.f("uq_rejected_refunds_request_hash")),
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column(
            "source", sa.String(length=10), server_default=sa.text("'store'"), nullable=False
        ),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("amazon_order_id", sa.String(length=40), nullable=False),
        sa.Column("marketplace_id", sa.String(length=20), nullable=False),
        sa.Column("platform_id", sa.String(length=100), nullable=True),
        sa.Column("amazon_key", sa.String(length=400), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("whole_order", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "state", sa.String(length=20), server_default=sa.text("'accepted'"), nullable=False
        ),
        sa.Column("submission_id", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failure_code", sa.String(length=100), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["seller_accounts.id"],
            name=op.f("fk_refunds_account_id_seller_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_refunds_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["feed_submissions.id"],
            name=op.f("fk_refunds_submission_id_feed_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint(
            "account_id", "amazon_key", name=op.f("uq_refunds_account_id_amazon_key")
        ),
        sa.UniqueConstraint(
            "account_id", "kind", "platform_id", name=op.f("uq_refunds_account_id_kind_platform_id")
        ),
    )
    op.create_index(
        "ix_refunds_account_id_amazon_order_id",
        "refunds",
        ["account_id", "amazon_order_id"],
        unique=False,
    )
    op.create_index(
        "ix_refunds_state_account_id_marketplace_id",
        "refunds",
        ["state", "account_id", "marketplace_id"],
        unique=False,
    )
    op.create_index("ix_refunds_submission_id", "refunds", ["submission_id"], unique=False)
    op.create_table(
        "refund_lines",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("refund_id", sa.BigInteger(), nullable=False),
        sa.Column("order_item_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("amazon_adjustment_item_id", sa.String(length=60), nullable=True),
        sa.Column(
            "item_price",
            sa.Numeric(precision=18, scale=4),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "shipping",
            sa.Numeric(precision=18, scale=4),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "tax", sa.Numeric(precision=18, scale=4), server_default=sa.text("0"), nullable=False
        ),
        sa.Column(
            "shipping_tax",
            sa.Numeric(precision=18, scale=4),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "gift_wrap",
            sa.Numeric(precision=18, scale=4),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "gift_wrap_tax",
            sa.Numeric(precision=18, scale=4),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "goodwill",
            sa.Numeric(precision=18, scale=4),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "restocking_fee",
            sa.Numeric(precision=18, scale=4),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "return_shipping",
            sa.Numeric(precision=18, scale=4),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"],
            ["refunds.id"],
            name=op.f("fk_refund_lines_refund_id_refunds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_lines")),
    )
    op.create_index("ix_refund_lines_refund_id", "refund_lines", ["refund_id"], unique=False)
    op.add_column(
        "order_items",
        sa.Column("charged_principal", sa.Numeric(precision=18, scale=4), nullable=True),
    )
    op.add_column(
        "order_items",
        sa.Column("charged_shipping", sa.Numeric(precision=18, scale=4), nullable=True),
    )
    op.add_column(
        "order_items", sa.Column("charged_tax", sa.Numeric(precision=18, scale=4), nullable=True)
    )
    op.add_column(
        "order_items",
        sa.Column("charged_shipping_tax", sa.Numeric(precision=18, scale=4), nullable=True),
    )
    op.add_column(
        "order_items",
        sa.Column("charged_gift_wrap", sa.Numeric(precision=18, scale=4), nullable=True),
    )
    op.add_column(
        "order_items",
        sa.Column("charged_gift_wrap_tax", sa.Numeric(precision=18, scale=4), nullable=True),
    )
    op.add_column(
        "seller_accounts",
        sa.Column("connected", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    op.add_column(
        "seller_accounts", sa.Column("disconnected_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "seller_accounts", sa.Column("reconnected_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("seller_accounts", "reconnected_at")
    op.drop_column("seller_accounts", "disconnected_at")
    op.drop_column("seller_accounts", "connected")
    op.drop_column("order_items", "charged_gift_wrap_tax")
    op.drop_column("order_items", "charged_gift_wrap")
    op.drop_column("order_items", "charged_shipping_tax")
    op.drop_column("order_items", "charged_tax")
    op.drop_column("order_items", "charged_shipping")
    op.drop_column("order_items", "charged_principal")
    op.drop_index("ix_refund_lines_refund_id", table_name="refund_lines")
    op.drop_table("refund_lines")
    op.drop_index("ix_refunds_submission_id", table_name="refunds")
    op.drop_index("ix_refunds_state_account_id_marketplace_id", table_name="refunds")
    op.drop_index("ix_refunds_account_id_amazon_order_id", table_name="refunds")
    op.drop_table("refunds")
    op.drop_table("rejected_refunds")
    op.drop_table("finance_cursors")
    op.drop_index("ix_feed_submissions_state_next_attempt_at", table_name="feed_submissions")
    op.drop_index("ix_feed_submissions_account_id_amazon_feed_id", table_name="feed_submissions")
    op.drop_table("feed_submissions")
