"""Dispatching the outbox through gateways; the dry-run gateway records instead of sending.

Dry-run is a choice made per channel in the policy (`dispatch.jira`, `dispatch.slack`),
never a fallback for a missing Connection: a live channel whose Connection is missing or
rejected fails the run loudly. `dispatch_pending` is one dispatch attempt over the
outbox's state machine (store/outbox.py): it claims entries under a lease, delivers each
through the gateway, and records every attempt's outcome by its error category. One entry's
error never stops another's delivery; a time budget ends the attempt cleanly, leaving the
rest pending for the hourly dispatch.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from followthrough.exceptions import FollowthroughError
from followthrough.gateways.delivery import Delivery, Receipt, category_of

if TYPE_CHECKING:
    from followthrough.policy import Policy
    from followthrough.store.repository import Store

log = logging.getLogger(__name__)


Gateway = Delivery  # the protocol's older name


DRY_RUN_BATCH = 5000  # dry-run entries claimed and recorded per transaction (nothing is sent)


class DryRunGateway:
    """Records the payload (already in the outbox) and reports it as not sent."""

    REF_PREFIX = "dry-run:"

    def deliver(self, entry: dict[str, Any]) -> Receipt:
        return Receipt(status="dry_run", external_ref=f"{self.REF_PREFIX}{entry['idempotency_key']}")


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

    def prepare(self, entries: list[dict[str, Any]]) -> None:
        """Let each channel's gateway look ahead at its entries of a claimed batch (e.g. one search for many)."""
        for channel, gateway in self.by_channel.items():
            prepare = getattr(gateway, "prepare", None)
            mine = [e for e in entries if e.get("channel") == channel]
            if mine and callable(prepare):
                prepare(mine)


def live_jira_gateway(policy: Policy, store: Store, conn_id: str = "jira_default") -> Gateway:
    from followthrough.gateways.jira import JiraClient, JiraTicketGateway

    client = JiraClient.from_connection(conn_id, retry_budget=policy.dispatch.jira_retry_budget)
    return JiraTicketGateway(client, policy.dispatch.jira_project, policy.dispatch.jira_issue_type,
                             ticket_key_for=store.ticket_key_for,
                             search_lag_seconds=policy.dispatch.jira_search_lag_seconds,
                             resolve_transition=policy.dispatch.jira_resolve_transition,
                             reopen_transition=policy.dispatch.jira_reopen_transition)


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


@dataclass(frozen=True)
class DispatchSettings:
    """How one dispatch attempt runs (policy ``dispatch``; see README: Outbox states)."""

    max_attempts: int = 8
    retries_per_entry: int = 3
    time_budget_seconds: float = 600.0
    lease_seconds: float = 900.0
    claim_batch: int = 25
    alert_backlog_after_hours: float = 24.0
    platform_channel: str = "#incident-followup"
    passes: int = 2  # passes over the outbox per attempt: the second retries what faults deferred in the first
    ticket_wait_seconds: float = 3600.0  # how long a Slack message waits for its finding's ticket (then goes without)
    live_channels: frozenset[str] = frozenset()

    @classmethod
    def from_policy(cls, policy: Policy) -> DispatchSettings:
        d = policy.dispatch
        live = frozenset(c for c, mode in (("jira", d.jira), ("slack", d.slack)) if mode == "live")
        return cls(max_attempts=d.max_attempts, retries_per_entry=d.retries_per_entry,
                   time_budget_seconds=d.attempt_time_budget_seconds, lease_seconds=d.lease_seconds,
                   claim_batch=d.claim_batch, alert_backlog_after_hours=d.alert_backlog_after_hours,
                   platform_channel=d.platform_channel, live_channels=live,
                   ticket_wait_seconds=d.message_waits_for_ticket_minutes * 60)


def _outside_hours(entry: Mapping[str, Any], now: Any, settings: DispatchSettings) -> Any:
    """The next working instant of the recipient team when a live message is due outside its hours, else None."""
    import pandas as pd

    hours = (entry.get("payload") or {}).get("working_hours")
    if now is None or not hours or entry["channel"] not in settings.live_channels:
        return None
    from datetime import time as clock_time

    from followthrough.calendar import Calendars, next_working_instant

    instant = pd.Timestamp(now)
    instant = instant.tz_localize("UTC") if instant.tzinfo is None else instant.tz_convert("UTC")
    calendars = Calendars(public=bool(hours.get("public", True)),
                          extra=tuple(pd.Timestamp(d).date() for d in hours.get("extra") or ()))
    due = next_working_instant(instant, str(hours["timezone"]), str(hours.get("region") or ""),
                               clock_time.fromisoformat(str(hours["start"])), clock_time.fromisoformat(str(hours["end"])),
                               calendars)
    return due if due > instant else None


def dispatch_pending(store: Store, gateway: Delivery, run_id: str, now: str | None = None,
                     live_channels: set[str] | frozenset[str] | None = None, *,
                     settings: DispatchSettings | None = None, owner: str | None = None,
                     clock: Callable[[], float] = time.monotonic,
                     actions: Iterable[str] | None = None) -> dict[str, int]:
    """One dispatch attempt: claim entries, oldest first, and deliver each; return counts by outcome.

    ``now`` is the run's instant (ISO UTC): held entries whose ``send_after`` passed are released,
    and a live message whose team is outside its working hours is held until they open. Each
    entry's error is classified (:func:`followthrough.gateways.delivery.category_of`) and acts
    on that entry alone: deferred and uncertain go back to pending (dead after
    ``max_attempts``), permanent fails it with its reason. A configuration error stops the
    attempt and is raised (the task fails once). When the time budget is reached the attempt
    stops cleanly: what it had not tried stays pending, and the counts say how many
    (``pending``). A backlog is not a failure. Entries of dry-run channels are claimed and
    recorded in batches of ``DRY_RUN_BATCH`` (nothing is sent, so no per-entry transaction).
    """
    from followthrough.store import outbox as states
    from followthrough.store.repository import now_utc

    actions = list(actions) if actions is not None else None
    settings = settings or DispatchSettings(live_channels=frozenset(live_channels or ()))
    if live_channels is not None and settings.live_channels != frozenset(live_channels):
        settings = replace(settings, live_channels=frozenset(live_channels))
    owner = owner or f"{run_id}/{uuid.uuid4().hex[:12]}"
    deadline = clock() + settings.time_budget_seconds
    # no entry is started in the budget's last stretch, so the one in flight ends inside the budget
    # (the gateways' own retries and waits stop at the deadline itself)
    last_start = deadline - min(30.0, 0.1 * settings.time_budget_seconds)
    started = now_utc()
    _set_deadline(gateway, deadline)
    mark = observed(gateway)  # faults and retries already attributed to an attempt's audit event
    counts: Counter[str] = Counter()
    if now:
        counts["released"] = states.release_held(store, now, run_id)
    stopped = ""
    passes_left = settings.passes
    dry = _dry_run_channels(gateway, settings)
    if dry is None or dry:
        stopped = _record_dry_runs(store, run_id, owner, settings, started, dry, actions, last_start, clock, counts)
    while not stopped:
        if clock() >= last_start:
            stopped = "time_budget"
            break
        # a message waits while its finding's ticket is still to be created, so it carries the ticket's link,
        # but only for ticket_wait_seconds after it was planned: a Jira outage does not hold escalations back
        batch = states.claim(store, owner, limit=settings.claim_batch, lease_seconds=settings.lease_seconds,
                             not_tried_since=started, actions=actions, after_tickets=True,
                             ticket_wait_seconds=settings.ticket_wait_seconds)
        if not batch:
            # a second pass over what a fault deferred in the first, while the budget lasts: a
            # backlog under a fault mix clears in fewer attempts (uncertain writes are checked first)
            passes_left -= 1
            if passes_left <= 0 or not counts.get("deferred", 0) + counts.get("uncertain", 0):
                break
            started = now_utc()
            continue
        _prepare(gateway, [e for e in batch if _outside_hours(e, now, settings) is None])
        for index, entry in enumerate(batch):
            if clock() >= last_start:
                states.unclaim(store, batch[index:])
                stopped = "time_budget"
                break
            until = _outside_hours(entry, now, settings)
            if until is not None:
                states.hold(store, entry, until)
                counts["held"] += 1
                continue
            _grant_retries(gateway, settings.retries_per_entry)
            uncertain = bool(entry.get("reclaimed")) or entry.get("error_category") == "uncertain"
            # what the transports met since the last attempt's record (a batch's look-ahead search included)
            before = mark
            try:
                receipt = gateway.deliver({**entry, "uncertain": uncertain})
            except Exception as exc:  # noqa: BLE001  every error is classified here and acts on this entry alone
                seen = observed(gateway, since=before)
                category = category_of(exc)
                reason = f"{type(exc).__name__}: {exc}"
                counts[category] += 1
                if category == "configuration":
                    states.record_error(store, entry, run_id, category, reason, max_attempts=settings.max_attempts + 1,
                                        observed=seen)
                    states.unclaim(store, batch[index + 1:])
                    log.error("dispatch stopped: %s", reason)
                    raise
                status = states.record_error(store, entry, run_id, category, reason, max_attempts=settings.max_attempts,
                                             observed=seen)
                mark = observed(gateway)
                if status in ("failed", "dead"):
                    counts[status] += 1
                log.warning("outbox entry %s: %s (%s) -> %s", entry["idempotency_key"], category, exc, status)
                continue
            delivered = states.record_delivered(store, entry, run_id, receipt.status, receipt.external_ref,
                                                observed=observed(gateway, since=before))
            mark = observed(gateway)
            if delivered:
                counts[receipt.status] += 1
            else:
                counts["lease_lost"] += 1
    left = states.state_counts(store)
    counts["pending"] = left.get("pending", 0) + left.get("claimed", 0)
    counts["held_total"] = left.get("held", 0)
    if stopped:
        counts["stopped_by_time_budget"] = 1
        log.warning("dispatch: the time budget of %.0fs is spent; %d entries stay pending for the next dispatch",
                    settings.time_budget_seconds, counts["pending"])
    log.info("dispatch: %s", dict(counts))
    return dict(counts)


def _dry_run_channels(gateway: Any, settings: DispatchSettings) -> frozenset[str] | None:
    """The channels whose entries are only recorded (dry-run), so they can be recorded in bulk; None: all."""
    if type(gateway) is DryRunGateway:
        return None if not settings.live_channels else frozenset()
    if isinstance(gateway, RoutingGateway):
        return frozenset(c for c, g in gateway.by_channel.items() if type(g) is DryRunGateway) - settings.live_channels
    return frozenset()


def _record_dry_runs(store: Store, run_id: str, owner: str, settings: DispatchSettings, started: Any,
                     channels: frozenset[str] | None, actions: Iterable[str] | None, deadline: float,
                     clock: Callable[[], float], counts: Counter[str]) -> str:
    """Claim and record the dry-run channels' entries a batch at a time; return "time_budget" if it ran out.

    A dry-run delivery sends nothing (its receipt is ``dry-run:<idempotency key>``), so a batch is
    claimed under a lease and recorded in one transaction, each attempt audited as one by one would be.
    """
    from followthrough.store import outbox as states

    last_id: int | None = None  # the pass goes forward through the outbox: ids are claimed oldest first
    while True:
        if clock() >= deadline:
            return "time_budget"
        batch = states.claim(store, owner, limit=DRY_RUN_BATCH, lease_seconds=settings.lease_seconds,
                             channels=channels, not_tried_since=started, actions=actions, payloads=False,
                             after_id=last_id)
        if not batch:
            return ""
        last_id = max(int(entry["id"]) for entry in batch)
        recorded = states.record_dry_run(store, batch, run_id, DryRunGateway.REF_PREFIX)
        if recorded:
            counts["dry_run"] += recorded
        if recorded < len(batch):
            counts["lease_lost"] += len(batch) - recorded


def observed(gateway: Any, since: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the gateways' transports met so far (or since an earlier observation): faults by kind and retries.

    ``{"faults": {"rate_limit": 2, "http_503": 1, ...}, "retries": 3}``: every failed request
    (429, 5xx, timeout, lost connection) the Jira client or the Slack gateway counted, and the
    retries and rate-limit waits they spent on them. The dispatch records each attempt's share
    in its ``action_attempt`` audit event, so every fault a delivery met is in the audit trail.
    """
    faults: Counter[str] = Counter()
    retries = 0
    for target in getattr(gateway, "by_channel", {}).values() or [gateway]:
        for holder in (target, getattr(target, "client", None)):
            counted = getattr(holder, "faults", None)
            stats = getattr(holder, "stats", None)
            if isinstance(counted, Counter):
                faults.update(counted)
            if isinstance(stats, Counter):
                retries += stats["retries"] + stats["rate_limited"] + stats["ambiguous"]
    if since is not None:
        faults.subtract(since.get("faults") or {})
        retries -= int(since.get("retries") or 0)
    return {"faults": {kind: n for kind, n in sorted(faults.items()) if n > 0}, "retries": retries}


def _set_deadline(gateway: Any, deadline: float) -> None:
    for target in getattr(gateway, "by_channel", {}).values() or [gateway]:
        client = getattr(target, "client", None)
        if client is not None and hasattr(client, "deadline"):
            client.deadline = deadline
        if hasattr(target, "deadline"):
            target.deadline = deadline


def _prepare(gateway: Any, batch: list[dict[str, Any]]) -> None:
    """The gateway's look-ahead at a claimed batch (RoutingGateway.prepare), when it has one.

    It only saves requests: any error in it is logged and the entries are delivered one by one
    as without it (a configuration error surfaces again on the first entry).
    """
    prepare = getattr(gateway, "prepare", None)
    if not callable(prepare) or not batch:
        return
    try:
        prepare(batch)
    except Exception as exc:  # noqa: BLE001  an optimisation must not stop the batch
        log.warning("dispatch: looking ahead at a batch of %d failed (%s: %s)", len(batch), type(exc).__name__, exc)


def _grant_retries(gateway: Any, count: int) -> None:
    for target in getattr(gateway, "by_channel", {}).values() or [gateway]:
        grant = getattr(getattr(target, "client", None), "grant_retries", None)
        if callable(grant):
            grant(count)


def plan_alerts(store: Store, policy: Policy, run_id: str, now: str | None) -> int:
    """Plan platform alerts, each once: failed and dead entries (per set of them), and a stale backlog.

    The backlog alert fires when the oldest undelivered entry was planned more than
    ``dispatch.alert_backlog_after_hours`` before ``now``; its key names that entry, so it fires
    once per stale backlog. Returns how many alerts were added to the outbox.
    """
    import hashlib

    import pandas as pd

    from followthrough.escalation import escape_slack
    from followthrough.store import outbox as states

    dispatch = policy.dispatch
    alerts: list[tuple[str, str]] = []
    problems = states.problems(store)
    if problems:
        keys = sorted(str(p["idempotency_key"]) for p in problems)
        digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]
        listed = "; ".join(f"{escape_slack(p['idempotency_key'])} ({p['status']}, {p['attempts']} attempts: "
                           f"{escape_slack(str(p['last_error'] or '')[:200])})" for p in problems[:10])
        more = f" and {len(problems) - 10} more" if len(problems) > 10 else ""
        alerts.append((f"alert/problems/{digest}",
                       f"Followthrough: {len(problems)} outbox entries could not be delivered and need a look: "
                       f"{listed}{more}. They are listed in the run report and the audit trail."))
    oldest = states.oldest_open(store)
    if oldest is not None and now:
        instant = pd.Timestamp(now)
        instant = instant.tz_convert("UTC").tz_localize(None) if instant.tzinfo else instant
        age_hours = (instant - pd.Timestamp(oldest)).total_seconds() / 3600
        if age_hours > dispatch.alert_backlog_after_hours:
            waiting = states.state_counts(store)
            open_count = sum(waiting.get(s, 0) for s in states.OPEN)
            alerts.append((f"alert/backlog/{pd.Timestamp(oldest).isoformat()}",
                           f"Followthrough: {open_count} outbox entries are still waiting; the oldest was planned "
                           f"{age_hours:.0f} hours ago (alert threshold {dispatch.alert_backlog_after_hours:g} h). "
                           "The hourly dispatch keeps delivering them."))
    return plan_platform_alerts(store, policy, run_id, now, alerts)


def plan_platform_alerts(store: Store, policy: Policy, run_id: str, now: str | None,
                         alerts: Iterable[tuple[str, str]]) -> int:
    """Put (key, text) alerts for the platform channel into the outbox, each key once."""
    import pandas as pd

    dispatch = policy.dispatch
    prefix = "dry_run/" if dispatch.slack == "dry_run" else ""
    planned = [{"idempotency_key": f"{prefix}{key}", "fingerprint": key[:64], "episode": 1, "step": 0,
                "channel": "slack", "action": "platform_alert", "recipient": dispatch.platform_channel,
                "payload": {"to": dispatch.platform_channel, "text": text}} for key, text in alerts]
    return store.add_to_outbox(planned, run_id, pd.Timestamp(now) if now else pd.Timestamp.now(tz="UTC"))
