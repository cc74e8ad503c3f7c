"""End to end on the live path: `airflow dags test` with Jira and Slack live against the project's
fakes over HTTP, over several days, with the hourly dispatch and the weekly digest.

A small export (tests/integration/test_slack_pipeline.py): an incident whose title tries to ping
the channel, a confidential one, three stale items (Berlin and Los Angeles owners). Everything
is asserted in the fakes' state: tickets, comments, resolutions and messages.

Every Connection holds a canary (tests/canaries.py: the Jira token, the Slack bot token, the
store password of a PostgreSQL role, the audit key); after the last run every task log, the
processes' output, the report folders, staging, the store's rows and what the fakes received
are searched, and no canary may be found.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import canaries
from tests.canaries import CANARIES
from tests.fakes.jira import FakeJira
from tests.fakes.slack import FakeSlack
from tests.integration.test_slack_pipeline import _export
from tests.pipeline import DEMO, airflow, airflow_env, write_small_live_policy

pytestmark = pytest.mark.e2e

OUTPUTS: list[tuple[str, str]] = []  # (label, text): every `airflow dags test`'s stdout and stderr


@pytest.fixture
def live(tmp_path: Path, canary_store: str) -> Iterator[tuple[FakeJira, FakeSlack, dict[str, str]]]:
    export = tmp_path / "export"
    _export(export)
    jira, slack = canaries.canary_fakes()
    write_small_live_policy(tmp_path, export, jira_search_lag_seconds=2)
    with jira, slack:
        extra = canaries.canary_connections(jira, slack, canary_store, timeout=5)
        OUTPUTS.clear()
        yield jira, slack, extra


def _dag(airflow_home: Path, tmp_path: Path, extra: dict[str, str], dag_id: str, instant: str) -> None:
    env = airflow_env(airflow_home, tmp_path / "ft", tmp_path / "policy.yaml", **extra)
    result = airflow(env, "dags", "test", dag_id, instant)
    OUTPUTS.extend([(f"{dag_id} {instant} stdout", result.stdout), (f"{dag_id} {instant} stderr", result.stderr)])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def _texts(slack: FakeSlack, channel: str | None = None) -> list[str]:
    return [str(m.get("text", "")) for m in slack.messages(channel)]


def _tickets(jira: FakeJira) -> list[str]:
    return [k for k in jira.issue_keys() if k.startswith("FOLLOW-")]


def test_enforcement_dispatch_and_digest_live_over_several_days(
        airflow_home: Path, tmp_path: Path, live: tuple[FakeJira, FakeSlack, dict[str, str]],
        canary_store: str) -> None:
    jira, slack, extra = live
    # Wednesday 10:00Z: Berlin (payments) is working, Los Angeles (identity) is asleep
    _dag(airflow_home, tmp_path, extra, "followthrough_enforce", "2026-07-15T10:00:00+00:00")
    tickets = _tickets(jira)
    assert len(tickets) >= 3  # one per open finding that calls for a ticket
    summaries = [jira.issue(k)["fields"]["summary"] for k in tickets]
    assert any("AI-3" in s for s in summaries)
    first_day = _texts(slack)
    assert first_day
    assert all(not FakeSlack.control_sequences(t) for t in first_day)
    kevin = slack.dm_channel(next(p["slack_id"] for p in csv.DictReader((DEMO / "people.csv").open())
                                  if p["person_id"] == "kevin.nguyen"))
    assert kevin is None or slack.messages(kevin) == []  # held for Los Angeles' morning

    # the hourly dispatch at 17:00Z (10:00 in Los Angeles) delivers what was held
    _dag(airflow_home, tmp_path, extra, "followthrough_dispatch", "2026-07-15T17:00:00+00:00")
    kevin = slack.dm_channel(next(p["slack_id"] for p in csv.DictReader((DEMO / "people.csv").open())
                                  if p["person_id"] == "kevin.nguyen"))
    assert kevin is not None
    assert len(slack.messages(kevin)) >= 1

    # Thursday: AI-1 is done; its tickets resolve in Jira, the others stay open
    path = tmp_path / "export" / "action_items.csv"
    rows = list(csv.DictReader(path.open()))
    for row in rows:
        if row["action_item_id"] == "AI-1":
            row["status"] = "done"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    _dag(airflow_home, tmp_path, extra, "followthrough_enforce", "2026-07-16T10:00:00+00:00")
    by_subject = {k: jira.issue(k)["fields"] for k in _tickets(jira)}
    done = [k for k, f in by_subject.items() if f["status"]["statusCategory"]["key"] == "done"]
    assert done
    assert all("AI-1" in by_subject[k]["summary"] for k in done)
    assert any(any("Resolved" in t for t in jira.comment_texts(k)) for k in done)
    assert len(_tickets(jira)) == len(tickets)  # no ticket twice

    # Monday: the weekly digest, per team and for leadership, in the channels
    before = len(_texts(slack))
    _dag(airflow_home, tmp_path, extra, "followthrough_digest", "2026-07-20T08:00:00+00:00")
    _dag(airflow_home, tmp_path, extra, "followthrough_dispatch", "2026-07-20T17:00:00+00:00")
    digests = [m for m in slack.messages() if (m.get("metadata") or {}).get("event_payload", {}).get("action")
               in ("team_digest", "leadership_digest")]
    assert len(_texts(slack)) > before
    assert digests
    assert any(str(m.get("channel")) == "CPLATFORM0" for m in digests)
    assert any("confidential" in str(m.get("text")) for m in digests)  # counted ...
    assert not any("AI-2" in json.dumps(m) for m in digests)  # ... never described (the confidential item)
    for message in slack.messages():
        if str(message.get("channel", "")).startswith("C"):
            assert "Vault breach" not in json.dumps(message)  # the confidential incident's title
            assert "Rotate the vault root key" not in json.dumps(message)  # its item's, the finding's title
    keys = [((m.get("metadata") or {}).get("event_payload") or {}).get("key") for m in slack.messages()]
    assert len(keys) == len(set(keys))  # nothing posted twice

    # no secret in any output: task logs (the output), reports, Data Docs, staging, store rows, requests
    scan = canaries.Scan()
    scan.add_needle(canaries.basic_auth_needle(jira.email, CANARIES["jira_token"]), "jira_token")
    scan.paths(airflow_home, tmp_path)  # the metadata database (XComs), any log files; the reports and staging
    for label, text in OUTPUTS:
        scan.text(label, text)
    scan.store(canary_store)
    scan.fake_requests(jira, slack)
    print(scan.figure())
    assert list((tmp_path / "ft").rglob("report.html"))
    assert any("audit checkpoint:" in text for _, text in OUTPUTS)  # `dags test` writes the task logs there
    assert scan.rows > 0
    assert scan.requests > 0
    assert not scan.hits, scan.report()
