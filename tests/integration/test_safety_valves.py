"""Safety valves on the demo data: a replay plans nothing, a data gap holds its resolutions.

Running an older as-of date after a newer one used to plan 234 ticket resolutions on the demo
data; emptying one file of an export used to resolve every finding about it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from followthrough import tasks
from followthrough.store.repository import Store
from tests.integration.test_pipeline import run_pipeline
from tests.pipeline import DEMO, DEMO_AS_OF, use_embedded_store, write_policy

NEXT_DAY = "2026-07-16T10:00:00+00:00"
WEEK_EARLIER = "2026-07-08T10:00:00+00:00"


def run(run_id: str, as_of: str, confirm: bool = False) -> dict[str, Any]:
    return run_pipeline(run_id, as_of, confirm_mass_resolve=confirm)


@pytest.fixture
def export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "export"
    shutil.copytree(DEMO, data)
    use_embedded_store(monkeypatch, tmp_path / "home", write_policy(tmp_path, data))
    return data


def _state(store: Store) -> tuple[Any, Any]:
    findings = store.findings_frame()[["fingerprint", "status", "episode", "resolution"]]
    return findings, store.outbox_frame()[["idempotency_key", "status"]]


def test_an_older_as_of_after_a_newer_one_plans_no_action_and_changes_no_finding(export: Path) -> None:
    run("run-1", DEMO_AS_OF)
    store = tasks.open_store()
    findings_before, outbox_before = _state(store)
    replay = run("run-replay", WEEK_EARLIER)
    assert replay["reconciled"]["replay"] is True
    assert replay["reconciled"]["resolved"] > 0  # it would have resolved these: computed and reported
    assert replay["planned"] == {"planned": 0, "added": 0, "replay": 1}
    findings_after, outbox_after = _state(store)
    assert findings_after.equals(findings_before)
    assert outbox_after.equals(outbox_before)
    assert [e["kind"] for e in store.audit_events("run-replay") if e["kind"] == "run_replay"] == ["run_replay"]
    # the same instant again is a re-run, not a replay, and it changes nothing either
    again = run("run-again", DEMO_AS_OF)
    assert "replay" not in again["reconciled"]
    assert again["planned"]["added"] == 0


def test_an_emptied_file_holds_its_resolutions_and_alerts_once_until_confirmed(export: Path) -> None:
    run("run-1", DEMO_AS_OF)
    store = tasks.open_store()
    open_before = set(store.findings_frame("open")["fingerprint"])
    header = (export / "action_items.csv").read_text().splitlines()[0]
    (export / "action_items.csv").write_text(header + "\n")  # a header-only file: zero rows, legitimately

    held = run("run-2", NEXT_DAY)
    assert held["reconciled"]["held_resolutions"] > 0
    assert set(store.findings_frame("open")["fingerprint"]) >= open_before - set(
        store.findings_frame("waived")["fingerprint"])
    assert store.findings_frame("resolved").empty or not (store.findings_frame("resolved")["last_run_id"] == "run-2").any()
    outbox = store.outbox_frame()
    assert not outbox["action"].eq("resolve_ticket").any()
    alerts = outbox[outbox["idempotency_key"].str.contains("alert/held/")]
    assert len(alerts) == 1
    assert "action_items had rows and now has none" in alerts.iloc[0]["payload"]["text"]
    assert any(e["kind"] == "resolutions_held" for e in store.audit_events("run-2"))
    run("run-2", NEXT_DAY)  # the retry of a held run: still one alert
    assert store.outbox_frame()["idempotency_key"].str.contains("alert/held/").sum() == 1

    confirmed = run("run-3", NEXT_DAY, confirm=True)
    assert confirmed["reconciled"]["resolved"] == held["reconciled"]["held_resolutions"]
    assert "held_resolutions" not in confirmed["reconciled"]
    resolved = store.findings_frame("resolved")
    assert len(resolved[resolved["last_run_id"] == "run-3"]) == held["reconciled"]["held_resolutions"]
    assert store.outbox_frame()["action"].eq("resolve_ticket").sum() > 0


def test_a_few_resolutions_on_a_normal_day_are_not_held(export: Path) -> None:
    run("run-1", DEMO_AS_OF)
    path = export / "action_items.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")  # one item left the export
    second = run("run-2", NEXT_DAY)
    assert "held_resolutions" not in second["reconciled"]
