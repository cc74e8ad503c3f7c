"""Fixtures of the deployment test: two fresh PostgreSQL databases, Redis, the Slack fake, the services.

Like the other tests that need servers, they skip without PostgreSQL or Redis, except under
CI=true, where they fail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN_URL, _unavailable
from tests.deployment.harness import Deployment, redis_command

PLATFORM_CHANNEL = ("CPLATFORM0", "incident-followup")  # the policy's dispatch.platform_channel


@pytest.fixture(scope="module")
def databases() -> Iterator[tuple[str, str]]:
    """(metadata database, store database), both dropped afterwards.

    The metadata database is created here, empty; the store's is only named: the harness's
    init step creates it (`python -m followthrough.deploy init-store`, as docker-compose's
    init service does).
    """
    import sqlalchemy as sa

    try:
        redis_command("PING")
    except OSError as exc:
        _unavailable(f"Redis on 127.0.0.1:6379: {exc}")
    suffix = uuid.uuid4().hex[:10]
    names = (f"ft_deploy_airflow_{suffix}", f"ft_deploy_store_{suffix}")
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{names[0]}"'))
    except sa.exc.OperationalError as exc:
        _unavailable(str(exc.orig).strip().splitlines()[0])
    yield names
    with admin.connect() as connection:
        for name in names:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def slack() -> Iterator[object]:
    from tests.fakes.slack import FakeSlack

    with FakeSlack() as fake:
        fake.add_channel(*PLATFORM_CHANNEL)
        yield fake


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, databases: tuple[str, str],
               slack: object) -> Iterator[Deployment]:
    from tests.fakes.slack import FakeSlack

    assert isinstance(slack, FakeSlack)
    root: Path = tmp_path_factory.mktemp("deployment")
    connection = {"conn_type": "slack", "password": slack.token, "extra": {"base_url": slack.base_url}}
    running = Deployment.start(root, *databases, slack_connection=connection)
    try:
        yield running
    finally:
        running.stop()
    assert running.running_pids() == [], "the harness left processes running"
