"""The Slack Web API fake is honest: spec-valid answers, Slack's error conventions, and working fault switches.

These tests talk to :class:`tests.fakes.slack.FakeSlack` over real HTTP, with plain ``requests`` where
the wire format matters and with ``slack_sdk.WebClient`` (what the product's SlackHook builds)
elsewhere, so the gateway's tests can trust what the fake says.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakes.slack import FakeSlack, find_spec

OWNER = "U0OWNER001"
LEAD = "U0LEAD0001"
GONE = "U0GONE0001"
TEAM = "C0PAYMENTS1"
OLD = "C0OLDTEAM01"
NOBOT = "C0NOBOTCH01"
SECRET = "G0SECRET001"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_user(OWNER, "omar.owner@example.com", "Omar Owner")
    fake.add_user(LEAD, "lena.lead@example.com", "Lena Lead")
    fake.add_user(GONE, "gary.gone@example.com", "Gary Gone", deleted=True)
    fake.add_channel(TEAM, "payments", members=[OWNER, LEAD])
    fake.add_channel(OLD, "old-team", archived=True)
    fake.add_channel(NOBOT, "no-bot-here", bot_member=False)
    fake.add_channel(SECRET, "secret-private", private=True, bot_member=False)
    with fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token=slack.token, base_url=slack.base_url, retry_handlers=[], timeout=5)


def _raw(slack: FakeSlack, method: str, *, token: str | None = None, json_body: Any = None,
         data: dict[str, Any] | None = None, params: dict[str, Any] | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token if token is not None else slack.token}"} if token != "" else {}
    return requests.post(slack.base_url + method, headers=headers, json=json_body, data=data, params=params,
                         timeout=5)


def _error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


# ================================================================================== shapes


def test_every_served_method_answers_spec_valid_shapes(slack: FakeSlack, client: WebClient) -> None:
    auth = client.auth_test()
    assert auth["ok"] is True
    assert auth["user_id"] == slack.bot_user_id
    assert auth["bot_id"] == slack.bot_id

    user = client.users_lookupByEmail(email="OMAR.OWNER@example.com")["user"]  # e-mail match ignores case
    assert user["id"] == OWNER
    assert user["profile"]["email"] == "omar.owner@example.com"
    assert user["deleted"] is False
    assert client.users_info(user=LEAD)["user"]["real_name"] == "Lena Lead"

    opened = client.conversations_open(users=[OWNER])
    dm = opened["channel"]["id"]
    assert dm.startswith("D")
    assert "no_op" not in opened.data
    again = client.conversations_open(users=OWNER)  # "opens or resumes": the same D id
    assert again["channel"]["id"] == dm
    assert again["already_open"] is True
    assert client.conversations_info(channel=dm)["channel"]["is_im"] is True

    info = client.conversations_info(channel=TEAM, include_num_members=True)["channel"]
    assert (info["name"], info["is_archived"], info["num_members"]) == ("payments", False, 3)

    posted = client.chat_postMessage(channel=TEAM, text="hello", blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": "*hello*"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "from the tests"}]},
    ])
    assert posted["ok"] is True
    assert posted["channel"] == TEAM
    assert posted["message"]["text"] == "hello"
    assert posted["message"]["bot_id"] == slack.bot_id
    history = client.conversations_history(channel=TEAM)
    assert [m["ts"] for m in history["messages"]] == [posted["ts"]]
    assert history["has_more"] is False
    # every answer above was validated against the (patched) spec; nothing the contract forbids was sent
    assert slack.response_violations == []
    assert slack.violations == []
    assert slack.warnings == []


def test_ts_is_a_monotonic_slack_timestamp_per_message(slack: FakeSlack, client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel=TEAM, text=f"m{i}")["ts"] for i in range(5)]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 5
    assert all(len(s) == 17 and s[10] == "." for s in stamps)  # "0123456789.012345"
    assert [m["ts"] for m in slack.messages(TEAM)] == stamps


def test_posting_by_channel_name_and_recording_per_channel(slack: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="#payments", text="by name")
    dm = client.conversations_open(users=OWNER)["channel"]["id"]
    client.chat_postMessage(channel=dm, text="direct")
    assert [m["text"] for m in slack.messages(TEAM)] == ["by name"]
    assert [m["text"] for m in slack.messages(dm)] == ["direct"]
    assert slack.dm_channel(OWNER) == dm


# ================================================================================== errors


@pytest.mark.parametrize(
    ("method", "args", "error"),
    [
        ("users.lookupByEmail", {"email": "nobody@example.com"}, "users_not_found"),
        ("users.info", {"user": "U0NOBODY01"}, "user_not_found"),
        ("conversations.open", {"users": "U0NOBODY01"}, "user_not_found"),
        ("conversations.open", {"users": GONE}, "user_disabled"),
        ("conversations.open", {"users": "U0FAKEBOT01"}, "cannot_dm_bot"),
        ("conversations.info", {"channel": "C0NOSUCH001"}, "channel_not_found"),
        ("conversations.info", {"channel": SECRET}, "channel_not_found"),  # private, bot not in it
        ("conversations.history", {"channel": NOBOT}, "not_in_channel"),
        ("chat.postMessage", {"channel": "C0NOSUCH001", "text": "x"}, "channel_not_found"),
        ("chat.postMessage", {"channel": "#nope", "text": "x"}, "channel_not_found"),
        ("chat.postMessage", {"channel": OLD, "text": "x"}, "is_archived"),
        ("chat.postMessage", {"channel": NOBOT, "text": "x"}, "not_in_channel"),
        ("conversations.list", {"types": "public_channel,shouting"}, "invalid_types"),
        ("conversations.list", {"cursor": "bm90LWEtY3Vyc29y"}, "invalid_cursor"),
        ("conversations.history", {"channel": TEAM, "oldest": "yesterday"}, "invalid_arguments"),
    ],
)
def test_app_errors_are_http_200_with_ok_false(slack: FakeSlack, method: str, args: dict[str, Any],
                                               error: str) -> None:
    response = _raw(slack, method, data=args)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"ok": False, "error": error}
    assert slack.messages(OLD) == []
    assert slack.messages(NOBOT) == []


def test_slack_sdk_raises_on_ok_false_with_status_200(slack: FakeSlack, client: WebClient) -> None:
    failure = _error(lambda: client.users_lookupByEmail(email="nobody@example.com"))
    assert failure.response.status_code == 200
    assert failure.response["error"] == "users_not_found"


def test_bearer_token_auth(slack: FakeSlack) -> None:
    assert _raw(slack, "auth.test", token="xoxb-wrong").json() == {"ok": False, "error": "invalid_auth"}
    assert _raw(slack, "auth.test", token="").json() == {"ok": False, "error": "not_authed"}
    # a token argument works in a form, not inside a JSON body (JSON needs the Authorization header)
    assert requests.post(slack.base_url + "auth.test", data={"token": slack.token}, timeout=5).json()["ok"] is True
    in_json = requests.post(slack.base_url + "chat.postMessage", json={"token": slack.token, "channel": TEAM,
                                                                       "text": "x"}, timeout=5)
    assert in_json.json() == {"ok": False, "error": "not_authed"}
    assert slack.messages(TEAM) == []
    assert all(slack.token not in json.dumps(r.args) for r in slack.log)  # the log never keeps a token


def test_a_request_the_spec_forbids_is_answered_like_slack_and_recorded(slack: FakeSlack) -> None:
    assert _raw(slack, "conversations.list", data={"limit": "lots"}).json()["error"] == "invalid_arguments"
    assert _raw(slack, "users.lookupByEmail", data={}).json()["error"] == "invalid_arguments"  # email is required
    assert _raw(slack, "chat.postMessage", json_body={"text": "where to?"}).json()["error"] == "channel_not_found"
    assert _raw(slack, "chat.postMessage", json_body={"channel": TEAM}).json()["error"] == "no_text"
    # the spec says users.lookupByEmail consumes form data only
    assert _raw(slack, "users.lookupByEmail", json_body={"email": "x@y"}).json()["error"] == "invalid_form_data"
    kinds = [(v.method, v.kind) for v in slack.violations]
    assert kinds == [("conversations.list", "spec"), ("users.lookupByEmail", "spec"), ("chat.postMessage", "spec"),
                     ("chat.postMessage", "no-text"), ("users.lookupByEmail", "media-type")]
    assert "argument 'limit'" in str(slack.violations[0])


def test_unknown_methods_and_arguments(slack: FakeSlack) -> None:
    unknown = _raw(slack, "chat.postMassage", data={"channel": TEAM, "text": "x"})
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error": "unknown_method"}
    assert slack.violations[-1].kind == "unknown-method"
    unserved = _raw(slack, "chat.update", data={"channel": TEAM, "ts": "1.1", "text": "x"})
    assert unserved.status_code == 501
    assert slack.unimplemented == ["chat.update"]
    # arguments Slack does not know are ignored, as Slack does, but noted
    assert _raw(slack, "auth.test", data={"flavour": "vanilla"}).json()["ok"] is True
    assert slack.ignored_args == [("auth.test", "flavour")]


def test_invalid_blocks_are_rejected_with_json_pointers(slack: FakeSlack, client: WebClient) -> None:
    bad = [
        {"type": "section"},
        {"type": "section", "text": {"type": "markdown", "text": "x"}},
        {"type": "header", "text": {"type": "mrkdwn", "text": "headers are plain text"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}},
        {"type": "context", "elements": []},
        {"type": "carousel"},
        {"type": "divider", "colour": "red"},
    ]
    failure = _error(lambda: client.chat_postMessage(channel=TEAM, text="fallback", blocks=bad))
    assert failure.response.status_code == 200
    assert failure.response["error"] == "invalid_blocks"
    errors = failure.response["errors"]
    for index in range(len(bad)):
        assert any(f"/blocks/{index}" in e for e in errors), (index, errors)
    assert slack.messages(TEAM) == []
    assert slack.violations[-1].kind == "blocks"
    assert len(_error(lambda: client.chat_postMessage(channel=TEAM, text="x", blocks=[{"type": "divider"}] * 51))
               .response["errors"]) == 1


def test_blocks_without_fallback_text_work_but_are_noted(slack: FakeSlack, client: WebClient) -> None:
    with pytest.warns(UserWarning, match="text"):  # slack_sdk warns too
        client.chat_postMessage(channel=TEAM, blocks=[{"type": "section", "text": {"type": "plain_text", "text": "hi"}}])
    assert len(slack.messages(TEAM)) == 1
    assert slack.warnings == ["chat.postMessage: blocks without a top-level text (no notification fallback)"]


def test_text_is_stored_verbatim_and_control_sequences_are_visible(slack: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel=TEAM, text="raw <!channel> and <https://evil|click>")
    client.chat_postMessage(channel=TEAM, text="escaped &lt;!channel&gt; R&amp;D")
    raw, escaped = (m["text"] for m in slack.messages(TEAM))
    assert FakeSlack.control_sequences(raw) == ["<!channel>", "<https://evil|click>"]
    assert FakeSlack.control_sequences(escaped) == []
    assert escaped == "escaped &lt;!channel&gt; R&amp;D"


# ================================================================================== metadata and history


def test_metadata_round_trip(slack: FakeSlack, client: WebClient) -> None:
    metadata = {"event_type": "followthrough_action", "event_payload": {"key": "fp:1:slack:step0:dm_owner"}}
    posted = client.chat_postMessage(channel=TEAM, text="with metadata", metadata=metadata)
    assert posted["message"]["metadata"] == metadata
    with_all = client.conversations_history(channel=TEAM, include_all_metadata=True)["messages"]
    assert with_all[0]["metadata"] == metadata
    without = client.conversations_history(channel=TEAM)["messages"]
    assert "metadata" not in without[0]  # assumption: metadata only when asked for
    assert slack.messages_with_key("fp:1:slack:step0:dm_owner")[0]["ts"] == posted["ts"]


@pytest.mark.parametrize("metadata", [{"event_type": "has space", "event_payload": {}}, {"event_type": "x"},
                                      {"event_type": "x", "event_payload": "not an object"}])
def test_malformed_metadata_is_rejected(slack: FakeSlack, client: WebClient, metadata: dict[str, Any]) -> None:
    failure = _error(lambda: client.chat_postMessage(channel=TEAM, text="x", metadata=metadata))
    assert failure.response["error"] == "invalid_metadata_format"
    assert slack.messages(TEAM) == []
    assert slack.violations[-1].kind == "metadata"


def test_history_pages_newest_first_within_oldest_and_latest(slack: FakeSlack, client: WebClient) -> None:
    stamps = [slack.add_message(TEAM, f"m{i}", ts=f"1752573600.{i:06d}") for i in range(7)]
    first = client.conversations_history(channel=TEAM, limit=3)
    assert [m["text"] for m in first["messages"]] == ["m6", "m5", "m4"]
    assert first["has_more"] is True
    second = client.conversations_history(channel=TEAM, limit=3, cursor=first["response_metadata"]["next_cursor"])
    third = client.conversations_history(channel=TEAM, limit=3, cursor=second["response_metadata"]["next_cursor"])
    assert [m["text"] for m in second["messages"]] == ["m3", "m2", "m1"]
    assert [m["text"] for m in third["messages"]] == ["m0"]
    assert third["has_more"] is False
    assert "response_metadata" not in third.data
    # oldest/latest are exclusive unless inclusive
    window = client.conversations_history(channel=TEAM, oldest=stamps[2], latest=stamps[5])["messages"]
    assert [m["text"] for m in window] == ["m4", "m3"]
    inclusive = client.conversations_history(channel=TEAM, oldest=stamps[2], latest=stamps[5], inclusive=True)
    assert [m["text"] for m in inclusive["messages"]] == ["m5", "m4", "m3", "m2"]
    # a cursor belongs to its channel
    dm = client.conversations_open(users=OWNER)["channel"]["id"]
    stolen = _error(lambda: client.conversations_history(channel=dm, cursor=first["response_metadata"]["next_cursor"]))
    assert stolen.response["error"] == "invalid_cursor"
    assert client.conversations_history(channel=dm)["messages"] == []  # an empty history is not an error


def test_conversations_list_paginates_with_a_cursor() -> None:
    with FakeSlack(list_page_cap=2) as slack:
        for index in range(5):
            slack.add_channel(f"C0CHANNEL{index:02d}", f"channel-{index}")
        slack.add_channel("C0ARCHIVED1", "archived-one", archived=True)
        slack.add_channel("G0PRIVATE01", "private-with-bot", private=True)
        slack.add_channel("G0PRIVATE02", "private-without-bot", private=True, bot_member=False)
        client = WebClient(token=slack.token, base_url=slack.base_url, retry_handlers=[])
        names: list[str] = []
        cursor = None
        pages = 0
        while True:
            page = client.conversations_list(types="public_channel,private_channel", limit=100, cursor=cursor)
            pages += 1
            assert len(page["channels"]) <= 2  # fewer than asked for, before the last page
            names += [c["name"] for c in page["channels"]]
            cursor = page["response_metadata"]["next_cursor"]
            if not cursor:
                break
        assert pages == 4
        assert names == ["channel-0", "channel-1", "channel-2", "channel-3", "channel-4", "archived-one",
                         "private-with-bot"]
        public = client.conversations_list(exclude_archived=True, limit=100)
        assert "archived-one" not in [c["name"] for c in public["channels"]]
        assert all(not c["is_private"] for c in public["channels"])


# ================================================================================== faults


@pytest.mark.parametrize("retry_after", ["0", "7", 3.0])
def test_rate_limit_is_429_ratelimited_with_retry_after(slack: FakeSlack, client: WebClient,
                                                        retry_after: Any) -> None:
    slack.rate_limit(2, retry_after, only="chat.postMessage")
    raw = _raw(slack, "chat.postMessage", json_body={"channel": TEAM, "text": "x"})
    assert raw.status_code == 429
    assert raw.json() == {"ok": False, "error": "ratelimited"}
    assert raw.headers["Retry-After"] == str(int(float(retry_after)))
    failure = _error(lambda: client.chat_postMessage(channel=TEAM, text="x"))
    assert failure.response.status_code == 429
    assert failure.response["error"] == "ratelimited"
    assert client.auth_test()["ok"] is True  # `only` spares other methods
    assert client.chat_postMessage(channel=TEAM, text="third time")["ok"] is True
    assert [m["text"] for m in slack.messages(TEAM)] == ["third time"]
    assert slack.faults.fired["rate_limit"] == 2
    assert slack.faults.pending() == {}


def test_unavailable_is_503(slack: FakeSlack, client: WebClient) -> None:
    slack.unavailable(1)
    failure = _error(client.auth_test)
    assert failure.response.status_code == 503
    assert client.auth_test()["ok"] is True


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_error_answers_its_status_and_posts_nothing(slack: FakeSlack, client: WebClient, status: int) -> None:
    slack.faults.server_error(1, status, only="chat.postMessage")
    failure = _error(lambda: client.chat_postMessage(channel=TEAM, text="refused"))
    assert failure.response.status_code == status
    assert slack.messages(TEAM) == []
    assert client.chat_postMessage(channel=TEAM, text="accepted")["ok"] is True
    assert slack.faults.fired_forms == {f"server_error:{status}": 1}


def test_reset_before_commit_posts_nothing(slack: FakeSlack) -> None:
    slack.faults.reset_before_commit(1, only="chat.postMessage")
    bare = WebClient(token=slack.token, base_url=slack.base_url, retry_handlers=[], timeout=5)
    with pytest.raises((ConnectionError, OSError)):
        bare.chat_postMessage(channel=TEAM, text="never")
    assert slack.messages(TEAM) == []
    assert slack.faults.fired == {"reset_before_commit": 1}


def test_timeout_without_commit_records_nothing_and_blocks_nobody(slack: FakeSlack) -> None:
    slack.timeout(1, seconds=1.0, only="chat.postMessage")
    slow = WebClient(token=slack.token, base_url=slack.base_url, retry_handlers=[], timeout=1)
    outcome: list[BaseException] = []

    def post() -> None:
        try:
            slow.chat_postMessage(channel=TEAM, text="lost")
        except BaseException as exc:  # noqa: BLE001 (recorded for the assertion)
            outcome.append(exc)

    thread = threading.Thread(target=post)
    thread.start()
    time.sleep(0.1)
    fast = WebClient(token=slack.token, base_url=slack.base_url, retry_handlers=[], timeout=5)
    assert fast.auth_test()["ok"] is True  # other requests are served meanwhile
    thread.join(5)
    assert outcome
    assert not isinstance(outcome[0], SlackApiError)
    assert slack.messages(TEAM) == []
    assert slack.requests["chat.postMessage"] == 1
    assert slack.requests_to("chat.postMessage")[0].status is None


def test_timeout_with_commit_records_the_message_then_drops(slack: FakeSlack) -> None:
    slack.timeout(1, seconds=1.0, commit=True, only="chat.postMessage")
    client = WebClient(token=slack.token, base_url=slack.base_url, retry_handlers=[], timeout=1)
    with pytest.raises(Exception) as caught:  # noqa: PT011 (TimeoutError or URLError, by timing)
        client.chat_postMessage(channel=TEAM, text="landed anyway")
    assert not isinstance(caught.value, SlackApiError)
    assert [m["text"] for m in slack.messages(TEAM)] == ["landed anyway"]


def test_stop_releases_a_hanging_request() -> None:
    fake = FakeSlack().start()
    fake.timeout(1, seconds=60)
    client = WebClient(token=fake.token, base_url=fake.base_url, retry_handlers=[], timeout=10)
    failures: list[BaseException] = []

    def call() -> None:
        try:
            client.auth_test()
        except BaseException as exc:  # noqa: BLE001 (recorded for the assertion)
            failures.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    fake.stop()
    thread.join(10)
    assert time.monotonic() - started < 5
    assert len(failures) == 1


def test_reset_after_commit_and_why_slack_sdk_retries_must_be_off(slack: FakeSlack) -> None:
    # slack_sdk's default ConnectionErrorRetryHandler re-sends the post after the reset: a duplicate
    # (python-slack-sdk#1013). That is what SlackHook gives you unless retry_handlers=[] is passed.
    slack.reset_after_commit(1)
    default = WebClient(token=slack.token, base_url=slack.base_url, timeout=5)
    assert default.chat_postMessage(channel=TEAM, text="double")["ok"] is True
    assert [m["text"] for m in slack.messages(TEAM)] == ["double", "double"]

    slack.reset_after_commit(1)
    bare = WebClient(token=slack.token, base_url=slack.base_url, retry_handlers=[], timeout=5)
    with pytest.raises((ConnectionError, OSError)):
        bare.chat_postMessage(channel=TEAM, text="once")
    assert [m["text"] for m in slack.messages(TEAM)].count("once") == 1
    assert slack.faults.fired["reset_after_commit"] == 2


def test_requests_are_counted_per_method(slack: FakeSlack, client: WebClient) -> None:
    slack.rate_limit(1, "0", only="users.lookupByEmail")
    _error(lambda: client.users_lookupByEmail(email="omar.owner@example.com"))
    client.users_lookupByEmail(email="omar.owner@example.com")
    client.auth_test()
    assert slack.requests == {"users.lookupByEmail": 2, "auth.test": 1}
    assert [r.fault for r in slack.requests_to("users.lookupByEmail")] == ["rate_limit", None]
    assert [r.status for r in slack.requests_to("users.lookupByEmail")] == [429, 200]


def test_lookup_of_a_deactivated_user(slack: FakeSlack, client: WebClient) -> None:
    assert client.users_lookupByEmail(email="gary.gone@example.com")["user"]["deleted"] is True
    with FakeSlack(lookup_finds_deleted=False) as strict:
        strict.add_user(GONE, "gary.gone@example.com", "Gary Gone", deleted=True)
        other = WebClient(token=strict.token, base_url=strict.base_url, retry_handlers=[])
        assert _error(lambda: other.users_lookupByEmail(email="gary.gone@example.com")).response["error"] == (
            "users_not_found")


# ================================================================================== the fake itself


def test_a_response_the_spec_forbids_fails_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": "x", "team": "t", "user": "u", "team_id": "not-a-team-id", "user_id": self.bot_user_id}

    monkeypatch.setattr(FakeSlack, "_m_auth_test", broken)
    with pytest.raises(AssertionError, match="team_id"), FakeSlack() as fake:
        WebClient(token=fake.token, base_url=fake.base_url, retry_handlers=[]).auth_test()


def test_the_spec_is_stale_where_the_notes_say(slack: FakeSlack) -> None:
    document = json.loads(find_spec().read_text())
    post = document["paths"]["/chat.postMessage"]["post"]
    assert "metadata" not in {p["name"] for p in post["parameters"]}
    errors = post["responses"]["default"]["schema"]["properties"]["error"]["enum"]
    assert "rate_limited" in errors
    assert "ratelimited" not in errors
    assert "include_all_metadata" not in {p["name"] for p in document["paths"]["/conversations.history"]["get"]["parameters"]}
    # ...and the fake serves the live behaviour anyway
    assert slack.spec.operation("chat.postMessage").parameters["metadata"]
    assert slack.spec.check_response("chat.postMessage", {"ok": False, "error": "ratelimited"}) == []


def test_instances_share_no_state() -> None:
    with FakeSlack() as first, FakeSlack() as second:
        first.add_channel(TEAM, "payments")
        second.add_channel(TEAM, "payments")
        first.rate_limit(1)
        WebClient(token=second.token, base_url=second.base_url, retry_handlers=[]).chat_postMessage(
            channel=TEAM, text="x")
        assert first.messages(TEAM) == []
        assert second.faults.fired == {}
        assert first.token != second.token
