"""A poisoned entry first in line, on the live path: Jira and Slack live against the fakes over HTTP.

The first entry resolves a ticket through a transition the workflow does not offer: it is
marked failed with its reason (the transitions on offer named), and every entry after it,
tickets and messages, is still delivered, asserted in the fakes' state. A post to an archived
channel after it falls back to the platform channel with the reason recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from followthrough import tasks
from followthrough.gateways.outbox import DispatchSettings, dispatch_pending, gateway_for
from followthrough.policy import load_policy
from tests.fakes.jira import FakeJira
from tests.fakes.slack import FakeSlack
from tests.pipeline import live_fakes

AS_OF = "2026-07-15T10:00:00+00:00"


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[FakeJira, FakeSlack]]:
    with live_fakes(monkeypatch, tmp_path, {"jira_search_lag_seconds": 1, "jira_resolve_transition": "Teleport"}) as (
            jira, slack):
        slack.add_channel("CTEAM00000", "payments")
        slack.add_channel("COLD000000", "old-team", archived=True)
        slack.add_channel("CPLATFORM0", "incident-followup")
        yield jira, slack


def _create(n: int) -> dict[str, Any]:
    fingerprint = f"{n:016x}" + "c" * 16
    return {"idempotency_key": f"{fingerprint}:1:jira:create", "fingerprint": fingerprint, "episode": 1, "step": 0,
            "channel": "jira", "action": "create_ticket", "recipient": "omar",
            "payload": {"summary": f"[AI-STALE] item {n}", "description": "What is wrong: stale.",
                        "assignee": "omar", "assignee_email": "omar@example.com",
                        "labels": ["followthrough", f"ft-{fingerprint[:16]}"]}}


def _message(n: int, recipient: str = "omar", **payload: Any) -> dict[str, Any]:
    fingerprint = f"{n:016x}" + "d" * 16
    return {"idempotency_key": f"{fingerprint}:1:slack:step0:dm_owner", "fingerprint": fingerprint, "episode": 1,
            "step": 0, "channel": "slack", "action": "dm_owner", "recipient": recipient,
            "payload": {"to": recipient, "slack_id": "U00000001", "email": "omar@example.com",
                        "text": f"Item {n} is stale.", **payload}}


def test_a_poisoned_entry_first_in_line_fails_alone_and_everything_after_it_is_delivered(
        fakes: tuple[FakeJira, FakeSlack]) -> None:
    jira, slack = fakes
    store = tasks.open_store()
    policy = load_policy(Path(tasks.config.policy_path())).policy
    settings = DispatchSettings.from_policy(policy)
    # a ticket to resolve later, through a transition ("Teleport") this workflow does not have
    store.add_to_outbox([_create(0)], "plan-0", AS_OF)
    dispatch_pending(store, gateway_for(policy, store), "dispatch-0", now=AS_OF, settings=settings)
    (ticket,) = [k for k in jira.issue_keys() if k.startswith("FOLLOW-")]
    poison = {**_create(0), "idempotency_key": f"{_create(0)['fingerprint']}:1:jira:resolve", "step": -1,
              "action": "resolve_ticket", "payload": {"comment": "Resolved: fixed."}}
    channel_post = {**_message(1, "#old-team"), "action": "post_team_channel",
                    "idempotency_key": f"{'1' * 16}{'e' * 16}:1:slack:step1:post_team_channel",
                    "payload": {"to": "#old-team", "text": "Posted to an archived channel.", "fallback": []}}
    later = [_create(n) for n in range(1, 6)] + [_message(n) for n in range(1, 6)]
    store.add_to_outbox([poison, channel_post, *later], "plan-1", AS_OF)

    counts = dispatch_pending(store, gateway_for(policy, store), "dispatch-1", now=AS_OF, settings=settings)

    outbox = store.outbox_frame().set_index("idempotency_key")
    failed = outbox.loc[poison["idempotency_key"]]
    assert (failed["status"], failed["error_category"]) == ("failed", "permanent")
    assert "Teleport" in failed["last_error"]
    assert "on offer" in failed["last_error"]  # the transitions the workflow offers are named
    assert jira.issue(ticket)["fields"]["status"]["statusCategory"]["key"] != "done"
    assert counts["sent"] >= len(later)
    assert all(outbox.loc[a["idempotency_key"], "status"] == "sent" for a in later)
    assert len([k for k in jira.issue_keys() if k.startswith("FOLLOW-")]) == 1 + 5
    keys = [((m.get("metadata") or {}).get("event_payload") or {}).get("key") for m in slack.messages()]
    assert {a["idempotency_key"] for a in later if a["channel"] == "slack"} <= set(keys)
    # the archived channel's post went to the platform channel instead, with the reason recorded
    assert outbox.loc[channel_post["idempotency_key"], "status"] == "sent"
    assert "fallback" in outbox.loc[channel_post["idempotency_key"], "external_ref"]
