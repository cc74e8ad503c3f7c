"""Shared fixtures: a fresh PostgreSQL database per test session when the server is there.

Tests that need PostgreSQL fail loudly when CI=true and the server cannot be reached;
elsewhere they skip with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# every store write seals audit events with the key; tests and the Airflow runs they start share this one
os.environ.setdefault("FOLLOWTHROUGH_AUDIT_KEY", "followthrough-test-audit-key-0001")

PG_ADMIN_URL = os.environ.get("FOLLOWTHROUGH_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A new, empty database on the local server, dropped after the session."""
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"followthrough_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        _unavailable(str(exc.orig).strip().splitlines()[0])
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def fresh_postgres(postgres_url: str) -> Iterator[Callable[[], str]]:
    """Make databases of the test's own on the local server (the session's one is shared); dropped afterwards."""
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"followthrough_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return sa.engine.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as connection:
        for name in made:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture
def report_figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record a line a suite proves (e.g. the crash suite's kills and duplicates); printed at the end of the run."""
    return request.config.stash.setdefault(FIGURES, []).append


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    figures = config.stash.get(FIGURES, [])
    if figures:
        terminalreporter.section("figures")
        for line in figures:
            terminalreporter.write_line(line)


@pytest.fixture
def canary_store() -> Iterator[str]:
    """A new PostgreSQL database owned by a role whose password is the store canary (tests/canaries.py)."""
    import sqlalchemy as sa

    from tests import canaries

    try:
        with canaries.canary_database(PG_ADMIN_URL) as url:
            yield url
    except sa.exc.OperationalError as exc:
        _unavailable(str(exc.orig).strip().splitlines()[0])
