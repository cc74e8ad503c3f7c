"""Pipeline alerts for the platform team: an Airflow notifier over the Slack gateway.

`PlatformAlertNotifier` is a task failure callback: when a Followthrough task fails for
good (after its retries), it posts one message to the platform channel (policy
`dispatch.platform_channel`). The message carries an idempotency key per DAG run, so two
failing tasks of one run, or a callback that runs twice, still post one alert. Without the
Connection `slack_api_default` the alert is logged instead (a callback has no one to fail to).
This module is imported by DAG files, so it imports nothing heavy at module level.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import BaseNotifier

from followthrough import config

log = logging.getLogger(__name__)

DEFAULT_MESSAGE = (
    "Followthrough pipeline failure: {{ dag.dag_id }} run {{ run_id }} failed in task {{ ti.task_id }} "
    "(try {{ ti.try_number }}). Findings and pending actions wait for the next successful run."
)


DEADLINE_MESSAGE = (
    "Followthrough pipeline late: {{ dag_run.dag_id }} run {{ dag_run.dag_run_id or dag_run.run_id }} has not "
    "finished by its "
    "deadline ({{ deadline.deadline_time }})."
)


ENFORCE_DAG_ID = "followthrough_enforce"


def release_run_lock(run_id: str) -> None:
    """An enforcement run that failed for good gives the store's run lock back, so the next run need not
    wait for its lease to end; a store that cannot be reached leaves it to the lease."""
    from followthrough import tasks

    try:
        if tasks.open_store().release_run_lock(run_id):
            log.warning("run %s failed: the store's run lock is released", run_id)
    except Exception as exc:  # noqa: BLE001  the alert must still go out
        log.warning("run %s failed and its run lock could not be released (%s); it ends with its lease", run_id, exc)


class PlatformAlertNotifier(BaseNotifier):
    """Post one alert per failing DAG run to the platform team's Slack channel.

    :param message: templated text (Jinja, task context).
    :param channel: the channel; default: the policy's `dispatch.platform_channel`.
    :param slack_conn_id: the Slack Connection (a bot token).
    :param kind: "failure" or "deadline"; a run gets at most one alert of each kind.
    """

    template_fields = ("message", "channel")

    def __init__(self, message: str = DEFAULT_MESSAGE, channel: str | None = None,
                 slack_conn_id: str = config.SLACK_CONN_ID, kind: str = "failure", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind = kind  # failure | deadline: one alert of each kind per run
        self.message = message
        self.channel = channel
        self.slack_conn_id = slack_conn_id

    def _platform_channel(self) -> str:
        from followthrough.policy import DispatchPolicy, load_policy

        if self.channel:
            return self.channel
        try:
            return load_policy(config.policy_path()).policy.dispatch.platform_channel
        except Exception:  # the failure may be the policy itself: fall back to the default channel
            return DispatchPolicy().platform_channel

    def notify(self, context: Any) -> None:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException

        from followthrough.escalation import escape_slack
        from followthrough.gateways.slack import SlackGateway, hook_client_factory

        dag_run = context.get("dag_run")
        if isinstance(dag_run, dict):  # a Deadline Alert's context: the DAG run as REST JSON (DAGRunResponse)
            run_id = str(dag_run.get("dag_run_id") or dag_run.get("run_id") or "unknown-run")
            dag_id = str(dag_run.get("dag_id") or "unknown-dag")
        else:
            run_id = str(getattr(dag_run, "run_id", None) or context.get("run_id") or "unknown-run")
            dag_id = str(getattr(context.get("dag"), "dag_id", None) or "unknown-dag")
        if self.kind == "failure" and dag_id == ENFORCE_DAG_ID:
            release_run_lock(run_id)
        text = escape_slack(self.message)
        try:
            BaseHook.get_connection(self.slack_conn_id)
        except AirflowNotFoundException:
            log.error("no Connection %s: platform alert not sent: %s", self.slack_conn_id, text)
            return
        channel = self._platform_channel()
        key = f"alert/{dag_id}/{run_id}/{self.kind}"
        gateway = SlackGateway(hook_client_factory(self.slack_conn_id), channel)
        delivery = gateway.deliver({"idempotency_key": key, "fingerprint": key, "episode": 1, "step": 0,
                                    "channel": "slack", "action": "post_team_channel", "recipient": channel,
                                    "payload": {"to": channel, "text": text}})
        log.info("platform alert %s delivered as %s", key, delivery.external_ref)

    async def async_notify(self, context: Any) -> None:
        """For Deadline Alerts, which the triggerer awaits: the same post, off the event loop."""
        import asyncio

        await asyncio.to_thread(self.notify, context)
