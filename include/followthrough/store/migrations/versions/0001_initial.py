"""Initial store: runs, findings, outbox, quarantine, audit events.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ft_runs",
        sa.Column("run_id", sa.String(250), primary_key=True),
        sa.Column("dag_id", sa.String(250), nullable=False),
        sa.Column("as_of", sa.DateTime, nullable=False),
        sa.Column("policy_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("summary", sa.JSON),
    )
    op.create_table(
        "ft_findings",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("subject_type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(250), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("episode", sa.Integer, nullable=False),
        sa.Column("team_id", sa.String(250)),
        sa.Column("incident_id", sa.String(250)),
        sa.Column("responsible", sa.String(250)),
        sa.Column("due_at", sa.DateTime),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("critical", sa.Boolean, nullable=False),
        sa.Column("private", sa.Boolean, nullable=False),
        sa.Column("waiver", sa.JSON),
        sa.Column("confidential", sa.Boolean, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("evidence", sa.JSON),
        sa.Column("first_seen_as_of", sa.DateTime, nullable=False),
        sa.Column("episode_started_as_of", sa.DateTime, nullable=False),
        sa.Column("last_seen_as_of", sa.DateTime, nullable=False),
        sa.Column("resolved_as_of", sa.DateTime),
        sa.Column("first_run_id", sa.String(250), nullable=False),
        sa.Column("last_run_id", sa.String(250), nullable=False),
    )
    op.create_index("ix_ft_findings_status_rule", "ft_findings", ["status", "rule"])
    op.create_table(
        "ft_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(250), nullable=False, unique=True),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("as_of", sa.DateTime, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("episode", sa.Integer, nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("recipient", sa.String(250)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("dispatched_at", sa.DateTime),
        sa.Column("external_ref", sa.String(250)),
    )
    op.create_index("ix_ft_outbox_status", "ft_outbox", ["status"])
    op.create_table(
        "ft_quarantine",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.Column("reason_code", sa.String(40), nullable=False),
        sa.Column("row_number", sa.Integer, nullable=False),
        sa.Column("record_id", sa.String(250)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.JSON, nullable=False),
        sa.Column("first_run_id", sa.String(250), nullable=False),
        sa.Column("last_run_id", sa.String(250), nullable=False),
        sa.Column("last_seen_as_of", sa.DateTime, nullable=False),
        sa.UniqueConstraint("source", "entity", "row_hash", "reason_code", name="uq_ft_quarantine_row_reason"),
    )
    op.create_table(
        "ft_audit_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(250)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )


def downgrade() -> None:
    for table in ("ft_audit_events", "ft_quarantine", "ft_outbox", "ft_findings", "ft_runs"):
        op.drop_table(table)
