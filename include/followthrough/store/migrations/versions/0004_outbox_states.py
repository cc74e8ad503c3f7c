"""The outbox state machine: held entries wait for `send_after`, claims carry a lease, errors are kept.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = ("send_after", "lease_owner", "lease_expires_at", "last_attempt_at", "error_category", "last_error")


def upgrade() -> None:
    with op.batch_alter_table("ft_outbox") as batch:
        batch.add_column(sa.Column("send_after", sa.DateTime))
        batch.add_column(sa.Column("lease_owner", sa.String(250)))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime))
        batch.add_column(sa.Column("last_attempt_at", sa.DateTime))
        batch.add_column(sa.Column("error_category", sa.String(20)))
        batch.add_column(sa.Column("last_error", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("ft_outbox") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
