"""Followthrough on a real Airflow deployment: CeleryExecutor with two workers, PostgreSQL, Redis.

The harness (`harness.py`) starts scheduler, dag-processor, triggerer, api-server and two Celery
workers, each worker with its own FOLLOWTHROUGH_HOME and worker name, all sharing
FOLLOWTHROUGH_STAGING_URL. The enforcement run is triggered through the REST API with a JWT,
with its Deadline Alert on as in production. The tests run in file order on one deployment.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from followthrough.store.repository import Store
from tests.deployment.conftest import PLATFORM_CHANNEL
from tests.deployment.harness import WORKERS, DagRunFailed, Deployment
from tests.e2e.test_enforce_dag import assert_planted_findings, quarantined
from tests.pipeline import DEMO, DEMO_AS_OF, expected_quarantine, write_policy

pytestmark = pytest.mark.deployment

DAG_ID = "followthrough_enforce"
DEADLINE_CRASH = "'dict' object has no attribute 'hex'"  # what `airflow dags test` dies of (see the DAG file)


def platform_messages(slack: object) -> list[str]:
    return [m["text"] for m in slack.messages(PLATFORM_CHANNEL[0])]  # type: ignore[attr-defined]


def deadlines_of(deployment: Deployment, run_id: str) -> list[tuple[bool]]:
    import sqlalchemy as sa

    engine = sa.create_engine(deployment.pg_url(deployment.metadata_db))
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT d.missed FROM deadline d JOIN dag_run r ON r.id = d.dagrun_id "
                "WHERE r.dag_id = :dag AND r.run_id = :run"), {"dag": DAG_ID, "run": run_id}).all()
    finally:
        engine.dispose()
    return [tuple(r) for r in rows]


def test_enforcement_run_on_two_celery_workers_finds_the_planted_problems(
    deployment: Deployment, slack: object
) -> None:
    deployment.wait_for_dag(DAG_ID)
    deployment.set_paused(DAG_ID, False)
    run_id = deployment.trigger(DAG_ID, DEMO_AS_OF)
    assert deadlines_of(deployment, run_id) == [(False,)]  # the Deadline Alert is on, as in production

    run = deployment.wait_for_run(DAG_ID, run_id)

    assert run["state"] == "success"
    tis = deployment.task_instances(DAG_ID, run_id)
    assert {ti["state"] for ti in tis} == {"success"}
    # tasks hand their work to each other across machines: both workers took part
    assert {ti["hostname"] for ti in tis} == set(WORKERS), [(ti["task_id"], ti["hostname"]) for ti in tis]
    store = Store(deployment.store_url)
    assert_planted_findings(store)
    assert quarantined(store) == expected_quarantine()
    assert store.verify_audit_chain()[0]
    outbox = store.outbox_frame(run_id)
    recorded = store.get_run(run_id)
    assert recorded is not None
    assert recorded["status"] == "succeeded"
    assert recorded["as_of"].isoformat() == DEMO_AS_OF.removesuffix("+00:00")
    assert len(outbox) == recorded["summary"]["actions_planned_this_run"]["total"] > 0
    assert set(outbox["status"]) == {"dry_run"}
    # every entry is about a finding, except the day's folded summaries of direct messages
    about_findings = outbox[outbox["action"] != "dm_summary"]
    assert set(about_findings["fingerprint"]) <= set(store.findings_frame()["fingerprint"])
    # the report files stay on the worker that ran record_run, and only there (README: Deploying)
    recorder = next(ti["hostname"] for ti in tis if ti["task_id"] == "record_run")
    report = Path(recorded["summary"]["report"])
    assert report.is_file()
    assert report.is_relative_to(deployment.followthrough_home(recorder))
    other = next(worker for worker in WORKERS if worker != recorder)
    assert not list((deployment.followthrough_home(other) / "reports").glob("*"))
    # a real scheduler prunes the met deadline at success, the step that crashes `airflow dags test`
    assert deadlines_of(deployment, run_id) == []
    assert DEADLINE_CRASH not in deployment.log_text("scheduler")
    deployment.check_alive()
    assert platform_messages(slack) == []


def test_a_failing_run_is_reported_failed_and_alerts_the_platform_channel(
    deployment: Deployment, slack: object
) -> None:
    missing = deployment.root / "no-such-export"
    write_policy(deployment.policy.parent, missing)  # the shared policy now names a folder that is not there
    try:
        run_id = deployment.trigger(DAG_ID, "2026-07-16T10:00:00+00:00")
        with pytest.raises(DagRunFailed) as failure:
            deployment.wait_for_run(DAG_ID, run_id)
    finally:
        write_policy(deployment.policy.parent, DEMO)
    states = {ti["task_id"]: ti["state"] for ti in failure.value.task_instances}
    assert states["extract_sources"] == "failed"
    assert states["record_run"] == "upstream_failed"
    deployment.wait_for(lambda: any(run_id in text for text in platform_messages(slack)),
                        "the failure alert in the platform channel", timeout=60)
    alert = next(text for text in platform_messages(slack) if run_id in text)
    assert "failed in task extract_sources" in alert


def test_a_run_held_past_its_deadline_raises_the_platform_alert(deployment: Deployment, slack: object) -> None:
    versions = len(deployment.dag_versions(DAG_ID))
    # a 15-second deadline: the DAG file reads it when the dag-processor parses it
    deployment.restart_service("dag-processor", FOLLOWTHROUGH_RUN_DEADLINE_MINUTES="0.25")
    deployment.wait_for(lambda: len(deployment.dag_versions(DAG_ID)) > versions,
                        "the DAG with the short deadline", timeout=180, every=2)
    deployment.set_paused(DAG_ID, True)  # holds the run: queued, never started
    queued = time.monotonic()
    run_id = deployment.trigger(DAG_ID, "2026-07-17T10:00:00+00:00")

    deployment.wait_for(lambda: any("has not finished by its deadline" in text and run_id in text
                                    for text in platform_messages(slack)),
                        "the deadline alert in the platform channel", timeout=180, every=2)

    assert time.monotonic() - queued >= 15
    assert deployment.dag_run(DAG_ID, run_id)["state"] == "queued"
    assert deadlines_of(deployment, run_id) == [(True,)]
    late = [text for text in platform_messages(slack) if "has not finished by its deadline" in text]
    assert len(late) == 1, late
    assert DAG_ID in late[0]
