"""Helpers shared by the unit, integration and end-to-end tests: the demo data and its planted answers,
and who holds the run lock."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
DEMO_AS_OF = "2026-07-15T10:00:00+00:00"


def expected_findings(level: str | None = None) -> list[tuple[str, str, str]]:
    """The planted findings (rule, subject type, subject id); `level`: only violations, warnings or waived."""
    with (DEMO / "expected_findings.csv").open() as handle:
        return sorted((r["rule"], r["subject_type"], r["subject_id"]) for r in csv.DictReader(handle)
                      if level is None or r["level"] == level)


def expected_open_findings() -> list[tuple[str, str, str]]:
    return sorted(expected_findings("violation") + expected_findings("warning"))


def expected_quarantine() -> list[tuple[str, int, str]]:
    with (DEMO / "quarantine_expected.csv").open() as handle:
        return sorted((r["entity"], int(r["row_number"]), r["reason_code"]) for r in csv.DictReader(handle))


def write_policy(folder: Path, source: Path) -> Path:
    policy = folder / "policy.yaml"
    text = (ROOT / "config" / "policy.yaml").read_text()
    text = text.replace("../data/demo/waivers.yaml", str(source / "waivers.yaml") if source.exists()
                        else str(DEMO / "waivers.yaml"))
    policy.write_text(text.replace("../data/demo", str(source)))
    return policy


def airflow_env(airflow_home: Path, followthrough_home: Path, policy: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env.update(
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",  # the tests read task logs from the output
        FOLLOWTHROUGH_RUN_DEADLINE_MINUTES="0",  # `dags test` crashes after a successful run with a deadline
        FOLLOWTHROUGH_HOME=str(followthrough_home),
        FOLLOWTHROUGH_POLICY=str(policy),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    env.update(extra)
    return env


def airflow(env: dict[str, str], *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "airflow"), *args], env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def fake_connections(jira: Any, slack: Any, timeout: float) -> dict[str, str]:
    """`AIRFLOW_CONN_*` values pointing the live Jira and Slack gateways at the fakes over HTTP."""
    user, token = jira.auth
    return {
        "AIRFLOW_CONN_JIRA_DEFAULT": json.dumps({"conn_type": "jira", "host": jira.url, "login": user,
                                                 "password": token, "extra": {"timeout": timeout}}),
        "AIRFLOW_CONN_SLACK_API_DEFAULT": json.dumps({"conn_type": "slack", "password": slack.token,
                                                      "extra": {"base_url": slack.base_url, "timeout": timeout}}),
    }


def add_demo_directory(jira: Any = None, slack: Any = None) -> None:
    """The demo roster in the fakes: every person as a Jira and a Slack user, every team channel and
    the platform channel (#incident-followup, CPLATFORM0)."""
    for n, person in enumerate(csv.DictReader((DEMO / "people.csv").open())):
        if jira is not None:
            jira.add_user(f"acc-{n:03d}", person["email"], person["name"])
        if slack is not None and person["slack_id"]:
            slack.add_user(person["slack_id"], person["email"], person["name"])
    if slack is not None:
        for n, team in enumerate(csv.DictReader((DEMO / "teams.csv").open())):
            slack.add_channel(f"C{n:08d}", team["slack_channel"].lstrip("#"))
        slack.add_channel("CPLATFORM0", "incident-followup")


def write_small_live_policy(folder: Path, export: Path, jira_search_lag_seconds: float) -> Path:
    """policy.yaml in `folder` for a small export (no postmortems or histories), Jira and Slack live."""
    import yaml

    policy = {"sources": [{"name": "small", "path": str(export),
                           "absent_entities": ["postmortems", "status_updates", "action_item_history"]}],
              "dispatch": {"jira": "live", "slack": "live", "jira_project": "FOLLOW",
                           "jira_search_lag_seconds": jira_search_lag_seconds}}
    (folder / "policy.yaml").write_text(yaml.safe_dump(policy))
    return folder / "policy.yaml"


def use_embedded_store(monkeypatch: Any, home: Path, policy: Path) -> None:
    """Point the in-process tasks at a policy and a fresh embedded store under `home`."""
    monkeypatch.setenv("FOLLOWTHROUGH_HOME", str(home))
    monkeypatch.setenv("FOLLOWTHROUGH_POLICY", str(policy))
    monkeypatch.delenv("FOLLOWTHROUGH_DB_URL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_FOLLOWTHROUGH_DB", raising=False)


PEOPLE = 50  # owner00..owner49, in Jira (acc-NN) and Slack (UNNNNNNNN) by the same e-mail


def populate_fakes(jira: Any, slack: Any) -> None:
    """The ticket project, the owners in both fakes, a team channel and the platform channel."""
    jira.add_project("FOLLOW")
    for n in range(PEOPLE):
        jira.add_user(f"acc-{n:02d}", f"owner{n:02d}@example.com", f"Owner {n:02d}")
        slack.add_user(f"U{n:08d}", f"owner{n:02d}@example.com", f"Owner {n:02d}")
    slack.add_channel("CTEAM00000", "payments")
    slack.add_channel("CPLATFORM0", "incident-followup")


def write_live_policy(folder: Path, **dispatch: Any) -> Path:
    """A policy with no source rows and both channels live against project FOLLOW (dispatch tests)."""
    import yaml

    policy = folder / "policy.yaml"
    policy.write_text(yaml.safe_dump({"sources": [{"name": "none", "path": str(folder)}],
                                      "dispatch": {"jira": "live", "slack": "live", "jira_project": "FOLLOW",
                                                   **dispatch}}))
    return policy


def live_against_fakes(monkeypatch: Any, folder: Path, jira: Any, slack: Any, *, timeout: float = 5,
                       store_url: str | None = None, **dispatch: Any) -> Path:
    """The in-process tasks delivering live to running fakes: a live policy with `dispatch` settings,
    the fakes' Connections in the environment, and the store under `folder`/home (or at `store_url`)."""
    policy = write_live_policy(folder, **dispatch)
    for name, value in fake_connections(jira, slack, timeout=timeout).items():
        monkeypatch.setenv(name, value)
    use_embedded_store(monkeypatch, folder / "home", policy)
    if store_url is not None:
        monkeypatch.setenv("FOLLOWTHROUGH_DB_URL", store_url)
    return policy


def synthetic_backlog(tickets: int, messages: int, *, batch: int = 0) -> list[dict[str, Any]]:
    """Outbox actions: `tickets` Jira tickets, then `messages` Slack messages (every fifth to #payments).

    `batch` (0..65535) leads every fingerprint, so several backlogs can share the fakes apart.
    """
    actions: list[dict[str, Any]] = []
    for n in range(tickets):
        fingerprint = f"{batch:04x}{n:012x}" + "a" * 16
        owner = f"owner{n % PEOPLE:02d}"
        actions.append({"idempotency_key": f"{fingerprint}:1:jira:create", "fingerprint": fingerprint, "episode": 1,
                        "step": 0, "channel": "jira", "action": "create_ticket", "recipient": owner,
                        "payload": {"summary": f"[AI-STALE] Action item has no status update: AI-{n}",
                                    "description": f"What is wrong: no status update for 9 days (AI-{n}).",
                                    "assignee": owner, "assignee_email": f"{owner}@example.com",
                                    "labels": ["followthrough", f"ft-{fingerprint[:16]}", "ai-stale"]}})
    for n in range(messages):
        fingerprint = f"{batch:04x}{n:012x}" + "b" * 16
        channel = n % 5 == 0
        recipient = "#payments" if channel else f"owner{n % PEOPLE:02d}"
        actions.append({"idempotency_key": f"{fingerprint}:1:slack:step{int(channel)}:"
                                           f"{'post_team_channel' if channel else 'dm_owner'}",
                        "fingerprint": fingerprint, "episode": 1, "step": int(channel), "channel": "slack",
                        "action": "post_team_channel" if channel else "dm_owner", "recipient": recipient,
                        "payload": {"to": recipient, "slack_id": "" if channel else f"U{n % PEOPLE:08d}",
                                    "email": "" if channel else f"{recipient}@example.com",
                                    "text": f"Action item AI-{n} has no status update for 9 days."}})
    return actions


def delivered_in_fakes(jira: Any, slack: Any, batch: int | None = None) -> tuple[Counter[str], Counter[str]]:
    """How often each ticket label (`ft-<fp>-e<episode>`) and each Slack message key is in the fakes' state.

    `batch`: only the fingerprints of that synthetic backlog.
    """
    prefix = "ft-" if batch is None else f"ft-{batch:04x}"
    labels = Counter(label for key in jira.issue_keys() for label in jira.issue(key)["fields"]["labels"]
                     if label.startswith(prefix) and re.search(r"-e\d+$", label))
    keys = Counter(str(key) for m in slack.messages()
                   if (key := ((m.get("metadata") or {}).get("event_payload") or {}).get("key"))
                   and (batch is None or str(key).startswith(f"{batch:04x}")))
    return labels, keys


def run_lock_holder(store: Any) -> str | None:
    """Who holds the run lock, asked as a second run would (a lock found free is given back at once)."""
    holder = store.acquire_run_lock("probe", 60)
    if holder is None:
        store.release_run_lock("probe")
        return None
    return str(holder["run_id"])


@contextmanager
def live_fakes(monkeypatch: Any, tmp_path: Path, dispatch: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    """The Jira and Slack fakes, with Omar a user of both, and the live gateways pointed at them over HTTP:
    an embedded store whose policy dispatches live to project FOLLOW with these ``dispatch`` settings."""
    import yaml

    from tests.fakes.jira import FakeJira
    from tests.fakes.slack import FakeSlack

    jira, slack = FakeJira(), FakeSlack()
    jira.add_project("FOLLOW")
    jira.add_user("acc-omar", "omar@example.com", "Omar")
    slack.add_user("U00000001", "omar@example.com", "Omar")
    with jira, slack:
        policy = {"sources": [{"name": "none", "path": str(tmp_path)}],
                  "dispatch": {"jira": "live", "slack": "live", "jira_project": "FOLLOW", **dispatch}}
        (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
        for name, value in fake_connections(jira, slack, timeout=5).items():
            monkeypatch.setenv(name, value)
        use_embedded_store(monkeypatch, tmp_path / "home", tmp_path / "policy.yaml")
        yield jira, slack
