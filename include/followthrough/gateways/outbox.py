"""Dispatching the outbox through gateways; the dry-run gateway records instead of sending.

Dry-run is a choice made per channel in the policy (`dispatch.jira`, `dispatch.slack`),
never a fallback for a missing Connection: a live channel whose Connection is missing or
rejected fails the run loudly. Each outbox entry leaves the `pending` state only when its
gateway returns. An entry whose outcome is uncertain (an ambiguous failure the gateway
could not settle yet) stays pending for the next run; so does everything after the run's
retry budget is spent, and the task then fails so the platform team hears of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from followthrough.exceptions import FollowthroughError
from followthrough.gateways.delivery import (
    Delivery,
    DeliveryConfiguration,
    DeliveryDeferred,
    DeliveryError,
    Receipt,
)

if TYPE_CHECKING:
    from followthrough.policy import Policy
    from followthrough.store.repository import Store

log = logging.getLogger(__name__)


Gateway = Delivery  # the protocol's older name


class DispatchIncomplete(FollowthroughError):
    """Some entries could not be delivered this run; they stay pending for the next one."""


class DryRunGateway:
    """Records the payload (already in the outbox) and reports it as not sent."""

    def deliver(self, entry: dict[str, Any]) -> Receipt:
        return Receipt(status="dry_run", external_ref=f"dry-run:{entry['idempotency_key']}")


class RoutingGateway:
    """One gateway per channel (jira, slack); Slack messages get their finding's ticket link."""

    def __init__(self, by_channel: Mapping[str, Gateway],
                 ticket_url: Callable[[str, int], str | None] | None = None) -> None:
        self.by_channel = dict(by_channel)
        self.ticket_url = ticket_url

    def deliver(self, entry: dict[str, Any]) -> Receipt:
        gateway = self.by_channel.get(str(entry["channel"]))
        if gateway is None:
            raise ValueError(f"no gateway for channel {entry['channel']!r}")
        if entry["channel"] == "slack" and self.ticket_url is not None:
            url = self.ticket_url(str(entry["fingerprint"]), int(entry["episode"]))
            if url:
                payload = dict(entry.get("payload") or {})
                payload["text"] = f"{payload.get('text', '')} Ticket: {url}"
                entry = {**entry, "payload": payload}
        return gateway.deliver(entry)


def live_jira_gateway(policy: Policy, store: Store, conn_id: str = "jira_default") -> Gateway:
    from followthrough.gateways.jira import JiraClient, JiraTicketGateway

    client = JiraClient.from_connection(conn_id, retry_budget=policy.dispatch.jira_retry_budget)
    return JiraTicketGateway(client, policy.dispatch.jira_project, policy.dispatch.jira_issue_type,
                             ticket_key_for=store.ticket_key_for,
                             search_lag_seconds=policy.dispatch.jira_search_lag_seconds)


def live_slack_gateway(policy: Policy, store: Store, conn_id: str = "slack_api_default") -> Gateway:
    from followthrough.gateways.slack import SlackGateway, hook_client_factory

    return SlackGateway(hook_client_factory(conn_id), policy.dispatch.platform_channel)


def gateway_for(policy: Policy, store: Store,
                live: Mapping[str, Callable[[Policy, Store], Gateway]] | None = None) -> RoutingGateway:
    """The gateways the policy asks for; `live` builds the live ones (injectable for tests)."""
    builders: Mapping[str, Callable[[Policy, Store], Gateway]] = live if live is not None else {
        "jira": live_jira_gateway, "slack": live_slack_gateway}
    gateways: dict[str, Gateway] = {}
    for channel, mode in (("jira", policy.dispatch.jira), ("slack", policy.dispatch.slack)):
        if mode == "dry_run":
            gateways[channel] = DryRunGateway()
        elif channel in builders:
            gateways[channel] = builders[channel](policy, store)
        else:
            raise FollowthroughError(f"dispatch.{channel}: live is not available in this version; use dry_run")
    site = getattr(getattr(gateways["jira"], "client", None), "base_url", None)

    def ticket_url(fingerprint: str, episode: int) -> str | None:
        key = store.ticket_key_for(fingerprint, episode)
        return f"{str(site).rstrip('/')}/browse/{key}" if key and site else None

    return RoutingGateway(gateways, ticket_url=ticket_url if site else None)


def _held(entry: Mapping[str, Any], now: str | None, live_channels: set[str]) -> bool:
    """A live message planned for outside its team's working hours waits for a later run."""
    send_after = (entry.get("payload") or {}).get("send_after")
    return bool(now and send_after and entry["channel"] in live_channels and str(send_after) > now)


def dispatch_pending(store: Store, gateway: Gateway, run_id: str, now: str | None = None,
                     live_channels: set[str] | None = None) -> dict[str, int]:
    """Deliver every pending outbox entry, oldest first; return counts by outcome.

    Uncertain entries stay pending and the rest go on; live messages whose `send_after` (the
    team's working hours) is after `now` (the run's instant, ISO UTC) are held for a later run;
    when the retry budget runs out the remaining entries stay pending and DispatchIncomplete is
    raised after the counts are logged.
    """
    counts: dict[str, int] = {}
    exhausted: Exception | None = None
    for entry in store.pending_outbox():
        if exhausted is not None:
            counts["deferred"] = counts.get("deferred", 0) + 1
            continue
        if _held(entry, now, live_channels or set()):
            counts["held"] = counts.get("held", 0) + 1
            continue
        try:
            delivery = gateway.deliver(entry)
        except DeliveryConfiguration:
            raise
        except DeliveryDeferred as exc:
            log.error("retry budget spent; the remaining entries stay pending: %s", exc)
            exhausted = exc
            counts["deferred"] = counts.get("deferred", 0) + 1
            continue
        except DeliveryError as exc:
            log.warning("left pending: %s", exc)
            counts["uncertain"] = counts.get("uncertain", 0) + 1
            continue
        store.mark_dispatched(entry, run_id, delivery.status, delivery.external_ref)
        counts[delivery.status] = counts.get(delivery.status, 0) + 1
    log.info("dispatch: %s", counts)
    if exhausted is not None:
        raise DispatchIncomplete(f"{counts.get('deferred', 0)} outbox entries left pending: {exhausted}")
    return counts
