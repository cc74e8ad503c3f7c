"""DAG integrity: every DAG file parses with no Connections or Variables, carries its
metadata, and imports nothing heavy at parse time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
DAG_FILES = sorted(p for p in DAGS.glob("*.py") if not p.name.startswith("_"))
HEAVY = ("pandas", "numpy", "great_expectations", "sqlalchemy", "atlassian", "slack_sdk", "pyarrow",
         "airflow.providers.atlassian", "airflow.providers.slack", "airflow.providers.postgres", "followthrough.")
# the retry policy names this exception class; the module imports nothing but the stdlib
LIGHT = ("followthrough.exceptions", "followthrough.notifiers", "followthrough.config", "followthrough.dag_support")


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """An environment with no Connections or Variables defined anywhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env.update(AIRFLOW_HOME=str(tmp_path / "airflow"), AIRFLOW__CORE__LOAD_EXAMPLES="False",
               AIRFLOW__CORE__DAGS_FOLDER=str(DAGS), AIRFLOW__SECRETS__BACKEND="")
    return env


@pytest.fixture(scope="module")
def dagbag_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Parse the DAG folder once, in a fresh interpreter, and report what it found."""
    tmp = tmp_path_factory.mktemp("dagbag")
    script = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
dags = {}
for dag_id, dag in bag.dags.items():
    dags[dag_id] = {
        "fileloc": dag.fileloc, "tags": sorted(dag.tags), "doc_md": dag.doc_md or "",
        "max_active_runs": dag.max_active_runs, "deadline": bool(dag.deadline), "schedule": str(dag.timetable.summary if hasattr(dag.timetable, "summary") else dag.timetable),
        "tasks": {t.task_id: {"owner": t.owner, "retries": t.retries, "pool": t.pool,
                              "alerts": [type(c).__name__ for c in (t.on_failure_callback
                                         if isinstance(t.on_failure_callback, list)
                                         else [t.on_failure_callback] if t.on_failure_callback else [])]}
                  for t in dag.tasks},
    }
stats = [{"file": s.file, "seconds": s.duration.total_seconds()} for s in bag.dagbag_stats]
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": dags, "stats": stats}))
"""
    out = subprocess.run([sys.executable, "-c", script, str(DAGS)], env=_clean_env(tmp), capture_output=True,
                         text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_dag_file_imports_without_errors(dagbag_report: dict) -> None:
    assert dagbag_report["errors"] == {}
    assert {Path(d["fileloc"]).name for d in dagbag_report["dags"].values()} == {p.name for p in DAG_FILES}


def test_dag_ids_match_file_names(dagbag_report: dict) -> None:
    for dag_id, dag in dagbag_report["dags"].items():
        assert Path(dag["fileloc"]).stem == dag_id


def test_every_dag_has_tags_docs_and_one_active_run(dagbag_report: dict) -> None:
    for dag_id, dag in dagbag_report["dags"].items():
        assert "followthrough" in dag["tags"], dag_id
        assert len(dag["doc_md"]) > 200, dag_id
        assert dag["max_active_runs"] == 1, dag_id


def test_every_task_has_an_owner_retries_and_a_failure_alert(dagbag_report: dict) -> None:
    for dag_id, dag in dagbag_report["dags"].items():
        for task_id, task in dag["tasks"].items():
            assert task["owner"] not in ("", "airflow"), f"{dag_id}.{task_id}"
            assert task["retries"] >= 1, f"{dag_id}.{task_id}"
            assert "PlatformAlertNotifier" in task["alerts"], f"{dag_id}.{task_id}"


def test_enforcement_dag_task_order(dagbag_report: dict) -> None:
    tasks = list(dagbag_report["dags"]["followthrough_enforce"]["tasks"])
    assert tasks == ["extract_sources", "validate_source_contract", "evaluate_rules", "reconcile_findings",
                     "plan_actions", "dispatch_outbox", "record_run"]
    assert "0 7 * * 1-5" in dagbag_report["dags"]["followthrough_enforce"]["schedule"]  # weekdays
    pools = {t: v["pool"] for t, v in dagbag_report["dags"]["followthrough_enforce"]["tasks"].items()}
    assert pools["extract_sources"] == pools["dispatch_outbox"] == "jira_api"


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_nothing_heavy_at_parse_time(dag_file: Path, tmp_path: Path) -> None:
    script = r"""
import json, runpy, sys
import airflow.sdk  # the baseline every DAG file pays anyway
before = set(sys.modules)
runpy.run_path(sys.argv[1])
added = sorted(set(sys.modules) - before)
print(json.dumps(added))
"""
    out = subprocess.run([sys.executable, "-c", script, str(dag_file)], env=_clean_env(tmp_path),
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    added = json.loads(out.stdout.strip().splitlines()[-1])
    heavy = [m for m in added if (m.split(".")[0] in HEAVY or m.startswith(HEAVY)) and m not in LIGHT]
    assert heavy == [], f"{dag_file.name} imports at parse time: {heavy[:10]}"


def test_digest_dag_fans_out_by_team(dagbag_report: dict) -> None:
    tasks = dagbag_report["dags"]["followthrough_digest"]["tasks"]
    assert list(tasks) == ["list_teams", "plan_team_digest", "plan_leadership_digest", "dispatch_digests"]
    assert "0 8 * * 1" in dagbag_report["dags"]["followthrough_digest"]["schedule"]  # Mondays


def test_enforcement_runs_have_a_deadline_alert(dagbag_report: dict) -> None:
    assert dagbag_report["dags"]["followthrough_enforce"]["deadline"]


def test_dispatch_dag_runs_hourly_through_the_shared_claim(dagbag_report: dict) -> None:
    dag = dagbag_report["dags"]["followthrough_dispatch"]
    assert list(dag["tasks"]) == ["dispatch_due"]
    assert "0 * * * *" in dag["schedule"]  # every hour: a weekday somewhere spans Sunday to Saturday UTC
    assert dag["tasks"]["dispatch_due"]["pool"] == "jira_api"
