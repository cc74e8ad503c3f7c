"""Keyed audit chain: each event records its hash scheme; signed checkpoints (and prune anchors).

Events already in the log keep their plain SHA-256 hashes and get scheme "sha256". The first
keyed append (store/audit.py) seals them with an `audit_chain_keyed` event, keyed with
HMAC-SHA256, that records their count and head, so they stay verifiable and any later change
to them is detected. Migrations never see the key, so the seal is written by the code.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ft_audit_events") as batch:
        batch.add_column(sa.Column("scheme", sa.String(20), nullable=False, server_default="sha256"))
    op.create_table(
        "ft_audit_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("run_id", sa.String(250)),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("head", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(20), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ft_audit_checkpoints")
    with op.batch_alter_table("ft_audit_events") as batch:
        batch.drop_column("scheme")
