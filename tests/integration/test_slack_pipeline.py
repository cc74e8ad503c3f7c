"""Live Slack dispatch through the enforcement tasks, against the Slack fake.

A small export: an incident whose title tries to ping the channel, a confidential one, and
stale action items owned by roster people. Messages must arrive escaped, confidential titles
must stay out of channels, ambiguous failures must not double-post, and messages planned
outside a team's working hours wait for a later run.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from followthrough.store.repository import Store
from tests.fakes.slack import FakeSlack
from tests.integration.test_pipeline import run_pipeline
from tests.pipeline import DEMO, use_embedded_store

AS_OF = "2026-07-15T10:00:00+00:00"  # 12:00 in Berlin (payments): inside working hours
EVIL = "<!channel> <@U123> <https://evil|click>"


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _export(folder: Path) -> None:
    folder.mkdir()
    for name in ("teams.csv", "people.csv", "services.csv"):
        shutil.copy(DEMO / name, folder / name)
    incident = {"incident_id": "INC-1", "title": EVIL, "severity": "SEV3", "status": "resolved",
                "team_id": "payments", "service": "checkout-api", "started_at": "2026-06-01T10:00:00+00:00",
                "resolved_at": "2026-06-01T12:00:00+00:00", "confidential": "false"}
    secret = incident | {"incident_id": "INC-2", "title": "Vault breach of customer cards", "confidential": "true"}
    _write(folder / "incidents.csv", [incident, secret])
    item = {"action_item_id": "AI-1", "incident_id": "INC-1", "summary": f"Fix {EVIL} in the checkout-api config",
            "owner": "jonas.weber", "team_id": "payments", "priority": "P3", "category": "root_cause",
            "status": "open", "created_at": "2026-07-01T10:00:00+00:00", "due_date": "2026-08-20"}
    _write(folder / "action_items.csv", [
        item,
        item | {"action_item_id": "AI-2", "incident_id": "INC-2", "summary": "Rotate the vault root key"},
        item | {"action_item_id": "AI-3", "team_id": "identity", "owner": "kevin.nguyen"},  # Los Angeles: 03:00
    ])


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeSlack]:
    export = tmp_path / "export"
    _export(export)
    fake = FakeSlack()
    with fake:
        for person in csv.DictReader((DEMO / "people.csv").open()):
            if person["slack_id"]:
                fake.add_user(person["slack_id"], person["email"], person["name"])
        for n, team in enumerate(csv.DictReader((DEMO / "teams.csv").open())):
            fake.add_channel(f"C{n:08d}", team["slack_channel"].lstrip("#"))
        fake.add_channel("CPLATFORM0", "incident-followup")
        policy = {"sources": [{"name": "small", "path": str(export), "absent_entities": ["postmortems", "status_updates", "action_item_history"]}],
                  "dispatch": {"jira": "dry_run", "slack": "live"}}
        (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", json.dumps(
            {"conn_type": "slack", "password": fake.token, "extra": {"base_url": fake.base_url, "timeout": 2}}))
        use_embedded_store(monkeypatch, tmp_path / "home", tmp_path / "policy.yaml")
        yield fake


def _store(tmp: Path) -> Store:
    return Store(f"sqlite:///{tmp / 'home' / 'followthrough.db'}")


def test_live_messages_arrive_escaped_once_and_wait_for_working_hours(slack: FakeSlack, tmp_path: Path) -> None:
    run_pipeline("run-1", AS_OF)
    outbox = _store(tmp_path).outbox_frame()
    sent = outbox[(outbox["channel"] == "slack") & (outbox["status"] == "sent")]
    assert len(sent) > 0
    texts = [m.get("text", "") for m in slack.messages()]
    assert len(texts) == len(sent)
    assert all(not FakeSlack.control_sequences(t) for t in texts)
    assert any("&lt;!channel&gt;" in t for t in texts)
    # identity (Los Angeles) is asleep at 10:00Z: its messages wait in the outbox
    held = outbox[(outbox["channel"] == "slack") & (outbox["status"] == "held")]
    assert len(held) > 0
    assert all(r.startswith("kevin.nguyen") or r == "kevin.nguyen" for r in held["recipient"])
    # held until 09:00 in Los Angeles (16:00Z), not until the next daily run
    assert {str(t)[:16] for t in held["send_after"]} == {"2026-07-15 16:00"}

    run_pipeline("run-2", AS_OF)  # the same day again: nothing new is posted
    assert len(slack.messages()) == len(texts)


def test_confidential_titles_never_reach_a_channel(slack: FakeSlack, tmp_path: Path) -> None:
    run_pipeline("run-1", AS_OF)  # the owners are told first (step 0)
    run_pipeline("run-2", "2026-07-20T10:00:00+00:00")  # three business days later: step 1 posts in the channel
    channel_texts = [m.get("text", "") for m in slack.messages() if str(m.get("channel", "")).startswith("C")]
    assert channel_texts
    assert not any("Vault breach" in t for t in channel_texts)
    # its action item's summary is the finding's title: the one a channel post would describe
    assert not any("Rotate the vault root key" in t for t in channel_texts)
    assert any("a confidential item" in t for t in channel_texts)


def test_rate_limit_then_ambiguous_timeout_delivers_exactly_once(slack: FakeSlack, tmp_path: Path) -> None:
    slack.faults.rate_limit(1, retry_after="0")
    slack.faults.timeout(1, seconds=3, commit=True)
    run_pipeline("run-1", AS_OF)
    run_pipeline("run-2", AS_OF)
    keys = [((m.get("metadata") or {}).get("event_payload") or {}).get("key") for m in slack.messages()]
    assert len(keys) == len(set(keys))
    outbox = _store(tmp_path).outbox_frame()
    assert len(outbox[(outbox["channel"] == "slack") & (outbox["status"] == "sent")]) == len(keys)
