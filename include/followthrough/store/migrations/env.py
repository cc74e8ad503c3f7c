"""Alembic environment: migrates the connection handed over by followthrough.store.repository."""

from __future__ import annotations

from alembic import context

from followthrough.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table="ft_alembic_version")
with context.begin_transaction():
    context.run_migrations()
