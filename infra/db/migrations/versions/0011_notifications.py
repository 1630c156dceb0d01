"""notifications: NotificationIds taken in, order refreshes they ask for, each order's sightings

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 20:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "notifications_received",
        sa.Column("notification_id", sa.String(length=100), nullable=False),
        sa.Column("notification_type", sa.String(length=60), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("subject", sa.String(length=100), nullable=True),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["seller_accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("notification_id"),
    )
    op.create_index(
        "ix_notifications_received_received_at", "notifications_received", ["received_at"]
    )
    op.create_table(
        "order_refreshes",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("amazon_order_id", sa.String(length=40), nullable=False),
        sa.Column(
            "state", sa.String(length=20), server_default=sa.text("'pending'"), nullable=False
        ),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "requested_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["seller_accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "amazon_order_id"),
    )
    op.create_index(
        "ix_order_refreshes_account_id_state", "order_refreshes", ["account_id", "state"]
    )
    op.create_table(
        "order_sightings",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("amazon_order_id", sa.String(length=40), nullable=False),
        sa.Column("notified_change_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_change_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["seller_accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "amazon_order_id"),
    )
    op.create_index(
        "ix_order_sightings_account_id_seen_at", "order_sightings", ["account_id", "seen_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_order_sightings_account_id_seen_at", table_name="order_sightings")
    op.drop_table("order_sightings")
    op.drop_index("ix_order_refreshes_account_id_state", table_name="order_refreshes")
    op.drop_table("order_refreshes")
    op.drop_index("ix_notifications_received_received_at", table_name="notifications_received")
    op.drop_table("notifications_received")
