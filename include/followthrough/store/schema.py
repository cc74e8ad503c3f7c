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
    # the policy every task of the run uses (validated content, its file's path), stored by the first task
    Column("policy", JSON),
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
    # why the last episode resolved: fixed (the problem is gone) or gone (its subject left the source)
    Column("resolution", String(20)),
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
    # hmac-sha256 (keyed, see store/audit.py); sha256 for events written before the key existed
    Column("scheme", String(20), nullable=False, server_default="sha256"),
)

audit_checkpoints = Table(
    "ft_audit_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),  # run | manual | prune (the anchor retention prunes behind)
    Column("run_id", String(250)),
    Column("seq", Integer, nullable=False),
    Column("head", String(64), nullable=False),
    Column("key_id", String(20), nullable=False),
    Column("mac", String(64), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
)

source_rows = Table(
    "ft_source_rows",
    metadata,
    # the canonical rows of every source, as extracted (all strings); the source contract types them
    Column("source", String(100), primary_key=True),
    Column("entity", String(40), primary_key=True),
    # the record's id; a row without a usable id (empty, or a duplicate within one extract) is kept
    # under "@row:<n>" so the contract still sees it and quarantines it with its reason
    Column("row_key", String(250), primary_key=True),
    Column("row_number", Integer, nullable=False),
    # the record a child row belongs to (a comment's or a change's action item): when that record is
    # extracted again, its children not in the extract are gone (deleted comments)
    Column("parent_key", String(250)),
    Column("data", JSON, nullable=False),
    Column("row_hash", String(64), nullable=False),
    # gone: the record left the source (deleted, moved out of its query's scope, a file row removed)
    Column("present", Boolean, nullable=False),
    Column("gone_as_of", DateTime),
    Column("first_run_id", String(250), nullable=False),
    Column("changed_run_id", String(250), nullable=False),
    Index("ix_ft_source_rows_present", "source", "entity", "present"),
)

watermarks = Table(
    "ft_watermarks",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("value", DateTime, nullable=False),  # the largest `updated` seen; the next extraction starts there
    Column("run_id", String(250), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

run_lock = Table(
    "ft_run_lock",
    metadata,
    # one enforcement run at a time (store/repository.py: acquire_run_lock); a run that died
    # holding it loses it when its lease ends
    Column("name", String(40), primary_key=True),
    Column("run_id", String(250), nullable=False),
    Column("acquired_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)
