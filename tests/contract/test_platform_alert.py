"""The platform alert notifier: one message per failing run, escaped, and a log line without Slack."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from followthrough.notifiers import PlatformAlertNotifier
from tests.fakes.slack import FakeSlack


@pytest.fixture(autouse=True)
def own_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A failure alert of an enforcement run releases the run lock in the store: this test's own."""
    monkeypatch.setenv("FOLLOWTHROUGH_HOME", str(tmp_path))
    monkeypatch.delenv("FOLLOWTHROUGH_DB_URL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_FOLLOWTHROUGH_DB", raising=False)


CONTEXT = {"dag_run": SimpleNamespace(run_id="manual__2026-07-15"), "dag": SimpleNamespace(dag_id="followthrough_enforce")}


def test_two_failures_of_one_run_post_one_alert(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeSlack() as slack:
        slack.add_channel("CPLATFORM0", "ops-alerts")
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", json.dumps(
            {"conn_type": "slack", "password": slack.token, "extra": {"base_url": slack.base_url}}))
        notifier = PlatformAlertNotifier(message="run failed <!here>", channel="#ops-alerts")
        notifier.notify(CONTEXT)
        notifier.notify(CONTEXT)
        messages = slack.messages("CPLATFORM0")
    assert len(messages) == 1
    assert "&lt;!here&gt;" in messages[0]["text"]


def test_without_a_slack_connection_the_alert_is_logged(monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SLACK_API_DEFAULT", raising=False)
    with caplog.at_level(logging.ERROR):
        PlatformAlertNotifier(message="run failed").notify(CONTEXT)
    assert "platform alert not sent" in caplog.text


def test_deadline_alert_is_awaited_like_the_triggerer_does(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from followthrough.notifiers import DEADLINE_MESSAGE

    # the triggerer's context: the run as the REST API's DAGRunResponse (its id is `dag_run_id`)
    context = {"dag_run": {"dag_id": "followthrough_enforce", "dag_run_id": "scheduled__2026-07-15"},
               "deadline": {"id": "d1", "deadline_time": "2026-07-15T09:00:00+00:00"}}

    async def fire() -> None:
        # the triggerer calls `await callback(**kwargs, context=ctx)`
        await PlatformAlertNotifier(message=DEADLINE_MESSAGE, kind="deadline", channel="#ops-alerts", context=context)

    with FakeSlack() as slack:
        slack.add_channel("CPLATFORM0", "ops-alerts")
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", json.dumps(
            {"conn_type": "slack", "password": slack.token, "extra": {"base_url": slack.base_url}}))
        asyncio.run(fire())
        asyncio.run(fire())  # a second firing of the same deadline posts nothing new
        PlatformAlertNotifier(message="failed", channel="#ops-alerts").notify(
            {"dag_run": SimpleNamespace(run_id="scheduled__2026-07-15"),
             "dag": SimpleNamespace(dag_id="followthrough_enforce")})  # a failure is a different alert
        texts = [m["text"] for m in slack.messages("CPLATFORM0")]
    assert len(texts) == 2
    assert "followthrough_enforce run scheduled__2026-07-15 has not finished by its deadline (2026-07-15T09:00:00+00:00)" in texts[0]
    assert slack.messages_with_key("alert/followthrough_enforce/scheduled__2026-07-15/deadline")


def test_a_failed_enforcement_run_gives_the_run_lock_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from followthrough import tasks

    monkeypatch.delenv("AIRFLOW_CONN_SLACK_API_DEFAULT", raising=False)
    store = tasks.open_store()
    assert store.acquire_run_lock("manual__2026-07-15", 3600) is None
    PlatformAlertNotifier(message="late", kind="deadline").notify(CONTEXT)  # late is not failed
    other = {"dag_run": SimpleNamespace(run_id="manual__2026-07-15"), "dag": SimpleNamespace(dag_id="followthrough_digest")}
    PlatformAlertNotifier(message="failed").notify(other)  # another DAG's run of the same id
    assert store.acquire_run_lock("scheduled__2026-07-16", 3600) is not None
    PlatformAlertNotifier(message="failed").notify(CONTEXT)
    assert store.acquire_run_lock("scheduled__2026-07-16", 3600) is None
