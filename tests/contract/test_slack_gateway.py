"""The Slack gateway against the honest Slack fake: the right recipient, safe text, one message per entry.

The gateway is built as in production: ``SlackHook`` reads the Connection ``slack_api_default``
(token in the password, the fake's ``base_url`` in the extra, given here as
``AIRFLOW_CONN_SLACK_API_DEFAULT``) and hands over its WebClient. Every fault switch of
:class:`tests.fakes.slack.FakeSlack` that can cause a duplicate (429, timeouts with and without
commit, a reset after commit, an unreadable history) is thrown at it; each scenario ends with
exactly one message per idempotency key, counted in the fake by the key in the message metadata.
Sleeps are injected (and recorded); only the client timeout (0.3 s) costs wall time.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from followthrough.escalation import escape_slack
from followthrough.gateways.delivery import Receipt
from followthrough.gateways.slack import (
    EVENT_TYPE,
    SlackConfigurationError,
    SlackDelivery,
    SlackDeliveryUncertain,
    SlackGateway,
    SlackRejected,
    SlackUnavailable,
    ensure_escaped,
    hook_client_factory,
)
from tests.fakes.slack import FakeSlack

FP = "0123456789abcdef" + "0" * 48
OMAR, LENA, GARY, KATRIN = "U0OMAR0001", "U0LENA0001", "U0GARY0001", "U0KATRIN01"
TEAM, PLATFORM, OLD, NOBOT = "C0PAYMENTS1", "C0PLATFORM1", "C0OLDTEAM01", "C0NOBOTCH01"
POST, HISTORY, LOOKUP, LIST = "chat.postMessage", "conversations.history", "users.lookupByEmail", "conversations.list"
TEXT = ("Action item overdue: AI-7 (Add a disk alert). The item is 3 days past due. "
        "Next step: close it or move the due date with a reason.")


class Sleeps(list[float]):
    """An injected sleep that records what it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_user(OMAR, "omar.owner@example.com", "Omar Owner")
    fake.add_user(LENA, "lena.lead@example.com", "Lena Lead")
    fake.add_user(GARY, "gary.gone@example.com", "Gary Gone", deleted=True)
    fake.add_user(KATRIN, "katrin.vogel@example.com", "Katrin Vogel")
    fake.add_channel(TEAM, "payments", members=[OMAR, LENA])
    fake.add_channel(PLATFORM, "incident-followup")
    fake.add_channel(OLD, "old-team", archived=True)
    fake.add_channel(NOBOT, "no-bot-here", bot_member=False)
    with fake:
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", json.dumps(
            {"conn_type": "slack", "password": fake.token, "extra": {"base_url": fake.base_url}}))
        yield fake
    assert fake.violations == [], [str(v) for v in fake.violations]
    assert fake.warnings == []  # every message had its plain-text fallback
    assert fake.unimplemented == []


def fast_factory(**kwargs: Any) -> Callable[[], Any]:
    """The production factory (SlackHook, retry_handlers=[]) with a short client timeout."""
    build = hook_client_factory(**kwargs)

    def factory() -> Any:
        client = build()
        client.timeout = 0.3  # the fake's timeout faults hang for longer
        return client

    return factory


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_gateway(slack: FakeSlack, sleeps: Sleeps) -> Callable[..., SlackGateway]:
    def make(**kwargs: Any) -> SlackGateway:
        return SlackGateway(fast_factory(), "#incident-followup", kwargs.pop("lookup_cache", None), sleep=sleeps,
                            **kwargs)

    return make


@pytest.fixture
def gateway(make_gateway: Callable[..., SlackGateway]) -> SlackGateway:
    return make_gateway()


def entry(action: str = "dm_owner", recipient: str = "omar.owner", *, slack_id: str = OMAR,
          email: str = "omar.owner@example.com", text: str = TEXT, step: int = 0, fingerprint: str = FP,
          episode: int = 1, **payload: Any) -> dict[str, Any]:
    """An outbox entry shaped as escalation.plan_actions builds it."""
    return {
        "idempotency_key": f"{fingerprint}:{episode}:slack:step{step}:{action}",
        "fingerprint": fingerprint, "episode": episode, "step": step, "channel": "slack", "action": action,
        "recipient": recipient, "team_id": "payments",
        "payload": {"to": recipient, "slack_id": slack_id, "email": email, "text": text, **payload},
    }


def sent(delivery: Receipt) -> SlackDelivery:
    assert isinstance(delivery, SlackDelivery)
    assert delivery.status == "sent"
    return delivery


def one_message(slack: FakeSlack, key: str) -> dict[str, Any]:
    found = slack.messages_with_key(key)
    assert len(found) == 1, found
    return found[0]


# ================================================================================== recipients


def test_dm_by_slack_id(slack: FakeSlack, gateway: SlackGateway) -> None:
    item = entry()
    delivery = sent(gateway.deliver(item))
    dm = slack.dm_channel(OMAR)
    assert dm is not None
    assert delivery.external_ref == f"{dm}:{delivery.ts}"
    assert (delivery.channel, delivery.target, delivery.reasons, delivery.already_posted) == (dm, "omar.owner", (),
                                                                                             False)
    message = one_message(slack, item["idempotency_key"])
    assert message["channel"] == dm
    assert message["ts"] == delivery.ts
    assert message["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {
        "key": item["idempotency_key"], "action": "dm_owner", "fingerprint": FP, "episode": 1, "step": 0}}
    assert message["text"] == TEXT  # the plain-text fallback
    assert [b["type"] for b in message["blocks"]] == ["section", "context"]
    assert message["blocks"][0]["text"] == {"type": "mrkdwn", "text": TEXT, "verbatim": True}
    assert "action needed" in message["blocks"][1]["elements"][0]["text"]
    assert slack.requests[LOOKUP] == 0  # the payload's slack_id was enough


def test_dm_by_email_lookup_is_cached(slack: FakeSlack, make_gateway: Callable[..., SlackGateway]) -> None:
    cache: dict[str, str] = {}
    gateway = make_gateway(lookup_cache=cache)
    first = sent(gateway.deliver(entry(slack_id="")))
    second = sent(gateway.deliver(entry(slack_id="", step=1, action="warn_owner")))
    assert first.channel == second.channel == slack.dm_channel(OMAR)
    assert slack.requests[LOOKUP] == 1
    assert cache == {"email:omar.owner@example.com": OMAR}
    # a persistent cache spares the lookup in the next run
    make_gateway(lookup_cache=cache).deliver(entry(slack_id="", step=2, action="dm_manager"))
    assert slack.requests[LOOKUP] == 1


def test_channel_post_resolves_the_name_once(slack: FakeSlack, gateway: SlackGateway) -> None:
    first = sent(gateway.deliver(entry("post_team_channel", "#payments", slack_id="", email="", step=1)))
    second = sent(gateway.deliver(entry("post_team_channel", "#payments", slack_id="", email="", step=2)))
    assert first.external_ref == f"{TEAM}:{first.ts}"
    assert second.channel == TEAM
    assert slack.requests[LIST] == 1
    assert gateway.lookup_cache["channel:payments"] == TEAM
    assert len(slack.messages(TEAM)) == 2


def test_channel_names_are_found_on_later_pages(monkeypatch: pytest.MonkeyPatch, sleeps: Sleeps) -> None:
    with FakeSlack(list_page_cap=2) as slack:
        for index in range(7):
            slack.add_channel(f"C0FILLER{index:03d}", f"filler-{index}")
        slack.add_channel(PLATFORM, "incident-followup")
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", json.dumps({"conn_type": "slack", "password": slack.token}))
        gateway = SlackGateway(fast_factory(base_url=slack.base_url), "#incident-followup", sleep=sleeps)
        delivery = sent(gateway.deliver(entry("leadership_digest", "#incident-followup", slack_id="", email="",
                                              step=3)))
        assert delivery.channel == PLATFORM
        assert slack.requests[LIST] == 4
        assert not slack.violations


def test_an_unknown_person_falls_back_to_the_lead(slack: FakeSlack, gateway: SlackGateway) -> None:
    item = entry(slack_id="", email="omar.gone@example.com",
                 fallback=[{"to": "lena.lead", "slack_id": LENA, "email": "lena.lead@example.com"}])
    delivery = sent(gateway.deliver(item))
    assert delivery.channel == slack.dm_channel(LENA)
    assert delivery.external_ref == f"{delivery.channel}:{delivery.ts} fallback:lena.lead (users_not_found for omar.owner)"
    assert delivery.reasons == ("users_not_found for omar.owner",)
    message = one_message(slack, item["idempotency_key"])
    assert message["text"].startswith(TEXT)  # a person gets the message itself, with the reason
    assert "could not reach the intended recipient: users_not_found for omar.owner" in message["text"]


def test_fallbacks_end_at_the_platform_channel_without_private_text(slack: FakeSlack, gateway: SlackGateway) -> None:
    item = entry(slack_id="", email="omar.gone@example.com", fallback=[
        {"to": "gary.gone", "email": "gary.gone@example.com"},  # deactivated
        {"to": "lena.lead"},  # no Slack id, no e-mail
    ])
    delivery = sent(gateway.deliver(item))
    assert delivery.channel == PLATFORM
    assert delivery.external_ref == (
        f"{PLATFORM}:{delivery.ts} fallback:#incident-followup (users_not_found for omar.owner; "
        "user_disabled for gary.gone; no Slack id or e-mail for lena.lead)")
    message = one_message(slack, item["idempotency_key"])
    assert message["channel"] == PLATFORM
    # a DM's text is private: the channel only learns that it could not be delivered, and to whom
    assert "AI-7" not in message["text"]
    assert "disk alert" not in json.dumps(message["blocks"])
    assert "could not be delivered to omar.owner" in message["text"]
    assert slack.messages(slack.dm_channel(GARY) or "D0NONE0000") == []


def test_an_archived_team_channel_falls_back_to_the_platform_channel(slack: FakeSlack, gateway: SlackGateway) -> None:
    item = entry("post_team_channel", "#old-team", slack_id="", email="", step=1)
    delivery = sent(gateway.deliver(item))
    assert delivery.external_ref == f"{PLATFORM}:{delivery.ts} fallback:#incident-followup (is_archived for #old-team)"
    message = one_message(slack, item["idempotency_key"])
    assert message["text"].startswith(TEXT)  # channel text is fit for a channel: shown in full
    assert "is_archived for #old-team" in message["blocks"][-1]["elements"][0]["text"]
    assert slack.messages(OLD) == []


@pytest.mark.parametrize(
    ("recipient", "reason"),
    [("#no-such-team", "channel_not_found for #no-such-team"), ("#no-bot-here", "not_in_channel for #no-bot-here"),
     ("", "no channel configured for (post_team_channel channel)"), (OLD, "is_archived for C0OLDTEAM01")],
)
def test_unreachable_channels_fall_back(slack: FakeSlack, gateway: SlackGateway, recipient: str, reason: str) -> None:
    delivery = sent(gateway.deliver(entry("post_team_channel", recipient, slack_id="", email="", step=1)))
    assert delivery.channel == PLATFORM
    assert delivery.reasons == (reason,)


def test_a_cached_channel_archived_since_falls_back(slack: FakeSlack, make_gateway: Callable[..., SlackGateway]) -> None:
    gateway = make_gateway(lookup_cache={"channel:payments": TEAM})
    slack.archive_channel(TEAM)
    delivery = sent(gateway.deliver(entry("post_team_channel", "#payments", slack_id="", email="", step=1)))
    assert delivery.reasons == ("is_archived for #payments",)
    assert [(r.args["channel"], r.error) for r in slack.requests_to(POST)] == [(TEAM, "is_archived"), (PLATFORM, None)]
    assert "channel:payments" not in gateway.lookup_cache  # looked up afresh next time


def test_nothing_reachable_is_an_error_not_a_drop(monkeypatch: pytest.MonkeyPatch, sleeps: Sleeps) -> None:
    with FakeSlack() as slack:
        slack.add_channel(PLATFORM, "incident-followup", archived=True)
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", json.dumps(
            {"conn_type": "slack", "password": slack.token, "extra": {"base_url": slack.base_url}}))
        gateway = SlackGateway(fast_factory(), "#incident-followup", sleep=sleeps)
        with pytest.raises(SlackRejected, match="users_not_found for omar.owner; is_archived for #incident-followup"):
            gateway.deliver(entry(slack_id="", email="nobody@example.com"))


# ================================================================================== text


def test_tracker_text_reaches_slack_escaped_once(slack: FakeSlack, gateway: SlackGateway) -> None:
    title = "<!channel> <@U123> <https://evil|click> R&D"
    text = f"Action item overdue: AI-9 ({escape_slack(title)}). Next step: close it."  # as escalation builds it
    item = entry("post_team_channel", "#payments", slack_id="", email="", step=1, text=text)
    sent(gateway.deliver(item))
    message = one_message(slack, item["idempotency_key"])
    shown = [message["text"], *(b["text"]["text"] for b in message["blocks"] if b["type"] == "section"),
             *(e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"])]
    for part in shown:
        assert FakeSlack.control_sequences(part) == [], part
        assert "&amp;amp;" not in part
        assert "&amp;lt;" not in part
    assert "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|click&gt; R&amp;D" in message["text"]
    assert "<!channel>" not in json.dumps(message)


def test_every_text_object_is_verbatim_so_slack_links_and_mentions_nothing(slack: FakeSlack,
                                                                          gateway: SlackGateway) -> None:
    item = entry("post_team_channel", "#payments", slack_id="", email="", step=1,
                 text="See #general and @here at example.com/x for AI-9")
    sent(gateway.deliver(item))
    message = one_message(slack, item["idempotency_key"])
    objects = [b["text"] for b in message["blocks"] if b["type"] == "section"] + [
        e for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert objects
    assert all(o["type"] == "mrkdwn" and o.get("verbatim") is True for o in objects)


def test_a_private_message_with_no_owner_reaches_nobody_but_a_notice_without_the_quote(
        slack: FakeSlack, gateway: SlackGateway) -> None:
    quote = "Bob didn't follow the runbook"
    item = entry("dm_owner", "", slack_id="", email="", text=f"Postmortem uses blame-first language: \u201c{quote}\u201d")
    delivery = sent(gateway.deliver(item))
    assert delivery.channel == PLATFORM
    message = one_message(slack, item["idempotency_key"])
    assert quote not in json.dumps(message, ensure_ascii=False)
    assert "could not be delivered" in message["text"]


def test_the_daily_summary_of_folded_messages_goes_out_as_a_dm(slack: FakeSlack, gateway: SlackGateway) -> None:
    item = entry("dm_summary", text="You have 3 more Followthrough items today: AI-5; AI-6; AI-7.")
    item["idempotency_key"] = "dm_summary/omar.owner/2026-07-15"
    delivery = sent(gateway.deliver(item))
    assert delivery.channel == slack.dm_channel(OMAR)
    assert "3 more Followthrough items" in one_message(slack, item["idempotency_key"])["text"]


def test_text_built_here_is_escaped(slack: FakeSlack, gateway: SlackGateway) -> None:
    item = entry(recipient="<!here>&co", slack_id="", email="nobody@example.com")
    sent(gateway.deliver(item))
    message = one_message(slack, item["idempotency_key"])
    assert "&lt;!here&gt;&amp;co" in message["text"]
    assert FakeSlack.control_sequences(json.dumps(message["blocks"])) == []


def test_ensure_escaped_is_idempotent() -> None:
    raw = "<!channel> R&D &amp; <b>"
    once = escape_slack(raw)
    assert ensure_escaped(once) == once
    assert ensure_escaped(ensure_escaped(raw)) == ensure_escaped(raw)
    assert ensure_escaped("a < b && c > d") == "a &lt; b &amp;&amp; c &gt; d"


def test_long_text_is_split_into_sections(slack: FakeSlack, gateway: SlackGateway) -> None:
    text = ("word &amp; " * 700).strip()  # 7,000 characters, entities throughout
    item = entry(text=text)
    sent(gateway.deliver(item))
    message = one_message(slack, item["idempotency_key"])
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert len(sections) == 3
    assert all(len(s) <= 3000 for s in sections)
    assert " ".join(sections) == text
    assert message["text"] == text


# ================================================================================== exactly once


def test_429_then_an_ambiguous_timeout_delivers_exactly_once_across_reruns(
    slack: FakeSlack, make_gateway: Callable[..., SlackGateway], sleeps: Sleeps
) -> None:
    items = [entry(), entry("post_team_channel", "#payments", slack_id="", email="", step=1),
             entry("dm_manager", "katrin.vogel", slack_id=KATRIN, email="", step=2)]
    slack.rate_limit(2, retry_after="7", only=POST)
    slack.timeout(1, seconds=2.0, commit=True, only=POST)  # the first real attempt lands but never answers
    first_run = [sent(make_gateway().deliver(item)) for item in items]
    assert sleeps.count(7.0) == 2  # Retry-After honoured
    assert first_run[0].already_posted  # found in history after the timeout, not posted again
    slack.rate_limit(1, retry_after="1", only=POST)
    slack.timeout(1, seconds=2.0, commit=True, only=POST)
    rerun = [sent(make_gateway().deliver(item)) for item in items]  # a new process: fresh caches
    assert [d.external_ref for d in rerun] == [d.external_ref for d in first_run]
    assert all(d.already_posted for d in rerun)
    for item in items:
        one_message(slack, item["idempotency_key"])
    assert slack.requests[POST] == 2 + 1 + 2  # two 429s, the timed-out post, two clean posts
    assert slack.faults.pending() == {"rate_limit": 1, "timeout": 1}  # the re-run never tried to post


def test_a_timeout_that_did_not_land_is_posted_again_once(slack: FakeSlack, gateway: SlackGateway) -> None:
    slack.timeout(1, seconds=2.0, commit=False, only=POST)
    item = entry()
    delivery = sent(gateway.deliver(item))
    assert not delivery.already_posted
    one_message(slack, item["idempotency_key"])
    assert slack.requests[POST] == 2
    assert gateway.stats["ambiguous"] == 1


def test_reset_after_commit_delivers_exactly_once(slack: FakeSlack, gateway: SlackGateway) -> None:
    slack.reset_after_commit(1)
    item = entry("post_team_channel", "#payments", slack_id="", email="", step=1)
    delivery = sent(gateway.deliver(item))
    assert delivery.already_posted
    assert one_message(slack, item["idempotency_key"])["ts"] == delivery.ts
    assert slack.requests[POST] == 1  # the reset was not followed by a blind re-send
    assert slack.faults.fired["reset_after_commit"] == 1


def test_internal_error_after_a_post_is_ambiguous_too(slack: FakeSlack, gateway: SlackGateway,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    original = FakeSlack._m_chat_postMessage
    calls: list[int] = []

    def flaky(self: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
        body = original(self, args)
        calls.append(1)
        if len(calls) == 1:  # Slack: "some aspect of the operation may have succeeded"
            from tests.fakes.slack import _SlackError

            raise _SlackError("internal_error")
        return body

    monkeypatch.setattr(FakeSlack, "_m_chat_postMessage", flaky)
    item = entry()
    assert sent(gateway.deliver(item)).already_posted
    one_message(slack, item["idempotency_key"])


def test_uncertain_when_history_cannot_be_read_then_the_rerun_settles_it(
    slack: FakeSlack, make_gateway: Callable[..., SlackGateway]
) -> None:
    gateway = make_gateway()
    sent(gateway.deliver(entry(step=0)))  # the DM's history is now known to this gateway
    item = entry(step=1, action="warn_owner")
    slack.timeout(1, seconds=2.0, commit=True, only=POST)
    slack.unavailable(4, only=HISTORY)
    with pytest.raises(SlackDeliveryUncertain, match="may have landed"):
        gateway.deliver(item)
    one_message(slack, item["idempotency_key"])  # it did land
    rerun = sent(make_gateway().deliver(item))
    assert rerun.already_posted
    one_message(slack, item["idempotency_key"])
    assert slack.requests[POST] == 2  # the first entry and the one ambiguous attempt


def test_repeated_ambiguity_gives_up_uncertain_without_duplicates(slack: FakeSlack, gateway: SlackGateway) -> None:
    slack.timeout(3, seconds=2.0, commit=False, only=POST)
    item = entry()
    with pytest.raises(SlackDeliveryUncertain, match="failed ambiguously 3 times"):
        gateway.deliver(item)
    assert slack.messages_with_key(item["idempotency_key"]) == []
    sent(gateway.deliver(item))  # the next dispatch
    one_message(slack, item["idempotency_key"])


def test_rate_limits_are_bounded(slack: FakeSlack, make_gateway: Callable[..., SlackGateway], sleeps: Sleeps) -> None:
    slack.rate_limit(10, retry_after="1", only=POST)
    gateway = make_gateway(max_rate_limit_waits=3)
    with pytest.raises(SlackUnavailable, match="rate-limited 4 times"):
        gateway.deliver(entry())
    assert sleeps.count(1.0) == 3
    assert slack.messages_with_key(entry()["idempotency_key"]) == []
    slack.faults.clear()
    slack.rate_limit(1, retry_after="3600", only=POST)  # longer than max_retry_after: do not sleep an hour
    with pytest.raises(SlackUnavailable):
        gateway.deliver(entry())
    assert 3600.0 not in sleeps


def test_reads_are_retried_with_backoff(slack: FakeSlack, gateway: SlackGateway, sleeps: Sleeps) -> None:
    slack.unavailable(2, only=LOOKUP)
    slack.timeout(1, seconds=2.0, only=HISTORY)
    sent(gateway.deliver(entry(slack_id="")))
    assert slack.requests[LOOKUP] == 3
    assert slack.requests[HISTORY] == 2
    assert sleeps == [1.0, 2.0, 1.0]


def test_history_is_read_only_within_the_window(slack: FakeSlack, gateway: SlackGateway) -> None:
    item = entry("post_team_channel", "#payments", slack_id="", email="", step=1)
    old = f"{time.time() - 8 * 86_400:.6f}"
    slack.add_message(TEAM, "eight days ago", ts=old,
                      metadata={"event_type": EVENT_TYPE, "event_payload": {"key": item["idempotency_key"]}})
    delivery = sent(gateway.deliver(item))
    assert not delivery.already_posted  # older than history_window (7 days): not considered
    assert slack.requests_to(HISTORY)[0].args["include_all_metadata"] in {"1", "true", True}
    assert float(slack.requests_to(HISTORY)[0].args["oldest"]) > float(old)


# ================================================================================== secrets and errors


def test_tokens_never_reach_logs_or_exceptions(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
                                               capfd: pytest.CaptureFixture[str], sleeps: Sleeps) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "xoxb-wrong-0000-secret"
    with FakeSlack() as slack:
        slack.add_user(OMAR, "omar.owner@example.com", "Omar Owner")
        slack.add_channel(PLATFORM, "incident-followup")
        conn = {"conn_type": "slack", "password": slack.token, "extra": {"base_url": slack.base_url}}
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", json.dumps(conn))
        errors: list[BaseException] = []
        gateway = SlackGateway(fast_factory(), "#incident-followup", sleep=sleeps)
        sent(gateway.deliver(entry()))  # success, DEBUG logging on
        slack.timeout(3, seconds=2.0, only=POST)
        slack.rate_limit(1, retry_after="0")
        try:
            gateway.deliver(entry(step=1, action="warn_owner"))
        except SlackDeliveryUncertain as exc:
            errors.append(exc)
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", json.dumps({**conn, "password": wrong}))
        try:
            SlackGateway(fast_factory(), "#incident-followup", sleep=sleeps).deliver(entry())
        except SlackConfigurationError as exc:
            errors.append(exc)
        secrets = (slack.token, wrong)
    assert [type(e) for e in errors] == [SlackDeliveryUncertain, SlackConfigurationError]
    assert "invalid_auth" in str(errors[1])
    captured = capfd.readouterr()
    assert caplog.records  # the gateway and slack_sdk did log
    for secret in secrets:
        for text in (caplog.text, captured.out, captured.err, *map(str, errors), *map(repr, errors)):
            assert secret not in text


def test_not_a_slack_entry(gateway: SlackGateway) -> None:
    with pytest.raises(SlackRejected, match="not a Slack outbox entry"):
        gateway.deliver({**entry(), "channel": "jira"})
    with pytest.raises(SlackRejected, match="not a Slack outbox entry"):
        gateway.deliver({**entry(), "action": "create_ticket"})
    with pytest.raises(SlackRejected, match="no text"):
        gateway.deliver(entry(text="  "))


def test_the_client_comes_from_the_connection_on_first_use(slack: FakeSlack, sleeps: Sleeps) -> None:
    built: list[int] = []
    inner = fast_factory(base_url=slack.base_url)

    def counting() -> Any:
        built.append(1)
        return inner()

    gateway = SlackGateway(counting, "#incident-followup", sleep=sleeps)
    assert built == []  # nothing is built or read at construction
    gateway.deliver(entry())
    gateway.deliver(entry(step=1, action="warn_owner"))
    assert built == [1]
    assert gateway.client().retry_handlers == []  # slack_sdk's own re-sends are off


def test_the_gateway_counts_every_fault_it_meets_by_kind(slack: FakeSlack, gateway: SlackGateway) -> None:
    slack.faults.rate_limit(1, "0", only=HISTORY)
    slack.faults.server_error(1, 502, only=HISTORY)
    slack.faults.reset_before_commit(1, only=POST)
    slack.faults.server_error(1, 500, only=POST)
    slack.timeout(1, seconds=1.0, commit=True, only=POST)
    item = entry()
    delivery = sent(gateway.deliver(item))
    assert delivery.already_posted  # the post that timed out after commit was found in history
    one_message(slack, item["idempotency_key"])
    # each fault the fake fired, as the gateway met it: a reset or a timeout cannot tell whether it landed
    assert gateway.faults == {"rate_limit": 1, "http_502": 1, "connection_lost": 1, "http_500": 1, "timeout": 1}
    assert sum(gateway.faults.values()) == sum(slack.faults.fired.values())
