"""One Airflow home (SQLite metadata, migrated once) for every `airflow dags test` of the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pipeline import airflow, airflow_env


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("airflow")
    env = airflow_env(home, home / "unused", home / "unused.yaml")
    result = airflow(env, "db", "migrate")
    assert result.returncode == 0, result.stderr[-3000:]
    result = airflow(env, "pools", "set", "jira_api", "2", "Caps concurrent Jira calls")
    assert result.returncode == 0, result.stderr[-3000:]
    return home
