"""
### followthrough_enforce

Enforces incident follow-up every weekday: extracts incidents, postmortems, action items and
status updates from the configured sources, checks them against the source contract (Great
Expectations; bad rows are quarantined with their reason), evaluates the follow-up rules as
of the run's `data_interval_end`, reconciles the findings with the store, plans the
escalation ladder's actions into the outbox and dispatches them (dry-run by default), then
records the run: audit events and a report.

- **Policy**: `FOLLOWTHROUGH_POLICY` (default `config/policy.yaml`).
- **Store**: Connection `followthrough_db` (PostgreSQL), else an embedded SQLite file.
- **Re-runs** of a day change nothing: writes are upserts, actions have idempotency keys.
- **Backfill**: trigger with `{"full_extract": true}` to re-read a Jira source's whole history.
- **Owner**: the platform team. Failures mean a broken pipeline, not a failed check:
  findings are data. A failing run posts one alert to the platform channel (Slack), and so
  does a run still unfinished `FOLLOWTHROUGH_RUN_DEADLINE_MINUTES` (120) after it was queued.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import (
    AsyncCallback,
    DeadlineAlert,
    DeadlineReference,
    Param,
    dag,
    task,
)

from followthrough.dag_support import JIRA_POOL, as_of, default_args
from followthrough.notifiers import DEADLINE_MESSAGE, PlatformAlertNotifier

# A run not finished this long after it was queued alerts the platform team (from the triggerer).
# 0 disables it: `airflow dags test` on 3.3 crashes at the end of a successful run of a DAG with
# `deadline=`, so the demo and the `dags test` end-to-end tests run without it (a real scheduler
# does not crash: tests/deployment). Fractions are allowed (0.25 = 15 s, for the deployment test).
RUN_DEADLINE_MINUTES = float(os.environ.get("FOLLOWTHROUGH_RUN_DEADLINE_MINUTES", "120"))
RUN_DEADLINE = DeadlineAlert(
    reference=DeadlineReference.DAGRUN_QUEUED_AT,
    interval=timedelta(minutes=RUN_DEADLINE_MINUTES),
    callback=AsyncCallback(PlatformAlertNotifier, kwargs={"message": DEADLINE_MESSAGE, "kind": "deadline"}),
    name="followthrough_enforce_late",
) if RUN_DEADLINE_MINUTES > 0 else None



@dag(
    dag_id="followthrough_enforce",
    schedule="0 7 * * 1-5",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    deadline=RUN_DEADLINE,
    tags=["followthrough", "enforcement"],
    doc_md=__doc__,
    params={
        "full_extract": Param(False, type="boolean",
                              description="Backfill: ignore the Jira watermarks and extract the whole history"),
        "confirm_mass_resolve": Param(False, type="boolean",
                                      description="Apply resolutions a safety valve held (README: Safety valves)"),
    },
)
def followthrough_enforce() -> None:
    @task(pool=JIRA_POOL)
    def extract_sources(**context) -> dict:
        from followthrough import tasks

        return tasks.extract_sources(context["run_id"], context["dag"].dag_id, as_of(context),
                                     full_extract=bool(context["params"].get("full_extract", False)))

    @task
    def validate_source_contract(extracted: dict, **context) -> dict:
        from followthrough import tasks

        return tasks.validate_source_contract(context["run_id"], as_of(context))

    @task
    def evaluate_rules(validated: dict, **context) -> dict:
        from followthrough import tasks

        return tasks.evaluate_rules(context["run_id"], as_of(context))

    @task
    def reconcile_findings(evaluated: dict, **context) -> dict:
        from followthrough import tasks

        return tasks.reconcile_findings(context["run_id"], as_of(context),
                                        confirm_mass_resolve=bool(context["params"].get("confirm_mass_resolve", False)))

    @task
    def plan_actions(reconciled: dict, **context) -> dict:
        from followthrough import tasks

        return tasks.plan_actions(context["run_id"], as_of(context))

    @task(pool=JIRA_POOL)
    def dispatch_outbox(planned: dict, **context) -> dict:
        from followthrough import tasks

        return tasks.dispatch_outbox(context["run_id"], as_of(context))

    @task
    def record_run(dispatched: dict, **context) -> dict:
        from followthrough import tasks

        return tasks.record_run(context["run_id"], as_of(context))

    record_run(
        dispatch_outbox(plan_actions(reconcile_findings(evaluate_rules(validate_source_contract(extract_sources())))))
    )


followthrough_enforce()
