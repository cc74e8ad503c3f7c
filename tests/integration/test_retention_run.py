"""record_run applies the policy's `retention_days`: a run finished past the horizon loses its
report folder, the current run keeps its own, and the audit chain still verifies."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from followthrough import config
from tests.integration.conftest import run_pipeline
from tests.pipeline import DEMO, use_embedded_store, write_policy


def test_record_run_prunes_reports_past_the_retention_horizon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = write_policy(tmp_path, DEMO)
    policy.write_text(policy.read_text().replace("retention_days: null", "retention_days: 30"))
    use_embedded_store(monkeypatch, tmp_path / "home", policy)
    first = run_pipeline("manual__2026-07-15T10:00:00+00:00", "2026-07-15T10:00:00+00:00")
    assert first["retention"]["report_folders_removed"] == 0
    from followthrough.tasks import open_store

    store = open_store()
    with store.transaction() as connection:  # the first run finished long ago
        connection.execute(sa.text("UPDATE ft_runs SET finished_at = :t WHERE run_id = :r"),
                           {"t": "2000-01-01 00:00:00.000000", "r": "manual__2026-07-15T10:00:00+00:00"})
    second = run_pipeline("scheduled__2026-07-16T07:00:00+00:00", "2026-07-16T07:00:00+00:00")
    assert second["retention"]["report_folders_removed"] == 1
    assert not config.report_dir("manual__2026-07-15T10:00:00+00:00").exists()
    assert (config.report_dir("scheduled__2026-07-16T07:00:00+00:00") / "report.html").is_file()
    assert store.verify_audit().ok
