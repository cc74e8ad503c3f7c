"""Benchmarks (make bench): DAG parse cost and the rules over a large generated data set.

Figures go to bench/results.json as a list of {"name", "value", "unit"} objects, merged
with what is already there so each benchmark updates only its own names. Never used as
assertions in tests.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
AS_OF = pd.Timestamp("2026-07-15T10:00:00Z")


def record(figures: list[dict]) -> None:
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    names = {f["name"] for f in figures}
    merged = [f for f in existing if f["name"] not in names] + figures
    RESULTS.write_text(json.dumps(sorted(merged, key=lambda f: f["name"]), indent=2) + "\n")
    for figure in figures:
        print(f"{figure['name']:<40} {figure['value']:>12} {figure['unit']}")


def dag_parse_seconds(dag_file: Path) -> float:
    """In-process DagBag time of one file (the interpreter and airflow.sdk import excluded)."""
    script = ("import sys\nfrom airflow.dag_processing.dagbag import DagBag\n"
              "bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)\n"
              "print(sum(s.duration.total_seconds() for s in bag.dagbag_stats))")
    env = os.environ | {"AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW_HOME": str(ROOT / "var" / "bench-airflow")}
    out = subprocess.run([sys.executable, "-c", script, str(dag_file)], env=env, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def generated_frames(items: int, incidents: int, teams: int = 50) -> dict[str, pd.DataFrame]:
    """A large, random but deterministic canonical data set."""
    rng = np.random.default_rng(7)
    team_ids = np.array([f"team-{i}" for i in range(teams)])
    zones = np.array(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "America/Los_Angeles"])
    start = pd.Timestamp("2025-07-15T00:00:00Z")
    incident_start = start + pd.to_timedelta(rng.integers(0, 360 * 86400, incidents), unit="s")
    item_created = start + pd.to_timedelta(rng.integers(0, 360 * 86400, items), unit="s")
    owners = np.where(rng.random(items) < 0.02, "TBD", np.char.add("person-", rng.integers(0, 5000, items).astype(str)))
    updates = items * 2
    return {
        "teams": pd.DataFrame({"team_id": team_ids, "name": team_ids, "lead": "lead", "manager": "manager",
                               "slack_channel": "#x", "timezone": zones[np.arange(teams) % len(zones)], "region": "GB"}),
        "people": pd.DataFrame({"person_id": ["lead"], "slack_id": ["U1"], "email": ["l@x"], "active": [True]}),
        "incidents": pd.DataFrame({
            "incident_id": [f"INC-{i}" for i in range(incidents)], "title": "t",
            "severity": rng.choice(["SEV1", "SEV2", "SEV3", "SEV4"], incidents), "status": "resolved",
            "team_id": rng.choice(team_ids, incidents), "started_at": incident_start,
            "resolved_at": incident_start + pd.Timedelta(hours=3), "confidential": False}),
        "postmortems": pd.DataFrame({
            "postmortem_id": [f"PM-{i}" for i in range(incidents)], "incident_id": [f"INC-{i}" for i in range(incidents)],
            "owner": "lead", "status": rng.choice(["draft", "published"], incidents),
            "published_at": pd.Series(incident_start + pd.Timedelta(days=3)).where(rng.random(incidents) < 0.7)}),
        "action_items": pd.DataFrame({
            "action_item_id": [f"AI-{i}" for i in range(items)], "incident_id": rng.choice([f"INC-{i}" for i in range(incidents)], items),
            "summary": "Add alert", "owner": owners, "team_id": rng.choice(team_ids, items),
            "status": rng.choice(["open", "in_progress", "done"], items), "created_at": item_created}),
        "status_updates": pd.DataFrame({
            "update_id": np.arange(updates), "action_item_id": np.char.add("AI-", rng.integers(0, items, updates).astype(str)),
            "posted_at": start + pd.to_timedelta(rng.integers(0, 365 * 86400, updates), unit="s")}),
    }


def main() -> None:
    figures = [{"name": "dag_parse_followthrough_enforce_s",
                "value": round(dag_parse_seconds(ROOT / "dags" / "followthrough_enforce.py"), 3), "unit": "s"}]
    from followthrough.policy import Policy
    from followthrough.rules import evaluate_rules

    frames = generated_frames(items=1_000_000, incidents=100_000)
    policy = Policy(sources=[{"name": "bench", "path": "."}])
    started = time.perf_counter()
    findings = evaluate_rules(frames, policy, AS_OF)
    elapsed = time.perf_counter() - started
    figures += [
        {"name": "rules_issue2_1m_items_wall_s", "value": round(elapsed, 2), "unit": "s"},
        {"name": "rules_issue2_1m_items_findings", "value": len(findings), "unit": "findings"},
        {"name": "rules_issue2_1m_items_peak_rss_mb",
         "value": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "unit": "MB"},
    ]
    record(figures)


if __name__ == "__main__":
    main()
