"""Dispatch routing: dry-run records, live channels need their gateway, Slack messages get the ticket link."""

from __future__ import annotations

from typing import Any

import pytest

from followthrough.exceptions import FollowthroughError
from followthrough.gateways.delivery import Receipt
from followthrough.gateways.outbox import DryRunGateway, RoutingGateway, gateway_for
from followthrough.policy import policy_for_tests


class Recorder:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def deliver(self, entry: dict[str, Any]) -> Receipt:
        self.entries.append(entry)
        return Receipt(status="sent", external_ref="x")


ENTRY = {"idempotency_key": "k", "fingerprint": "fp", "episode": 1, "channel": "slack", "action": "dm_owner",
         "payload": {"text": "Action item is stale."}}


def test_slack_messages_get_the_ticket_link_once_the_ticket_exists() -> None:
    slack = Recorder()
    links = {("fp", 1): "https://x.atlassian.net/browse/FOLLOW-7"}
    gateway = RoutingGateway({"slack": slack, "jira": DryRunGateway()}, ticket_url=lambda f, e: links.get((f, e)))
    gateway.deliver(dict(ENTRY))
    gateway.deliver(ENTRY | {"fingerprint": "other"})
    assert slack.entries[0]["payload"]["text"].endswith("Ticket: https://x.atlassian.net/browse/FOLLOW-7")
    assert slack.entries[1]["payload"]["text"] == "Action item is stale."
    assert ENTRY["payload"]["text"] == "Action item is stale."  # the planned payload is not changed


def test_dry_run_channels_record_and_live_ones_use_their_builder() -> None:
    built: list[str] = []

    def build(channel: str):  # type: ignore[no-untyped-def]
        def builder(policy, store):  # type: ignore[no-untyped-def]
            built.append(channel)
            return Recorder()
        return builder

    gateway = gateway_for(policy_for_tests(dispatch={"slack": "live"}), store=None,  # type: ignore[arg-type]
                          live={"jira": build("jira"), "slack": build("slack")})
    assert built == ["slack"]
    assert gateway.deliver(ENTRY | {"channel": "jira"}).status == "dry_run"
    with pytest.raises(FollowthroughError, match="dispatch.slack"):
        gateway_for(policy_for_tests(dispatch={"slack": "live"}), store=None, live={})  # type: ignore[arg-type]
