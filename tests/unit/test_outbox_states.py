"""The outbox state machine on SQLite and PostgreSQL: one test per transition, claims, and concurrency."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from followthrough.gateways.delivery import (
    DeliveryConfiguration,
    DeliveryDeferred,
    DeliveryPermanent,
    DeliveryUncertain,
    Receipt,
)
from followthrough.gateways.outbox import DispatchSettings, dispatch_pending
from followthrough.store import outbox as states
from followthrough.store.repository import Store, now_utc
from followthrough.store.schema import outbox

AS_OF = pd.Timestamp("2026-07-15T07:00Z")
NOW = "2026-07-15T07:00:00+00:00"


def action(key: str, *, channel: str = "jira", send_after: str | None = None, **payload: Any) -> dict[str, Any]:
    planned: dict[str, Any] = {
        "idempotency_key": key, "fingerprint": f"fp-{key}", "episode": 1, "step": 0, "channel": channel,
        "action": "create_ticket" if channel == "jira" else "dm_owner", "recipient": "omar",
        "payload": {"summary": key, "text": key, **payload}}
    if send_after:
        planned["send_after"] = send_after
    return planned


class Scripted:
    """A gateway answering per key from a script of outcomes (an exception class or "ok"), then "ok"."""

    def __init__(self, script: dict[str, list[Any]] | None = None, delay: float = 0.0) -> None:
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.delivered: Counter[str] = Counter()
        self.seen: list[dict[str, Any]] = []
        self.delay = delay
        self.lock = threading.Lock()

    def deliver(self, entry: dict[str, Any]) -> Receipt:
        key = entry["idempotency_key"]
        with self.lock:
            self.seen.append(entry)
            outcome = self.script.get(key, []).pop(0) if self.script.get(key) else "ok"
        if self.delay:
            time.sleep(self.delay)
        if outcome != "ok":
            raise outcome(f"scripted {outcome.__name__} for {key}")
        with self.lock:
            self.delivered[key] += 1
        return Receipt("sent", f"ref-{key}")


def rows(store: Store) -> dict[str, dict[str, Any]]:
    return {r["idempotency_key"]: r for r in store.outbox_frame().to_dict("records")}


def audit_kinds(store: Store, key: str) -> list[str]:
    return [e["kind"] for e in store.audit_events() if (e["payload"] or {}).get("idempotency_key") == key]


def settings(**overrides: Any) -> DispatchSettings:
    return DispatchSettings(**{"max_attempts": 3, "claim_batch": 10, "passes": 1, **overrides})


# ---------------------------------------------------------------------------------------------- transitions


def test_planned_is_pending_and_pending_to_sent_counts_and_audits_the_attempt(store: Store) -> None:
    store.add_to_outbox([action("a")], "plan", AS_OF)
    assert rows(store)["a"]["status"] == "pending"
    counts = dispatch_pending(store, Scripted(), "run-1", now=NOW, settings=settings())
    row = rows(store)["a"]
    assert (row["status"], row["attempts"], row["external_ref"], row["lease_owner"]) == ("sent", 1, "ref-a", None)
    assert counts["sent"] == 1
    assert audit_kinds(store, "a") == ["action_planned", "action_attempt", "action_sent"]


def test_planned_outside_working_hours_is_held_then_released_to_pending_at_send_after(store: Store) -> None:
    store.add_to_outbox([action("later", channel="slack", send_after="2026-07-15T16:00:00+00:00")], "plan", AS_OF)
    assert rows(store)["later"]["status"] == "held"
    gateway = Scripted()
    dispatch_pending(store, gateway, "run-1", now=NOW, settings=settings())
    assert rows(store)["later"]["status"] == "held"
    assert not gateway.seen
    dispatch_pending(store, gateway, "run-2", now="2026-07-15T16:00:00+00:00", settings=settings())
    assert rows(store)["later"]["status"] == "sent"


def test_a_live_message_claimed_outside_its_teams_hours_is_held_until_they_open(store: Store) -> None:
    hours = {"timezone": "America/Los_Angeles", "region": "US", "start": "09:00:00", "end": "17:00:00",
             "public": True, "extra": []}
    store.add_to_outbox([action("la", channel="slack", working_hours=hours)], "plan", AS_OF)
    gateway = Scripted()
    counts = dispatch_pending(store, gateway, "run-1", now=NOW,
                              settings=settings(live_channels=frozenset({"slack"})))
    row = rows(store)["la"]
    assert counts["held"] == 1
    assert not gateway.seen
    assert (row["status"], row["attempts"]) == ("held", 0)  # holding is not an attempt
    assert pd.Timestamp(row["send_after"]) == pd.Timestamp("2026-07-15T16:00")  # 09:00 PDT


def test_claimed_carries_a_lease_owner_and_expiry(store: Store) -> None:
    store.add_to_outbox([action("a"), action("b")], "plan", AS_OF)
    claimed = states.claim(store, "dispatcher-1", limit=1, lease_seconds=60)
    assert [c["idempotency_key"] for c in claimed] == ["a"]
    row = rows(store)["a"]
    assert row["status"] == "claimed"
    assert row["lease_owner"] == "dispatcher-1"
    assert pd.Timestamp(row["lease_expires_at"]) > pd.Timestamp.now(tz="UTC").tz_localize(None)
    assert states.claim(store, "dispatcher-2", limit=5, lease_seconds=60)[0]["idempotency_key"] == "b"
    assert states.claim(store, "dispatcher-3", limit=5, lease_seconds=60) == []  # both leases live


def test_an_expired_lease_is_reclaimed_and_delivered_as_uncertain(store: Store) -> None:
    store.add_to_outbox([action("a")], "plan", AS_OF)
    states.claim(store, "died", limit=1, lease_seconds=60)
    with store.transaction() as connection:  # the dispatcher died; its lease ran out
        connection.execute(outbox.update().values(lease_expires_at=pd.Timestamp("2026-01-01").to_pydatetime()))
    gateway = Scripted()
    dispatch_pending(store, gateway, "run-2", now=NOW, settings=settings())
    assert gateway.seen[0]["uncertain"] is True  # the gateway checks whether the write landed before writing
    assert rows(store)["a"]["status"] == "sent"


def test_a_lost_lease_cannot_overwrite_the_new_owners_outcome(store: Store) -> None:
    store.add_to_outbox([action("a")], "plan", AS_OF)
    (first,) = states.claim(store, "slow", limit=1, lease_seconds=60)
    with store.transaction() as connection:
        connection.execute(outbox.update().values(lease_expires_at=pd.Timestamp("2026-01-01").to_pydatetime()))
    (second,) = states.claim(store, "fast", limit=1, lease_seconds=60)
    assert states.record_delivered(store, second, "run-fast", "sent", "ref-fast")
    assert not states.record_delivered(store, first, "run-slow", "sent", "ref-slow")
    assert rows(store)["a"]["external_ref"] == "ref-fast"


def test_claimed_to_pending_on_a_deferred_error_counts_the_attempt(store: Store) -> None:
    store.add_to_outbox([action("a")], "plan", AS_OF)
    counts = dispatch_pending(store, Scripted({"a": [DeliveryDeferred]}), "run-1", now=NOW, settings=settings())
    row = rows(store)["a"]
    assert (row["status"], row["attempts"], row["error_category"]) == ("pending", 1, "deferred")
    assert "scripted DeliveryDeferred" in row["last_error"]
    assert counts["deferred"] == 1
    assert counts["pending"] == 1
    assert audit_kinds(store, "a") == ["action_planned", "action_attempt"]


def test_a_second_pass_retries_what_a_fault_deferred_within_the_same_attempt(store: Store) -> None:
    store.add_to_outbox([action("a"), action("b")], "plan", AS_OF)
    gateway = Scripted({"a": [DeliveryDeferred], "b": [DeliveryUncertain]})
    counts = dispatch_pending(store, gateway, "run-1", now=NOW, settings=settings(passes=2))
    assert {k: (r["status"], r["attempts"]) for k, r in rows(store).items()} == {"a": ("sent", 2), "b": ("sent", 2)}
    assert [(e["idempotency_key"], e["uncertain"]) for e in gateway.seen] == [
        ("a", False), ("b", False), ("a", False), ("b", True)]  # the uncertain write is checked first
    assert counts["sent"] == 2


def test_an_uncertain_entry_goes_back_to_pending_and_its_next_attempt_is_checked_first(store: Store) -> None:
    store.add_to_outbox([action("a")], "plan", AS_OF)
    gateway = Scripted({"a": [DeliveryUncertain]})
    dispatch_pending(store, gateway, "run-1", now=NOW, settings=settings())
    assert rows(store)["a"]["status"] == "pending"
    dispatch_pending(store, gateway, "run-2", now=NOW, settings=settings())
    assert [e["uncertain"] for e in gateway.seen] == [False, True]
    assert (rows(store)["a"]["status"], rows(store)["a"]["attempts"]) == ("sent", 2)


def test_claimed_to_failed_on_a_permanent_error_with_its_reason(store: Store) -> None:
    store.add_to_outbox([action("a")], "plan", AS_OF)
    counts = dispatch_pending(store, Scripted({"a": [DeliveryPermanent]}), "run-1", now=NOW, settings=settings())
    row = rows(store)["a"]
    assert (row["status"], row["attempts"], row["error_category"]) == ("failed", 1, "permanent")
    assert "scripted DeliveryPermanent for a" in row["last_error"]
    assert counts["failed"] == 1
    assert audit_kinds(store, "a")[-1] == "action_failed"
    assert states.problems(store)[0]["idempotency_key"] == "a"
    dispatch_pending(store, Scripted(), "run-2", now=NOW, settings=settings())
    assert rows(store)["a"]["status"] == "failed"  # final: not tried again


def test_claimed_to_dead_once_max_attempts_are_spent(store: Store) -> None:
    store.add_to_outbox([action("a")], "plan", AS_OF)
    gateway = Scripted({"a": [DeliveryDeferred] * 5})
    for run in range(4):
        dispatch_pending(store, gateway, f"run-{run}", now=NOW, settings=settings(max_attempts=3))
    row = rows(store)["a"]
    assert (row["status"], row["attempts"]) == ("dead", 3)
    assert len(gateway.seen) == 3
    assert audit_kinds(store, "a").count("action_attempt") == 3
    assert audit_kinds(store, "a")[-1] == "action_dead"


def test_pending_and_held_to_cancelled_when_superseded(store: Store) -> None:
    store.add_to_outbox([action("a", channel="slack"), action("b", channel="slack", send_after="2026-07-16T09:00Z"),
                         action("c", channel="slack")], "plan", AS_OF)
    assert states.cancel(store, ["fp-a", "fp-b"], "run-2", "finding resolved") == 2
    assert {k: r["status"] for k, r in rows(store).items()} == {"a": "cancelled", "b": "cancelled", "c": "pending"}
    assert audit_kinds(store, "a")[-1] == "action_cancelled"
    gateway = Scripted()
    dispatch_pending(store, gateway, "run-3", now="2026-07-16T10:00Z", settings=settings())
    assert [e["idempotency_key"] for e in gateway.seen] == ["c"]


def test_an_entry_that_may_have_been_delivered_is_not_cancelled_but_checked(store: Store) -> None:
    store.add_to_outbox([action("a", channel="slack"), action("b", channel="slack")], "plan", AS_OF)
    gateway = Scripted({"a": [DeliveryUncertain], "b": [DeliveryDeferred]})  # a's post may have landed
    dispatch_pending(store, gateway, "run-1", now=NOW, settings=settings())
    assert states.cancel(store, ["fp-a", "fp-b"], "run-2", "finding resolved") == 1
    assert {k: (r["status"], r["error_category"]) for k, r in rows(store).items()} == {
        "a": ("pending", "uncertain"), "b": ("cancelled", "deferred")}
    dispatch_pending(store, gateway, "run-3", now=NOW, settings=settings())
    assert [(e["idempotency_key"], e["uncertain"]) for e in gateway.seen[2:]] == [("a", True)]  # checked first
    assert rows(store)["a"]["status"] == "sent"


def test_a_configuration_error_stops_the_attempt_and_leaves_every_entry_pending(store: Store) -> None:
    store.add_to_outbox([action("a"), action("b"), action("c")], "plan", AS_OF)
    with pytest.raises(DeliveryConfiguration):
        dispatch_pending(store, Scripted({"a": [DeliveryConfiguration]}), "run-1", now=NOW, settings=settings())
    assert {k: r["status"] for k, r in rows(store).items()} == {"a": "pending", "b": "pending", "c": "pending"}


def test_a_poisoned_first_entry_never_stops_the_others(store: Store) -> None:
    store.add_to_outbox([action("poison")] + [action(f"e{i}") for i in range(30)], "plan", AS_OF)
    gateway = Scripted({"poison": [ValueError]})  # e.g. a payload the gateway cannot build a request from
    counts = dispatch_pending(store, gateway, "run-1", now=NOW, settings=settings())
    assert rows(store)["poison"]["status"] == "failed"
    assert counts["sent"] == 30
    assert all(gateway.delivered[f"e{i}"] == 1 for i in range(30))


def test_the_time_budget_stops_cleanly_and_leaves_the_rest_pending(store: Store) -> None:
    store.add_to_outbox([action(f"e{i:02d}") for i in range(20)], "plan", AS_OF)
    ticks = iter(range(1000))
    counts = dispatch_pending(store, Scripted(), "run-1", now=NOW, clock=lambda: float(next(ticks)),
                              settings=settings(time_budget_seconds=8, claim_batch=5))
    statuses = Counter(r["status"] for r in rows(store).values())
    assert counts["stopped_by_time_budget"] == 1
    assert 0 < statuses["sent"] < 20
    assert statuses["pending"] == 20 - statuses["sent"]
    assert statuses["claimed"] == 0  # unclaimed, not stranded under a lease
    assert counts["pending"] == statuses["pending"]
    counts = dispatch_pending(store, Scripted(), "run-2", now=NOW, settings=settings())
    assert Counter(r["status"] for r in rows(store).values()) == {"sent": 20}


# ---------------------------------------------------------------------------------------------- concurrency


def test_two_dispatchers_at_once_send_each_of_200_entries_exactly_once(store: Store) -> None:
    store.add_to_outbox([action(f"e{i:03d}") for i in range(200)], "plan", AS_OF)
    gateway = Scripted(delay=0.001)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(name: str) -> None:
        try:
            start.wait()
            results.append(dispatch_pending(store, gateway, name, now=NOW, owner=name,
                                            settings=settings(claim_batch=5)))
        except BaseException as exc:  # noqa: BLE001  reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"dispatcher-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(gateway.delivered) == 200
    assert set(gateway.delivered.values()) == {1}
    assert sum(r.get("sent", 0) for r in results) == 200
    assert all(r.get("sent", 0) > 0 for r in results), results  # both took part
    assert Counter(r["status"] for r in rows(store).values()) == {"sent": 200}
    ok, message = store.verify_audit_chain()
    assert ok, message
    print(f"{store.engine.dialect.name}: sent per dispatcher {[r.get('sent', 0) for r in results]}")


# ---------------------------------------------------------------------------------------------- faults in the audit


class Faulty(Scripted):
    """A gateway whose transport meets faults (counted as the Jira client and the Slack gateway count them)."""

    def __init__(self, script: dict[str, list[Any]], faults: dict[str, list[dict[str, int]]]) -> None:
        super().__init__(script)
        self.met = {k: list(v) for k, v in faults.items()}
        self.faults: Counter[str] = Counter()
        self.stats: Counter[str] = Counter()

    def deliver(self, entry: dict[str, Any]) -> Receipt:
        met = self.met.get(entry["idempotency_key"], [])
        if met:
            seen = met.pop(0)
            self.faults.update(seen)
            self.stats["retries"] += sum(seen.values())
        return super().deliver(entry)


def test_every_attempt_audits_the_faults_its_delivery_met(store: Store) -> None:
    store.add_to_outbox([action("a"), action("b"), action("c")], "plan", AS_OF)
    gateway = Faulty({"a": [DeliveryDeferred]}, {"a": [{"http_503": 2, "rate_limit": 1}, {"timeout": 1}],
                                                  "b": [{"connection_lost": 1}]})
    dispatch_pending(store, gateway, "run-1", settings=settings(passes=2))
    attempts = {}
    for event in store.audit_events():
        if event["kind"] == "action_attempt":
            attempts.setdefault(event["payload"]["idempotency_key"], []).append(event["payload"])
    assert [(p["outcome"], p.get("faults"), p.get("retries")) for p in attempts["a"]] == [
        ("deferred", {"http_503": 2, "rate_limit": 1}, 3), ("sent", {"timeout": 1}, 1)]
    assert [(p["outcome"], p.get("faults")) for p in attempts["b"]] == [("sent", {"connection_lost": 1})]
    assert "faults" not in attempts["c"][0]  # a clean delivery records none
    audited: Counter[str] = Counter()
    for payloads in attempts.values():
        for payload in payloads:
            audited.update(payload.get("faults") or {})
    assert audited == gateway.faults


# ---------------------------------------------------------------------------------------------- a message after its ticket


def finding_actions(fingerprint: str, *, ticket: str = "create") -> list[dict[str, Any]]:
    """A finding's ticket and its DM, keyed as escalation.py plans them."""
    return [{"idempotency_key": f"{fingerprint}:1:jira:{ticket}", "fingerprint": fingerprint, "episode": 1, "step": 0,
             "channel": "jira", "action": f"{ticket}_ticket", "recipient": "omar", "payload": {"summary": "s"}},
            {"idempotency_key": f"{fingerprint}:1:slack:step0:dm_owner", "fingerprint": fingerprint, "episode": 1,
             "step": 0, "channel": "slack", "action": "dm_owner", "recipient": "omar", "payload": {"text": "t"}}]


def test_a_message_waits_while_its_ticket_is_still_to_be_created(store: Store) -> None:
    """The DM carries the ticket's link, so it goes after the ticket: within the attempt's second pass once the
    ticket's uncertain create is resolved, or in a later attempt; a message of another finding does not wait."""
    store.add_to_outbox([*finding_actions("fa"), *finding_actions("fb", ticket="reopen"),
                         action("other", channel="slack")], "plan", AS_OF)
    gateway = Scripted({"fa:1:jira:create": [DeliveryUncertain], "fb:1:jira:reopen": [DeliveryDeferred] * 2})
    counts = dispatch_pending(store, gateway, "run-1", now=NOW, settings=settings(passes=2))
    order = [e["idempotency_key"] for e in gateway.seen]
    assert order == ["fa:1:jira:create", "fb:1:jira:reopen", "other",  # first pass: both DMs wait
                     "fa:1:jira:create", "fb:1:jira:reopen", "fa:1:slack:step0:dm_owner"]  # second: fa's ticket made
    assert rows(store)["fb:1:slack:step0:dm_owner"]["status"] == "pending"  # its ticket is still pending
    assert rows(store)["fb:1:slack:step0:dm_owner"]["attempts"] == 0  # waiting is no attempt
    assert counts["pending"] == 2
    dispatch_pending(store, gateway, "run-2", now=NOW, settings=settings(passes=2))
    assert {r["status"] for r in rows(store).values()} == {"sent"}
    assert [e["idempotency_key"] for e in gateway.seen][-2:] == ["fb:1:jira:reopen", "fb:1:slack:step0:dm_owner"]


def test_a_message_whose_ticket_failed_goes_without_waiting(store: Store) -> None:
    store.add_to_outbox(finding_actions("fa"), "plan", AS_OF)
    gateway = Scripted({"fa:1:jira:create": [DeliveryPermanent]})
    dispatch_pending(store, gateway, "run-1", now=NOW, settings=settings())
    assert {k: r["status"] for k, r in rows(store).items()} == {
        "fa:1:jira:create": "failed", "fa:1:slack:step0:dm_owner": "sent"}


def test_a_message_waits_for_its_ticket_only_as_long_as_the_policy_says(store: Store) -> None:
    """During a Jira outage the create stays pending for hours: a message planned longer ago than
    ticket_wait_seconds goes without the link instead of waiting for it (escalations reach people)."""
    store.add_to_outbox([*finding_actions("fa"), *finding_actions("fb")], "plan", AS_OF)
    jira_down = {"fa:1:jira:create": [DeliveryDeferred] * 5, "fb:1:jira:create": [DeliveryDeferred] * 5}
    gateway = Scripted(jira_down)
    dispatch_pending(store, gateway, "run-1", now=NOW, settings=settings(ticket_wait_seconds=3600))
    assert {e["idempotency_key"] for e in gateway.seen} == {"fa:1:jira:create", "fb:1:jira:create"}
    # fa's messages were planned 61 minutes ago, fb's 59: only fa's has waited long enough
    with store.transaction() as connection:
        for fingerprint, minutes in (("fa", 61), ("fb", 59)):
            connection.execute(outbox.update().where(outbox.c.fingerprint == fingerprint).values(
                created_at=now_utc() - timedelta(minutes=minutes)))
    dispatch_pending(store, gateway, "run-2", now=NOW, settings=settings(ticket_wait_seconds=3600))
    status = {k: r["status"] for k, r in rows(store).items()}
    assert status == {"fa:1:jira:create": "pending", "fa:1:slack:step0:dm_owner": "sent",
                      "fb:1:jira:create": "pending", "fb:1:slack:step0:dm_owner": "pending"}
    assert rows(store)["fb:1:slack:step0:dm_owner"]["attempts"] == 0  # waiting is no attempt


def test_a_message_with_no_ticket_wait_never_waits(store: Store) -> None:
    store.add_to_outbox(finding_actions("fa"), "plan", AS_OF)
    gateway = Scripted({"fa:1:jira:create": [DeliveryDeferred]})
    dispatch_pending(store, gateway, "run-1", now=NOW, settings=settings(ticket_wait_seconds=0))
    assert {k: r["status"] for k, r in rows(store).items()} == {
        "fa:1:jira:create": "pending", "fa:1:slack:step0:dm_owner": "sent"}


def test_the_ticket_wait_comes_from_the_policy() -> None:
    from followthrough.policy import policy_for_tests

    assert DispatchSettings.from_policy(policy_for_tests()).ticket_wait_seconds == 3600
    custom = policy_for_tests(dispatch={"message_waits_for_ticket_minutes": 5})
    assert DispatchSettings.from_policy(custom).ticket_wait_seconds == 300
    with pytest.raises(ValueError, match="message_waits_for_ticket_minutes"):
        policy_for_tests(dispatch={"message_waits_for_ticket_minutes": -1})


def test_the_ticket_entry_keys_are_the_ones_escalation_plans() -> None:
    from followthrough.escalation import _jira_create
    from followthrough.policy import Policy

    finding = {"fingerprint": "f" * 64, "episode": 2, "rule": "AI-OVERDUE", "reason": "r", "subject_type": "action_item",
               "subject_id": "AI-1", "title": "t", "due_at": "2026-07-01"}
    planned = _jira_create(finding, Policy(sources=[{"name": "demo", "path": "x"}]), "omar", {})
    assert planned["idempotency_key"] == states.ticket_entry_keys("f" * 64, "2")[0]
    assert states.ticket_entry_keys("f" * 64, "2")[1] == f"{'f' * 64}:2:jira:reopen"  # escalation's reopen key


# ---------------------------------------------------------------------------------------------- a batch looked at first


class LookingAhead(Faulty):
    """A gateway with a look-ahead (as JiraTicketGateway.prepare): records the batches and meets faults there."""

    def __init__(self, prepare_faults: dict[str, int] | None = None, fail: bool = False) -> None:
        super().__init__({}, {})
        self.batches: list[list[str]] = []
        self.prepare_faults = prepare_faults or {}
        self.fail = fail

    def prepare(self, entries: list[dict[str, Any]]) -> None:
        self.batches.append([e["idempotency_key"] for e in entries])
        self.faults.update(self.prepare_faults)
        if self.fail:
            raise RuntimeError("look-ahead failed")


def test_each_claimed_batch_is_looked_at_before_its_entries_are_delivered(store: Store) -> None:
    store.add_to_outbox([action(f"e{n}") for n in range(5)], "plan", AS_OF)
    gateway = LookingAhead({"http_503": 1})
    dispatch_pending(store, gateway, "run-1", now=NOW, settings=settings(claim_batch=2))
    assert gateway.batches == [["e0", "e1"], ["e2", "e3"], ["e4"]]
    assert {r["status"] for r in rows(store).values()} == {"sent"}
    # the faults the look-ahead met are in the audit trail: with the next attempt recorded
    faults = [e["payload"].get("faults") for e in store.audit_events() if e["kind"] == "action_attempt"]
    assert faults == [{"http_503": 1}, None, {"http_503": 1}, None, {"http_503": 1}]


def test_a_failing_look_ahead_does_not_stop_the_batch(store: Store) -> None:
    store.add_to_outbox([action("a"), action("b")], "plan", AS_OF)
    gateway = LookingAhead(fail=True)
    counts = dispatch_pending(store, gateway, "run-1", now=NOW, settings=settings())
    assert counts["sent"] == 2


def test_the_routing_gateway_hands_each_channel_its_own_entries() -> None:
    from followthrough.gateways.outbox import RoutingGateway

    jira, slack = LookingAhead(), Scripted()
    RoutingGateway({"jira": jira, "slack": slack}).prepare(
        [action("a"), action("m", channel="slack"), action("b")])
    assert jira.batches == [["a", "b"]]
