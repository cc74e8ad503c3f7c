"""A Jira outage on the live path: Slack messages wait for their ticket's link only so long.

Jira and Slack are live against the fakes over HTTP. While Jira answers every request 503, the
tickets' creates stay pending; a message waits for its ticket (so that it carries the link) until it
is ``dispatch.message_waits_for_ticket_minutes`` old, then it is posted without the link. Once Jira
is back, the tickets are created and a message that was still waiting carries its ticket's link.
Asserted in the fakes' state.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from followthrough import tasks
from followthrough.gateways.outbox import DispatchSettings, dispatch_pending, gateway_for
from followthrough.policy import load_policy
from followthrough.store.repository import now_utc
from followthrough.store.schema import outbox
from tests.fakes.jira import FakeJira
from tests.fakes.slack import FakeSlack
from tests.pipeline import live_fakes

AS_OF = "2026-07-15T10:00:00+00:00"


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[FakeJira, FakeSlack]]:
    # no retries inside an attempt: each dispatch tries each create once, as an hourly run would
    with live_fakes(monkeypatch, tmp_path, {"jira_search_lag_seconds": 0, "jira_retry_budget": 0,
                                            "retries_per_entry": 0, "message_waits_for_ticket_minutes": 60}) as fakes:
        yield fakes


def _finding(n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A finding's ticket create and its owner's DM, keyed as escalation.py plans them."""
    fingerprint = f"{n:016x}" + "a" * 16
    create = {"idempotency_key": f"{fingerprint}:1:jira:create", "fingerprint": fingerprint, "episode": 1, "step": 0,
              "channel": "jira", "action": "create_ticket", "recipient": "omar",
              "payload": {"summary": f"[AI-STALE] item {n}", "description": "What is wrong: stale.",
                          "assignee": "omar", "assignee_email": "omar@example.com",
                          "labels": ["followthrough", f"ft-{fingerprint[:16]}"]}}
    message = {"idempotency_key": f"{fingerprint}:1:slack:step0:dm_owner", "fingerprint": fingerprint, "episode": 1,
               "step": 0, "channel": "slack", "action": "dm_owner", "recipient": "omar",
               "payload": {"to": "omar", "slack_id": "U00000001", "email": "omar@example.com",
                           "text": f"Item {n} is stale."}}
    return create, message


def _texts(slack: FakeSlack) -> dict[str, str]:
    """Posted text by outbox key."""
    return {((m.get("metadata") or {}).get("event_payload") or {}).get("key"): m["text"] for m in slack.messages()}


def test_messages_go_without_the_link_when_jira_stays_down(fakes: tuple[FakeJira, FakeSlack]) -> None:
    jira, slack = fakes
    store = tasks.open_store()
    policy = load_policy(Path(tasks.config.policy_path())).policy
    settings = DispatchSettings.from_policy(policy)
    assert settings.ticket_wait_seconds == 3600
    (old_create, old_message), (new_create, new_message) = _finding(1), _finding(2)
    store.add_to_outbox([old_create, old_message, new_create, new_message], "plan-1", AS_OF)
    jira.faults.unavailable(10_000)  # Jira is down for every request

    dispatch_pending(store, gateway_for(policy, store), "dispatch-1", now=AS_OF, settings=settings)
    assert slack.messages() == []  # both messages wait for their tickets
    assert [k for k in jira.issue_keys() if k.startswith("FOLLOW-")] == []

    # an hour on, for the first finding only: its message has waited long enough
    with store.transaction() as connection:
        connection.execute(outbox.update().where(outbox.c.fingerprint == old_create["fingerprint"])
                           .values(created_at=now_utc() - timedelta(minutes=61)))
    dispatch_pending(store, gateway_for(policy, store), "dispatch-2", now=AS_OF, settings=settings)
    posted = _texts(slack)
    assert set(posted) == {old_message["idempotency_key"]}
    assert posted[old_message["idempotency_key"]] == "Item 1 is stale."  # no ticket link: there is no ticket
    status = store.outbox_frame().set_index("idempotency_key")["status"]
    assert (status[old_create["idempotency_key"]], status[new_message["idempotency_key"]]) == ("pending", "pending")
    assert store.outbox_frame().set_index("idempotency_key").loc[new_message["idempotency_key"], "attempts"] == 0

    jira.faults.clear()  # Jira is back
    dispatch_pending(store, gateway_for(policy, store), "dispatch-3", now=AS_OF, settings=settings)
    tickets = sorted(k for k in jira.issue_keys() if k.startswith("FOLLOW-"))
    assert len(tickets) == 2  # both tickets, once each
    posted = _texts(slack)
    assert set(posted) == {old_message["idempotency_key"], new_message["idempotency_key"]}
    assert "/browse/FOLLOW-" in posted[new_message["idempotency_key"]]  # the waiting message carries its link
    assert len(slack.messages()) == 2  # the early message was not posted again
    assert set(store.outbox_frame()["status"]) == {"sent"}
