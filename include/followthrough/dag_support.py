"""What the DAG files share: default task arguments, the Jira pool and the run's as-of instant.

DAG files import this at parse time, so it imports only the standard library, airflow.sdk
and the light `followthrough.notifiers`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule

from followthrough.notifiers import PlatformAlertNotifier

# Tasks that call Jira share this pool, so concurrent runs and DAGs stay under Jira's rate
# limits together (make demo / make airflow create it; see README)
JIRA_POOL = "jira_api"


def default_args() -> dict[str, Any]:
    """Owner, retries with backoff, the platform alert, and no retries for configuration errors."""
    return {
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


def as_of(context: Any) -> str:
    """The run's as-of instant: data_interval_end, else the run's run_after for manual runs."""
    instant = context.get("data_interval_end") or context["dag_run"].run_after
    return str(instant.isoformat())
