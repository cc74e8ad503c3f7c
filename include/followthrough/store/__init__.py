"""The store: runs, findings, outbox, quarantine and audit events (SQLAlchemy, Alembic)."""

from __future__ import annotations
