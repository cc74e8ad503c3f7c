"""End to end: `airflow dags test followthrough_enforce` over the demo data, on SQLite and on
PostgreSQL, asserting the exact findings and quarantined rows the demo data plants.

One Airflow home (SQLite metadata, migrated once) serves every run of the session.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from followthrough.store.repository import Store
from tests.pipeline import (
    DEMO,
    DEMO_AS_OF,
    airflow,
    airflow_env,
    expected_findings,
    expected_open_findings,
    expected_quarantine,
    write_policy,
)

pytestmark = pytest.mark.e2e


def run_enforce(airflow_home: Path, ft_home: Path, policy: Path, as_of: str = DEMO_AS_OF, **extra: str):  # type: ignore[no-untyped-def]
    env = airflow_env(airflow_home, ft_home, policy, **extra)
    return airflow(env, "dags", "test", "followthrough_enforce", as_of)


def findings_with_status(store: Store, status: str) -> list[tuple[str, str, str]]:
    frame = store.findings_frame(status)
    return sorted(zip(frame["rule"], frame["subject_type"], frame["subject_id"], strict=True))


def assert_planted_findings(store: Store) -> None:
    assert findings_with_status(store, "open") == expected_open_findings()
    assert findings_with_status(store, "waived") == expected_findings("waived")
    levels = store.findings_frame("open").set_index("subject_id")["level"]
    assert sorted(levels[levels == "warning"].index) == sorted(s for _, _, s in expected_findings("warning"))


def quarantined(store: Store) -> list[tuple[str, int, str]]:
    import sqlalchemy as sa

    with store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT entity, row_number, reason_code FROM ft_quarantine")).all()
    return sorted((e, int(n), c) for e, n, c in rows)


def test_demo_run_on_sqlite_finds_exactly_the_planted_problems_and_is_idempotent(
    airflow_home: Path, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path, DEMO)
    first = run_enforce(airflow_home, tmp_path / "ft", policy)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    store = Store(f"sqlite:///{tmp_path / 'ft' / 'followthrough.db'}")
    assert_planted_findings(store)
    assert quarantined(store) == expected_quarantine()
    assert (tmp_path / "ft" / "reports").is_dir()
    run = store.get_run()
    assert run is not None
    assert run["as_of"].isoformat() == "2026-07-15T10:00:00"
    report = Path(run["summary"]["report"])
    assert report.is_file()
    assert (report.parent / "data_docs" / "followup" / "index.html").is_file()
    assert (report.parent / "data_docs" / "source_contract" / "demo" / "index.html").is_file()
    assert run["summary"]["quarantine"]["rows"] == len(expected_quarantine())
    findings_after_first = store.findings_frame().drop(columns=["last_run_id"])
    outbox_after_first = store.outbox_frame()
    assert set(outbox_after_first["status"]) == {"dry_run"}

    second = run_enforce(airflow_home, tmp_path / "ft", policy)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
    assert store.findings_frame().drop(columns=["last_run_id"]).equals(findings_after_first)
    assert len(store.outbox_frame()) == len(outbox_after_first)
    latest = store.get_run()
    assert latest is not None
    assert latest["run_id"] != run["run_id"]
    assert latest["summary"]["findings"]["changes_this_run"] == {
        "new": 0, "reopened": 0, "resolved": 0, "resolved_gone": 0, "waived": 0}
    assert latest["summary"]["actions_planned_this_run"]["total"] == 0
    assert store.verify_audit_chain()[0]


@pytest.mark.postgres
def test_demo_run_on_postgresql_finds_exactly_the_planted_problems(
    airflow_home: Path, tmp_path: Path, postgres_url: str
) -> None:
    import sqlalchemy as sa

    url = sa.engine.make_url(postgres_url)
    connection = {"conn_type": "postgres", "host": url.host, "port": url.port, "login": url.username,
                  "password": url.password or "", "schema": url.database}
    result = run_enforce(airflow_home, tmp_path / "ft", write_policy(tmp_path, DEMO),
                         AIRFLOW_CONN_FOLLOWTHROUGH_DB=json.dumps(connection))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert not (tmp_path / "ft" / "followthrough.db").exists()  # the Connection won over the embedded store
    store = Store(postgres_url)
    assert_planted_findings(store)
    assert quarantined(store) == expected_quarantine()
    assert store.verify_audit_chain()[0]


def test_a_failing_run_names_the_path_and_posts_one_alert_to_the_platform_channel(
    airflow_home: Path, tmp_path: Path
) -> None:
    from tests import canaries
    from tests.fakes.slack import FakeSlack

    missing = tmp_path / "no-such-export"
    with FakeSlack(token=canaries.CANARIES["slack_token"]) as slack:
        slack.add_channel("CPLATFORM0", "incident-followup")
        connection = {"conn_type": "slack", "password": slack.token, "extra": {"base_url": slack.base_url}}
        audit_key = {"conn_type": "generic", "password": canaries.CANARIES["audit_key"]}
        result = run_enforce(airflow_home, tmp_path / "ft", write_policy(tmp_path, missing),
                             AIRFLOW_CONN_SLACK_API_DEFAULT=json.dumps(connection),
                             AIRFLOW_CONN_FOLLOWTHROUGH_AUDIT=json.dumps(audit_key))
        messages = slack.messages("CPLATFORM0")
    output = result.stdout + result.stderr
    # the failure's task log, exception and alert carry no secret
    scan = canaries.Scan()
    scan.text("failing run output", output)
    scan.text("platform alert", json.dumps(messages))
    scan.paths(tmp_path / "ft")
    scan.fake_requests(slack=slack)
    print(scan.figure())
    assert not scan.hits, scan.report()
    assert result.returncode != 0
    assert f"SourceError: source folder {missing} does not exist" in output
    assert "action=fail" in output  # the retry policy failed it at once instead of retrying
    assert len(messages) == 1, messages
    assert "followthrough_enforce" in messages[0]["text"]
    assert "extract_sources" in messages[0]["text"]


def test_a_task_re_run_in_a_finished_run_gives_the_run_lock_back_and_the_next_run_starts(
    airflow_home: Path, tmp_path: Path
) -> None:
    """A finished run's reconcile_findings run again in that run (what a clear of that one task runs), on
    Airflow: the task asks Airflow for record_run's state, finds it done, and gives the store's run lock
    back as it ends; the next day's run is not refused."""
    policy = write_policy(tmp_path, DEMO)
    env = airflow_env(airflow_home, tmp_path / "ft", policy)
    first = run_enforce(airflow_home, tmp_path / "ft", policy)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    store = Store(f"sqlite:///{tmp_path / 'ft' / 'followthrough.db'}")
    run = store.get_run()
    assert run is not None
    findings = store.findings_frame().drop(columns=["last_run_id"])
    outbox = len(store.outbox_frame())

    again = airflow(env, "tasks", "test", "followthrough_enforce", "reconcile_findings", run["run_id"])
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-4000:]
    assert store.acquire_run_lock("probe", 60) is None  # free: a next run may take it
    assert store.release_run_lock("probe")
    assert "the run lock is given back as this task ends" in again.stdout + again.stderr
    assert store.findings_frame().drop(columns=["last_run_id"]).equals(findings)  # the re-run changed nothing
    assert len(store.outbox_frame()) == outbox

    following = run_enforce(airflow_home, tmp_path / "ft", policy, as_of="2026-07-16T07:00:00+00:00")
    assert following.returncode == 0, following.stdout[-4000:] + following.stderr[-4000:]
    assert "RunLocked" not in following.stdout + following.stderr
    latest = store.get_run()
    assert latest is not None
    assert latest["run_id"] != run["run_id"]
    assert latest["status"] == "succeeded"
    assert store.acquire_run_lock("probe", 60) is None
