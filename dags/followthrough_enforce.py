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
    ExceptionRetryPolicy,
    Param,
    RetryAction,
    RetryRule,
    dag,
    task,
)

from followthrough.notifiers import DEADLINE_MESSAGE, PlatformAlertNotifier

JIRA_POOL = "jira_api"

DEFAULT_ARGS = {
    "owner": "platform-team",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": 2.0,
    # the platform team hears once per failing run (task-level: DAG-level notifiers break `dags test` on 3.3)
    "on_failure_callback": PlatformAlertNotifier(),
    # an invalid policy or a missing source folder will not fix itself: fail at once
    "retry_policy": ExceptionRetryPolicy(rules=[
        RetryRule(exception="followthrough.exceptions.NotRetryableError", action=RetryAction.FAIL,
                  reason="configuration error: fix the policy or the source, then clear the task"),
    ]),
}


# A run not finished this long after it was queued alerts the platform team (from the triggerer).
# 0 disables it: `airflow dags test` on 3.3 crashes at the end of a successful run of a DAG with
# `deadline=`, so the demo and the end-to-end tests run without it.
RUN_DEADLINE_MINUTES = int(os.environ.get("FOLLOWTHROUGH_RUN_DEADLINE_MINUTES", "120"))
RUN_DEADLINE = DeadlineAlert(
    reference=DeadlineReference.DAGRUN_QUEUED_AT,
    interval=timedelta(minutes=RUN_DEADLINE_MINUTES),
    callback=AsyncCallback(PlatformAlertNotifier, kwargs={"message": DEADLINE_MESSAGE, "kind": "deadline"}),
    name="followthrough_enforce_late",
) if RUN_DEADLINE_MINUTES > 0 else None


def _as_of(context: dict) -> str:
    """The run's as-of instant: data_interval_end, else the run's run_after for manual runs."""
    instant = context.get("data_interval_end") or context["dag_run"].run_after
    return instant.isoformat()


@dag(
    dag_id="followthrough_enforce",
    schedule="0 7 * * 1-5",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    deadline=RUN_DEADLINE,
    tags=["followthrough", "enforcement"],
    doc_md=__doc__,
    params={
        "full_extract": Param(False, type="boolean",
                              description="Backfill: ignore the Jira watermarks and extract the whole history"),
    },
)
def followthrough_enforce() -> None:
    # Jira calls go through the `jira_api` pool so that concurrent runs and DAGs cannot exceed
    # Jira's rate limits together (make airflow / make demo create it; see README)
    @task(pool=JIRA_POOL)
    def extract_sources(**context) -> dict:
        from followthrough import tasks

        return tasks.extract_sources(context["run_id"], context["dag"].dag_id, _as_of(context),
                                     full_extract=bool(context["params"].get("full_extract", False)))

    @task
    def validate_source_contract(extracted: dict, **context) -> dict:
        from followthrough import tasks

        return tasks.validate_source_contract(context["run_id"], _as_of(context))

    @task
    def evaluate_rules(validated: dict, **context) -> dict:
        from followthrough import tasks

        return tasks.evaluate_rules(context["run_id"], _as_of(context))

    @task
    def reconcile_findings(evaluated: dict, **context) -> dict:
        from followthrough import tasks

        return tasks.reconcile_findings(context["run_id"], _as_of(context))

    @task
    def plan_actions(reconciled: dict, **context) -> dict:
        from followthrough import tasks

        return tasks.plan_actions(context["run_id"], _as_of(context))

    @task(pool=JIRA_POOL)
    def dispatch_outbox(planned: dict, **context) -> dict:
        from followthrough import tasks

        return tasks.dispatch_outbox(context["run_id"], _as_of(context))

    @task
    def record_run(dispatched: dict, **context) -> dict:
        from followthrough import tasks

        return tasks.record_run(context["run_id"], _as_of(context))

    record_run(
        dispatch_outbox(plan_actions(reconcile_findings(evaluate_rules(validate_source_contract(extract_sources())))))
    )


followthrough_enforce()
