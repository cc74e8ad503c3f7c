"""Watermarks (where each incremental source's next extraction starts); findings remember their
last resolution (the ticket reopen window counts from it).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ft_watermarks",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("value", sa.DateTime, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    with op.batch_alter_table("ft_findings") as batch:
        batch.add_column(sa.Column("last_resolved_as_of", sa.DateTime))


def downgrade() -> None:
    with op.batch_alter_table("ft_findings") as batch:
        batch.drop_column("last_resolved_as_of")
    op.drop_table("ft_watermarks")
