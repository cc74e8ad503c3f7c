"""
### followthrough_dispatch

Every hour: deliver what is due in the outbox. An entry is due when its `send_after` has
passed and, for a live Slack message, its recipient team is inside its working hours on a
business day (the team's time zone, region holidays and the policy's extra holidays).
Enforcement (`followthrough_enforce`) plans and dispatches once a day; this DAG delivers the
rest as each team's working day begins, so every message arrives at most an hour after the
team opens. Both DAGs dispatch through the same claim (a lease per entry), so two running at
once never send one entry twice.

The schedule is every hour of every UTC day: a weekday in Sydney begins on Sunday UTC and
a weekday in Los Angeles ends on Saturday UTC. An hour in which no team is working claims
nothing and delivers nothing.

- **Input**: the outbox in the store.
- **Output**: messages and tickets (live or dry-run per the policy's `dispatch.jira` and
  `dispatch.slack`); counts by outcome, including how many entries are still pending. A
  backlog is not a failure: the next hour continues it.
- **Alerts**: failed and dead entries, and a backlog older than
  `dispatch.alert_backlog_after_hours`, are posted once to the platform channel.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from followthrough.dag_support import JIRA_POOL, as_of, default_args


@dag(
    dag_id="followthrough_dispatch",
    schedule="0 * * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["followthrough", "dispatch"],
    doc_md=__doc__,
)
def followthrough_dispatch() -> None:
    @task(pool=JIRA_POOL)
    def dispatch_due(**context) -> dict:
        from followthrough import tasks

        return tasks.dispatch_outbox(context["run_id"], as_of(context))

    dispatch_due()


followthrough_dispatch()
