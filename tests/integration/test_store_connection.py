"""The store Connection `followthrough_db` behaves like any PostgreSQL Connection: its extras apply."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from followthrough import tasks

pytestmark = pytest.mark.postgres


def test_extras_such_as_options_and_application_name_reach_the_server(postgres_url: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    url = sa.engine.make_url(postgres_url)
    monkeypatch.setenv("AIRFLOW_CONN_FOLLOWTHROUGH_DB", json.dumps({
        "conn_type": "postgres", "host": url.host, "port": url.port, "login": url.username,
        "schema": url.database,
        "extra": {"options": "-c statement_timeout=4321", "application_name": "followthrough-test",
                  "sslmode": "disable"}}))
    store = tasks.open_store()
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("SHOW statement_timeout")).scalar() == "4321ms"
        assert connection.execute(sa.text("SHOW application_name")).scalar() == "followthrough-test"
    assert store.url.startswith("postgresql+")  # the driver the provider picks


def test_a_connection_of_another_type_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FOLLOWTHROUGH_DB", json.dumps({"conn_type": "mysql", "host": "db"}))
    with pytest.raises(ValueError, match="type 'mysql'; use postgres"):
        tasks.open_store()
