"""A store and report folders that two demo runs wrote, shared by the auditor, report and dashboard tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from followthrough import tasks
from tests.pipeline import DEMO, use_embedded_store, write_policy

DEMO_RUNS = ["manual__2026-07-15T10:00:00+00:00", "scheduled__2026-07-16T07:00:00+00:00"]


def run_pipeline(run_id: str, as_of: str) -> dict:
    tasks.extract_sources(run_id, "followthrough_enforce", as_of)
    tasks.validate_source_contract(run_id, as_of)
    tasks.evaluate_rules(run_id, as_of)
    tasks.reconcile_findings(run_id, as_of)
    tasks.plan_actions(run_id, as_of)
    tasks.dispatch_outbox(run_id, as_of)
    return tasks.record_run(run_id, as_of)


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """FOLLOWTHROUGH_HOME after two runs on the demo data (the environment is restored afterwards)."""
    base = tmp_path_factory.mktemp("demo-runs")
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_embedded_store(monkeypatch, base / "home", write_policy(base, DEMO))
        results = [run_pipeline(run_id, run_id.split("__")[1]) for run_id in DEMO_RUNS]
    (base / "home" / "xcom.json").write_text(json.dumps(results))
    return base / "home"
