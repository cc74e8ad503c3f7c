"""Benchmarks (make bench): DAG parse cost and the whole rule catalog at scale.

The catalog benchmark generates 1,000,000 action items and 100,000 incidents (with
postmortems, status updates, history and a roster), then in one process times:

- `catalog_1m_pandas_only_wall_s`: every rule of the catalog (pandas, no GE);
- `catalog_1m_wall_s`: the same rules plus the Great Expectations follow-up suite
  (the rules' outcomes validated and cross-checked in GE), as the enforcement DAG runs them;
- `catalog_1m_peak_rss_mb`: the process's peak resident memory after both.

The GE import (8-15 s, once per worker process) is reported separately as
`gx_import_s`, not inside the catalog time. Figures go to bench/results.json as a list of
{"name", "value", "unit"} objects, merged so each benchmark updates only its own names.
Timings are never asserted in tests.
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

VERBS = ["Add alert on", "Set", "Raise", "Document", "Automate", "Upgrade", "Investigate why", "Look into",
         "Improve", "Review", "Add a runbook for", "Add dashboard for", "Migrate", "Cap"]
TARGETS = ["p99 latency > {n}ms for checkout-api", "connection pool max to {n} in payments-db",
           "retries to {n} in search-indexer", "the failover of redis-{n}", "monitoring", "the outage",
           "disk usage above {n}% on kafka-{n}", "libssl to 3.0.{n} on edge proxies", "things", "TLS expiry checks"]
SECTIONS = {
    "summary": "# Summary\nCheckout returned errors for {n} minutes after a configuration push.\n",
    "timeline": "# Timeline (UTC)\n- 10:00 config pushed\n- 10:{n:02d} alert fired\n- 11:00 rolled back\n",
    "root_cause": "# Root cause\nThe push removed the connection pool limit on payments-db.\n",
    "impact": "# Impact\n{n}% of checkout requests failed.\n",
    "actions": "# Action items\n- Add a schema check for the pool limit to the deploy pipeline.\n",
}


def record(figures: list[dict]) -> None:
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    names = {f["name"] for f in figures}
    merged = [f for f in existing if f["name"] not in names] + figures
    RESULTS.write_text(json.dumps(sorted(merged, key=lambda f: f["name"]), indent=2) + "\n")
    for figure in figures:
        print(f"{figure['name']:<40} {figure['value']:>12} {figure['unit']}")


# A fixed CPU-bound loop: this machine's speed varies by up to half between hours, so every
# timed figure is written next to the time this loop took just before it
MACHINE_LOOP = "sum(range(3 * 10**8))"


def machine_loop_seconds() -> float:
    """Wall time of MACHINE_LOOP in a fresh interpreter (the machine's speed at this moment)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", MACHINE_LOOP], check=True)
    return time.perf_counter() - started


def dag_parse_seconds(dag_file: Path) -> float:
    """In-process DagBag time of one file (the interpreter and airflow.sdk import excluded)."""
    script = ("import sys\nfrom airflow.dag_processing.dagbag import DagBag\n"
              "bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)\n"
              "print(sum(s.duration.total_seconds() for s in bag.dagbag_stats))")
    env = os.environ | {"AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW_HOME": str(ROOT / "var" / "bench-airflow")}
    out = subprocess.run([sys.executable, "-c", script, str(dag_file)], env=env, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _ids(prefix: str, n: int) -> np.ndarray:
    return np.char.add(prefix, np.arange(n).astype(str))


def generated_frames(items: int, incidents: int, teams: int = 50, people: int = 5000,
                     documents: int = 200) -> dict[str, pd.DataFrame]:
    """A large, random but deterministic canonical data set covering every rule's inputs."""
    rng = np.random.default_rng(7)
    team_ids = _ids("team-", teams)
    zones = np.array(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "America/Los_Angeles"])
    regions = np.array(["GB", "DE", "US", "IN", "US"])
    person_ids = _ids("person-", people)
    start = pd.Timestamp("2025-07-15T00:00:00Z")
    incident_ids = _ids("INC-", incidents)
    incident_start = start + pd.to_timedelta(rng.integers(0, 360 * 86400, incidents), unit="s")
    services = _ids("svc-", 400)
    item_incident = rng.integers(0, incidents, items)
    item_created = incident_start[item_incident] + pd.to_timedelta(rng.integers(3600, 20 * 86400, items), unit="s")
    owners = np.where(rng.random(items) < 0.02, "TBD", person_ids[rng.integers(0, people, items)])
    summaries = np.char.add(np.char.add(rng.choice(VERBS, items), " "), rng.choice(TARGETS, items))
    summaries = np.char.replace(summaries, "{n}", rng.integers(1, 999, items).astype(str))
    # realistic shape: follow-up of recent incidents is mostly open, of old ones mostly closed
    age_days = np.asarray((AS_OF - item_created).days)
    open_share = np.where(age_days < 90, 0.7, 0.05)
    status = np.where(rng.random(items) < open_share, rng.choice(["open", "in_progress", "blocked"], items),
                      rng.choice(["done", "wont_do"], items, p=[.92, .08]))
    due = (item_created.normalize() + pd.to_timedelta(rng.integers(7, 75, items), unit="D")).where(
        rng.random(items) > 0.03)
    texts = []
    for i in range(documents):
        kept = [s for k, s in SECTIONS.items() if rng.random() > 0.1 or k == "summary"]
        blame = "\nThe outage happened because Sam forgot to run the canary.\n" if i % 50 == 0 else ""
        texts.append("".join(kept).format(n=i % 60) + blame)
    pm_status = rng.choice(["draft", "in_review", "published"], incidents, p=[.2, .2, .6])
    updates = items * 2
    history = items // 5
    return {
        "teams": pd.DataFrame({"team_id": team_ids, "name": team_ids, "lead": person_ids[:teams],
                               "manager": person_ids[teams:2 * teams], "slack_channel": "#x",
                               "timezone": zones[np.arange(teams) % 5], "region": regions[np.arange(teams) % 5]}),
        "people": pd.DataFrame({"person_id": person_ids, "team_id": team_ids[np.arange(people) % teams],
                                "slack_id": "U1", "email": "x@example.com", "active": rng.random(people) > 0.01}),
        "services": pd.DataFrame({"service": services, "team_id": team_ids[np.arange(400) % teams]}),
        "incidents": pd.DataFrame({
            "incident_id": incident_ids, "title": "Checkout errors",
            "severity": rng.choice(["SEV1", "SEV2", "SEV3", "SEV4"], incidents, p=[.05, .3, .45, .2]),
            "status": "resolved", "team_id": rng.choice(team_ids, incidents), "service": rng.choice(services, incidents),
            "started_at": incident_start, "resolved_at": incident_start + pd.Timedelta(hours=3),
            "confidential": rng.random(incidents) < 0.02,
            "root_cause_category": rng.choice(["config", "deploy", "capacity", "dependency", "unknown"], incidents),
            "affected_services": np.char.add(np.char.add(rng.choice(services, incidents), ";"),
                                             rng.choice(services, incidents))}),
        "postmortems": pd.DataFrame({
            "postmortem_id": _ids("PM-", incidents), "incident_id": incident_ids, "owner": person_ids[:incidents % people
                                                                                                    or people][0],
            "status": pm_status, "created_at": incident_start + pd.Timedelta(days=1),
            "published_at": pd.Series(incident_start + pd.Timedelta(days=3)).where(pm_status == "published"),
            "participants": rng.choice(team_ids, incidents),
            "document_text": np.array(texts, dtype=object)[rng.integers(0, documents, incidents)]}).sample(
            frac=0.6, random_state=1),
        "action_items": pd.DataFrame({
            "action_item_id": _ids("AI-", items), "incident_id": incident_ids[item_incident], "summary": summaries,
            "owner": owners, "team_id": rng.choice(team_ids, items), "priority": rng.choice(["P1", "P2", "P3"], items),
            "category": rng.choice(["root_cause", "detection", "mitigation", "process"], items), "status": status,
            "created_at": item_created, "due_date": due,
            "closed_at": pd.Series(item_created + pd.Timedelta(days=10)).where(np.isin(status, ["done", "wont_do"])),
            "resolution_note": np.where(rng.random(items) < 0.5, "Superseded by the storage migration", ""),
            "approver": np.where(rng.random(items) < 0.5, "person-1", "")}),
        "status_updates": pd.DataFrame({
            "update_id": np.arange(updates), "action_item_id": _ids("AI-", items)[np.arange(updates) % items],
            # most items were updated in the last week; some went quiet
            "posted_at": AS_OF - pd.to_timedelta(np.where(rng.random(updates) < 0.8, rng.integers(0, 6 * 86400, updates),
                                                          rng.integers(0, 120 * 86400, updates)), unit="s")}),
        "action_item_history": pd.DataFrame({
            "change_id": np.arange(history), "action_item_id": _ids("AI-", items)[rng.integers(0, items, history)],
            "changed_at": start + pd.to_timedelta(rng.integers(0, 365 * 86400, history), unit="s"),
            "field": rng.choice(["due_date", "priority"], history),
            "old_value": rng.choice(["2026-01-10", "P1"], history), "new_value": rng.choice(["2026-02-10", "P3"],
                                                                                            history)}),
        "quarantine": pd.DataFrame(columns=["entity", "row_number", "record_id", "reason_code", "reason", "raw"]),
    }


def main() -> None:
    figures = [{"name": "catalog_machine_loop_s", "value": round(machine_loop_seconds(), 2), "unit": "s"},
               {"name": "dag_parse_followthrough_enforce_s",
                "value": round(dag_parse_seconds(ROOT / "dags" / "followthrough_enforce.py"), 3), "unit": "s"}]
    from followthrough.catalog import RULE_IDS
    from followthrough.collector import collect_once
    from followthrough.policy import policy_for_tests
    from followthrough.rules import evaluate_rules

    frames = generated_frames(items=1_000_000, incidents=100_000)
    policy = policy_for_tests()

    # timed as the evaluate_rules task runs them: with the cyclic collector paused until the end
    started = time.perf_counter()
    with collect_once():
        findings = evaluate_rules(frames, policy, AS_OF)
    pandas_only = time.perf_counter() - started

    started = time.perf_counter()
    import great_expectations  # noqa: F401  (the import is paid once per worker process)

    gx_import = time.perf_counter() - started
    from followthrough.quality.gx import validate_followup

    started = time.perf_counter()
    with collect_once():
        findings = evaluate_rules(frames, policy, AS_OF)
        validate_followup(findings, list(RULE_IDS), list(frames["teams"]["team_id"]),
                          docs_folder=ROOT / "var" / "bench-data-docs")
    with_gx = time.perf_counter() - started
    figures += [
        {"name": "catalog_1m_pandas_only_wall_s", "value": round(pandas_only, 2), "unit": "s"},
        {"name": "catalog_1m_wall_s", "value": round(with_gx, 2), "unit": "s"},
        {"name": "catalog_1m_peak_rss_mb", "value": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
         "unit": "MB"},
        {"name": "catalog_1m_findings", "value": len(findings), "unit": "findings"},
        {"name": "gx_import_s", "value": round(gx_import, 2), "unit": "s"},
    ]
    record(figures)
    print(findings.groupby("rule").size().to_string())


if __name__ == "__main__":
    main()
