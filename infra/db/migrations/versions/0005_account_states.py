"""seller_accounts: paused (refused credentials, with the reason), removed, first sync start

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 16:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("paused_at", sa.DateTime(timezone=True)),
    ("paused_reason", sa.Text()),
    ("removed_at", sa.DateTime(timezone=True)),
    ("sync_since", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    for name, kind in _COLUMNS:
        op.add_column("seller_accounts", sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    for name, _ in reversed(_COLUMNS):
        op.drop_column("seller_accounts", name)
