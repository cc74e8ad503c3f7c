"""The enforcement tasks in sequence, in-process (no Airflow scheduler), on a copy of the demo data.

These cover what needs several runs over changing data: a fixed problem resolves its
finding on the next run and plans one ticket resolution; a returning problem reopens it.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from followthrough import tasks
from followthrough.exceptions import SourceError
from followthrough.store.repository import Store
from tests.pipeline import DEMO, DEMO_AS_OF, expected_findings, use_embedded_store, write_policy


def run_pipeline(run_id: str, as_of: str, confirm_mass_resolve: bool = False) -> dict:
    tasks.extract_sources(run_id, "followthrough_enforce", as_of)
    tasks.validate_source_contract(run_id, as_of)
    tasks.evaluate_rules(run_id, as_of)
    reconciled = tasks.reconcile_findings(run_id, as_of, confirm_mass_resolve=confirm_mass_resolve)
    planned = tasks.plan_actions(run_id, as_of)
    tasks.dispatch_outbox(run_id, as_of)
    tasks.record_run(run_id, as_of)
    return {"reconciled": reconciled, "planned": planned}


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "export"
    shutil.copytree(DEMO, data)
    use_embedded_store(monkeypatch, tmp_path / "home", write_policy(tmp_path, data))
    return data


def _store() -> Store:
    return tasks.open_store()


def _set_owner(export: Path, item_id: str, owner: str) -> None:
    path = export / "action_items.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    fields = list(rows[0])
    for row in rows:
        if row["action_item_id"] == item_id:
            row["owner"] = owner
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def test_fixed_problem_resolves_and_returning_problem_reopens(workspace: Path) -> None:
    first = run_pipeline("run-1", DEMO_AS_OF)
    assert first["reconciled"]["new"] == len(expected_findings())
    unowned = sorted(s for rule, _, s in expected_findings() if rule == "AI-NO-OWNER")[0]
    original_owner = next(r["owner"] for r in csv.DictReader((workspace / "action_items.csv").open())
                          if r["action_item_id"] == unowned)

    active = next(r["person_id"] for r in csv.DictReader((workspace / "people.csv").open()) if r["active"] == "true")
    _set_owner(workspace, unowned, active)  # a named, active person now owns it
    second = run_pipeline("run-2", DEMO_AS_OF)
    assert second["reconciled"] == {"new": 0, "ongoing": len(expected_findings()) - 1, "reopened": 0, "resolved": 1,
                                    "waived": 0, "changed": 0, "resolved_gone": 0}
    findings = _store().findings_frame()
    row = findings[(findings["rule"] == "AI-NO-OWNER") & (findings["subject_id"] == unowned)].iloc[0]
    assert row["status"] == "resolved"
    resolves = _store().outbox_frame("run-2")
    assert resolves["action"].tolist() == ["resolve_ticket"]

    _set_owner(workspace, unowned, original_owner)  # and the problem comes back
    third = run_pipeline("run-3", DEMO_AS_OF)
    assert third["reconciled"]["reopened"] == 1
    again = _store().outbox_frame("run-3")
    # back the same day: its ticket reopens, and its owner hears (one by one, or in the day's summary
    # when the daily cap on direct messages is reached)
    assert set(again["action"]) in ({"reopen_ticket", "dm_owner"}, {"reopen_ticket", "dm_summary"})
    assert all(":2:" in key for key in again.loc[again["action"] != "dm_summary", "idempotency_key"])  # a new episode


def test_rerunning_the_same_day_changes_nothing(workspace: Path) -> None:
    run_pipeline("run-1", DEMO_AS_OF)
    store = _store()
    findings_before = store.findings_frame().drop(columns=["last_run_id"])
    outbox_before = len(store.outbox_frame())
    second = run_pipeline("run-1-again", DEMO_AS_OF)
    assert second["planned"]["added"] == 0
    assert len(store.outbox_frame()) == outbox_before
    assert store.findings_frame().drop(columns=["last_run_id"]).equals(findings_before)
    assert store.verify_audit_chain()[0]


def test_missing_source_folder_fails_the_run_naming_the_path(workspace: Path) -> None:
    shutil.rmtree(workspace)
    write_policy(workspace.parent, workspace)  # the policy's waiver file now comes from the bundled demo
    with pytest.raises(SourceError, match=str(workspace)):
        tasks.extract_sources("run-x", "followthrough_enforce", DEMO_AS_OF)


def test_weekly_digest_posts_once_per_team_and_week(workspace: Path) -> None:
    run_pipeline("run-1", DEMO_AS_OF)
    monday = "2026-07-20T08:00:00+00:00"

    def digest_run(run_id: str) -> list[int]:
        teams = tasks.list_digest_teams(run_id)
        added = [tasks.plan_team_digest(run_id, monday, team)["added"] for team in teams]
        added.append(tasks.plan_team_digest(run_id, monday, None)["added"])
        tasks.dispatch_outbox(run_id, monday)
        return added

    assert digest_run("digest-1") == [1] * 7  # six teams and the leadership digest
    assert digest_run("digest-2") == [0] * 7  # the same week again adds nothing
    digests = _store().outbox_frame("digest-1")
    assert set(digests["action"]) == {"team_digest", "leadership_digest"}
    assert set(digests["status"]) == {"dry_run"}
