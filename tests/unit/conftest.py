"""Fixtures shared by the unit tests: an empty, migrated store on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from followthrough.store.repository import Store
from followthrough.store.schema import metadata


# psycopg 3 is the driver the postgres provider's Connection gives the tasks in a deployment; it binds
# typed parameters, so SQL that psycopg2 (the tests' default URL) accepts can fail there
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres),
                        pytest.param("psycopg3", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        if request.param == "psycopg3":
            url = sa.engine.make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        engine = sa.create_engine(url)
        with engine.begin() as connection:  # each test starts from an empty database
            for table in reversed(metadata.sorted_tables):
                connection.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))
            connection.execute(sa.text("DROP TABLE IF EXISTS ft_alembic_version"))
        engine.dispose()
    store = Store(url)
    store.migrate()
    yield store
    # close the pool's connections now: left to the garbage collector, an open psycopg 3 connection
    # warned (ResourceWarning) in whichever later test it was collected
    store.engine.dispose()
