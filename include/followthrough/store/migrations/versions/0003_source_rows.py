"""Canonical source rows live in the store (no worker keeps state on its disk); a run keeps the
policy its tasks use; a resolved finding says whether it was fixed or its subject left the source.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ft_source_rows",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("entity", sa.String(40), primary_key=True),
        sa.Column("row_key", sa.String(250), primary_key=True),
        sa.Column("row_number", sa.Integer, nullable=False),
        sa.Column("parent_key", sa.String(250)),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.Column("present", sa.Boolean, nullable=False),
        sa.Column("gone_as_of", sa.DateTime),
        sa.Column("first_run_id", sa.String(250), nullable=False),
        sa.Column("changed_run_id", sa.String(250), nullable=False),
    )
    op.create_index("ix_ft_source_rows_present", "ft_source_rows", ["source", "entity", "present"])
    with op.batch_alter_table("ft_runs") as batch:
        batch.add_column(sa.Column("policy", sa.JSON))
    with op.batch_alter_table("ft_findings") as batch:
        batch.add_column(sa.Column("resolution", sa.String(20)))


def downgrade() -> None:
    with op.batch_alter_table("ft_findings") as batch:
        batch.drop_column("resolution")
    with op.batch_alter_table("ft_runs") as batch:
        batch.drop_column("policy")
    op.drop_index("ix_ft_source_rows_present", table_name="ft_source_rows")
    op.drop_table("ft_source_rows")
