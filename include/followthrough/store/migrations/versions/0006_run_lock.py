"""The enforcement run lock: one row per lock name, held by a run under a lease.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ft_run_lock",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("acquired_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ft_run_lock")
