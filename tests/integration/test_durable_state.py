"""State lives in the store, not on a worker's disk: the enforcement tasks in-process on the demo data.

Each task may run on another machine: here every task gets its own FOLLOWTHROUGH_HOME (its
"worker"), and only the store and the staging base (object storage in a deployment) are shared.
Missing input fails the run and resolves nothing; the run's policy is the one its first task read.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from followthrough import tasks
from followthrough.exceptions import SourceError, StagingMissing
from tests.integration.test_pipeline import run_pipeline
from tests.pipeline import (
    DEMO,
    DEMO_AS_OF,
    expected_findings,
    expected_open_findings,
    use_embedded_store,
    write_policy,
)

STEPS = ("validate_source_contract", "evaluate_rules", "reconcile_findings", "plan_actions", "dispatch_outbox",
         "record_run")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "export"
    shutil.copytree(DEMO, data)
    use_embedded_store(monkeypatch, tmp_path / "home", write_policy(tmp_path, data))
    return data


def open_findings() -> list[tuple[str, str, str]]:
    frame = tasks.open_store().findings_frame("open")
    return sorted(zip(frame["rule"], frame["subject_type"], frame["subject_id"], strict=True))


def test_every_task_on_its_own_worker_sees_the_whole_run(tmp_path: Path, workspace: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWTHROUGH_DB_URL", f"sqlite:///{tmp_path / 'shared' / 'store.db'}")
    monkeypatch.setenv("FOLLOWTHROUGH_STAGING_URL", f"file://{tmp_path / 'object-store'}")
    monkeypatch.setenv("FOLLOWTHROUGH_HOME", str(tmp_path / "worker-0"))
    tasks.extract_sources("run-1", "followthrough_enforce", DEMO_AS_OF)
    for number, step in enumerate(STEPS, start=1):
        monkeypatch.setenv("FOLLOWTHROUGH_HOME", str(tmp_path / f"worker-{number}"))  # a fresh disk each time
        getattr(tasks, step)("run-1", DEMO_AS_OF)
    assert open_findings() == expected_open_findings()
    assert not (tmp_path / "worker-0" / "sources").exists()
    assert not (tmp_path / "worker-0" / "runs").exists()


def test_a_task_whose_staged_input_is_missing_fails(workspace: Path) -> None:
    tasks.extract_sources("run-1", "followthrough_enforce", DEMO_AS_OF)
    with pytest.raises(StagingMissing, match=r"clean/demo.*is missing"):
        tasks.evaluate_rules("run-1", DEMO_AS_OF)  # validate_source_contract did not run
    with pytest.raises(StagingMissing, match="not extracted in run run-2"):
        tasks.validate_source_contract("run-2", DEMO_AS_OF)


def test_a_missing_export_file_fails_the_run_and_resolves_nothing(workspace: Path) -> None:
    run_pipeline("run-1", DEMO_AS_OF)
    before = open_findings()
    (workspace / "action_items.csv").unlink()
    with pytest.raises(SourceError, match=r"action_items\.csv is missing"):
        tasks.extract_sources("run-2", "followthrough_enforce", DEMO_AS_OF)
    assert open_findings() == before
    assert tasks.open_store().findings_frame("resolved").empty


def test_an_edit_to_the_policy_during_a_run_does_not_reach_its_later_tasks(workspace: Path) -> None:
    policy = Path(tasks.config.policy_path())
    tasks.extract_sources("run-1", "followthrough_enforce", DEMO_AS_OF)
    original = policy.read_text()
    policy.write_text(original.replace("update_interval_days: 7 ", "update_interval_days: 1 "))
    for step in STEPS:
        getattr(tasks, step)("run-1", DEMO_AS_OF)
    assert open_findings() == expected_open_findings()  # the run's policy, not the edited file
    stored = tasks.open_store().run_policy("run-1")
    assert stored is not None
    assert stored["policy"]["action_items"]["update_interval_days"] == 7


def test_a_subject_removed_from_the_source_resolves_as_gone(workspace: Path) -> None:
    run_pipeline("run-1", DEMO_AS_OF)
    item = next(s for rule, kind, s in expected_findings() if kind == "action_item" and rule == "AI-NO-OWNER")
    path = workspace / "action_items.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["action_item_id"] != item)
    second = run_pipeline("run-2", DEMO_AS_OF)
    store = tasks.open_store()
    resolved = store.findings_frame("resolved")
    # (a quarantined row further down moved up one row: its SRC-INVALID finding is keyed by row number)
    gone = resolved[resolved["subject_type"] == "action_item"]
    assert set(gone["subject_id"]) == {item}
    assert set(gone["resolution"]) == {"gone"}
    assert set(resolved[resolved["subject_type"] != "action_item"]["resolution"]) <= {"fixed"}
    assert second["reconciled"]["resolved_gone"] == len(gone)
    reasons = {e["subject"]: e["payload"]["resolution_reason"] for e in store.audit_events("run-2")
               if e["kind"] == "finding_resolved"}
    assert {reasons[fp] for fp in gone["fingerprint"]} == {"subject no longer in the source"}
    summary = store.get_run("run-2")["summary"]
    assert summary["findings"]["changes_this_run"]["resolved_gone"] == len(gone)
