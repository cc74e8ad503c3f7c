"""An in-memory Slack Web API served over real HTTP on 127.0.0.1, for tests (never imported by product code).

    with FakeSlack() as slack:
        slack.add_user("U0OWNER001", "omar@example.com", "Omar Owner")
        slack.add_channel("C0PAYMENTS1", "payments", members=["U0OWNER001"])
        client = WebClient(token=slack.token, base_url=slack.base_url, retry_handlers=[])
        client.chat_postMessage(channel="C0PAYMENTS1", text="hello")
        assert slack.requests["chat.postMessage"] == 1
        assert [m["text"] for m in slack.messages("C0PAYMENTS1")] == ["hello"]
        assert not slack.violations

Methods served (``POST`` or ``GET /api/<method>``, form-encoded, JSON or query-string arguments):
``auth.test``, ``users.lookupByEmail``, ``users.info``, ``conversations.open``, ``conversations.info``,
``conversations.list``, ``conversations.history``, ``chat.postMessage``. Other methods of the spec
answer 501 and are listed in :attr:`FakeSlack.unimplemented`; names the spec does not know answer
404 ``unknown_method``.

Honesty rules (sources: ``/work/shared/research/jira-slack-api-notes.md`` §2-§3, §6 and the official
but stale Swagger 2.0 document ``slack-web-api.openapi-v2.json``, Oct 2020):

- Shapes as the live API: every answer is JSON ``{"ok": true, ...}``; application errors are
  **HTTP 200** ``{"ok": false, "error": "<code>"}`` (``users_not_found``, ``channel_not_found``,
  ``is_archived``, ``not_in_channel``, ``invalid_auth``, ``invalid_blocks``, ...). Only the fault
  switches answer otherwise: 429 ``{"ok": false, "error": "ratelimited"}`` with ``Retry-After``,
  503, a hang, a reset connection.
- Auth: ``Authorization: Bearer <token>``, or a ``token`` form/query argument. A token inside a
  JSON body is ignored (Slack: JSON bodies must carry the token in the header), so the call gets
  ``not_authed``. A wrong token gets ``invalid_auth``.
- Every request's arguments are checked against the spec's parameters for the method (required,
  type: string/boolean/integer/number, with form values as strings and ``1``/``0``/``true``/``false``
  booleans) and its ``consumes`` media types. A request the spec does not allow is answered the way
  Slack answers it (``invalid_arguments``, ``channel_not_found`` for a missing channel, ``no_text``,
  ``invalid_form_data``) and recorded in :attr:`FakeSlack.violations`. So are rules the spec does
  not show but Slack enforces: Block Kit structure (``invalid_blocks``, with ``errors`` naming the
  JSON pointer), message ``metadata`` shape (``invalid_metadata_format``), text length
  (``msg_too_long``). Arguments neither the spec nor the notes know are ignored (as Slack does) and
  noted in :attr:`FakeSlack.ignored_args`. ``blocks`` without a top-level ``text`` works but is
  noted in :attr:`FakeSlack.warnings` (no notification fallback).
- Every JSON answer with ``ok`` is validated against the spec's success (``200``) or error
  (``default``) schema, as patched below. A failure is a bug in this fake: it goes to
  :attr:`FakeSlack.response_violations` and leaving the ``with`` block raises AssertionError.

Where the spec is stale (each is a patch in :data:`SPEC_PATCHES`, applied before validation):

- no ``metadata`` argument on ``chat.postMessage`` and no ``metadata``/``app_id`` on message objects
  (message metadata shipped in 2022); no ``markdown_text``; ``include_all_metadata`` is missing from
  ``conversations.history``;
- error enums lack codes the live API returns: ``ratelimited`` (the spec says ``rate_limited``),
  ``invalid_arguments``, ``invalid_blocks``, ``invalid_metadata_format``, ``invalid_cursor``,
  ``cannot_dm_bot``... and error bodies may carry ``errors``/``response_metadata``;
- ``conversations.history`` requires at least one message (an empty channel answers ``[]``) and
  has no ``response_metadata`` (the live API pages with ``next_cursor``);
- the token is modelled as a ``token`` header/query parameter (clients send a Bearer header);
  ``users.info``'s ``user`` and ``conversations.info``/``.history``'s ``channel`` are not marked
  required (the live API cannot answer without them);
- the Swagger idiom ``"items": [A, B]`` on a non-array schema (29 places, e.g. ``objs_user``,
  ``objs_conversation``, ``tz``) means "one of A, B"; read literally it validates nothing, so it is
  converted to ``anyOf``;
- the spec assigns each method GET or POST; Slack accepts either for every method (slack_sdk always
  POSTs), so the verb is not checked.

Assumptions (not confirmed by the notes; knobs where it matters):

- ``conversations.history`` returns message ``metadata`` only with ``include_all_metadata=true``
  (the docs: "Return all metadata associated with messages. Defaults to false"). The conservative
  reading: a client that wants to find its own metadata must ask for it.
- ``users.lookupByEmail`` finds deactivated users and returns them with ``deleted: true``
  (``lookup_finds_deleted=True``); ``conversations.open`` with a deactivated user answers
  ``user_disabled``.
- ``chat.postMessage`` to a ``U…`` user id posts into the app's DM with that user (the notes mark
  this UNCONFIRMED; :attr:`FakeSlack.warnings` notes it). Channel names (``#name``/``name``) are
  accepted by ``chat.postMessage`` only, not by ``conversations.history``/``.info``.
- ``conversations.list`` may return fewer channels than ``limit`` before the last page
  (``list_page_cap``); the last page has ``next_cursor: ""``. Private channels are listed only
  when the bot is a member. ``conversations.history`` pages newest first, ``limit`` default 100,
  at most 999; ``oldest``/``latest`` are exclusive unless ``inclusive``.
- A 503 answer carries a plain-text body (Slack's are not documented).
- Posting to a channel the bot is not a member of answers ``not_in_channel`` (no ``chat:write.public``).

Not emulated: scopes (every call is allowed), threads and replies, ``chat.update``/``delete``,
files, group DMs (``conversations.open`` with several users answers 501), per-channel posting
rate (1 msg/s; use :meth:`Faults.rate_limit`), Enterprise Grid, incoming webhooks.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import secrets
import socket
import struct
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
from referencing import Registry
from referencing.jsonschema import DRAFT4

from tests.fakes.faults import FaultSwitches, WriteObserver

SPEC_ENV = "FOLLOWTHROUGH_SLACK_OPENAPI"
_SPEC_NAME = "slack-web-api.openapi-v2.json"
_SPEC_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "specs" / _SPEC_NAME,
    Path(__file__).resolve().parents[3] / "shared" / "specs" / _SPEC_NAME,
    Path("/work/shared/specs") / _SPEC_NAME,
)
JSON_CONTENT_TYPE = "application/json; charset=utf-8"

SERVED = (
    "auth.test",
    "users.lookupByEmail",
    "users.info",
    "conversations.open",
    "conversations.info",
    "conversations.list",
    "conversations.history",
    "chat.postMessage",
)
# Methods whose success changes state: reset_after_commit / timeout(commit=True) matter for these.
WRITE_METHODS = frozenset({"chat.postMessage", "conversations.open"})

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{8,}$")
TS = re.compile(r"^\d{10}\.\d{6}$")
# Live codes the 2020 spec's error enums lack, accepted for every served method.
_LIVE_ERRORS = (
    "ratelimited",
    "invalid_arguments",
    "missing_scope",
    "not_authed",
    "invalid_auth",
    "token_revoked",
    "account_inactive",
    "invalid_form_data",
    "invalid_json",
    "json_not_object",
    "internal_error",
    "fatal_error",
    "invalid_cursor",
    "invalid_limit",
)
_METHOD_ERRORS = {
    "chat.postMessage": (
        "invalid_blocks",
        "msg_blocks_too_long",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
    ),
    "conversations.open": ("cannot_dm_bot",),
    "conversations.list": ("invalid_types",),
    "conversations.history": ("not_in_channel",),
}
# Arguments the live API takes that the 2020 spec does not list: name -> swagger-style type.
_LIVE_ARGS: dict[str, dict[str, dict[str, Any]]] = {
    "chat.postMessage": {"metadata": {"type": "string"}, "markdown_text": {"type": "string"}},
    "conversations.history": {"include_all_metadata": {"type": "boolean"}},
    "conversations.open": {"prevent_creation": {"type": "boolean"}},
    "conversations.list": {"team_id": {"type": "string"}},
    "conversations.info": {},
    "users.info": {},
    "users.lookupByEmail": {},
    "auth.test": {},
}
_REQUIRED_LIVE = {
    "users.info": ("user",),
    "conversations.info": ("channel",),
    "conversations.history": ("channel",),
}
SPEC_PATCHES = (
    "objs_message: + properties metadata {event_type, event_payload}, app_id",
    "conversations.history 200: messages may be empty; + response_metadata {next_cursor}",
    "every served method's error schema: + live error codes (ratelimited, invalid_arguments, ...), "
    "+ errors/response_metadata/warning properties",
    "chat.postMessage: + metadata, markdown_text arguments; blocks/attachments/metadata may be JSON "
    "values in a JSON body (strings in a form)",
    "conversations.history: + include_all_metadata; conversations.open: + prevent_creation; "
    "conversations.list: + team_id",
    "users.info user, conversations.info/history channel: required",
    "token: Bearer header (or a form/query token), not a header named 'token'",
    '"items": [A, B] on a non-array schema -> anyOf [A, B]',
)

_BLOCK_KEYS = {
    "section": {"type", "block_id", "text", "fields", "accessory", "expand"},
    "header": {"type", "block_id", "text"},
    "context": {"type", "block_id", "elements"},
    "divider": {"type", "block_id"},
}
# Block types Slack knows that this fake accepts without checking their inside.
_UNCHECKED_BLOCKS = frozenset({"actions", "image", "input", "rich_text", "markdown", "video", "file"})
_MAX_BLOCKS = 50
_MAX_TEXT = 40_000
_FAULT_STATUSES = frozenset({429, 503})


# ================================================================================== the spec


@dataclass(frozen=True)
class _Operation:
    method: str
    parameters: Mapping[str, Mapping[str, Any]]  # name -> swagger parameter (token excluded)
    required: frozenset[str]
    consumes: tuple[str, ...]
    success: Any  # converted JSON schema
    error: Any


def _convert(node: Any, base: str) -> Any:
    """Swagger 2.0 schema -> JSON Schema draft 4 (``$ref`` rebased, ``items: [..]`` on non-arrays -> anyOf)."""
    if isinstance(node, list):
        return [_convert(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = str(node["$ref"])
        return {"$ref": base + ref if ref.startswith("#") else ref}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in {"description", "title", "example", "examples", "x-examples"} or key.startswith("x-"):
            continue
        if key == "items" and isinstance(value, list) and node.get("type") != "array":
            out["anyOf"] = [_convert(item, base) for item in value]
        elif key in {"properties", "patternProperties"} and isinstance(value, dict):
            out[key] = {name: _convert(sub, base) for name, sub in value.items()}
        elif key in {"items", "not", "additionalProperties", "allOf", "anyOf", "oneOf"}:
            out[key] = _convert(value, base)
        else:
            out[key] = value
    return out


class SlackSpec:
    """The Swagger 2.0 document, patched where it is stale (:data:`SPEC_PATCHES`), indexed per method."""

    _BASE = "urn:slack-web-api"

    def __init__(self, document: Mapping[str, Any]) -> None:
        doc = copy.deepcopy(dict(document))
        self.methods = frozenset(path.strip("/") for path in doc.get("paths", {}))
        self._patch(doc)
        definitions = {name: _convert(schema, self._BASE) for name, schema in doc["definitions"].items()}
        self._registry: Registry[Any] = Registry().with_resource(
            self._BASE, DRAFT4.create_resource({"definitions": definitions})
        )
        self._operations: dict[str, _Operation] = {}
        self._validators: dict[tuple[str, str], jsonschema.protocols.Validator] = {}
        self._lock = threading.Lock()
        for path, item in doc["paths"].items():
            name = path.strip("/")
            if name not in SERVED:
                continue
            op = item.get("get") or item.get("post")
            params = {p["name"]: p for p in op.get("parameters", []) if p.get("name") != "token"}
            params.update({n: {"name": n, "in": "formData", **t} for n, t in _LIVE_ARGS.get(name, {}).items()})
            required = {n for n, p in params.items() if p.get("required")} | set(_REQUIRED_LIVE.get(name, ()))
            self._operations[name] = _Operation(
                method=name,
                parameters=params,
                required=frozenset(required),
                consumes=tuple(op.get("consumes", ["application/x-www-form-urlencoded"])),
                success=_convert(op["responses"]["200"]["schema"], self._BASE),
                error=_convert(op["responses"]["default"]["schema"], self._BASE),
            )

    @staticmethod
    def _patch(doc: dict[str, Any]) -> None:
        definitions = doc["definitions"]
        message = definitions["objs_message"]["properties"]
        message["metadata"] = {
            "type": "object",
            "additionalProperties": False,
            "required": ["event_type", "event_payload"],
            "properties": {"event_type": {"type": "string"}, "event_payload": {"type": "object"}},
        }
        message["app_id"] = {"$ref": "#/definitions/defs_app_id"}
        history = doc["paths"]["/conversations.history"]["get"]["responses"]["200"]["schema"]["properties"]
        history["messages"].pop("minItems", None)
        history["response_metadata"] = {
            "type": "object",
            "properties": {"next_cursor": {"type": "string"}},
            "required": ["next_cursor"],
        }
        for name in SERVED:
            item = doc["paths"]["/" + name]
            op = item.get("get") or item.get("post")
            error = op["responses"]["default"]["schema"]
            enum = error["properties"]["error"].setdefault("enum", [])
            for code in (*_LIVE_ERRORS, *_METHOD_ERRORS.get(name, ())):
                if code not in enum:
                    enum.append(code)
            error["properties"].setdefault("errors", {"type": "array", "items": {"type": "string"}})
            error["properties"].setdefault("response_metadata", {"type": "object"})
            error["properties"].setdefault("warning", {"type": "string"})

    def operation(self, method: str) -> _Operation:
        return self._operations[method]

    def check_response(self, method: str, body: Any) -> list[str]:
        """Problems of a JSON answer against the method's success or error schema."""
        op = self._operations[method]
        ok = isinstance(body, dict) and body.get("ok") is True
        key = (method, "success" if ok else "error")
        with self._lock:
            validator = self._validators.get(key)
            if validator is None:
                validator = jsonschema.Draft4Validator(op.success if ok else op.error, registry=self._registry)
                self._validators[key] = validator
        problems = []
        for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))[:5]:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            problems.append(f"{where}: {error.message[:300]}")
        return problems


@cache
def load_slack_spec(path: str) -> SlackSpec:
    """Parse and patch the Slack document once per process."""
    with Path(path).open(encoding="utf-8") as handle:
        return SlackSpec(json.load(handle))


def find_spec(explicit: str | os.PathLike[str] | None = None) -> Path:
    candidates = [Path(explicit)] if explicit else []
    if os.environ.get(SPEC_ENV):
        candidates.append(Path(os.environ[SPEC_ENV]))
    candidates.extend(_SPEC_CANDIDATES)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"Slack Web API spec not found; set {SPEC_ENV}. Looked in: {[str(c) for c in candidates]}"
    )


# ================================================================================== records


@dataclass
class RecordedRequest:
    """One request the fake received (the token is never kept)."""

    method: str  # the API method, e.g. "chat.postMessage"
    http_method: str
    args: dict[str, Any]
    content_type: str
    at: float
    status: int | None = None  # None: no answer was sent (reset, timeout)
    error: str | None = None  # the ``error`` of an ok:false answer
    fault: str | None = None
    token_from: str | None = None  # "argument" (query or form, even beside a header) or "header"; never the value


@dataclass(frozen=True)
class Violation:
    """A request the Slack contract does not allow; the fake answered it with an error."""

    method: str
    kind: str  # spec | media-type | blocks | metadata | no-text | unknown-method
    messages: tuple[str, ...]
    args: Any = None

    def __str__(self) -> str:
        return f"{self.method} [{self.kind}]: " + "; ".join(self.messages)


@dataclass
class _User:
    id: str
    email: str
    name: str
    deleted: bool = False
    tz: str = "Europe/Berlin"
    is_bot: bool = False


@dataclass
class _Channel:
    id: str
    name: str
    archived: bool = False
    private: bool = False
    members: set[str] = field(default_factory=set)
    created: int = 0
    im_user: str | None = None  # set for DMs

    @property
    def is_im(self) -> bool:
        return self.im_user is not None


@dataclass
class _Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None  # a non-JSON body


class _SlackError(Exception):
    """Raised by handlers: an ok:false answer (a violation too when ``violation`` is set)."""

    def __init__(self, error: str, *, violation: str | None = None, messages: Sequence[str] = (),
                 errors: Sequence[str] = ()) -> None:
        super().__init__(error)
        self.error = error
        self.violation = violation
        self.messages = tuple(messages) or (error,)
        self.errors = list(errors)


# ================================================================================== faults


class Faults(FaultSwitches):
    """Fault switches (tests/fakes/faults.py).

    ``only`` restricts a fault to one API method (``"chat.postMessage"``). Request faults
    (rate_limit, unavailable, timeout) fire in the order they were set, before authentication and
    validation.
    """

    def reset_after_commit(self, n: int = 1, *, only: str | None = "chat.postMessage") -> None:
        """For the next n successful writes (``only``; default chat.postMessage): apply, then send a TCP RST."""
        super().reset_after_commit(n, only=only)


# ================================================================================== the fake


class FakeSlack:
    """A Slack workspace with one bot, served over HTTP (see the module docstring)."""

    def __init__(
        self,
        token: str | None = None,
        *,
        clock: Callable[[], float] | None = None,
        team_id: str = "T0FAKETEAM1",
        team_name: str = "Followthrough Test",
        bot_user_id: str = "U0FAKEBOT01",
        bot_id: str = "B0FAKEBOT01",
        app_id: str = "A0FAKEAPP01",
        list_page_cap: int = 1000,
        lookup_finds_deleted: bool = True,
        spec_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.token = token or "xoxb-fake-" + secrets.token_hex(12)
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.list_page_cap = list_page_cap
        self.lookup_finds_deleted = lookup_finds_deleted
        self._clock = clock or time.time
        self.spec_path = find_spec(spec_path)
        self.spec = load_slack_spec(str(self.spec_path))

        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

        self.faults = Faults(self._lock)
        self.requests: Counter[str] = Counter()  # per API method, every request (faulted ones too)
        self.log: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        self.response_violations: list[str] = []
        self.ignored_args: list[tuple[str, str]] = []  # (method, argument)
        self.unimplemented: list[str] = []
        self.write_observer: WriteObserver | None = None  # see tests/fakes/faults.py
        self.warnings: list[str] = []

        self._users: dict[str, _User] = {}
        self._channels: dict[str, _Channel] = {}
        self._ims: dict[str, str] = {}  # user id -> D id
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._last_ts = 0
        self._users[bot_user_id] = _User(bot_user_id, "", "followthrough", is_bot=True)

    # ----------------------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` once started."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not running; use it as a context manager or call start()")
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """The Web API base URL for slack_sdk / SlackHook (``.../api/``, trailing slash included)."""
        return self.url + "/api/"

    def start(self) -> FakeSlack:
        """Bind an ephemeral port on 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._stop.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.name = f"FakeSlack:{self._port}"
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hanging (timeout-fault) requests are released at once."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if exc_type is None and self.response_violations:
            raise AssertionError(
                "FakeSlack sent responses its spec does not allow:\n" + "\n".join(self.response_violations)
            )

    # ----------------------------------------------------------------------------- fault shortcuts

    def rate_limit(self, n: int = 1, retry_after: str | float | None = "1", *, only: str | None = None) -> None:
        """Shortcut for :meth:`Faults.rate_limit`."""
        self.faults.rate_limit(n, retry_after, only=only)

    def unavailable(self, n: int = 1, *, only: str | None = None) -> None:
        """Shortcut for :meth:`Faults.unavailable`."""
        self.faults.unavailable(n, only=only)

    def timeout(self, n: int = 1, seconds: float = 5.0, *, commit: bool = False, only: str | None = None) -> None:
        """Shortcut for :meth:`Faults.timeout`."""
        self.faults.timeout(n, seconds, commit=commit, only=only)

    def reset_after_commit(self, n: int = 1, *, only: str | None = "chat.postMessage") -> None:
        """Shortcut for :meth:`Faults.reset_after_commit`."""
        self.faults.reset_after_commit(n, only=only)

    # ----------------------------------------------------------------------------- seeding

    def add_user(self, id: str, email: str, name: str, deleted: bool = False, *,
                 tz: str = "Europe/Berlin") -> None:
        """Add a workspace member; ``deleted=True`` is a deactivated account."""
        if not USER_ID.match(id):
            raise ValueError(f"not a Slack user id: {id!r} (spec: ^[UW][A-Z0-9]{{2,}}$)")
        with self._lock:
            self._users[id] = _User(id, email, name, deleted, tz)

    def deactivate_user(self, id: str) -> None:
        with self._lock:
            self._users[id].deleted = True

    def add_channel(self, id: str, name: str, archived: bool = False, members: Iterable[str] = (), *,
                    private: bool = False, bot_member: bool = True) -> None:
        """Add a channel; the bot is a member unless ``bot_member=False``."""
        if not re.match(r"^[CG][A-Z0-9]{8,}$", id):
            raise ValueError(f"not a Slack channel id: {id!r} (spec: ^[CGD][A-Z0-9]{{8,}}$, D for DMs)")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,79}", name):
            raise ValueError(f"not a Slack channel name: {name!r} (lower case, digits, - and _, no '#')")
        with self._lock:
            people = set(members) | ({self.bot_user_id} if bot_member else set())
            self._channels[id] = _Channel(id, name, archived, private, people, int(self._clock()))
            self._messages.setdefault(id, [])

    def archive_channel(self, id: str) -> None:
        with self._lock:
            self._channels[id].archived = True

    def add_message(self, channel: str, text: str, *, user: str | None = None, ts: str | None = None,
                    metadata: Mapping[str, Any] | None = None) -> str:
        """Put a message into a channel's history directly (as if posted earlier); returns its ts."""
        with self._lock:
            if channel not in self._channels:
                raise KeyError(channel)
            stamp = ts or self._next_ts()
            message: dict[str, Any] = {"type": "message", "text": text, "user": user or self.bot_user_id,
                                       "ts": stamp, "team": self.team_id}
            if metadata is not None:
                message["metadata"] = copy.deepcopy(dict(metadata))
            self._messages[channel].append(message)
            self._messages[channel].sort(key=lambda m: m["ts"])
            return stamp

    # ----------------------------------------------------------------------------- inspection

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Stored messages (oldest first), of one channel or all; each carries ``channel``."""
        with self._lock:
            ids = [channel] if channel is not None else list(self._messages)
            return [{**copy.deepcopy(m), "channel": cid} for cid in ids for m in self._messages.get(cid, [])]

    def messages_with_key(self, key: str) -> list[dict[str, Any]]:
        """Messages whose metadata payload carries ``key`` (the gateway's idempotency key)."""
        return [m for m in self.messages() if (m.get("metadata") or {}).get("event_payload", {}).get("key") == key]

    def dm_channel(self, user_id: str) -> str | None:
        """The bot's DM channel with a user, if opened."""
        with self._lock:
            return self._ims.get(user_id)

    def requests_to(self, method: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.log if r.method == method]

    @staticmethod
    def control_sequences(text: str) -> list[str]:
        """What Slack would read as mentions, links or commands in a text: every ``<...>`` sequence."""
        return re.findall(r"<[^<>]*>", text)

    # ----------------------------------------------------------------------------- HTTP

    def _serve(self, handler: _Handler) -> None:
        split = urlsplit(handler.path)
        match = re.fullmatch(r"/api/([A-Za-z0-9_.]+)/?", split.path)
        method = match.group(1) if match else split.path
        content_type = (handler.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length > 0 else b""
        record = RecordedRequest(method, handler.command, {}, content_type, self._clock())
        observer = self.write_observer if method in WRITE_METHODS else None
        if observer is not None:
            observer(method, "before")
        with self._lock:
            self.log.append(record)
            self.requests[method] += 1
            fault = self.faults._take(self.faults._request_faults, method)

        if fault is not None:
            record.fault = fault.kind
            if fault.kind == "rate_limit":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                self._send(handler, record, _Reply(429, {"ok": False, "error": "ratelimited"}, headers))
                return
            if fault.kind == "unavailable":
                self._send(handler, record, _Reply(503, text="Service Unavailable"))
                return
            if fault.kind == "server_error":
                self._send(handler, record, _Reply(fault.status, text=f"Server error {fault.status}"))
                return
            if fault.kind == "reset_before_commit":
                self._drop(handler, reset=True)
                return
            if fault.kind == "timeout" and not fault.commit:
                self._stop.wait(fault.seconds)
                self._drop(handler, reset=False)
                return

        reply = self._answer(handler, method, split.query, content_type, raw, record)
        committed = reply.status == 200 and isinstance(reply.body, dict) and reply.body.get("ok") is True
        if fault is not None and fault.kind == "timeout":  # commit=True: processed, now hang and drop
            self._stop.wait(fault.seconds)
            self._drop(handler, reset=False)
            return
        committed = committed and method in WRITE_METHODS
        if committed and observer is not None:
            observer(method, "committed")
        if committed:
            with self._lock:
                reset = self.faults._take(self.faults._reset_faults, method)
            if reset is not None:
                record.fault = reset.kind
                self._drop(handler, reset=True)
                return
        self._send(handler, record, reply)
        if committed and observer is not None:
            observer(method, "answered")

    def _answer(self, handler: _Handler, method: str, query: str, content_type: str, raw: bytes,
                record: RecordedRequest) -> _Reply:
        if handler.command not in {"GET", "POST"}:
            return _Reply(405, text="Method Not Allowed", headers={"Allow": "GET, POST"})
        if method not in self.spec.methods:
            self._violate(method, "unknown-method", f"Slack has no method {method!r}")
            return _Reply(404, {"ok": False, "error": "unknown_method"})
        if method not in SERVED:
            with self._lock:
                self.unimplemented.append(method)
            return _Reply(501, {"ok": False, "error": "fake_unimplemented", "warning": f"FakeSlack does not serve {method}"})
        try:
            args, body_token = self._arguments(method, query, content_type, raw)
        except _SlackError as error:
            return self._checked(method, self._error_reply(method, error, None), record)
        header = handler.headers.get("Authorization") or ""
        token = header[7:].strip() if header.startswith("Bearer ") else body_token
        record.token_from = "argument" if body_token else "header" if header.startswith("Bearer ") else None
        record.args = {k: v for k, v in args.items()}
        if not token:
            return self._checked(method, _Reply(200, {"ok": False, "error": "not_authed"}), record)
        if not secrets.compare_digest(token, self.token):
            return self._checked(method, _Reply(200, {"ok": False, "error": "invalid_auth"}), record)
        try:
            values = self._validate(method, args)
            with self._lock:
                body = getattr(self, "_m_" + method.replace(".", "_"))(values)
            reply = _Reply(200, {"ok": True, **body})
        except _SlackError as error:
            reply = self._error_reply(method, error, args)
        return self._checked(method, reply, record)

    def _error_reply(self, method: str, error: _SlackError, args: Any) -> _Reply:
        if error.violation:
            self._violate(method, error.violation, *error.messages, args=args)
        body: dict[str, Any] = {"ok": False, "error": error.error}
        if error.errors:
            body["errors"] = error.errors
            body["response_metadata"] = {"messages": [f"[ERROR] {e}" for e in error.errors]}
        return _Reply(200, body)

    def _checked(self, method: str, reply: _Reply, record: RecordedRequest) -> _Reply:
        if isinstance(reply.body, dict) and reply.status not in _FAULT_STATUSES:
            problems = self.spec.check_response(method, reply.body)
            if problems:
                with self._lock:
                    self.response_violations.extend(f"{method} -> {reply.status}: {p}" for p in problems)
            if reply.body.get("ok") is False:
                record.error = str(reply.body.get("error"))
        return reply

    def _violate(self, method: str, kind: str, *messages: str, args: Any = None) -> None:
        with self._lock:
            self.violations.append(Violation(method, kind, tuple(messages), args))

    # ----------------------------------------------------------------------------- arguments

    def _arguments(self, method: str, query: str, content_type: str, raw: bytes) -> tuple[dict[str, Any], str]:
        """Merge query-string and body arguments; returns (arguments, token given as an argument)."""
        op = self.spec.operation(method)
        args: dict[str, Any] = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        token = str(args.pop("token", "") or "")
        if not raw.strip():
            return args, token
        if content_type == "application/x-www-form-urlencoded":
            form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
            token = str(form.pop("token", "") or token)
            args.update(form)
            return args, token
        if content_type == "application/json":
            if "application/json" not in op.consumes:
                raise _SlackError("invalid_form_data", violation="media-type",
                                  messages=(f"{method} does not take JSON bodies (spec consumes {list(op.consumes)})",))
            try:
                body = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise _SlackError("invalid_json", violation="media-type", messages=(f"body is not JSON: {exc}",)) from None
            if not isinstance(body, dict):
                raise _SlackError("json_not_object", violation="media-type", messages=("JSON body is not an object",))
            body.pop("token", None)  # Slack: JSON bodies must carry the token in the Authorization header
            args.update(body)
            return args, token
        raise _SlackError("invalid_form_data", violation="media-type",
                          messages=(f"unsupported content type {content_type or '(none)'!r}",))

    def _validate(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Coerce arguments by the spec's parameter types; raise for what Slack would reject."""
        op = self.spec.operation(method)
        values: dict[str, Any] = {}
        problems: list[str] = []
        for name, value in args.items():
            param = op.parameters.get(name)
            if param is None:
                with self._lock:
                    self.ignored_args.append((method, name))
                continue
            if name in {"blocks", "attachments", "metadata"} and not isinstance(value, str):
                values[name] = value  # JSON values in a JSON body
                continue
            coerced, problem = _coerce(value, str(param.get("type", "string")))
            if problem:
                problems.append(f"argument {name!r}: {problem}")
            else:
                values[name] = coerced
        missing = sorted(op.required - set(values))
        if method == "chat.postMessage" and "channel" in missing:
            raise _SlackError("channel_not_found", violation="spec", messages=("argument 'channel' is required",))
        problems.extend(f"argument {name!r} is required" for name in missing)
        if problems:
            raise _SlackError("invalid_arguments", violation="spec", messages=problems)
        return values

    # ----------------------------------------------------------------------------- methods

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": "https://followthrough-test.slack.com/", "team": self.team_name, "user": "followthrough",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id,
                "is_enterprise_install": False}

    def _m_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args["email"]).strip().lower()
        for user in self._users.values():
            if user.email and user.email.lower() == email and (self.lookup_finds_deleted or not user.deleted):
                return {"user": self._user_json(user)}
        raise _SlackError("users_not_found")

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._users.get(str(args["user"]))
        if user is None:
            raise _SlackError("user_not_found")
        return {"user": self._user_json(user)}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if "channel" in args:
            channel = self._channels.get(str(args["channel"]))
            if channel is None or not channel.is_im:
                raise _SlackError("channel_not_found")
            return {"channel": self._im_json(channel) if args.get("return_im") else {"id": channel.id},
                    "no_op": True, "already_open": True}
        users = [u.strip() for u in str(args.get("users", "")).split(",") if u.strip()]
        if not users:
            raise _SlackError("users_list_not_supplied")
        if len(users) > 8:
            raise _SlackError("too_many_users")
        if len(users) > 1:
            self.unimplemented.append("conversations.open with several users (group DM)")
            raise _SlackError("method_not_supported_for_channel_type")
        user = self._users.get(users[0])
        if user is None:
            raise _SlackError("user_not_found")
        if user.id == self.bot_user_id:
            raise _SlackError("cannot_dm_bot")
        if user.deleted:
            raise _SlackError("user_disabled")
        existed = user.id in self._ims
        channel = self._im_for(user.id)
        body: dict[str, Any] = {"channel": self._im_json(channel) if args.get("return_im") else {"id": channel.id}}
        if existed:
            body.update(no_op=True, already_open=True)
        return body

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible(str(args["channel"]))
        if channel.is_im:
            return {"channel": self._im_json(channel)}
        return {"channel": self._channel_json(channel, with_count=bool(args.get("include_num_members")))}

    def _m_conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        types = [t.strip() for t in str(args.get("types") or "public_channel").split(",") if t.strip()]
        if not types or set(types) - {"public_channel", "private_channel", "mpim", "im"}:
            raise _SlackError("invalid_types")
        limit = int(args.get("limit") or 100)
        if limit < 1:
            raise _SlackError("invalid_limit")
        limit = min(limit, 1000, self.list_page_cap)
        candidates = []
        for channel in self._channels.values():
            if channel.is_im:
                if "im" in types:
                    candidates.append(channel)
                continue
            kind = "private_channel" if channel.private else "public_channel"
            if kind not in types or (channel.private and self.bot_user_id not in channel.members):
                continue
            if channel.archived and args.get("exclude_archived"):
                continue
            candidates.append(channel)
        start = _decode_cursor(args.get("cursor"), "list")
        if start is None or start > len(candidates):
            raise _SlackError("invalid_cursor")
        page = candidates[start : start + limit]
        nxt = start + len(page)
        channels = [self._im_json(c) if c.is_im else self._channel_json(c) for c in page]
        return {"channels": channels,
                "response_metadata": {"next_cursor": _encode_cursor("list", nxt) if nxt < len(candidates) else ""}}

    def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible(str(args["channel"]))
        if not channel.is_im and self.bot_user_id not in channel.members:
            raise _SlackError("not_in_channel")
        oldest = _to_micros(args.get("oldest"), "invalid_ts_oldest", default=0)
        latest = _to_micros(args.get("latest"), "invalid_ts_latest", default=None)
        inclusive = bool(args.get("inclusive"))
        limit = int(args.get("limit") or 100)
        if limit < 1:
            raise _SlackError("invalid_limit")
        limit = min(limit, 999)
        inclusive_latest = inclusive
        if args.get("cursor"):  # the cursor names the last message already returned: continue below it
            before = _decode_cursor(args["cursor"], "history:" + channel.id)
            if before is None or before == 0:
                raise _SlackError("invalid_cursor")
            latest, inclusive_latest = before, False

        def keep(message: Mapping[str, Any]) -> bool:
            value = _micros(message["ts"])
            low = value >= oldest if inclusive else value > oldest
            high = latest is None or (value <= latest if inclusive_latest else value < latest)
            return low and high

        window = [m for m in reversed(self._messages.get(channel.id, [])) if keep(m)]  # newest first
        page = window[:limit]
        with_metadata = bool(args.get("include_all_metadata"))
        messages = [{k: copy.deepcopy(v) for k, v in m.items() if with_metadata or k != "metadata"} for m in page]
        body: dict[str, Any] = {"messages": messages, "has_more": len(window) > limit, "pin_count": 0,
                                "channel_actions_ts": None, "channel_actions_count": 0}
        if len(window) > limit:
            body["response_metadata"] = {"next_cursor": _encode_cursor("history:" + channel.id, _micros(page[-1]["ts"]))}
        return body

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._post_target(str(args["channel"]))
        if channel.archived:
            raise _SlackError("is_archived")
        if not channel.is_im and self.bot_user_id not in channel.members:
            raise _SlackError("not_in_channel")
        text = args.get("text")
        text = None if text is None else str(text)
        blocks = _json_arg(args.get("blocks"), "blocks")
        if blocks is not None:
            problems = _block_problems(blocks)
            if problems:
                raise _SlackError("invalid_blocks", violation="blocks", messages=problems, errors=problems)
        attachments = _json_arg(args.get("attachments"), "attachments")
        if not text and not blocks and not attachments and not args.get("markdown_text"):
            raise _SlackError("no_text", violation="no-text", messages=("no text, blocks or attachments",))
        if text is not None and len(text) > _MAX_TEXT:
            raise _SlackError("msg_too_long", violation="spec", messages=(f"text has {len(text)} characters",))
        if blocks and not text:
            self.warnings.append("chat.postMessage: blocks without a top-level text (no notification fallback)")
        metadata = args.get("metadata")
        if metadata is not None:
            metadata = _json_arg(metadata, "metadata")
            problem = _metadata_problem(metadata)
            if problem:
                raise _SlackError("invalid_metadata_format", violation="metadata", messages=(problem,))
        message: dict[str, Any] = {"type": "message", "text": text or "", "user": self.bot_user_id,
                                   "bot_id": self.bot_id, "app_id": self.app_id, "team": self.team_id,
                                   "ts": self._next_ts()}
        if blocks:
            message["blocks"] = copy.deepcopy(blocks)
        if metadata is not None:
            message["metadata"] = copy.deepcopy(metadata)
        self._messages.setdefault(channel.id, []).append(message)
        return {"channel": channel.id, "ts": message["ts"], "message": copy.deepcopy(message)}

    # ----------------------------------------------------------------------------- helpers

    def _next_ts(self) -> str:
        micros = max(int(self._clock() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000:010d}.{micros % 1_000_000:06d}"

    def _visible(self, channel_id: str) -> _Channel:
        channel = self._channels.get(channel_id)
        if channel is None or (channel.private and self.bot_user_id not in channel.members):
            raise _SlackError("channel_not_found")
        return channel

    def _post_target(self, ref: str) -> _Channel:
        if USER_ID.match(ref) and not CHANNEL_ID.match(ref):
            user = self._users.get(ref)
            if user is None:
                raise _SlackError("channel_not_found")
            self.warnings.append("chat.postMessage to a user id (posting into the app DM is UNCONFIRMED)")
            return self._im_for(user.id)
        if ref in self._channels:
            return self._visible(ref)
        name = ref[1:] if ref.startswith("#") else ref
        for channel in self._channels.values():
            if not channel.is_im and channel.name == name:
                return self._visible(channel.id)
        raise _SlackError("channel_not_found")

    def _im_for(self, user_id: str) -> _Channel:
        if user_id not in self._ims:
            digest = hashlib.sha1(user_id.encode()).hexdigest()[:10].upper()
            channel = _Channel("D" + digest, "", members={user_id, self.bot_user_id}, created=int(self._clock()),
                               im_user=user_id)
            self._channels[channel.id] = channel
            self._messages.setdefault(channel.id, [])
            self._ims[user_id] = channel.id
        return self._channels[self._ims[user_id]]

    def _user_json(self, user: _User) -> dict[str, Any]:
        profile = {"real_name": user.name, "display_name": user.name, "avatar_hash": "g0000000000",
                   "real_name_normalized": user.name, "display_name_normalized": user.name, "title": "",
                   "phone": "", "skype": "", "status_text": "", "status_emoji": "", "fields": None,
                   "email": user.email or None, "team": self.team_id}
        return {"id": user.id, "team_id": self.team_id, "name": user.email.split("@")[0] or user.name,
                "deleted": user.deleted, "real_name": user.name, "tz": user.tz, "tz_label": user.tz,
                "tz_offset": 0, "profile": profile, "is_admin": False, "is_owner": False,
                "is_primary_owner": False, "is_restricted": False, "is_ultra_restricted": False,
                "is_bot": user.is_bot, "is_app_user": False, "updated": int(self._clock())}

    def _channel_json(self, channel: _Channel, *, with_count: bool = False) -> dict[str, Any]:
        body = {"id": channel.id, "name": channel.name, "created": channel.created, "creator": self.bot_user_id,
                "is_archived": channel.archived, "is_channel": not channel.private, "is_general": False,
                "is_mpim": False, "is_group": channel.private, "is_org_shared": False, "is_im": False,
                "is_shared": False, "is_ext_shared": False, "is_private": channel.private,
                "is_member": self.bot_user_id in channel.members, "name_normalized": channel.name,
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0}, "previous_names": []}
        if with_count:
            body["num_members"] = len(channel.members)
        return body

    def _im_json(self, channel: _Channel) -> dict[str, Any]:
        user = self._users[str(channel.im_user)]
        return {"id": channel.id, "created": channel.created, "is_im": True, "is_org_shared": False,
                "user": user.id, "is_user_deleted": user.deleted, "priority": 0}

    def _send(self, handler: _Handler, record: RecordedRequest, reply: _Reply) -> None:
        if reply.text is not None:
            data, ctype = reply.text.encode("utf-8"), "text/plain; charset=utf-8"
        else:
            data, ctype = json.dumps(reply.body).encode("utf-8"), JSON_CONTENT_TYPE
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", ctype)
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("X-Slack-Req-Id", secrets.token_hex(8))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
            record.status = reply.status
        except OSError:
            handler.close_connection = True  # the client went away (e.g. after a timeout)

    def _drop(self, handler: _Handler, *, reset: bool) -> None:
        """Close without answering; ``reset=True`` sends a TCP RST (SO_LINGER 0)."""
        handler.close_connection = True
        sock = handler.connection
        try:
            if reset:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        except OSError:
            pass


# ================================================================================== module helpers


def _coerce(value: Any, kind: str) -> tuple[Any, str | None]:
    """A form string or JSON value as the spec's type; (value, problem)."""
    if kind == "boolean":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, int) and value in (0, 1):
            return bool(value), None
        if isinstance(value, str) and value.strip().lower() in {"true", "false", "1", "0"}:
            return value.strip().lower() in {"true", "1"}, None
        return None, f"{value!r} is not a boolean"
    if kind == "integer":
        if isinstance(value, bool):
            return None, f"{value!r} is not an integer"
        if isinstance(value, int):
            return value, None
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
            return int(value), None
        return None, f"{value!r} is not an integer"
    if kind == "number":  # kept as given (timestamps must not lose microseconds to float)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value, None
        try:
            float(str(value))
        except ValueError:
            return None, f"{value!r} is not a number"
        return str(value), None
    if isinstance(value, str):
        return value, None
    return None, f"{value!r} is not a string"


def _json_arg(value: Any, name: str) -> Any:
    """blocks/attachments/metadata: a JSON value (JSON body) or a JSON-encoded string (form)."""
    if value is None or not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        code = "invalid_blocks" if name == "blocks" else "invalid_metadata_format" if name == "metadata" else "invalid_arguments"
        raise _SlackError(code, violation="spec", messages=(f"{name} is not valid JSON",)) from None


def _text_problems(obj: Any, pointer: str, *, limit: int, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict):
        return [f"must provide an object [json-pointer:{pointer}]"]
    kind = obj.get("type")
    if kind not in {"plain_text", "mrkdwn"} or (plain_only and kind != "plain_text"):
        allowed = "plain_text" if plain_only else "plain_text, mrkdwn"
        return [f"must be one of [{allowed}] [json-pointer:{pointer}/type]"]
    allowed_keys = {"type", "text", "emoji"} if kind == "plain_text" else {"type", "text", "verbatim"}
    problems = [f"unknown field {k!r} [json-pointer:{pointer}/{k}]" for k in sorted(set(obj) - allowed_keys)]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        problems.append(f"must be more than 0 characters [json-pointer:{pointer}/text]")
    elif len(text) > limit:
        problems.append(f"must be less than {limit + 1} characters [json-pointer:{pointer}/text]")
    return problems


def _block_problems(blocks: Any) -> list[str]:
    """Block Kit structure problems (the subset of block types a notifier uses), with JSON pointers."""
    if not isinstance(blocks, list):
        return ["must provide an array [json-pointer:/blocks]"]
    if len(blocks) > _MAX_BLOCKS:
        return [f"must provide no more than {_MAX_BLOCKS} items [json-pointer:/blocks]"]
    problems: list[str] = []
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        at = f"/blocks/{index}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"must provide an object with a type [json-pointer:{at}]")
            continue
        kind = block["type"]
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or not 0 < len(block_id) <= 255 or block_id in block_ids:
                problems.append(f"invalid or duplicate block_id [json-pointer:{at}/block_id]")
            block_ids.add(str(block_id))
        if kind in _UNCHECKED_BLOCKS:
            continue
        if kind not in _BLOCK_KEYS:
            problems.append(f"unknown block type {kind!r} [json-pointer:{at}/type]")
            continue
        problems.extend(f"unknown field {k!r} [json-pointer:{at}/{k}]" for k in sorted(set(block) - _BLOCK_KEYS[kind]))
        if kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"must provide text or fields [json-pointer:{at}]")
            if "text" in block:
                problems.extend(_text_problems(block["text"], f"{at}/text", limit=3000))
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list) or not 0 < len(fields) <= 10:
                    problems.append(f"must provide 1 to 10 items [json-pointer:{at}/fields]")
                else:
                    for i, item in enumerate(fields):
                        problems.extend(_text_problems(item, f"{at}/fields/{i}", limit=2000))
        elif kind == "header":
            problems.extend(_text_problems(block.get("text"), f"{at}/text", limit=150, plain_only=True))
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 0 < len(elements) <= 10:
                problems.append(f"must provide 1 to 10 items [json-pointer:{at}/elements]")
            else:
                for i, element in enumerate(elements):
                    if isinstance(element, dict) and element.get("type") == "image":
                        continue
                    problems.extend(_text_problems(element, f"{at}/elements/{i}", limit=3000))
    return problems


def _metadata_problem(metadata: Any) -> str | None:
    if not isinstance(metadata, dict):
        return "metadata must be an object"
    unknown = set(metadata) - {"event_type", "event_payload"}
    if unknown:
        return f"metadata has unknown keys {sorted(unknown)}"
    event_type = metadata.get("event_type")
    if not isinstance(event_type, str) or not re.fullmatch(r"[A-Za-z0-9_]{1,255}", event_type):
        return "metadata.event_type must be a non-empty string of letters, digits and underscores"
    if not isinstance(metadata.get("event_payload"), dict):
        return "metadata.event_payload must be an object"
    return None


def _to_micros(value: Any, error: str, *, default: int | None) -> int | None:
    """A Slack timestamp argument (``1752573600.000100``, ``1752573600``, ``0``) in microseconds."""
    if value in (None, ""):
        return default
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _SlackError(error) from None
    if not number.is_finite() or number < 0:
        raise _SlackError(error)
    return int(number * 1_000_000)


def _micros(ts: str) -> int:
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])


def _encode_cursor(scope: str, value: int) -> str:
    return base64.urlsafe_b64encode(f"{scope}|{value}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: Any, scope: str) -> int | None:
    """The position a cursor names, 0 for none, None for a cursor this scope did not issue."""
    if cursor in (None, ""):
        return 0
    try:
        text = base64.urlsafe_b64decode(str(cursor) + "=" * (-len(str(cursor)) % 4)).decode()
        name, _, value = text.rpartition("|")
        return int(value) if name == scope else None
    except (ValueError, UnicodeDecodeError):
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    fake: FakeSlack


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes; with Nagle on, a keep-alive client's delayed ACK
    # held the body back about 40 ms per response
    disable_nagle_algorithm = True
    server: _Server
    timeout = 30  # idle keep-alive connections

    def _dispatch(self) -> None:
        try:
            self.server.fake._serve(self)
        except Exception:  # a bug in the fake: make it loud at __exit__, answer 500
            with self.server.fake._lock:
                self.server.fake.response_violations.append("FakeSlack crashed:\n" + traceback.format_exc())
            try:
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        """Silence the default stderr access log (the fake keeps its own)."""
