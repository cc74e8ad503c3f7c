"""Table definitions of the store. Alembic migrations (store/migrations) create and upgrade them.

All timestamps are stored as naive UTC: SQLite keeps no time zone and PostgreSQL's
`timestamp without time zone` then behaves the same, so both back ends compare alike.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

runs = Table(
    "ft_runs",
    metadata,
    Column("run_id", String(250), primary_key=True),
    Column("dag_id", String(250), nullable=False),
    Column("as_of", DateTime, nullable=False),
    Column("policy_hash", String(64), nullable=False),
    Column("status", String(20), nullable=False),  # running | succeeded
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("summary", JSON),
)

findings = Table(
    "ft_findings",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("rule", String(40), nullable=False),
    Column("subject_type", String(40), nullable=False),
    Column("subject_id", String(250), nullable=False),
    Column("status", String(20), nullable=False),  # open | resolved | waived
    Column("episode", Integer, nullable=False),  # 1, then +1 each time a resolved finding returns
    Column("team_id", String(250)),
    Column("incident_id", String(250)),
    Column("responsible", String(250)),
    Column("due_at", DateTime),
    Column("level", String(20), nullable=False),
    Column("critical", Boolean, nullable=False),
    Column("private", Boolean, nullable=False),
    Column("waiver", JSON),
    Column("confidential", Boolean, nullable=False),
    Column("title", Text),
    Column("reason", Text),
    Column("evidence", JSON),
    Column("first_seen_as_of", DateTime, nullable=False),
    # when the current episode began: the ladder counts from here or from due_at, the later
    Column("episode_started_as_of", DateTime, nullable=False),
    Column("last_seen_as_of", DateTime, nullable=False),
    Column("resolved_as_of", DateTime),
    # when an earlier episode was last resolved (kept on reopening: the reopen window counts from it)
    Column("last_resolved_as_of", DateTime),
    Column("first_run_id", String(250), nullable=False),
    Column("last_run_id", String(250), nullable=False),
    Index("ix_ft_findings_status_rule", "status", "rule"),
)

outbox = Table(
    "ft_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(250), nullable=False, unique=True),
    Column("run_id", String(250), nullable=False),
    Column("as_of", DateTime, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("episode", Integer, nullable=False),
    Column("step", Integer, nullable=False),
    Column("channel", String(20), nullable=False),  # jira | slack
    Column("action", String(40), nullable=False),
    Column("recipient", String(250)),
    Column("payload", JSON, nullable=False),
    # pending | held | claimed | sent | dry_run | failed | dead | cancelled (store/outbox.py, README: Outbox states)
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),  # every delivery attempt, whatever its outcome
    Column("created_at", DateTime, nullable=False),
    Column("dispatched_at", DateTime),
    Column("external_ref", String(250)),
    Column("send_after", DateTime),  # held until this instant (the recipient team's working hours)
    Column("lease_owner", String(250)),  # the dispatcher holding the claim
    Column("lease_expires_at", DateTime),  # after it, another dispatcher may reclaim (uncertain-write check)
    Column("last_attempt_at", DateTime),
    Column("error_category", String(20)),  # deferred | uncertain | permanent | configuration
    Column("last_error", Text),  # the reason of a failed entry, or of the last deferred attempt
    Index("ix_ft_outbox_status", "status"),
)

quarantine = Table(
    "ft_quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("row_hash", String(64), nullable=False),  # the raw row's content, so a fixed row is a new row
    Column("reason_code", String(40), nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("record_id", String(250)),
    Column("reason", Text, nullable=False),
    Column("raw", JSON, nullable=False),
    Column("first_run_id", String(250), nullable=False),
    Column("last_run_id", String(250), nullable=False),
    Column("last_seen_as_of", DateTime, nullable=False),
    UniqueConstraint("source", "entity", "row_hash", "reason_code", name="uq_ft_quarantine_row_reason"),
)

audit_events = Table(
    "ft_audit_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(250), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("subject", String(250)),
    Column("payload", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)

watermarks = Table(
    "ft_watermarks",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("value", DateTime, nullable=False),  # the largest `updated` seen; the next extraction starts there
    Column("run_id", String(250), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
