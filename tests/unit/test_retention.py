"""Retention: runs past the horizon lose their report folders and staging, newer ones keep them;
audit events before the horizon are pruned only through a run checkpoint, and the chain verifies."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from followthrough import config
from followthrough.policy import Policy
from followthrough.retention import apply_retention
from followthrough.store.audit import AuditKey
from followthrough.store.repository import Store, now_utc

KEY = AuditKey(b"followthrough-test-audit-key-0001")  # the key tests/conftest.py sets for every store write


def _run(store: Store, run_id: str, home: Path, events: int = 3) -> dict:
    store.start_run(run_id, "followthrough_enforce", "2026-07-15T10:00:00+00:00", "0" * 64)
    store.append_audit(run_id, [(f"event_{i}", None, {"i": i}) for i in range(events)])
    store.finish_run(run_id, {"run_id": run_id})
    checkpoint = store.audit_checkpoint(run_id, record=True, key=KEY).as_dict()
    folder = config.report_dir(run_id)
    (folder / "data_docs" / "followup").mkdir(parents=True)
    (folder / "report.html").write_text("<html></html>")
    (folder / "audit_checkpoint.json").write_text(json.dumps(checkpoint))
    staging = Path(config.staging_url().removeprefix("file://")) / "runs" / config.safe_name(run_id) / "extract"
    staging.mkdir(parents=True)
    (staging / "manifest.json").write_text("{}")
    return checkpoint


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FOLLOWTHROUGH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FOLLOWTHROUGH_STAGING_URL", raising=False)
    return tmp_path / "home"


def test_old_runs_lose_files_and_audit_detail_newer_keep_them(store: Store, home: Path) -> None:
    old = [_run(store, f"scheduled__2025-0{m}-01", home) for m in (1, 2)]
    horizon_instant = now_utc()
    new = _run(store, "scheduled__2026-07-15", home)
    result = apply_retention(store, 30, horizon_instant + timedelta(days=30))
    assert result.runs_past_horizon == ["scheduled__2025-01-01", "scheduled__2025-02-01"]
    assert result.report_folders_removed == 2
    assert result.staging_folders_removed == 2
    reports = sorted(p.name for p in (home / "reports").iterdir())
    assert reports == [config.safe_name("scheduled__2026-07-15")]
    staged = sorted(p.name for p in (home / "staging" / "runs").iterdir())
    assert staged == [config.safe_name("scheduled__2026-07-15")]
    # audit: pruned through the last old run's checkpoint, the newer run's events kept
    assert result.pruned_through_seq == old[-1]["seq"]
    assert result.audit_events_pruned == old[-1]["seq"]
    seqs = [e["seq"] for e in store.audit_events()]
    assert min(seqs) == old[-1]["seq"] + 1
    assert max(seqs) == new["seq"]
    from followthrough.store.audit import read_checkpoint_file

    kept = read_checkpoint_file(config.report_dir("scheduled__2026-07-15") / "audit_checkpoint.json")
    verdict = store.verify_audit(KEY, [kept])
    assert verdict.ok, verdict.problems
    assert "pruned by retention" in verdict.message()
    # an auditor's copy of an old checkpoint still verifies (it is behind the signed anchor)
    from followthrough.store.audit import Checkpoint

    assert store.verify_audit(KEY, [Checkpoint.from_dict(old[0], "kept.json")]).ok
    # the same horizon again changes nothing
    again = apply_retention(store, 30, horizon_instant + timedelta(days=30))
    assert again.as_dict() | {"runs_past_horizon": 0} == {**result.as_dict(), "runs_past_horizon": 0,
                                                        "report_folders_removed": 0, "staging_folders_removed": 0,
                                                        "audit_events_pruned": 0, "pruned_through_seq": None}
    assert [e["seq"] for e in store.audit_events()] == seqs


def test_nothing_past_the_horizon_keeps_everything(store: Store, home: Path) -> None:
    checkpoint = _run(store, "scheduled__2026-07-15", home)
    result = apply_retention(store, 400, now_utc())
    assert result.as_dict()["runs_past_horizon"] == 0
    assert result.audit_events_pruned == 0
    assert len(store.audit_events()) == checkpoint["seq"]
    assert (config.report_dir("scheduled__2026-07-15") / "report.html").is_file()


def test_a_broken_chain_is_not_pruned(store: Store, home: Path) -> None:
    import sqlalchemy as sa

    from followthrough.exceptions import StoreError

    _run(store, "scheduled__2025-01-01", home)
    instant = now_utc()
    with store.transaction() as connection:
        connection.execute(sa.text("DELETE FROM ft_audit_events WHERE seq = 2"))
    with pytest.raises(StoreError, match="does not verify"):
        apply_retention(store, 30, instant + timedelta(days=30))
    assert (config.report_dir("scheduled__2025-01-01") / "report.html").is_file()  # the evidence is kept


@pytest.mark.parametrize("days", [0, 29, 3651, "soon"])
def test_retention_days_is_validated(days: object) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="retention_days"):
        Policy.model_validate({"sources": [{"name": "x", "path": "."}], "retention_days": days})


def test_retention_is_off_by_default() -> None:
    assert Policy.model_validate({"sources": [{"name": "x", "path": "."}]}).retention_days is None
