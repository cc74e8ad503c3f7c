"""No secret in any output, on the live path and where things go wrong (the secrets suite, in process).

Every Connection holds a canary (tests/canaries.py): the Jira API token, the Slack bot token,
the store password (a PostgreSQL role created with it) and the audit key. The enforcement tasks
run with Jira and Slack live against the fakes over HTTP, then fail in every way a credential
is involved: Jira rejects the token (401), Slack answers `invalid_auth`, the store is
unreachable with the password in its URL, and the platform channel is alerted. Every log line
(captured at DEBUG, so the HTTP clients' own logging is included), exception message and
traceback, report file, store row, fake request and Slack message is searched: no canary.
The end-to-end variant (`airflow dags test`) is in tests/e2e/test_live_delivery.py.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from followthrough import tasks
from followthrough.exceptions import StoreError
from followthrough.store import audit
from followthrough.store.audit import AuditKey
from followthrough.store.repository import Store
from tests import canaries
from tests.canaries import CANARIES
from tests.fakes.jira import FakeJira
from tests.fakes.slack import FakeSlack
from tests.integration.conftest import run_pipeline
from tests.integration.test_slack_pipeline import _export
from tests.pipeline import write_small_live_policy

AS_OF = "2026-07-15T10:00:00+00:00"


@dataclass
class Live:
    jira: FakeJira
    slack: FakeSlack
    store_url: str  # the canary role's URL, password included
    home: Path


@pytest.fixture
def live(tmp_path: Path, canary_store: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    export = tmp_path / "export"
    _export(export)
    jira, slack = canaries.canary_fakes()
    write_small_live_policy(tmp_path, export, jira_search_lag_seconds=1)
    with jira, slack:
        monkeypatch.setenv("FOLLOWTHROUGH_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("FOLLOWTHROUGH_POLICY", str(tmp_path / "policy.yaml"))
        monkeypatch.delenv("FOLLOWTHROUGH_DB_URL", raising=False)
        for name, value in canaries.canary_connections(jira, slack, canary_store, timeout=2).items():
            monkeypatch.setenv(name, value)
        audit.configure_key(None)  # read the key as a task does: the Connection
        try:
            yield Live(jira, slack, canary_store, tmp_path / "home")
        finally:
            audit.configure_key(None)


def _failure(scan: canaries.Scan, where: str, exc: BaseException) -> None:
    scan.text(f"{where}: message", str(exc))
    scan.text(f"{where}: repr", repr(exc))
    scan.text(f"{where}: traceback", "".join(traceback.format_exception(exc)))


def _entry(n: int, channel: str) -> dict[str, Any]:
    fingerprint = f"{n:016x}" + "f" * 16
    if channel == "jira":
        return {"idempotency_key": f"{fingerprint}:1:jira:create", "fingerprint": fingerprint, "episode": 1,
                "step": 0, "channel": "jira", "action": "create_ticket", "recipient": "jonas.weber",
                "payload": {"summary": f"[AI-STALE] canary item {n}", "description": "What is wrong: stale.",
                            "assignee": "jonas.weber", "labels": ["followthrough", f"ft-{fingerprint[:16]}"]}}
    return {"idempotency_key": f"{fingerprint}:1:slack:step1:post_team_channel", "fingerprint": fingerprint,
            "episode": 1, "step": 1, "channel": "slack", "action": "post_team_channel", "recipient": "#incident-followup",
            "payload": {"to": "#incident-followup", "text": f"canary item {n} is stale."}}


@pytest.mark.postgres
def test_no_canary_in_any_output_of_a_live_run_and_its_failures(
        live: Live, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    from followthrough.gateways.delivery import DeliveryConfiguration
    from followthrough.notifiers import PlatformAlertNotifier

    scan = canaries.Scan()
    scan.add_needle(canaries.basic_auth_needle(live.jira.email, CANARIES["jira_token"]), "jira_token")
    caplog.set_level(logging.DEBUG)  # every logger, the HTTP clients' too
    store = Store(live.store_url)

    # the normal path: tickets and messages delivered with the canary credentials
    run_pipeline("run-1", AS_OF)
    assert [k for k in live.jira.issue_keys() if k.startswith("FOLLOW-")]
    assert live.slack.messages()
    assert audit.active_key() == AuditKey(CANARIES["audit_key"].encode())  # the chain is sealed with the canary

    # Jira rejects the token (401): a configuration error stops the dispatch
    live.jira.api_token = "rotated-by-an-admin"
    store.add_to_outbox([_entry(1, "jira")], "run-2", AS_OF)
    with pytest.raises(DeliveryConfiguration, match="credentials") as jira_401:
        tasks.dispatch_outbox("run-1", AS_OF)
    _failure(scan, "jira 401", jira_401.value)
    live.jira.api_token = CANARIES["jira_token"]

    # Slack answers invalid_auth
    live.slack.token = "xoxb-rotated-by-an-admin"
    store.add_to_outbox([_entry(2, "slack")], "run-2", AS_OF)
    with pytest.raises(DeliveryConfiguration, match="invalid_auth") as slack_401:
        tasks.dispatch_outbox("run-1", AS_OF)
    _failure(scan, "slack invalid_auth", slack_401.value)
    live.slack.token = CANARIES["slack_token"]

    # the failure alert to the platform channel, as the task failure callback renders and posts it
    context = {"dag": SimpleNamespace(dag_id="followthrough_enforce"), "run_id": "run-1",
               "dag_run": SimpleNamespace(run_id="run-1"),
               "ti": SimpleNamespace(task_id="dispatch_outbox", try_number=1)}
    PlatformAlertNotifier(channel="#incident-followup").notify(context)
    alerts = live.slack.messages("CPLATFORM0")
    assert any("Followthrough pipeline failure" in str(m.get("text")) for m in alerts)
    run_pipeline("run-3", "2026-07-16T10:00:00+00:00")  # delivers what waited; records the run

    # the store unreachable, its password in the URL: the Connection on a port nobody listens on
    url = sa.engine.make_url(live.store_url)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("AIRFLOW_CONN_FOLLOWTHROUGH_DB", json.dumps({
            "conn_type": "postgres", "host": url.host, "port": 1, "login": url.username,
            "password": url.password, "schema": url.database}))
        with pytest.raises(StoreError, match="failed") as unreachable:
            tasks.open_store()
    assert "***" in str(unreachable.value)  # the URL is named, its password masked
    _failure(scan, "store unreachable", unreachable.value)
    with pytest.raises(StoreError) as bad_driver:
        Store(live.store_url.replace("postgresql+psycopg2", "postgresql+nosuchdriver"))
    _failure(scan, "store URL unusable", bad_driver.value)
    # the command line and the init container, given the URL itself (their output is scanned below)
    from followthrough import cli, deploy

    wrong_port = url.set(port=1).render_as_string(hide_password=False)
    for argv in (["runs", "--db", wrong_port], ["verify-audit", "--db", wrong_port],
                 ["audit", "trail", "--db", wrong_port], ["report", "--db", live.store_url.replace("psycopg2", "x")]):
        assert cli.main(argv) == 2, argv
    assert deploy.main(["init-store", "--url", wrong_port]) == 1
    assert deploy.main(["init-store", "--url", live.store_url]) == 0
    early = capsys.readouterr()
    assert "***" in early.out.splitlines()[-1]  # "store ready: <the URL, password masked>"
    scan.text("stdout of the run and the commands", early.out)
    scan.text("stderr of the run and the commands", early.err)

    # everything it left behind
    scan.text("log records", caplog.text)
    captured = capsys.readouterr()
    scan.text("stdout", captured.out)
    scan.text("stderr", captured.err)
    scan.paths(live.home)
    scan.store(live.store_url)
    scan.fake_requests(live.jira, live.slack)
    for message in live.slack.messages():
        scan.text(f"slack message in {message.get('channel')}", json.dumps(message, default=str))
    for key in live.jira.issue_keys():
        scan.text(f"jira issue {key}", json.dumps(live.jira.issue(key), default=str))
    print(scan.figure())
    assert scan.files > 0
    assert scan.rows > 0
    assert scan.requests > 0
    assert not scan.hits, scan.report()


def test_the_scan_finds_a_canary_wherever_it_is(tmp_path: Path) -> None:
    """The scanner itself: a canary in a file, in a text (raw, URL-quoted, base64) or a fake's request is found."""
    scan = canaries.Scan()
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "task.log").write_text(f"connecting with {CANARIES['store_password']}\n")
    (tmp_path / "clean.txt").write_text("nothing here")
    assert [h.canary for h in scan.paths(tmp_path)] == ["store_password"]
    assert scan.files == 2
    import base64
    from urllib.parse import quote

    assert scan.text("b64", base64.b64encode(CANARIES["audit_key"].encode()).decode())
    assert scan.text("quoted", quote(CANARIES["slack_token"], safe=""))
    needle = canaries.basic_auth_needle("bot@example.com", CANARIES["jira_token"])
    scan.add_needle(needle, "jira_token")
    assert scan.text("header", f"Authorization: Basic {needle}")
    assert not scan.text("clean", "a message without secrets")
    jira = SimpleNamespace(log=[SimpleNamespace(method="GET", path="/rest/api/3/myself",
                                                query={"token": [CANARIES["jira_token"]]}, body=None)])
    slack = SimpleNamespace(log=[SimpleNamespace(method="chat.postMessage", args={}, token_from="argument")])
    assert {h.canary for h in scan.fake_requests(jira, slack)} == {"jira_token", "slack_token"}
    assert "CANARY" not in "".join(h.excerpt for h in scan.hits).replace("<CANARY>", "")
