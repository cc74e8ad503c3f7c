"""The init step of a deployment: `python -m followthrough.deploy init-store` creates the store's
database when it is missing and migrates it; repeating it (an upgrade) changes nothing."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from followthrough.deploy import ensure_database, init_store, main


def tables(url: str) -> set[str]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_init_store_creates_the_postgres_database_once_and_migrates_it(postgres_url: str) -> None:
    import sqlalchemy as sa

    admin_url = sa.engine.make_url(postgres_url)
    name = f"ft_init_{uuid.uuid4().hex[:10]}"
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        assert ensure_database(url) is True
        assert ensure_database(url) is False  # already there: left alone
        init_store(url)
        assert {"ft_findings", "ft_outbox", "ft_runs", "ft_alembic_version"} <= tables(url)
        init_store(url)  # an upgrade with nothing new: idempotent
    finally:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_init_store_on_sqlite_needs_no_database_and_migrates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store' / 'followthrough.db'}"
    assert ensure_database(url) is False
    init_store(url)
    assert "ft_outbox" in tables(url)


def test_init_store_failure_is_one_line_and_exit_code_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init-store", "--url", "postgresql+psycopg2://nobody@127.0.0.1:1/none"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("store initialisation failed: OperationalError")
    assert len(err.splitlines()) == 1


def test_the_module_runs_as_a_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'followthrough.db'}"
    result = subprocess.run([sys.executable, "-m", "followthrough.deploy", "init-store", "--url", url],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("store ready: sqlite:///")
