"""
### followthrough_digest

Every Monday: one follow-up digest per team, posted to the team's channel, and one
leadership digest across teams in the platform channel. A team digest shows open findings
by rule and by age, what was closed in the last week, and the trend against a week ago; it
names subjects and rules, never people, and never describes confidential incidents.

- **Input**: the findings in the store (written by `followthrough_enforce`).
- **Output**: outbox entries (one per team and week, so a re-run adds nothing), then dispatched
  like every other message (dry-run unless the policy's `dispatch.slack` is `live`).
- **Fan-out**: one mapped task instance per team (dynamic task mapping), not per finding.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from followthrough.dag_support import JIRA_POOL, as_of, default_args


@dag(
    dag_id="followthrough_digest",
    schedule="0 8 * * 1",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["followthrough", "digest"],
    doc_md=__doc__,
)
def followthrough_digest() -> None:
    @task
    def list_teams(**context) -> list[str]:
        from followthrough import tasks

        return tasks.list_digest_teams(context["run_id"])

    @task(map_index_template="{{ task.op_kwargs['team_id'] }}")
    def plan_team_digest(team_id: str, **context) -> dict:
        from followthrough import tasks

        return tasks.plan_team_digest(context["run_id"], as_of(context), team_id)

    @task
    def plan_leadership_digest(team_digests: list, **context) -> dict:
        from followthrough import tasks

        return tasks.plan_team_digest(context["run_id"], as_of(context), None)

    @task(pool=JIRA_POOL)
    def dispatch_digests(leadership: dict, **context) -> dict:
        from followthrough import tasks

        return tasks.dispatch_outbox(context["run_id"], as_of(context))

    dispatch_digests(plan_leadership_digest(plan_team_digest.expand(team_id=list_teams())))


followthrough_digest()
