"""The Jira ticket gateway and client against the honest Jira fake: one ticket per finding, whatever fails.

Each fault switch of :class:`tests.fakes.jira.FakeJira` (429 with Retry-After, 503, timeout,
connection reset after commit, search lag) is thrown at the gateway; every scenario ends with
exactly one ticket per finding episode (counted by its idempotency label in the fake) and no
action lost (an action left pending is delivered by the next dispatch). Sleeps are injected,
so backoff costs no wall time; only the client timeouts (0.3 s) are real.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from followthrough.gateways.delivery import DeliveryDeferred, DeliveryPermanent, Receipt
from followthrough.gateways.jira import (
    DeliveryUncertain,
    JiraApiError,
    JiraClient,
    JiraError,
    JiraRetriesExhausted,
    JiraTicketGateway,
    adf_to_text,
    adf_to_text_with_unknown,
    idempotency_label,
    jql_quote,
    parse_retry_after,
    text_to_adf,
)
from tests.fakes.jira import FakeJira, adf_problem

NOW = datetime(2026, 7, 15, 10, 0, tzinfo=UTC)
FP = "0123456789abcdef" + "0" * 48
FP2 = "fedcba9876543210" + "1" * 48
FP3 = "00112233aabbccdd" + "2" * 48
FP4 = "4455667788990011" + "3" * 48
FP5 = "5566778899001122" + "4" * 48
CREATE = "POST /rest/api/3/issue"
SEARCH = "POST /rest/api/3/search/jql"
COMMENT = "POST /rest/api/3/issue/{issueIdOrKey}/comment"
TRANSITION = "POST /rest/api/3/issue/{issueIdOrKey}/transitions"


class Sleeps(list[float]):
    """An injected sleep that records what it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Store:
    """The outbox's part the gateway relies on: pending entries, and the keys of delivered creates."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.pending = list(entries)
        self.sent: list[tuple[dict[str, Any], Receipt]] = []
        self.tickets: dict[tuple[str, int], str] = {}

    def ticket_key_for(self, fingerprint: str, episode: int) -> str | None:
        return self.tickets.get((fingerprint, episode))

    def dispatch(self, gateway: JiraTicketGateway) -> int:
        """One dispatch run (as outbox.dispatch_pending, with uncertain entries left pending); returns how many stay."""
        still: list[dict[str, Any]] = []
        for entry in self.pending:
            try:
                delivery = gateway.deliver(entry)
            except DeliveryUncertain:
                still.append(entry)
                continue
            self.sent.append((entry, delivery))
            if entry["action"] == "create_ticket":
                self.tickets[(entry["fingerprint"], entry["episode"])] = delivery.external_ref
        self.pending = still
        return len(still)


def create_entry(fingerprint: str = FP, episode: int = 1, **payload: Any) -> dict[str, Any]:
    return {
        "idempotency_key": f"{fingerprint}:{episode}:jira:create",
        "fingerprint": fingerprint,
        "episode": episode,
        "step": 0,
        "channel": "jira",
        "action": "create_ticket",
        "recipient": "alice",
        "payload": {
            "project": "FOLLOW",
            "summary": f"[AI-OVERDUE] Action item overdue: AI-{fingerprint[:4]}",
            "description": "What is wrong: the item is overdue.\n\nHow to fix it:\n- close it\n- or move the date",
            "assignee": "alice",
            "assignee_email": "alice@example.com",
            "labels": ["followthrough", f"ft-{fingerprint[:16]}", "ai-overdue"],
            **payload,
        },
    }


def comment_entry(fingerprint: str = FP, episode: int = 1, step: int = 1) -> dict[str, Any]:
    return {**create_entry(fingerprint, episode), "idempotency_key": f"{fingerprint}:{episode}:jira:step{step}",
            "step": step, "action": "comment_ticket",
            "payload": {"comment": f"Escalation step {step} (post team channel): still unresolved."}}


def resolve_entry(fingerprint: str = FP, episode: int = 1) -> dict[str, Any]:
    return {**create_entry(fingerprint, episode), "idempotency_key": f"{fingerprint}:{episode}:jira:resolve",
            "step": -1, "action": "resolve_ticket",
            "payload": {"comment": "Resolved: the problem was no longer found on 2026-07-15."}}


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    fake = FakeJira(clock=lambda: NOW)
    fake.add_project("FOLLOW", "Followthrough")
    fake.add_user("acc-alice", "alice@example.com", "Alice Adams")
    fake.add_user("acc-bob", "bob@example.com", "Bob Brown", email_visible=False)
    with fake:
        yield fake
    assert not fake.violations, [str(v) for v in fake.violations]
    assert not fake.unimplemented


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(jira: FakeJira, sleeps: Sleeps) -> JiraClient:
    return JiraClient(jira.url, jira.email, jira.api_token, timeout=0.3, sleep=sleeps, now=lambda: NOW)


def gateway_for(client: JiraClient, store: Store, sleeps: Sleeps, **kwargs: Any) -> JiraTicketGateway:
    return JiraTicketGateway(client, "FOLLOW", ticket_key_for=store.ticket_key_for, sleep=sleeps,
                             clock=lambda: 0.0, **kwargs)


def delivered(client: JiraClient, sleeps: Sleeps, *entries: dict[str, Any]) -> tuple[Store, JiraTicketGateway, str]:
    """The entries delivered run after run until none is pending; the store, the gateway and episode 1's ticket."""
    store = Store(list(entries))
    gateway = gateway_for(client, store, sleeps)
    run_until_done(store, gateway)
    return store, gateway, store.tickets[(FP, 1)]


def tickets(jira: FakeJira, fingerprint: str = FP, episode: int = 1) -> list[str]:
    label = idempotency_label(fingerprint, episode)
    return [key for key in jira.issue_keys() if label in jira.issue(key)["fields"]["labels"]]


def run_until_done(store: Store, gateway: JiraTicketGateway, runs: int = 3) -> int:
    """Dispatch run after run (the next run of the DAG) until nothing is pending; returns the runs used."""
    for run in range(1, runs + 1):
        if store.dispatch(gateway) == 0:
            return run
    raise AssertionError(f"still pending after {runs} runs: {[e['idempotency_key'] for e in store.pending]}")


# ---------------------------------------------------------------------------------------------- behaviour


def test_create_fills_the_ticket_and_a_redelivery_reuses_it(jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    store = Store([create_entry(priority="P2", due_date="2026-07-29")])
    gateway = gateway_for(client, store, sleeps)
    assert run_until_done(store, gateway) == 1
    key = store.tickets[(FP, 1)]
    fields = jira.issue(key)["fields"]
    assert fields["summary"] == "[AI-OVERDUE] Action item overdue: AI-0123"
    assert fields["labels"] == ["followthrough", "ft-0123456789abcdef", "ai-overdue", "ft-0123456789abcdef-e1"]
    assert fields["assignee"]["accountId"] == "acc-alice"
    assert fields["priority"]["name"] == "High"
    assert fields["duedate"] == "2026-07-29"
    assert fields["description"]["type"] == "doc"
    assert adf_to_text(fields["description"]) == (
        # plain text: the ticket quotes tracker text, so nothing in it becomes structure, a link or a mention
        "What is wrong: the item is overdue.\n\nHow to fix it:\n- close it\n- or move the date")

    # the same entry again: through the store's record (no search), then through the label alone
    assert gateway.deliver(create_entry()) == Receipt("sent", key)
    fresh = gateway_for(client, Store([]), sleeps)
    assert fresh.deliver(create_entry()) == Receipt("sent", key)
    assert tickets(jira) == [key]
    assert jira.requests[CREATE] == 1


def test_an_unknown_assignee_leaves_the_ticket_unassigned_and_says_so(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps
) -> None:
    store = Store([create_entry(assignee_email="nobody@example.com"), create_entry(FP2, assignee_email="")])
    run_until_done(store, gateway_for(client, store, sleeps))
    for fingerprint, said in ((FP, "no Jira user was found for nobody@example.com"),
                              (FP2, "no email is known for the responsible person alice")):
        fields = jira.issue(store.tickets[(fingerprint, 1)])["fields"]
        assert fields["assignee"] is None
        assert said in adf_to_text(fields["description"])


def test_a_hidden_email_still_finds_its_user(jira: FakeJira, client: JiraClient) -> None:
    assert client.find_user("bob@example.com") == "acc-bob"  # Jira matched the query; the email is not shown
    assert client.find_user("alice@example.com") == "acc-alice"
    assert client.find_user("nobody@example.com") is None
    assert jira.requests["GET /rest/api/3/user/search"] == 3
    client.find_user("alice@example.com")
    assert jira.requests["GET /rest/api/3/user/search"] == 3  # cached


def test_update_adds_the_missing_labels_to_a_recorded_ticket(jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    jira.add_issue("FOLLOW-7", {"summary": "made by an earlier version", "labels": ["followthrough"]})
    store = Store([create_entry()])
    store.tickets[(FP, 1)] = "FOLLOW-7"
    run_until_done(store, gateway_for(client, store, sleeps))
    assert store.sent[0][1] == Receipt("sent", "FOLLOW-7")
    assert jira.requests["PUT /rest/api/3/issue/{issueIdOrKey}"] == 1
    assert jira.requests[CREATE] == 0
    assert tickets(jira) == ["FOLLOW-7"]
    history = jira.issue("FOLLOW-7")["changelog"]["histories"]
    assert history[0]["items"][0]["field"] == "labels"
    # editing is idempotent: the labels are there now, nothing more to send
    gateway_for(client, store, sleeps).deliver(create_entry())
    assert jira.requests["PUT /rest/api/3/issue/{issueIdOrKey}"] == 1


def test_comment_is_posted_once_with_its_marker(jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    _, gateway, key = delivered(client, sleeps, create_entry(), comment_entry(step=1), comment_entry(step=2))
    for entry in (comment_entry(step=1), comment_entry(step=2)):
        assert gateway.deliver(entry) == Receipt("sent", key)
    texts = jira.comment_texts(key)
    assert texts == [
        f"Escalation step 1 (post team channel): still unresolved.\n[followthrough:{FP}:1:jira:step1]",
        f"Escalation step 2 (post team channel): still unresolved.\n[followthrough:{FP}:1:jira:step2]",
    ]
    assert jira.requests[COMMENT] == 2


def reassign_entry(owner: str = "nora", email: str = "nobody@example.com") -> dict[str, Any]:
    """What escalation plans when an item's owner changes (escalation.py: the ``reassign`` update)."""
    return {**create_entry(), "idempotency_key": f"{FP}:1:jira:reassign:{owner}", "action": "update_ticket",
            "recipient": owner, "payload": {"assignee": owner, "assignee_email": email,
                                            "comment": f"Reassigned from alice to {owner}, the item's owner now."}}


REASSIGNED = f"Reassigned from alice to nora, the item's owner now.\n[followthrough:{FP}:1:jira:reassign:nora]"
NO_USER = ("The responsible person is now nora, but no Jira user was found for them (nobody@example.com); please "
           f"reassign.\n[followthrough:{FP}:1:jira:reassign:nora#no-jira-user]")


def test_a_new_owner_without_a_jira_user_gets_the_reassignment_comment_and_a_request_to_reassign(
        jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    _, gateway, key = delivered(client, sleeps, create_entry())
    assert gateway.deliver(reassign_entry()) == Receipt("sent", key)
    assert jira.comment_texts(key) == [REASSIGNED, NO_USER]
    assert jira.issue(key)["fields"]["assignee"]["accountId"] == "acc-alice"  # no one to give it to
    assert jira.requests["PUT /rest/api/3/issue/{issueIdOrKey}"] == 0
    assert gateway.deliver(reassign_entry()) == Receipt("sent", key)  # delivered again: nothing new
    assert jira.comment_texts(key) == [REASSIGNED, NO_USER]
    assert jira.requests[COMMENT] == 2


def test_a_new_owner_with_a_jira_user_gets_the_ticket_and_one_comment(
        jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    _, gateway, key = delivered(client, sleeps, create_entry())
    gateway.deliver(reassign_entry("bob", "bob@example.com"))
    gateway.deliver(reassign_entry("bob", "bob@example.com"))
    assert jira.issue(key)["fields"]["assignee"]["accountId"] == "acc-bob"
    assert jira.comment_texts(key) == [
        f"Reassigned from alice to bob, the item's owner now.\n[followthrough:{FP}:1:jira:reassign:bob]"]


@pytest.mark.parametrize("posted", [REASSIGNED, NO_USER], ids=["reassigned_posted", "no_user_posted"])
def test_either_comment_posted_by_an_attempt_that_died_does_not_keep_the_other_off(
        jira: FakeJira, client: JiraClient, sleeps: Sleeps, posted: str) -> None:
    _, gateway, key = delivered(client, sleeps, create_entry())
    client.add_comment(key, text_to_adf(posted, markup=False))  # an earlier attempt got this far
    gateway.deliver({**reassign_entry(), "uncertain": True})
    assert sorted(jira.comment_texts(key)) == sorted([REASSIGNED, NO_USER])
    assert jira.requests[COMMENT] == 2


def test_resolve_walks_the_workflow_to_done_once(jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    _, gateway, key = delivered(client, sleeps, create_entry(), resolve_entry())
    issue = jira.issue(key)
    assert issue["fields"]["status"]["name"] == "Done"  # To Do -> In Progress -> Done: no direct transition
    assert issue["fields"]["resolution"]["name"] == "Done"
    assert jira.requests[TRANSITION] == 2
    gateway.deliver(resolve_entry())  # already done: no transition, no second comment
    assert jira.requests[TRANSITION] == 2
    assert len(jira.comment_texts(key)) == 1


def test_transitions_that_fail_unapplied_leave_the_resolve_pending_never_failed(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps
) -> None:
    # found by the soak: three transitions answered 5xx or reset unapplied, on top of the two hops
    # To Do -> In Progress -> Done, used to exhaust the hop limit and fail the resolve for good
    store = Store([create_entry()])
    run_until_done(store, gateway_for(client, store, sleeps))
    jira.faults.server_error(2, 502, only=TRANSITION)
    jira.faults.reset_before_commit(2, only=TRANSITION)
    gateway = gateway_for(client, store, sleeps)
    with pytest.raises(DeliveryUncertain, match="failed ambiguously"):
        gateway.deliver(resolve_entry())  # four unapplied tries: a fault, not the workflow; left pending
    key = store.tickets[(FP, 1)]
    assert jira.issue(key)["fields"]["status"]["name"] == "To Do"
    store.pending = [resolve_entry()]
    assert run_until_done(store, gateway) == 1  # the next attempt walks the workflow
    assert jira.issue(key)["fields"]["status"]["name"] == "Done"
    assert jira.requests[TRANSITION] == 6
    assert len(jira.comment_texts(key)) == 1


def test_resolving_an_issue_someone_already_closed_only_comments(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps
) -> None:
    label = idempotency_label(FP, 1)
    jira.add_issue("FOLLOW-3", {"summary": "closed by hand", "status": "Done", "labels": [label]})
    store = Store([resolve_entry()])
    run_until_done(store, gateway_for(client, store, sleeps))
    assert store.sent[0][1] == Receipt("sent", "FOLLOW-3")
    assert jira.requests[TRANSITION] == 0
    assert len(jira.comment_texts("FOLLOW-3")) == 1


def test_reopen_is_a_new_episode_with_a_new_ticket(jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    """A finding that comes back is a new episode: it gets its own ticket; the old one stays closed."""
    store = Store([create_entry(), resolve_entry()])
    gateway = gateway_for(client, store, sleeps)
    run_until_done(store, gateway)
    first = store.tickets[(FP, 1)]
    store.pending = [create_entry(episode=2), comment_entry(episode=2)]
    run_until_done(store, gateway)
    second = store.tickets[(FP, 2)]
    assert second != first
    assert tickets(jira, FP, 1) == [first]
    assert tickets(jira, FP, 2) == [second]
    assert jira.issue(first)["fields"]["status"]["name"] == "Done"
    assert jira.issue(second)["fields"]["status"]["name"] == "To Do"
    assert f"the previous episode's ticket is {first}" in adf_to_text(jira.issue(second)["fields"]["description"])
    assert len(jira.comment_texts(second)) == 1


def test_other_actions_are_refused(client: JiraClient, sleeps: Sleeps) -> None:
    gateway = gateway_for(client, Store([]), sleeps)
    with pytest.raises(DeliveryPermanent, match="dm_owner"):
        gateway.deliver({**create_entry(), "action": "dm_owner", "channel": "slack"})
    with pytest.raises(ValueError, match="16 hex"):
        gateway.deliver(create_entry(fingerprint="not-a-fingerprint"))


def test_a_comment_waits_for_a_ticket_it_cannot_find_yet(jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    store = Store([comment_entry()])
    gateway = gateway_for(client, store, sleeps)
    assert store.dispatch(gateway) == 1  # no ticket known or searchable: pending, nothing posted
    assert jira.requests[COMMENT] == 0
    store.pending.insert(0, create_entry())
    assert run_until_done(store, gateway) == 1
    assert len(jira.comment_texts(store.tickets[(FP, 1)])) == 1


# ---------------------------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("retry_after", "expected_wait"),
    [("2", 2.0), ("0", 0.0), (datetime(2026, 7, 15, 10, 0, 30, tzinfo=UTC), 30.0), (None, 0.5)],
    ids=["seconds", "zero", "http-date", "absent"],
)
def test_429_on_create_waits_as_told_and_creates_once(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps, retry_after: Any, expected_wait: float
) -> None:
    jira.faults.rate_limit(1, retry_after=retry_after, only=CREATE)
    store = Store([create_entry()])
    assert run_until_done(store, gateway_for(client, store, sleeps)) == 1
    assert sleeps == [expected_wait]  # a 429 was not processed: the create is safely sent again
    assert jira.requests[CREATE] == 2
    assert jira.faults.fired["rate_limit"] == 1
    assert tickets(jira) == [store.tickets[(FP, 1)]]


def test_429_on_search_and_comment_are_retried(jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    jira.faults.rate_limit(2, retry_after="1", only=SEARCH)
    jira.faults.rate_limit(1, retry_after="3", only=COMMENT)
    store = Store([create_entry(), comment_entry()])
    assert run_until_done(store, gateway_for(client, store, sleeps)) == 1
    assert sleeps == [1.0, 1.0, 3.0]
    assert tickets(jira) == [store.tickets[(FP, 1)]]
    assert len(jira.comment_texts(store.tickets[(FP, 1)])) == 1


def test_503_on_search_is_retried_with_backoff(jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    jira.faults.unavailable(2, only=SEARCH)
    jira.faults.unavailable(1, retry_after="7", only="GET")
    store = Store([create_entry(), comment_entry()])
    assert run_until_done(store, gateway_for(client, store, sleeps)) == 1
    assert sleeps == [0.5, 1.0, 7.0]  # exponential backoff; a 503's Retry-After is honoured
    assert tickets(jira) == [store.tickets[(FP, 1)]]


def test_503_on_create_is_never_retried_blindly(jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    """A 503 after sending may hide a created ticket: search at once, leave the entry pending without sleeping
    through the search lag, and create it next run only after a search once the lag has passed."""
    jira.faults.unavailable(1, only=CREATE)
    store = Store([create_entry(), comment_entry()])
    gateway = gateway_for(client, store, sleeps, search_lag_seconds=10)
    assert store.dispatch(gateway) == 2  # both wait: the create is uncertain, the comment has no ticket
    assert jira.requests[CREATE] == 1
    assert sleeps == []  # the dispatch goes on with other entries while the lag passes
    assert tickets(jira) == []
    assert run_until_done(store, gateway) == 1  # the next run: still no ticket labelled, so create it
    assert sum(sleeps) == 10  # the rest of the lag (the clock stood still), once, with searches in between
    assert jira.requests[CREATE] == 2
    assert tickets(jira) == [store.tickets[(FP, 1)]]
    assert len(jira.comment_texts(store.tickets[(FP, 1)])) == 1


def outbox_entry(entry: dict[str, Any], attempts: int, seconds_ago: float) -> dict[str, Any]:
    """An entry as the outbox hands it back after an uncertain attempt that ended `seconds_ago` before NOW."""
    return {**entry, "uncertain": True, "error_category": "uncertain", "attempts": attempts,
            "last_attempt_at": (NOW - timedelta(seconds=seconds_ago)).replace(tzinfo=None)}


@pytest.mark.parametrize(("seconds_ago", "waited"), [(30.0, 0.0), (10.0, 0.0), (4.0, 6.0)])
def test_an_uncertain_create_waits_only_for_what_is_left_of_the_lag(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps, seconds_ago: float, waited: float
) -> None:
    """The outbox says when the uncertain attempt ended: the lag is waited from then, once, not again in full."""
    gateway = gateway_for(client, Store([]), sleeps, search_lag_seconds=10, now=lambda: NOW)
    receipt = gateway.deliver(outbox_entry(create_entry(), attempts=1, seconds_ago=seconds_ago))
    assert sum(sleeps) == waited
    assert jira.requests[SEARCH] == (1 if not waited else 4)  # once the lag has passed, one search answers
    assert jira.requests[CREATE] == 1
    assert tickets(jira) == [receipt.external_ref]


def test_an_uncertain_create_that_landed_is_found_once_the_lag_has_passed(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps
) -> None:
    """Search hides the ticket the earlier attempt created until the lag is over: it is found, not made again."""
    store = Store([])
    jira.faults.search_lag(searches=2)
    first = gateway_for(client, store, sleeps).deliver(create_entry())  # landed, but its answer was lost
    gateway = gateway_for(client, store, sleeps, search_lag_seconds=10, now=lambda: NOW)
    receipt = gateway.deliver(outbox_entry(create_entry(), attempts=1, seconds_ago=7))
    assert receipt.external_ref == first.external_ref
    assert sleeps == [1.0, 2.0]  # backoff while search lagged, within the 3 s left of the lag
    assert jira.requests[CREATE] == 1
    jira.reindex()
    assert tickets(jira) == [first.external_ref]


def test_a_search_that_began_within_the_lag_never_clears_a_create(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow search that began before the lag was over, and answered after it, may have missed a ticket the
    earlier attempt created: only a search that began once the lag had passed may let the create go again."""
    instant = [0.0]
    began: list[float] = []
    search = client.search

    def slow_search(*args: Any, **kwargs: Any) -> dict[str, Any]:
        began.append(instant[0])
        answer = search(*args, **kwargs)
        instant[0] += 6.0  # Jira answers slowly while it fails
        return answer

    def sleep(seconds: float) -> None:
        sleeps(seconds)
        instant[0] += seconds

    monkeypatch.setattr(client, "search", slow_search)
    gateway = JiraTicketGateway(client, "FOLLOW", ticket_key_for=Store([]).ticket_key_for, sleep=sleep,
                                clock=lambda: instant[0], search_lag_seconds=10, now=lambda: NOW)
    gateway.deliver(outbox_entry(create_entry(), attempts=1, seconds_ago=0))  # the lag ends at 10
    assert jira.requests[CREATE] == 1
    assert began == [0.0, 7.0, 13.0]  # at 7 it began within the lag (its answer came at 13): searched again
    assert sleeps == [1.0]  # and at once, since the lag was over by then


def test_a_lag_that_would_pass_the_budget_defers_the_entry(jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    client.deadline = client.clock() + 1.5  # the dispatch attempt has 1.5 s left
    gateway = gateway_for(client, Store([]), sleeps, search_lag_seconds=30, now=lambda: NOW)
    with pytest.raises(DeliveryDeferred, match="search lag"):
        gateway.deliver(outbox_entry(create_entry(), attempts=2, seconds_ago=1))
    assert jira.requests[CREATE] == 0


def test_a_batch_of_creates_is_looked_up_with_one_search(jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    """prepare() notes a batch's creates and the first lookup searches for all of them; a create that may have
    landed earlier uses the answer only if the search started after its lag; a label is answered once."""
    store = Store([])
    gateway = gateway_for(client, store, sleeps, search_lag_seconds=10, now=lambda: NOW)
    existing = gateway.deliver(create_entry(FP3))  # made before (e.g. by a run whose record was lost)
    searches = jira.requests[SEARCH]
    entries = [create_entry(), create_entry(FP2), create_entry(FP3), comment_entry()]
    gateway.prepare(entries)
    assert jira.requests[SEARCH] == searches  # searched inside the first delivery, counted with its attempt
    made = [gateway.deliver(e).external_ref for e in entries[:3]]
    assert jira.requests[SEARCH] == searches + 1  # every create was answered by the batch search
    assert made[2] == existing.external_ref
    assert jira.requests[CREATE] == 3
    gateway.deliver(create_entry())  # the same label again: searched afresh, found, not created
    assert jira.requests[SEARCH] == searches + 2
    assert jira.requests[CREATE] == 3
    # an uncertain entry whose lag had not passed when the batch was searched: its own searches, up to the lag;
    # the fresh entry of the same batch is answered by the batch search
    batch = [outbox_entry(create_entry(FP4), attempts=1, seconds_ago=0), create_entry(FP5)]
    gateway.prepare(batch)
    for entry in batch:
        gateway.deliver(entry)
    assert jira.requests[SEARCH] == searches + 2 + 1 + 5
    assert jira.requests[CREATE] == 5
    assert sleeps == [1.0, 2.0, 4.0, 3.0]
    for fingerprint in (FP, FP2, FP3, FP4, FP5):
        assert len(tickets(jira, fingerprint)) == 1


def test_a_failed_batch_search_leaves_each_create_to_search_for_itself(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps
) -> None:
    jira.faults.set("unavailable", 6, only=SEARCH)  # the batch search and its 5 retries
    gateway = gateway_for(client, Store([]), sleeps)
    gateway.prepare([create_entry(), create_entry(FP2)])
    gateway.deliver(create_entry())  # the batch search fails inside: nothing is kept, nothing is raised
    assert jira.requests[SEARCH] == 6 + 1
    gateway.deliver(create_entry(FP2))
    assert jira.requests[SEARCH] == 6 + 2
    assert len(tickets(jira)) == 1
    assert len(tickets(jira, FP2)) == 1


@pytest.mark.parametrize("commit", [True, False], ids=["applied", "not-applied"])
def test_timeout_on_create_ends_with_one_ticket(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps, commit: bool
) -> None:
    jira.faults.timeout(1, seconds=1.0, commit=commit, only=CREATE)
    store = Store([create_entry()])
    gateway = gateway_for(client, store, sleeps, search_lag_seconds=5)
    runs = run_until_done(store, gateway)
    assert runs == (1 if commit else 2)  # applied: found by its label at once; not applied: created next run
    assert jira.requests[CREATE] == (1 if commit else 2)
    assert tickets(jira) == [store.tickets[(FP, 1)]]


def test_timeout_on_search_is_retried(jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    jira.faults.timeout(1, seconds=1.0, only=SEARCH)
    store = Store([create_entry()])
    assert run_until_done(store, gateway_for(client, store, sleeps)) == 1
    assert sleeps == [0.5]
    assert tickets(jira) == [store.tickets[(FP, 1)]]


@pytest.mark.parametrize("lagging_searches", [0, 3])
def test_reset_after_committed_create_finds_the_ticket_by_its_label(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps, lagging_searches: int
) -> None:
    jira.faults.reset_after_commit(1, only=CREATE)
    if lagging_searches:
        jira.faults.search_lag(searches=lagging_searches)  # the new ticket stays invisible to 3 searches
    store = Store([create_entry(), comment_entry()])
    # indexed at once: found by the search right after the reset; lagging: left pending, found next run
    assert run_until_done(store, gateway_for(client, store, sleeps)) == (2 if lagging_searches else 1)
    assert jira.requests[CREATE] == 1
    assert jira.faults.fired["reset_after_commit"] == 1
    # lagging: the search after the reset and the comment's search see nothing; the next run's first search
    # neither, so it backs off once (the rest of the lag is not slept: the ticket shows)
    assert sleeps == ([1.0] if lagging_searches else [])
    assert tickets(jira) == [store.tickets[(FP, 1)]]
    assert len(jira.comment_texts(store.tickets[(FP, 1)])) == 1


def test_search_lag_cannot_duplicate_a_ticket_the_store_recorded(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps
) -> None:
    """Search does not see a fresh ticket for a while; the store's record (and live reads) do."""
    jira.faults.search_lag(60)
    store = Store([create_entry(), comment_entry(), resolve_entry()])
    gateway = gateway_for(client, store, sleeps)
    assert run_until_done(store, gateway) == 1
    key = store.tickets[(FP, 1)]
    assert client.search(f"labels = {jql_quote(idempotency_label(FP, 1))}", ["labels"])["issues"] == []
    assert jira.faults.fired["search_lag"] == 1
    gateway.deliver(create_entry())  # delivered again (e.g. after a crash): the record wins over search
    assert jira.requests[CREATE] == 1
    jira.reindex()
    assert tickets(jira) == [key]
    assert jira.issue(key)["fields"]["status"]["name"] == "Done"
    assert len(jira.comment_texts(key)) == 2


def test_an_uncertain_entry_finds_a_ticket_that_search_does_not_show_yet(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps
) -> None:
    """A dispatcher died after its create landed and before it recorded the key: the entry comes back as
    uncertain, and search still lags behind the fresh ticket. It is looked for, not created again."""
    jira.faults.search_lag(searches=3)  # the dead dispatcher's own search for the label counts as one
    store = Store([])
    created = gateway_for(client, store, sleeps).deliver(create_entry())  # the dead dispatcher's write
    receipt = gateway_for(client, store, sleeps).deliver({**create_entry(), "uncertain": True})
    assert receipt.external_ref == created.external_ref
    assert jira.requests[CREATE] == 1
    assert sleeps == [1.0, 2.0, 4.0]  # backoff between label searches while search lagged
    jira.reindex()
    assert tickets(jira) == [created.external_ref]


def test_an_uncertain_entry_whose_create_never_landed_is_created_after_the_lag(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps
) -> None:
    store = Store([])
    receipt = gateway_for(client, store, sleeps, search_lag_seconds=3).deliver({**create_entry(), "uncertain": True})
    assert sleeps == [1.0, 2.0]  # searched for search_lag_seconds, then created
    assert jira.requests[CREATE] == 1
    assert tickets(jira) == [receipt.external_ref]


def test_reset_after_committed_comment_and_transition_are_not_repeated(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps
) -> None:
    jira.faults.reset_after_commit(1, only=COMMENT)
    jira.faults.reset_after_commit(1, only=TRANSITION)
    store = Store([create_entry(), comment_entry(), resolve_entry()])
    assert run_until_done(store, gateway_for(client, store, sleeps)) == 1
    key = store.tickets[(FP, 1)]
    assert jira.faults.fired["reset_after_commit"] == 2
    assert jira.requests[COMMENT] == 2  # one per action: the reset one was found by its marker
    assert jira.requests[TRANSITION] == 2  # To Do -> In Progress (reset, re-read) -> Done
    assert len(jira.comment_texts(key)) == 2
    assert jira.issue(key)["fields"]["status"]["name"] == "Done"


def test_every_fault_at_once_loses_nothing_and_duplicates_nothing(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps
) -> None:
    jira.faults.rate_limit(2, retry_after="1")
    jira.faults.unavailable(1, only=CREATE)
    jira.faults.timeout(1, seconds=1.0, commit=True, only=CREATE)
    jira.faults.reset_after_commit(1, only=CREATE)
    jira.faults.reset_after_commit(1, only=COMMENT)
    jira.faults.search_lag(searches=4)
    findings = (FP, FP2, FP3)
    store = Store([entry for fp in findings for entry in (create_entry(fp), comment_entry(fp), resolve_entry(fp))])
    gateway = gateway_for(client, store, sleeps)
    run_until_done(store, gateway)
    assert jira.faults.pending() == {}
    for fingerprint in findings:
        (key,) = tickets(jira, fingerprint)
        assert store.tickets[(fingerprint, 1)] == key
        assert jira.issue(key)["fields"]["status"]["name"] == "Done"
        assert len(jira.comment_texts(key)) == 2
    assert len(store.sent) == 9


def test_the_retry_budget_ends_with_a_clear_error(jira: FakeJira, sleeps: Sleeps) -> None:
    client = JiraClient(jira.url, jira.email, jira.api_token, retry_budget=3, sleep=sleeps)
    jira.faults.unavailable(10, only=SEARCH)
    gateway = gateway_for(client, Store([]), sleeps)
    with pytest.raises(DeliveryDeferred, match=r"retry budget of 3 retries is spent") as caught:
        gateway.deliver(create_entry())
    assert isinstance(caught.value.__cause__, JiraRetriesExhausted)  # classified once, at the gateway boundary
    assert "POST /rest/api/3/search/jql" in str(caught.value)
    assert jira.requests[SEARCH] == 4
    assert client.stats["retries"] == 3
    per_request = JiraClient(jira.url, jira.email, jira.api_token, max_retries_per_request=2, sleep=sleeps)
    with pytest.raises(JiraRetriesExhausted, match=r"still failing after 2 retries: 503"):
        per_request.search("project = FOLLOW", ["summary"])


def test_a_retry_after_beyond_the_limit_is_not_slept(jira: FakeJira, sleeps: Sleeps) -> None:
    client = JiraClient(jira.url, jira.email, jira.api_token, max_retry_after=60, sleep=sleeps)
    jira.faults.rate_limit(1, retry_after="3600")
    with pytest.raises(JiraRetriesExhausted, match="asked to wait 3600s"):
        client.get_issue("FOLLOW-1")
    assert sleeps == []


def test_client_errors_are_not_retried(jira: FakeJira, client: JiraClient) -> None:
    with pytest.raises(JiraApiError) as caught:
        client.get_issue("FOLLOW-404")
    assert caught.value.status == 404
    assert "Issue does not exist" in str(caught.value)
    assert client.stats["retries"] == 0


def test_secrets_never_appear_in_errors_or_logs(jira: FakeJira, caplog: pytest.LogCaptureFixture) -> None:
    token = "tok-SECRET-123456"
    caplog.set_level(logging.DEBUG)
    wrong = JiraClient(jira.url, jira.email, token, sleep=lambda s: None)
    assert token not in repr(wrong)
    with pytest.raises(JiraApiError) as unauthorized:
        wrong.get_issue("FOLLOW-1")
    assert unauthorized.value.status == 401
    jira.faults.unavailable(2, only="GET")
    with pytest.raises(JiraApiError):
        wrong.get_issue("FOLLOW-1")  # retried twice (logged), then 401
    closed = JiraClient("http://127.0.0.1:9", jira.email, token, sleep=lambda s: None, max_retries_per_request=1)
    with pytest.raises(JiraRetriesExhausted) as refused:
        closed.get_issue("FOLLOW-1")
    assert "connection refused" in str(refused.value)
    for error in (unauthorized.value, refused.value):
        assert token not in str(error)
        assert token not in repr(error)
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__
    assert "retry" in caplog.text
    assert token not in caplog.text
    assert wrong.mask(f"token={token}") == "token=***"


def test_from_connection_reads_the_airflow_connection_when_called(
    jira: FakeJira, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))  # if Airflow is first imported here
    conn = f'{{"conn_type": "jira", "host": "{jira.url}", "login": "{jira.email}", "password": "{jira.api_token}",'
    monkeypatch.setenv("AIRFLOW_CONN_JIRA_FT_TEST", conn + ' "extra": {"timeout": 7}}')
    client = JiraClient.from_connection("jira_ft_test")
    assert client.timeout == 7.0
    assert client.base_url == jira.url
    assert client.find_user("alice@example.com") == "acc-alice"
    assert jira.api_token not in repr(client)
    assert client._session.verify is True


def test_from_connection_goes_through_the_providers_jira_hook(
    jira: FakeJira, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A `jira` Connection means what Airflow users expect: its `verify` extra reaches the session."""
    from airflow.providers.atlassian.jira.hooks import jira as jira_hooks

    built: list[str] = []
    original = jira_hooks.JiraHook.get_conn

    def spy(self: Any) -> Any:
        built.append(self.jira_conn_id)
        return original(self)

    monkeypatch.setattr(jira_hooks.JiraHook, "get_conn", spy)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    conn = f'{{"conn_type": "jira", "host": "{jira.url}", "login": "{jira.email}", "password": "{jira.api_token}",'
    monkeypatch.setenv("AIRFLOW_CONN_JIRA_FT_NOVERIFY", conn + ' "extra": {"verify": false}}')
    client = JiraClient.from_connection("jira_ft_noverify")
    assert "jira_ft_noverify" in built
    assert client._session.verify is False
    assert client.find_user("alice@example.com") == "acc-alice"  # the hook's session, this client's retries


# ---------------------------------------------------------------------------------------------- helpers


def test_search_all_pages_with_next_page_token(jira: FakeJira, client: JiraClient) -> None:
    for n in range(1, 251):
        jira.add_issue(f"FOLLOW-{n}", {"summary": f"issue {n}"})
    keys = [i["key"] for i in client.search_all("project = FOLLOW ORDER BY key ASC", ["summary"])]
    assert keys == [f"FOLLOW-{n}" for n in range(1, 251)]
    bodies = [r.body for r in jira.requests_to(SEARCH)]
    assert [b["maxResults"] for b in bodies] == [100, 100, 100]  # the largest page for issues with fields
    assert "nextPageToken" not in bodies[0]
    assert all("nextPageToken" in b for b in bodies[1:])
    ids = list(client.search_all("project = FOLLOW", ["key"]))
    assert len(ids) == 250
    assert jira.requests_to(SEARCH)[-1].body["maxResults"] == 5000  # id/key-only pages


def test_retry_after_forms() -> None:
    assert parse_retry_after("12", NOW) == 12.0
    assert parse_retry_after("0", NOW) == 0.0
    assert parse_retry_after("Wed, 15 Jul 2026 10:01:00 GMT", NOW) == 60.0
    assert parse_retry_after("Wed, 15 Jul 2026 09:00:00 GMT", NOW) == 0.0  # in the past: go now
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_jql_quote_keeps_a_value_one_literal() -> None:
    assert jql_quote('x" OR project = SECRET OR "') == '"x\\" OR project = SECRET OR \\""'
    assert jql_quote("back\\slash\nnew") == '"back\\\\slash\\nnew"'


def test_text_to_adf_is_valid_adf_and_round_trips() -> None:
    text = (
        "# Summary\n\nCheckout failed for [12 minutes](https://status.example.com/x).\n"
        "Second line, see https://wiki.example.com/pm.\n\n"
        "## Actions\n\n- add an alert\n- cap the pool\n\n1. first\n2. second\n\n"
        "```python\nprint('hi')\n```\n\nOwner: [~accountid:acc-alice]"
    )
    doc = text_to_adf(text)
    assert adf_problem(doc) is None
    kinds = [node["type"] for node in doc["content"]]
    assert kinds == ["heading", "paragraph", "heading", "bulletList", "orderedList", "codeBlock", "paragraph"]
    assert doc["content"][1]["content"][1] == {
        "type": "text", "text": "12 minutes", "marks": [{"type": "link", "attrs": {"href": "https://status.example.com/x"}}]}
    assert {"type": "hardBreak"} in doc["content"][1]["content"]
    assert doc["content"][-1]["content"][1]["type"] == "mention"
    assert adf_to_text(doc) == text


def test_adf_to_text_reports_unknown_nodes_and_keeps_their_text() -> None:
    doc: dict[str, Any] = {"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Impact"}]},
        {"type": "panel", "attrs": {"panelType": "info"}, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "5% of logins failed "},
                                              {"type": "emoji", "attrs": {"shortName": ":fire:", "text": "🔥"}},
                                              {"type": "mention", "attrs": {"id": "a1", "text": "@Alice"}}]}]},
        {"type": "table", "content": [{"type": "tableRow", "content": [
            {"type": "tableHeader", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "When"}]}]},
            {"type": "tableCell", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "10:05"}]}]},
        ]}]},
        {"type": "fancyWidget", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "kept"}]}]},
        {"type": "sparkle", "text": "also kept"},
    ]}
    text, unknown = adf_to_text_with_unknown(doc)
    assert text == "## Impact\n\n5% of logins failed 🔥@Alice\n\n| When | 10:05 |\n\nkept\n\nalso kept"
    assert unknown == ["fancyWidget", "sparkle"]
    assert adf_to_text_with_unknown(None) == ("", [])
    assert adf_to_text_with_unknown("plain v2 text") == ("plain v2 text", [])


def test_transition_by_status_name(jira: FakeJira, client: JiraClient) -> None:
    jira.add_issue("FOLLOW-1", {"summary": "x"})
    assert client.transition("FOLLOW-1", "in progress") == "21"
    with pytest.raises(JiraError, match="no transition to 'Nowhere'"):
        client.transition("FOLLOW-1", "Nowhere")



# ---------------------------------------------------------------------------------------------- workflows


def reopen_entry(fingerprint: str = FP, episode: int = 2) -> dict[str, Any]:
    return {**create_entry(fingerprint, episode), "idempotency_key": f"{fingerprint}:{episode}:jira:reopen",
            "action": "reopen_ticket", "payload": {"comment": "Reopened: the problem is back."}}


def _resolve_then_reopen(jira: FakeJira, client: JiraClient, sleeps: Sleeps, **kwargs: Any) -> tuple[Store, str]:
    store = Store([create_entry(), resolve_entry()])
    gateway = gateway_for(client, store, sleeps, **kwargs)
    run_until_done(store, gateway)
    key = store.tickets[(FP, 1)]
    assert jira.issue(key)["fields"]["status"]["statusCategory"]["key"] == "done"
    store.pending = [reopen_entry()]
    run_until_done(store, gateway)
    return store, key


def test_reopen_where_the_only_exit_from_done_is_reopen_to_reopened(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps
) -> None:
    jira.add_status("Reopened", "new")
    jira.set_workflow([("21", "Start Progress", "In Progress", ["To Do", "Reopened"]),
                       ("31", "Done", "Done", ["In Progress"]),
                       ("51", "Reopen", "Reopened", ["Done"])])
    store, key = _resolve_then_reopen(jira, client, sleeps)
    assert jira.issue(key)["fields"]["status"]["name"] == "Reopened"
    assert tickets(jira, FP, 2) == [key]  # the same ticket carries the new episode
    assert store.sent[-1][1] == Receipt("sent", key)


def test_reopen_where_done_goes_straight_back_to_to_do(jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    jira.set_workflow([("11", "Close", "Done", ["To Do"]), ("12", "Back to To Do", "To Do", ["Done"])])
    _store, key = _resolve_then_reopen(jira, client, sleeps)
    assert jira.issue(key)["fields"]["status"]["name"] == "To Do"
    assert jira.requests[TRANSITION] == 2  # one hop each way


def test_the_policys_named_transitions_are_used(jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    jira.add_status("Won't Fix", "done")
    jira.add_status("Triage", "new")
    jira.set_workflow([("61", "Done", "Done", None), ("62", "Wont fix", "Won't Fix", None),
                       ("71", "To triage", "Triage", ["Done", "Won't Fix"]),
                       ("72", "Reopen", "To Do", ["Done", "Won't Fix"])])
    _store, key = _resolve_then_reopen(jira, client, sleeps, resolve_transition="Wont fix",
                                       reopen_transition="To triage")
    assert [r.body["transition"]["id"] for r in jira.requests_to(TRANSITION)] == ["62", "71"]
    assert jira.issue(key)["fields"]["status"]["name"] == "Triage"


def test_a_missing_transition_is_a_permanent_error_naming_those_on_offer(
    jira: FakeJira, client: JiraClient, sleeps: Sleeps
) -> None:
    store = Store([create_entry(), resolve_entry()])
    gateway = gateway_for(client, store, sleeps, reopen_transition="Reopen")
    run_until_done(store, gateway)
    jira.set_workflow([("81", "Archive", "Done", ["Done"])])
    with pytest.raises(DeliveryPermanent, match=r"no the transition 'Reopen' from 'Done' \(on offer: Archive -> Done\)"):
        gateway.deliver(reopen_entry())


def test_tracker_text_in_a_ticket_never_becomes_a_mention_or_a_link(
        jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    hostile = "Ping [~accountid:acc-ceo] and [click](https://evil.example) # not a heading\n- not a list"
    gateway = JiraTicketGateway(client, "FOLLOW", "Task", ticket_key_for=lambda fp, ep: None, search_lag_seconds=0)
    created = gateway.deliver({"idempotency_key": "0123456789abcdefadf:1:jira:create", "fingerprint": "0123456789abcdefadf", "episode": 1,
                               "step": 0, "channel": "jira", "action": "create_ticket", "recipient": "",
                               "payload": {"summary": "AI-VAGUE: AI-1", "description": f"Subject: {hostile}",
                                           "labels": ["followthrough"]}})
    gateway.deliver({"idempotency_key": "0123456789abcdefadf:1:jira:step1", "fingerprint": "0123456789abcdefadf", "episode": 1, "step": 1,
                     "channel": "jira", "action": "comment_ticket", "recipient": "",
                     "payload": {"comment": f"Still open: {hostile}"}})

    def node_types(node: object) -> set[str]:
        if isinstance(node, dict):
            marks = {m.get("type") for m in node.get("marks") or []}
            return {str(node.get("type")), *map(str, marks)} | set().union(*map(node_types, node.get("content") or []))
        return set()

    issue = jira.issue(created.external_ref)
    documents = [issue["fields"]["description"], *jira.comment_bodies(created.external_ref)]
    for document in documents:
        assert node_types(document) <= {"doc", "paragraph", "text", "hardBreak"}
    assert any("[~accountid:acc-ceo]" in text for text in jira.comment_texts(created.external_ref))


def test_the_client_counts_every_fault_it_meets_by_kind(jira: FakeJira, client: JiraClient, sleeps: Sleeps) -> None:
    jira.faults.rate_limit(1, retry_after="0", only=SEARCH)
    jira.faults.server_error(1, 502, only=SEARCH)
    jira.faults.server_error(1, 504, only=SEARCH)
    jira.faults.reset_before_commit(1, only=SEARCH)
    jira.faults.timeout(1, seconds=1.0, only=SEARCH)
    jira.faults.reset_before_commit(1, only=CREATE)
    store = Store([create_entry()])
    assert run_until_done(store, gateway_for(client, store, sleeps, search_lag_seconds=0)) == 2  # uncertain once
    assert not store.pending
    assert tickets(jira) == [store.tickets[(FP, 1)]]  # the create reset before it was applied was made once
    # each fault the fake fired, as the client met it: a reset or a timeout cannot tell whether it was applied
    assert client.faults == {"rate_limit": 1, "http_502": 1, "http_504": 1, "connection_lost": 2, "timeout": 1}
    assert sum(client.faults.values()) == sum(jira.faults.fired.values())
    assert client.stats["retries"] + client.stats["rate_limited"] == 5  # the ambiguous create is the gateway's
