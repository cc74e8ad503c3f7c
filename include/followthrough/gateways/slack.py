"""Slack: the gateway that delivers the outbox's Slack actions, at most one message per idempotency key.

``SlackGateway.deliver(entry)`` handles the ladder's Slack actions (``dm_owner``, ``warn_owner``,
``post_team_channel``, ``dm_manager``, ``leadership_digest``, the weekly ``team_digest``, the
outbox's ``platform_alert`` and the folded ``dm_summary``) through the Slack provider's
``SlackHook`` (Connection ``slack_api_default``, the bot token in its password) or any
``slack_sdk.WebClient`` a factory returns.

Recipients. A person is reached by DM: their Slack id from the payload's ``slack_id``, else
``users.lookupByEmail(email)`` (cached), then ``conversations.open``. A channel is named
``#name`` (resolved once per gateway through ``conversations.list``, all pages, cached) or by
id. When a recipient cannot be reached (no Slack id and no e-mail, ``users_not_found``, a
deactivated account, an unknown or archived channel, a channel the bot is not in), the
gateway tries the payload's ``fallback`` recipients in order (e.g. the team lead), then the
platform channel; the reasons travel with the message ("Sent here because ...") and into the
Delivery (``external_ref`` ``C0PLATFORM1:1752573600.000100 fallback:#incident-followup
(users_not_found for omar.owner)``). A private message (a DM action) that falls back to a
channel is replaced by a notice naming who could not be reached, never its text.

Text. The payload's text was escaped by ``escalation.escape_slack``. It is escaped again
idempotently (``ensure_escaped``: a raw ``<``, ``>`` or a bare ``&``; ``&amp;`` stays as it is),
and every value this module inserts itself (person ids, channel names, reasons) goes through
``escape_slack``. So tracker text can never mention (``<!channel>``), ping or link. Messages are
Block Kit sections with the same text as the plain-text fallback (``text``).

Exactly once. Slack has no idempotency key, so each message carries one in its metadata
(``event_type: followthrough_action``, ``event_payload.key``). Before the first post to a
conversation in a gateway's life, and again after any ambiguous failure (timeout, connection
reset, 5xx, ``internal_error``), the gateway reads the conversation's recent history
(``conversations.history`` with ``include_all_metadata``, ``history_window`` seconds back) and
returns the message it finds as delivered instead of posting again. Re-runs (a new process)
therefore never double-post either. The provider's default retry handler would re-send a post
after a reset (python-slack-sdk#1013), so the client is built with ``retry_handlers=[]`` and
this module retries itself:

- HTTP 429 (any method; Slack did not act): wait ``Retry-After`` seconds (capped by
  ``max_retry_after``), at most ``max_rate_limit_waits`` times per call;
- reads (lookups, lists, history): timeouts, lost connections and 5xx are retried with
  exponential backoff, ``max_read_attempts`` in all;
- a post that failed ambiguously is repeated only after history shows it did not land, at
  most ``max_post_attempts`` in all; then ``SlackDeliveryUncertain`` (the outbox entry stays
  pending; the next delivery checks history first).

Tokens never appear in a log line or an exception message: this module never formats one,
and every text it takes from an exception is scrubbed of the client's token and of anything
shaped like a Slack token.

Scopes the bot needs: ``chat:write``, ``im:write``, ``users:read``, ``users:read.email``,
``channels:read``, ``groups:read``, ``channels:history``, ``groups:history``, ``im:history``.
"""

from __future__ import annotations

import http.client
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from followthrough.config import SLACK_CONN_ID
from followthrough.escalation import escape_slack
from followthrough.gateways.delivery import (
    DeliveryConfiguration,
    DeliveryDeferred,
    DeliveryError,
    DeliveryPermanent,
    DeliveryUncertain,
    ErrorCategory,
    Receipt,
)

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger(__name__)

EVENT_TYPE = "followthrough_action"
SLACK_ACTIONS = frozenset({"dm_owner", "warn_owner", "post_team_channel", "dm_manager", "leadership_digest",
                           "team_digest", "platform_alert", "dm_summary"})
DM_ACTIONS = frozenset({"dm_owner", "warn_owner", "dm_manager", "dm_summary"})
CHANNEL_ACTIONS = frozenset({"post_team_channel", "leadership_digest", "team_digest", "platform_alert"})
ACTION_LABELS = {
    "dm_owner": "action needed",
    "warn_owner": "deadline approaching",
    "post_team_channel": "escalation to the team channel",
    "dm_manager": "escalation to the manager",
    "leadership_digest": "escalation to leadership",
    "team_digest": "weekly digest",
    "platform_alert": "platform alert",
    "dm_summary": "more messages today",
}
SECTION_MAX = 3000  # Block Kit: characters per section text
BLOCKS_TEXT_MAX = 12_000  # keep well under msg_blocks_too_long (seen at about 13k characters)
TEXT_MAX = 39_000  # Slack truncates text above 40,000 characters
EXTERNAL_REF_MAX = 250  # ft_outbox.external_ref

# ok:false answers that mean "this recipient cannot be reached": try the next one.
UNREACHABLE = frozenset(
    {
        "users_not_found",
        "user_not_found",
        "user_disabled",
        "user_not_visible",
        "cannot_dm_bot",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "method_not_supported_for_channel_type",
    }
)
# ok:false answers that mean the token or the app is misconfigured: nothing can be delivered.
CONFIGURATION_ERRORS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "missing_scope",
        "not_allowed_token_type",
        "no_permission",
        "team_access_not_granted",
        "ekm_access_denied",
    }
)
# ok:false answers after which a write may or may not have happened (Slack: "some aspect of the
# operation may have succeeded").
AMBIGUOUS_ERRORS = frozenset({"internal_error", "fatal_error", "request_timeout", "service_unavailable"})

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{8,}$")
_TOKEN_SHAPE = re.compile(r"xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")
_BARE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt);)")
_SDK_METHODS = {
    "users.lookupByEmail": "users_lookupByEmail",
    "conversations.open": "conversations_open",
    "conversations.list": "conversations_list",
    "conversations.history": "conversations_history",
    "chat.postMessage": "chat_postMessage",
}


# ================================================================================== errors


class SlackGatewayError(DeliveryError):
    """A Slack delivery failed. Messages never carry the token. Each subclass is one delivery category."""

    def __init__(self, message: str, *, key: str = "", error: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.error = error


class SlackConfigurationError(SlackGatewayError, DeliveryConfiguration):
    """The token or the Slack app is wrong (invalid_auth, missing_scope, ...): retrying cannot help."""


class SlackRejected(SlackGatewayError, DeliveryPermanent):
    """Slack refused this message (e.g. invalid_blocks), or no recipient, fallbacks included, was reachable."""


class SlackUnavailable(SlackGatewayError, DeliveryDeferred):
    """Slack kept failing (429, 5xx, timeouts) beyond the retry budget; nothing was posted for the entry."""


class SlackDeliveryUncertain(SlackUnavailable, DeliveryUncertain):
    """A post may have landed and history could not confirm it either way.

    The outbox entry must stay pending: the next delivery reads history before posting, so it
    never posts twice.
    """

    category: ErrorCategory = "uncertain"


class _AppError(Exception):
    """An ok:false answer (HTTP 200)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class _Ambiguous(Exception):
    """A write was sent and may have been applied."""


class _Unreachable(Exception):
    """This recipient cannot be reached; ``reason`` is a Slack error code or a short phrase."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ================================================================================== text


def ensure_escaped(text: object) -> str:
    """Escape Slack's control characters without escaping twice: ``&amp;``/``&lt;``/``&gt;`` stay as they are.

    Applied to text that ``escalation.escape_slack`` already escaped it changes nothing; applied to
    raw text it neutralises ``<``, ``>`` and bare ``&`` (a raw ``&amp;`` then shows as ``&``).
    """
    value = _BARE_AMPERSAND.sub("&amp;", str(text or ""))
    return value.replace("<", "&lt;").replace(">", "&gt;")


def _chunks(text: str, size: int) -> list[str]:
    """Split at whitespace into pieces of at most ``size`` characters, never inside an entity."""
    pieces: list[str] = []
    rest = text
    while len(rest) > size:
        cut = rest.rfind(" ", 0, size + 1)
        if cut <= 0:
            cut = size
            amp = rest.rfind("&", max(0, cut - 5), cut)
            if amp != -1 and ";" not in rest[amp:cut]:
                cut = amp
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return [p for p in pieces if p] or [""]


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 12]
    amp = cut.rfind("&", max(0, len(cut) - 5))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + " (truncated)"


# ================================================================================== delivery


@dataclass(frozen=True)
class SlackDelivery(Receipt):
    """A Receipt with what Slack answered: ``external_ref`` is ``<channel>:<ts>`` plus the fallback, if any."""

    channel: str = ""
    ts: str = ""
    target: str = ""  # who or where it went: a person id, "#name" or a channel id
    reasons: tuple[str, ...] = ()  # why earlier recipients were skipped, e.g. "users_not_found for omar.owner"
    already_posted: bool = False  # found in history (an earlier, ambiguous attempt had landed)

    @property
    def fallback(self) -> bool:
        return bool(self.reasons)


@dataclass(frozen=True)
class _Target:
    label: str  # person id, "#name" or channel id: how notes and refs name it
    kind: str  # person | channel
    slack_id: str = ""
    email: str = ""
    channel: str = ""  # "#name" or an id


def hook_client_factory(
    slack_conn_id: str = SLACK_CONN_ID, *, base_url: str | None = None, timeout: int | None = None
) -> Callable[[], WebClient]:
    """A factory for the provider's WebClient: ``SlackHook(...).get_conn()`` with slack_sdk's retries off.

    ``retry_handlers=[]``: the default ConnectionErrorRetryHandler re-sends a post after a reset
    (a duplicate message), and the rate-limit handler sleeps outside the gateway's budget; the
    gateway retries itself. ``base_url`` points the hook elsewhere (tests); so does the
    Connection's ``base_url`` extra.
    """

    def build() -> WebClient:
        from airflow.providers.slack.hooks.slack import SlackHook

        hook = SlackHook(slack_conn_id=slack_conn_id, base_url=base_url, timeout=timeout, retry_handlers=[])
        return hook.get_conn()

    return build


class SlackGateway:
    """Delivers the outbox's Slack actions; see the module docstring for the rules.

    :param client_factory: returns a ``slack_sdk.WebClient`` (default: ``hook_client_factory()``);
        called once, on the first delivery.
    :param platform_channel: the last fallback for every message (policy ``dispatch.platform_channel``).
    :param lookup_cache: e-mail -> user id and channel name -> id (keys ``email:<address>``,
        ``channel:<name>``); pass a persistent mapping to share it across runs.
    :param sleep: waits (Retry-After, backoff); tests inject a no-op.
    :param clock: epoch seconds, for the history window.
    """

    def __init__(
        self,
        client_factory: Callable[[], WebClient] | None = None,
        platform_channel: str = "#incident-followup",
        lookup_cache: MutableMapping[str, str] | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        history_window: float = 7 * 86_400.0,
        history_page_size: int = 200,
        max_history_pages: int = 10,
        check_history_first: bool = True,
        max_rate_limit_waits: int = 5,
        max_retry_after: float = 120.0,
        max_read_attempts: int = 4,
        max_post_attempts: int = 3,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        max_list_pages: int = 200,
    ) -> None:
        if not platform_channel:
            raise ValueError("a platform channel is required (the last fallback for every message)")
        self._factory = client_factory or hook_client_factory()
        self._client: WebClient | None = None
        self.platform_channel = platform_channel
        self.lookup_cache: MutableMapping[str, str] = lookup_cache if lookup_cache is not None else {}
        self.sleep = sleep
        self.clock = clock
        self.history_window = history_window
        self.history_page_size = history_page_size
        self.max_history_pages = max_history_pages
        self.check_history_first = check_history_first
        self.max_rate_limit_waits = max_rate_limit_waits
        self.max_retry_after = max_retry_after
        self.max_read_attempts = max_read_attempts
        self.max_post_attempts = max_post_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_list_pages = max_list_pages
        self.stats: Counter[str] = Counter()
        # every failed call by what went wrong (rate_limit, http_5xx, slack_<error>, timeout,
        # connection_lost): the dispatch audits them per attempt
        self.faults: Counter[str] = Counter()
        # a monotonic instant no wait may cross (the dispatch attempt's time budget); None: no limit
        self.deadline: float | None = None
        self.monotonic: Callable[[], float] = time.monotonic
        self._not_found: set[str] = set()  # e-mails Slack does not know (this gateway's life only)
        self._dms: dict[str, str] = {}  # user id -> DM channel id
        self._directory: dict[str, tuple[str, bool]] | None = None  # channel name -> (id, archived)
        self._history: dict[str, dict[str, str]] = {}  # conversation -> {idempotency key: ts}

    # ----------------------------------------------------------------------------- the Delivery protocol

    def deliver(self, entry: dict[str, Any]) -> Receipt:
        """Post the entry's message once; return ``SlackDelivery(status="sent", external_ref="<channel>:<ts>...")``."""
        key = str(entry.get("idempotency_key") or "")
        action = str(entry.get("action") or "")
        if entry.get("channel") != "slack" or action not in SLACK_ACTIONS or not key:
            raise SlackRejected(
                f"not a Slack outbox entry: channel={entry.get('channel')!r} action={action!r} key={key!r}", key=key)
        payload = entry.get("payload") or {}
        if not str(payload.get("text") or "").strip():
            raise SlackRejected(f"outbox entry {key} has no text", key=key)
        candidates = self._candidates(entry)
        reasons: list[str] = []
        for target in candidates:
            try:
                conversation = self._resolve(target)
                channel, ts, already = self._post_once(conversation, target, entry, candidates[0], reasons)
            except _Unreachable as skip:
                if target.kind == "channel":  # e.g. archived since it was cached: look it up afresh next time
                    self.lookup_cache.pop(f"channel:{target.channel.strip().lstrip('#').lower()}", None)
                reasons.append(f"{skip.reason} for {target.label}")
                log.warning("Slack %s: cannot reach %s (%s); trying the next recipient", key, target.label, skip.reason)
                continue
            ref = f"{channel}:{ts}"
            if reasons:
                self.stats["fallbacks"] += 1
                ref += f" fallback:{target.label} ({'; '.join(reasons)})"
            self.stats["already_posted" if already else "posted"] += 1
            log.info("Slack %s: %s to %s as %s", key, "already delivered" if already else "delivered",
                     target.label, ref)
            return SlackDelivery(status="sent", external_ref=_clip(ref, EXTERNAL_REF_MAX), channel=channel, ts=ts,
                                 target=target.label, reasons=tuple(reasons), already_posted=already)
        raise SlackRejected(f"no Slack recipient reachable for {key}: {'; '.join(reasons)}", key=key)

    # ----------------------------------------------------------------------------- recipients

    def _candidates(self, entry: Mapping[str, Any]) -> list[_Target]:
        payload = entry.get("payload") or {}
        action = str(entry["action"])
        recipient = str(entry.get("recipient") or payload.get("to") or "").strip()
        if action in CHANNEL_ACTIONS and not recipient:
            primary = _Target(label=f"({action} channel)", kind="channel")
        else:
            primary = _target(recipient, str(payload.get("slack_id") or ""), str(payload.get("email") or ""))
        targets = [primary]
        fallbacks = payload.get("fallback") or []
        if isinstance(fallbacks, (str, Mapping)):
            fallbacks = [fallbacks]
        for item in fallbacks:
            if isinstance(item, Mapping):
                targets.append(_target(str(item.get("to") or item.get("recipient") or "").strip(),
                                       str(item.get("slack_id") or ""), str(item.get("email") or "")))
            elif str(item).strip():
                text = str(item).strip()
                targets.append(_target(text, text if _USER_ID.match(text) else "", text if "@" in text else ""))
        targets.append(_Target(label=self.platform_channel, kind="channel", channel=self.platform_channel))
        unique: list[_Target] = []
        seen: set[tuple[str, str]] = set()
        for target in targets:
            identity = (target.kind, (target.channel or target.slack_id or target.email or target.label).lower())
            if identity not in seen:
                seen.add(identity)
                unique.append(target)
        return unique

    def _resolve(self, target: _Target) -> str:
        """The conversation id to post to (a DM for a person); raises _Unreachable."""
        if target.kind == "channel":
            return self._channel_id(target.channel)
        user = target.slack_id if _USER_ID.match(target.slack_id) else ""
        if not user and target.email:
            user = self._user_by_email(target.email)
        if not user:
            raise _Unreachable("no Slack id or e-mail")
        if user not in self._dms:
            try:
                data = self._call("conversations.open", users=user)
            except _AppError as exc:
                raise self._classify(exc, f"conversations.open for {target.label}") from None
            self._dms[user] = str(data["channel"]["id"])
        return self._dms[user]

    def _user_by_email(self, email: str) -> str:
        address = email.strip().lower()
        cached = self.lookup_cache.get(f"email:{address}")
        if cached:
            return cached
        if address in self._not_found:
            raise _Unreachable("users_not_found")
        try:
            data = self._call("users.lookupByEmail", email=address)
        except _AppError as exc:
            if exc.error == "users_not_found":
                self._not_found.add(address)
            raise self._classify(exc, "users.lookupByEmail") from None
        user = data.get("user") or {}
        if user.get("deleted"):
            raise _Unreachable("user_disabled")
        user_id = str(user.get("id") or "")
        if not _USER_ID.match(user_id):
            raise SlackRejected("users.lookupByEmail returned no user id")
        self.lookup_cache[f"email:{address}"] = user_id
        return user_id

    def _channel_id(self, ref: str) -> str:
        ref = ref.strip()
        if not ref or ref == "#":
            raise _Unreachable("no channel configured")
        if _CHANNEL_ID.match(ref):
            return ref
        name = ref.lstrip("#").lower()
        cached = self.lookup_cache.get(f"channel:{name}")
        if cached:
            return cached
        directory = self._channel_directory()
        if name not in directory:
            raise _Unreachable("channel_not_found")
        channel_id, archived = directory[name]
        if archived:
            raise _Unreachable("is_archived")
        self.lookup_cache[f"channel:{name}"] = channel_id
        return channel_id

    def _channel_directory(self) -> dict[str, tuple[str, bool]]:
        """Every channel the bot can see, by name (all pages of conversations.list, once)."""
        if self._directory is not None:
            return self._directory
        directory: dict[str, tuple[str, bool]] = {}
        cursor = ""
        seen: set[str] = set()
        for _ in range(self.max_list_pages):
            try:
                data = self._call("conversations.list", types="public_channel,private_channel",
                                  exclude_archived=False, limit=200, cursor=cursor or None)
            except _AppError as exc:
                raise SlackRejected(f"conversations.list failed: {exc.error}", error=exc.error) from None
            for channel in data.get("channels") or []:
                name = str(channel.get("name") or "").lower()
                if name and (name not in directory or directory[name][1]):  # an active one wins
                    directory[name] = (str(channel["id"]), bool(channel.get("is_archived")))
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor or cursor in seen:
                break
            seen.add(cursor)
        else:
            log.warning("Slack conversations.list: stopped after %d pages", self.max_list_pages)
        self._directory = directory
        return directory

    # ----------------------------------------------------------------------------- posting

    def _post_once(self, conversation: str, target: _Target, entry: Mapping[str, Any], primary: _Target,
                   reasons: list[str]) -> tuple[str, str, bool]:
        """(channel, ts, already_posted): find the key in history or post; raises _Unreachable."""
        key = str(entry["idempotency_key"])
        if self.check_history_first or entry.get("uncertain"):
            # an uncertain entry (an earlier attempt or an expired claim may have posted): read history afresh
            found = self._find_posted(conversation, key, refresh=bool(entry.get("uncertain")))
            if found:
                return conversation, found, True
        text, blocks = self._message(entry, target, primary, reasons)
        metadata = {"event_type": EVENT_TYPE, "event_payload": _event_payload(entry)}
        problem = ""
        for attempt in range(1, self.max_post_attempts + 1):
            try:
                data = self._call("chat.postMessage", write=True, channel=conversation, text=text, blocks=blocks,
                                  metadata=metadata, unfurl_links=False, unfurl_media=False)
            except _AppError as exc:
                if exc.error not in AMBIGUOUS_ERRORS:
                    raise self._classify(exc, f"chat.postMessage for {key}") from None
                problem = exc.error
            except _Ambiguous as exc:
                problem = str(exc)
            else:
                channel, ts = str(data.get("channel") or conversation), str(data["ts"])
                if conversation in self._history:
                    self._history[conversation][key] = ts
                return channel, ts, False
            self.stats["ambiguous"] += 1
            log.warning("Slack %s: chat.postMessage to %s failed ambiguously (%s, attempt %d/%d); "
                        "checking history before any re-send", key, conversation, problem, attempt,
                        self.max_post_attempts)
            self.sleep(self._backoff(attempt))
            try:
                found = self._find_posted(conversation, key, refresh=True)
            except SlackUnavailable as exc:
                raise SlackDeliveryUncertain(
                    f"Slack {key}: a post to {conversation} may have landed ({problem}) and history could not "
                    f"be read ({exc}); the next delivery checks history before posting", key=key
                ) from None
            if found:
                return conversation, found, True
        raise SlackDeliveryUncertain(
            f"Slack {key}: chat.postMessage to {conversation} failed ambiguously {self.max_post_attempts} times "
            f"(last: {problem}); no message with this key in history yet; the next delivery checks history "
            f"before posting", key=key
        )

    def _find_posted(self, conversation: str, key: str, *, refresh: bool) -> str | None:
        """The ts of the message carrying ``key`` in the conversation's recent history, if any."""
        if refresh or conversation not in self._history:
            self._history[conversation] = self._read_history(conversation)
        return self._history[conversation].get(key)

    def _read_history(self, conversation: str) -> dict[str, str]:
        """{idempotency key: ts} of the gateway's messages in the window (oldest message wins)."""
        self.stats["history_reads"] += 1
        oldest = f"{max(0.0, self.clock() - self.history_window):.6f}"
        index: dict[str, str] = {}
        cursor = ""
        for _ in range(self.max_history_pages):
            try:
                data = self._call("conversations.history", channel=conversation, oldest=oldest,
                                  limit=self.history_page_size, include_all_metadata=True, cursor=cursor or None)
            except _AppError as exc:
                raise self._classify(exc, f"conversations.history of {conversation}") from None
            for message in data.get("messages") or []:  # newest first: an older duplicate overwrites
                metadata = message.get("metadata") or {}
                if metadata.get("event_type") == EVENT_TYPE:
                    found = (metadata.get("event_payload") or {}).get("key")
                    if found:
                        index[str(found)] = str(message["ts"])
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not data.get("has_more") or not cursor:
                break
        else:
            log.warning("Slack history of %s: read %d pages and stopped; older messages were not checked",
                        conversation, self.max_history_pages)
        return index

    def _message(self, entry: Mapping[str, Any], target: _Target, primary: _Target,
                 reasons: list[str]) -> tuple[str, list[dict[str, Any]]]:
        """(text, blocks): the payload's text (escaped idempotently), a context line, and the fallback note."""
        payload = entry.get("payload") or {}
        action = str(entry["action"])
        key = str(entry["idempotency_key"])
        body = ensure_escaped(payload.get("text"))
        note = ""
        if reasons:
            note = f"Sent here because Slack could not reach the intended recipient: {escape_slack('; '.join(reasons))}."
            if action in DM_ACTIONS and target.kind == "channel":  # never show a private message in a channel
                body = (f"A private Followthrough message ({ACTION_LABELS[action]}) could not be delivered to "
                        f"{escape_slack(primary.label)}. It is not shown here; please make sure they can be "
                        f"reached on Slack. Outbox entry: {escape_slack(key)}")
        step = entry.get("step")
        context = f"Followthrough · {ACTION_LABELS[action]}" + (f" · step {int(step)}" if step not in (None, "") else "")
        if note:
            context += " · " + note
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": chunk, "verbatim": True}}
            for chunk in _chunks(_clip(body, BLOCKS_TEXT_MAX), SECTION_MAX)
        ]
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(context, SECTION_MAX), "verbatim": True}]})
        text = _clip(body + (f" ({note})" if note else ""), TEXT_MAX)
        return text, blocks

    # ----------------------------------------------------------------------------- calls

    def client(self) -> WebClient:
        """The WebClient (built on first use)."""
        if self._client is None:
            self._client = self._factory()
        return self._client

    def _call(self, method: str, *, write: bool = False, **kwargs: Any) -> dict[str, Any]:
        """One Web API call with the retry rules of the module docstring; ok:false raises _AppError."""
        from slack_sdk.errors import SlackApiError

        client = self.client()
        call = getattr(client, _SDK_METHODS[method])
        arguments = {k: v for k, v in kwargs.items() if v is not None}
        waits = 0
        failures = 0
        while True:
            self.stats[method] += 1
            try:
                response = call(**arguments)
                return dict(response.data) if isinstance(response.data, dict) else {}
            except SlackApiError as exc:
                status = int(exc.response.status_code)
                data = exc.response.data if isinstance(exc.response.data, dict) else {}
                error = str(data.get("error") or "")
                if status == 429:
                    self.faults["rate_limit"] += 1
                    waits += 1
                    delay = self._retry_after(exc.response.headers)
                    if waits > self.max_rate_limit_waits or delay > self.max_retry_after:
                        raise SlackUnavailable(
                            f"Slack {method}: rate-limited {waits} times (Retry-After {delay:.0f} s); giving up for now",
                            error="ratelimited",
                        ) from None
                    self._within_deadline(method, delay)
                    self.stats["rate_limited"] += 1
                    log.warning("Slack %s: rate-limited, waiting %.1f s (Retry-After) [%d/%d]", method, delay, waits,
                                self.max_rate_limit_waits)
                    self.sleep(delay)
                    continue
                if status == 200:
                    if error in CONFIGURATION_ERRORS:
                        raise SlackConfigurationError(
                            f"Slack {method}: {error} (check the Connection {SLACK_CONN_ID!r} and the app's scopes)",
                            error=error,
                        ) from None
                    if error in AMBIGUOUS_ERRORS:
                        self.faults[f"slack_{error}"] += 1
                    if not (error in AMBIGUOUS_ERRORS and not write):
                        raise _AppError(error or "unknown_error") from None
                elif status < 500:  # 4xx other than 429: retrying the same request cannot help
                    raise SlackRejected(f"Slack {method}: HTTP {status} {error}".strip(), error=error or None) from None
                else:
                    self.faults[f"http_{status}"] += 1
                problem = f"HTTP {status} {error}".strip()
            except (OSError, http.client.HTTPException) as exc:
                self.faults["timeout" if _timed_out(exc) else "connection_lost"] += 1
                problem = f"{type(exc).__name__}: {self._scrub(str(exc))[:200]}"
            if write:
                raise _Ambiguous(problem)
            failures += 1
            if failures >= self.max_read_attempts:
                raise SlackUnavailable(f"Slack {method}: failed {failures} times (last: {problem})") from None
            self._within_deadline(method, self._backoff(failures))
            self.stats["retries"] += 1
            log.warning("Slack %s: %s; retrying [%d/%d]", method, problem, failures, self.max_read_attempts)
            self.sleep(self._backoff(failures))

    def _within_deadline(self, method: str, wait: float) -> None:
        if self.deadline is not None and self.monotonic() + wait > self.deadline:
            raise SlackUnavailable(f"Slack {method}: waiting {wait:.1f} s would pass this dispatch attempt's time budget")

    def _classify(self, exc: _AppError, what: str) -> Exception:
        if exc.error in UNREACHABLE:
            return _Unreachable(exc.error)
        return SlackRejected(f"Slack {what}: {exc.error}", error=exc.error)

    def _retry_after(self, headers: Mapping[str, Any]) -> float:
        value: Any = None
        for name, raw in headers.items():
            if name.lower() == "retry-after":
                value = raw[0] if isinstance(raw, list) and raw else raw
                break
        if value is None or not str(value).strip():
            return self.backoff_base
        text = str(value).strip()
        try:
            return max(0.0, float(text))
        except ValueError:
            pass
        try:
            return max(0.0, parsedate_to_datetime(text).timestamp() - self.clock())
        except (TypeError, ValueError, IndexError):
            return self.backoff_base

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff_max, self.backoff_base * 2 ** max(0, attempt - 1)))

    def _scrub(self, text: str) -> str:
        token = getattr(self._client, "token", None)
        if token:
            text = text.replace(str(token), "[redacted]")
        return _TOKEN_SHAPE.sub("[redacted]", text)


# ================================================================================== helpers


def _timed_out(exc: BaseException) -> bool:
    """True for a timeout (also one urllib wraps in URLError), False for a reset or another lost connection."""
    reason = getattr(exc, "reason", None)
    return isinstance(exc, TimeoutError) or isinstance(reason, TimeoutError)


def _target(recipient: str, slack_id: str, email: str) -> _Target:
    """A recipient string (person id, "#name" or a channel id) with the person's contact details."""
    if recipient.startswith("#") or re.match(r"^[CG][A-Z0-9]{8,}$", recipient):
        return _Target(label=recipient, kind="channel", channel=recipient)
    return _Target(label=recipient or slack_id or email or "(nobody)", kind="person", slack_id=slack_id.strip(),
                   email=email.strip())


def _event_payload(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata payload: the idempotency key, plus what identifies the finding (JSON scalars only)."""
    payload: dict[str, Any] = {"key": str(entry["idempotency_key"]), "action": str(entry["action"])}
    if entry.get("fingerprint"):
        payload["fingerprint"] = str(entry["fingerprint"])
    for name in ("episode", "step"):
        if entry.get(name) not in (None, ""):
            payload[name] = int(entry[name])
    return payload
