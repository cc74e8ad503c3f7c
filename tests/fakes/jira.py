"""An in-memory Jira Cloud served over real HTTP on 127.0.0.1, for tests (never imported by product code).

    with FakeJira() as jira:
        jira.add_project("OPS", "Operations")
        jira.add_issue("OPS-1", {"summary": "Disk full", "issuetype": "Incident", "labels": ["sev1"]})
        client = JiraCloud(url=jira.url, username=jira.email, password=jira.api_token)
        ...
        assert jira.requests["GET /rest/api/3/search/jql"] == 1
        assert not jira.violations

Honesty rules (sources: ``/work/shared/research/jira-slack-api-notes.md`` and the official OpenAPI
document ``jira-cloud-platform.openapi-v3.json``):

- Every request to a served endpoint is checked against the spec operation (path and query
  parameters, request body via jsonschema, see :mod:`tests.fakes.openapi`). A request the spec does
  not allow gets 400 (415 for a non-JSON body) with an ErrorCollection body and is recorded in
  :attr:`FakeJira.violations`. So are requests that break rules the spec states in prose or that
  Jira enforces: ADF in v3 text fields and plain strings in v2 ones, labels without spaces, fields
  that "cannot be set", required create fields, calls to the removed ``/search`` endpoints (410),
  and paths or methods the spec does not have (404/405).
- Every response body is validated against the spec's schema for its status, and the status must
  be documented for the operation (fault statuses 401/410/429/503 excepted). System fields inside
  ``IssueBean.fields`` (free-form in the spec) are checked against their component schemas
  (StatusDetails, Priority, UserDetails, ...). A failure is a bug in this fake: it goes to
  :attr:`FakeJira.response_violations` and leaving the ``with`` block raises AssertionError.
- Behaviour the spec does not show is emulated from the notes: ``/rest/api/{2,3,latest}/search``
  answers 410 with the CHANGE-2046 body; ``search/jql`` defaults to ``fields=id``, pages with an
  opaque ``nextPageToken`` (omitted on the last page, with ``isLast: true``), rejects unbounded
  JQL, and may hide fresh writes (search lag) unless their ids are in ``reconcileIssues``; v2 paths
  take and return plain strings where v3 uses ADF; the atlassian client's int transition ids are
  accepted (Jackson scalar coercion).

Assumptions (not confirmed by the notes; each is a constructor knob where it matters):

- ``page_cap=100``: most issues per ``search/jql`` page when any field other than id/key (or an
  expand) is requested. The spec only says "may return fewer items per page where a large number of
  fields are requested"; 100 is the commonly reported figure. ``id_page_cap=5000`` (spec).
  ``maxResults`` outside 1..5000 is a 400 (third-party report).
- ``expand=changelog`` returns the most recent histories first, at most ``search_changelog_cap=20``
  per issue in search (Adaptavist) and ``changelog_cap=100`` on GET issue. Use
  ``GET /issue/{key}/changelog`` (oldest first, paginated) for full history.
- JQL date literals are read in UTC; ``labels =`` is case-sensitive; without ORDER BY results come
  newest issue first; pagination re-runs the query and slices (so writes between pages can shift
  items, as with any cursor you should not assume is a snapshot).
- Link direction: ``POST /issueLink {inwardIssue: A, outwardIssue: B}`` shows on A as
  ``outwardIssue: B`` and on B as ``inwardIssue: A``.

- The bodies of 401, 429 and 503 answers are ErrorCollections (Jira's are not documented).

Not emulated: permissions (every authenticated caller sees everything), screens and field
configurations per project/issue type, rendered fields, webhooks, attachments, worklogs, rate
limits other than the ``rate_limit`` switch. JQL is a subset (fields project, key/issuekey/id,
labels, status, statusCategory, issuetype, priority, resolution, assignee, reporter, created,
updated, resolutiondate, duedate, custom fields; AND/OR/NOT/parentheses; ORDER BY): functions
(``currentUser()``), text search (``~``) and ``WAS``/``CHANGED`` get 400 with a message naming
the fake's limit and are listed in :attr:`FakeJira.unimplemented`, as are spec operations the
fake does not serve (501).
"""

from __future__ import annotations

import base64
import copy
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
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

from tests.fakes.faults import Fault, FaultSwitches, WriteObserver
from tests.fakes.openapi import OpenAPISpec, Operation, PathMatch, load_spec

SPEC_ENV = "FOLLOWTHROUGH_JIRA_OPENAPI"
_SPEC_NAME = "jira-cloud-platform.openapi-v3.json"
_SPEC_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "specs" / _SPEC_NAME,
    Path(__file__).resolve().parents[3] / "shared" / "specs" / _SPEC_NAME,
    Path("/work/shared/specs") / _SPEC_NAME,
)

REMOVED_SEARCH_MESSAGE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."
UNBOUNDED_JQL = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
V3_TEXT_ERROR = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
V2_TEXT_ERROR = "Operation value must be a string"
JSON_CONTENT_TYPE = "application/json;charset=UTF-8"

_REMOVED_PATH = re.compile(r"^/rest/api/(?:2|3|latest)/(?:search|search/id|expression/eval)/?$")
_API_PATH = re.compile(r"^/rest/api/(2|3|latest)(/.*)?$")
_STATUS_CATEGORIES = {
    "new": (2, "blue-gray", "To Do"),
    "indeterminate": (4, "yellow", "In Progress"),
    "done": (3, "green", "Done"),
}
_SYSTEM_FIELDS = (
    "summary",
    "description",
    "status",
    "priority",
    "assignee",
    "reporter",
    "labels",
    "duedate",
    "created",
    "updated",
    "resolution",
    "resolutiondate",
    "issuetype",
    "project",
    "issuelinks",
    "comment",
)
_FIELD_NAMES = {
    "summary": "Summary",
    "description": "Description",
    "status": "Status",
    "priority": "Priority",
    "assignee": "Assignee",
    "reporter": "Reporter",
    "labels": "Labels",
    "duedate": "Due date",
    "created": "Created",
    "updated": "Updated",
    "resolution": "Resolution",
    "resolutiondate": "Resolved",
    "issuetype": "Issue Type",
    "project": "Project",
    "issuelinks": "Linked Issues",
    "comment": "Comment",
}
_NOT_NAVIGABLE = frozenset({"comment"})
# Fields a create or edit may set (custom fields are added per instance).
_SETTABLE = frozenset({"summary", "description", "priority", "assignee", "reporter", "labels", "duedate"})
_CREATE_ONLY = frozenset({"project", "issuetype"})
# Writes that reset_after_commit applies to ("METHOD /rest/api/3/..." templates).
_WRITE_TEMPLATES = frozenset(
    {
        "POST /rest/api/3/issue",
        "PUT /rest/api/3/issue/{issueIdOrKey}",
        "POST /rest/api/3/issue/{issueIdOrKey}/comment",
        "POST /rest/api/3/issue/{issueIdOrKey}/transitions",
        "POST /rest/api/3/issueLink",
        "PUT /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}",
        "DELETE /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}",
    }
)
# Component schemas for system fields inside IssueBean.fields (which the spec leaves free-form).
_FIELD_COMPONENTS = {
    "status": "StatusDetails",
    "priority": "Priority",
    "assignee": "UserDetails",
    "reporter": "UserDetails",
    "issuetype": "IssueTypeDetails",
    "resolution": "Resolution",
    "project": "ProjectDetails",
    "comment": "PageOfComments",
}
_JIRA_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$")
_FAULT_STATUSES = frozenset({401, 410, 429, 503})


# ================================================================================== small helpers


def jira_time(moment: datetime) -> str:
    """Format a datetime the way Jira does: ``2024-01-17T12:34:00.000+0000``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _parse_time(value: datetime | date | str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = value.strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def adf_from_text(text: str) -> dict[str, Any]:
    """A minimal ADF document: one paragraph per line."""
    content: list[dict[str, Any]] = []
    for line in text.split("\n"):
        paragraph: dict[str, Any] = {"type": "paragraph", "content": []}
        if line:
            paragraph["content"].append({"type": "text", "text": line})
        content.append(paragraph)
    return {"type": "doc", "version": 1, "content": content}


def adf_to_text(node: Any) -> str:
    """Plain text of an ADF document (block nodes on separate lines), as v2 returns it (approximately)."""
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    parts = [adf_to_text(child) for child in node.get("content", []) or []]
    if kind in {"doc", "bulletList", "orderedList", "listItem", "blockquote", "panel", "table", "tableRow"}:
        return "\n".join(parts)
    return "".join(parts)


def adf_problem(value: Any, path: str = "") -> str | None:
    """Why a value is not a structurally valid ADF document (None if it is)."""
    if not isinstance(value, dict):
        return "not an object"
    if path == "":
        if value.get("type") != "doc" or value.get("version") != 1:
            return "the root node must be {'type': 'doc', 'version': 1}"
        if not isinstance(value.get("content"), list):
            return "the root node needs a 'content' array"
    if not isinstance(value.get("type"), str):
        return f"node {path or '/'} has no 'type'"
    if value["type"] == "text" and not isinstance(value.get("text"), str):
        return f"text node {path} has no 'text' string"
    children = value.get("content", [])
    if not isinstance(children, list):
        return f"node {path or '/'} 'content' must be an array"
    for index, child in enumerate(children):
        problem = adf_problem(child, f"{path}/content/{index}")
        if problem:
            return problem
    return None


def _plain(value: Any) -> str | None:
    """A readable string for changelog entries."""
    if value is None:
        return None
    if isinstance(value, dict):
        return adf_to_text(value)
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


# ================================================================================== records


@dataclass
class RecordedRequest:
    """One request the fake received (bodies are parsed JSON when possible)."""

    method: str
    path: str
    endpoint: str  # "METHOD /path/template" (the Counter key in FakeJira.requests)
    query: dict[str, list[str]]
    body: Any
    api_version: str | None
    at: datetime
    status: int | None = None  # None: no response was sent (reset, timeout)
    fault: str | None = None


@dataclass(frozen=True)
class Violation:
    """A request the Jira contract does not allow; the fake answered it with 4xx."""

    endpoint: str
    kind: str  # "spec" | "fields" | "removed" | "unknown-endpoint" | "method" | "media-type"
    messages: tuple[str, ...]
    body: Any = None

    def __str__(self) -> str:
        return f"{self.endpoint} [{self.kind}]: " + "; ".join(self.messages)


@dataclass(frozen=True)
class _Status:
    id: str
    name: str
    category: str  # new | indeterminate | done


@dataclass(frozen=True)
class _Transition:
    id: str
    name: str
    to: str  # status name
    sources: tuple[str, ...] | None  # None: global (from any status)


@dataclass(frozen=True)
class _Project:
    id: str
    key: str
    name: str


@dataclass
class _User:
    account_id: str
    email: str
    display_name: str
    active: bool = True
    email_visible: bool = True
    time_zone: str = "UTC"


@dataclass(frozen=True)
class _CustomField:
    id: str
    name: str
    kind: Literal["string", "number", "option", "textarea", "date", "any"]
    options: tuple[str, ...] = ()


@dataclass
class _Comment:
    id: int
    author: str
    body: dict[str, Any]  # ADF
    created: datetime
    updated: datetime


@dataclass
class _Issue:
    id: int
    key: str
    project: str  # project key
    issuetype: str
    summary: str
    status: str
    created: datetime
    updated: datetime
    description: dict[str, Any] | None = None
    priority: str | None = None
    assignee: str | None = None
    reporter: str | None = None
    labels: list[str] = field(default_factory=list)
    duedate: str | None = None
    resolution: str | None = None
    resolutiondate: datetime | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    comments: list[_Comment] = field(default_factory=list)
    histories: list[dict[str, Any]] = field(default_factory=list)  # author: accountId, created: datetime
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def number(self) -> int:
        return int(self.key.rsplit("-", 1)[1])


@dataclass(frozen=True)
class _Link:
    id: int
    type: str  # link type name
    inward: int  # issue id
    outward: int


@dataclass
class _Stale:
    """What search sees of an issue while search lag lasts (None: not indexed yet)."""

    snapshot: _Issue | None
    due: float | None
    searches_left: int | None


@dataclass
class _Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class _ApiError(Exception):
    """Raised by handlers; becomes an ErrorCollection reply (and a violation if ``violation`` is set)."""

    def __init__(
        self,
        status: int,
        messages: Sequence[str] = (),
        errors: Mapping[str, str] | None = None,
        *,
        violation: str | None = None,
        unimplemented: bool = False,
    ) -> None:
        super().__init__("; ".join([*messages, *(errors or {}).values()]))
        self.status = status
        self.messages = list(messages)
        self.errors = dict(errors or {})
        self.violation = violation
        self.unimplemented = unimplemented


# ================================================================================== faults


class Faults(FaultSwitches):
    """Fault switches (tests/fakes/faults.py) plus search lag.

    ``only`` restricts a fault to one endpoint ("POST /rest/api/3/issue", as in FakeJira.requests)
    or one method ("POST"). Request faults (rate_limit, unavailable, timeout) fire in the order
    they were set, before authentication and validation.
    """

    KINDS = FaultSwitches.KINDS | {"search_lag"}

    def __init__(self, lock: threading.RLock) -> None:
        super().__init__(lock)
        self._lag: tuple[float | None, int | None] | None = None

    def search_lag(self, seconds: float | None = None, *, searches: int | None = None) -> None:
        """From now on, writes stay invisible to search (new issues) or stale (updated ones).

        They stay so for ``seconds`` of wall time, or for the next ``searches`` search requests
        (each page and each approximate-count is one). GET by key always sees the live issue,
        and so does a search listing the id in ``reconcileIssues``. ``search_lag()`` with no
        argument turns lag off for later writes; :meth:`FakeJira.reindex` ends pending lag.
        """
        with self._lock:
            self._lag = None if seconds is None and searches is None else (seconds, searches)

    def clear(self) -> None:
        """Remove every pending fault and stop search lag for later writes."""
        with self._lock:
            super().clear()
            self._lag = None


# ================================================================================== JQL


class JqlError(Exception):
    """A JQL query Jira would reject (or the fake cannot evaluate, when ``unsupported``)."""

    def __init__(self, message: str, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.unsupported = unsupported


@dataclass(frozen=True)
class _Token:
    kind: str  # lparen rparen comma op string word
    text: str
    value: str
    pos: int


_JQL_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      |(?P<lparen>\()|(?P<rparen>\))|(?P<comma>,)
      |(?P<op>!=|>=|<=|!~|=|~|>|<)
      |(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      |(?P<word>[^\s()",'=!<>~]+)""",
    re.VERBOSE | re.DOTALL,
)
_RESERVED = frozenset(
    {
        "and",
        "or",
        "not",
        "empty",
        "null",
        "order",
        "by",
        "asc",
        "desc",
        "in",
        "is",
        "was",
        "changed",
        "on",
        "before",
        "after",
        "during",
        "from",
        "to",
    }
)
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", " ": " ", "n": "\n", "t": "\t", "r": "\r"}


def _unescape(body: str, pos: int) -> str:
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        nxt = body[index + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            index += 2
        elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[index + 2 : index + 6]):
            out.append(chr(int(body[index + 2 : index + 6], 16)))
            index += 6
        else:
            raise JqlError(
                f"Error in the JQL Query: '\\{nxt}' is an illegal JQL escape sequence. The valid escape sequences "
                f"are \\', \\\", \\t, \\n, \\r, \\\\, '\\ ' and \\uXXXX. (line 1, character {pos + index + 1})"
            )
    return "".join(out)


def _tokenize(jql: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(jql):
        found = _JQL_TOKEN.match(jql, pos)
        if not found:
            if jql[pos] in "\"'":
                raise JqlError(
                    f"Error in the JQL Query: The quoted string '{jql[pos + 1 :]}' has not been completed. "
                    f"(line 1, character {pos + 1})"
                )
            raise JqlError(
                f"Error in the JQL Query: The character '{jql[pos]}' is a reserved JQL character. (line 1, character {pos + 1})"
            )
        kind = found.lastgroup or ""
        text = found.group()
        if kind != "ws":
            value = _unescape(text[1:-1], pos) if kind == "string" else text
            tokens.append(_Token(kind, text, value, pos))
        pos = found.end()
    return tokens


@dataclass(frozen=True)
class _Clause:
    field: str  # as written (for messages)
    op: str  # = != > >= < <= in "not in" is "is not"
    values: tuple[_Token, ...]


@dataclass(frozen=True)
class _BoolNode:
    op: str  # and | or | not
    children: tuple[_Clause | _BoolNode, ...]


@dataclass(frozen=True)
class _Query:
    where: _Clause | _BoolNode | None
    order: tuple[tuple[str, bool], ...]  # (field, descending)


class _JqlParser:
    """Recursive descent over the JQL subset: clauses joined by AND/OR/NOT/parentheses, then ORDER BY."""

    def __init__(self, jql: str) -> None:
        self.tokens = _tokenize(jql)
        self.index = 0

    def parse(self) -> _Query:
        where = None
        if self.tokens and not self._is_word("order"):
            where = self._or()
        order: list[tuple[str, bool]] = []
        if self._is_word("order"):
            self.index += 1
            if not self._is_word("by"):
                raise self._error("Expecting 'by' after 'order'")
            self.index += 1
            while True:
                token = self._next("a field to order by")
                if token.kind not in {"word", "string"}:
                    raise self._error(f"Expecting a field name but got '{token.text}'", token)
                descending = False
                if self._is_word("asc") or self._is_word("desc"):
                    descending = self._next("").value.lower() == "desc"
                order.append((token.value, descending))
                if not self._peek() or self._peek_kind() != "comma":
                    break
                self.index += 1
            if len(order) > 7:
                raise JqlError("The ORDER BY clause can contain at most 7 fields.")
        if self.index < len(self.tokens):
            token = self.tokens[self.index]
            raise self._error(f"Expecting either 'OR' or 'AND' but got '{token.text}'", token)
        return _Query(where, tuple(order))

    def _or(self) -> _Clause | _BoolNode:
        parts = [self._and()]
        while self._is_word("or"):
            self.index += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else _BoolNode("or", tuple(parts))

    def _and(self) -> _Clause | _BoolNode:
        parts = [self._not()]
        while self._is_word("and"):
            self.index += 1
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else _BoolNode("and", tuple(parts))

    def _not(self) -> _Clause | _BoolNode:
        if self._is_word("not"):
            self.index += 1
            return _BoolNode("not", (self._not(),))
        if self._peek_kind() == "lparen":
            self.index += 1
            inner = self._or()
            if self._peek_kind() != "rparen":
                raise self._error("Expecting ')'")
            self.index += 1
            return inner
        return self._clause()

    def _clause(self) -> _Clause:
        name = self._next("a field name")
        if name.kind not in {"word", "string"} or (name.kind == "word" and name.value.lower() in _RESERVED):
            raise self._error(f"Expecting a field name but got '{name.text}'", name)
        token = self._next("an operator")
        if token.kind == "op":
            op = token.value
            if op in {"~", "!~"}:
                raise JqlError("FakeJira does not support text search (~, !~).", unsupported=True)
        elif token.kind == "word" and token.value.lower() in {"in", "is", "not", "was", "changed"}:
            op = token.value.lower()
            if op == "not":
                if not self._is_word("in"):
                    raise self._error("Expecting 'in' after 'not'")
                self.index += 1
                op = "not in"
            elif op == "is" and self._is_word("not"):
                self.index += 1
                op = "is not"
            elif op in {"was", "changed"}:
                raise JqlError(f"FakeJira does not support the '{op.upper()}' operator.", unsupported=True)
        else:
            raise self._error(f"Expecting operator but got '{token.text}'", token)
        if op in {"in", "not in"}:
            if self._peek_kind() != "lparen":
                raise self._error(f"Expecting '(' after '{op.upper()}'")
            self.index += 1
            values = [self._operand()]
            while self._peek_kind() == "comma":
                self.index += 1
                values.append(self._operand())
            if self._peek_kind() != "rparen":
                raise self._error("Expecting ')' to close the list")
            self.index += 1
            return _Clause(name.value, op, tuple(values))
        if op in {"is", "is not"}:
            token = self._next("EMPTY")
            if token.kind != "word" or token.value.lower() not in {"empty", "null"}:
                raise self._error(f"Expecting 'EMPTY' or 'NULL' after '{op.upper()}'", token)
            return _Clause(name.value, op, ())
        return _Clause(name.value, op, (self._operand(),))

    def _operand(self) -> _Token:
        token = self._next("a value")
        if token.kind == "string":
            return token
        if token.kind != "word":
            raise self._error(f"Expecting either a value, list or function but got '{token.text}'", token)
        if token.value.lower() in _RESERVED:
            raise JqlError(
                f"Error in the JQL Query: '{token.value}' is a reserved JQL word. You must surround it in "
                f"quotation marks to use it in a query. (line 1, character {token.pos + 1})"
            )
        if self._peek_kind() == "lparen":
            raise JqlError(f"FakeJira does not support JQL functions ({token.value}()).", unsupported=True)
        return token

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _peek_kind(self) -> str | None:
        token = self._peek()
        return token.kind if token else None

    def _is_word(self, word: str) -> bool:
        token = self._peek()
        return bool(token and token.kind == "word" and token.value.lower() == word)

    def _next(self, expecting: str) -> _Token:
        token = self._peek()
        if token is None:
            raise JqlError(f"Error in the JQL Query: Expecting {expecting} but reached the end of the query.")
        self.index += 1
        return token

    def _error(self, message: str, token: _Token | None = None) -> JqlError:
        token = token or self._peek()
        where = f" (line 1, character {token.pos + 1})" if token else ""
        return JqlError(f"Error in the JQL Query: {message}.{where}")


_RELATIVE = re.compile(r"^([+-]?)\s*(\d+)\s*([wdhm])$", re.IGNORECASE)
_ABSOLUTE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")


def _jql_date(field_name: str, text: str, now: datetime, zone: ZoneInfo | None = None) -> datetime:
    """A JQL date value; absolute dates are in the searching user's profile time zone, as in Jira."""
    relative = _RELATIVE.match(text.strip())
    if relative:
        sign, amount, unit = relative.groups()
        delta = timedelta(
            **{{"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}[unit.lower()]: int(amount)}
        )
        return now - delta if sign == "-" else now + delta
    for fmt in _ABSOLUTE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=zone or UTC)
        except ValueError:
            continue
    raise JqlError(
        f"Date value '{text}' for field '{field_name}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', "
        "'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
    )


Predicate = Callable[[_Issue], bool]


# ================================================================================== the fake


class FakeJira:
    """In-memory Jira Cloud over HTTP. Use as a context manager; see the module docstring.

    :param email: basic-auth user (``jira.email``); the "myself" user is created for it.
    :param api_token: basic-auth password (``jira.api_token``).
    :param clock: returns "now" for created/updated timestamps and relative JQL dates.
    :param page_cap: most issues per search page when fields other than id/key are asked for.
    :param id_page_cap: most issues per search page for id/key-only searches.
    """

    def __init__(
        self,
        *,
        email: str = "followthrough-bot@example.com",
        api_token: str = "fake-api-token",
        account_id: str = "557058:followthrough-bot",
        display_name: str = "Followthrough Bot",
        clock: Callable[[], datetime] | None = None,
        page_cap: int = 100,
        id_page_cap: int = 5000,
        search_changelog_cap: int = 20,
        changelog_cap: int = 100,
        page_token_ttl: timedelta = timedelta(days=7),
        spec_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.email = email
        self.api_token = api_token
        self.account_id = account_id
        self.page_cap = page_cap
        self.id_page_cap = id_page_cap
        self.search_changelog_cap = search_changelog_cap
        self.changelog_cap = changelog_cap
        self.page_token_ttl = page_token_ttl
        self._clock = clock or (lambda: datetime.now(UTC))
        self.spec_path = _find_spec(spec_path)
        self.spec: OpenAPISpec = load_spec(str(self.spec_path), "/rest/api/3/")

        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

        self.faults = Faults(self._lock)
        self.requests: Counter[str] = Counter()
        self.log: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        self.response_violations: list[str] = []
        self.ignored_params: list[tuple[str, str]] = []  # (endpoint, name): Jira ignores unknown query params
        self.unimplemented: list[str] = []
        self.write_observer: WriteObserver | None = None  # see tests/fakes/faults.py

        self._users: dict[str, _User] = {}
        self._projects: dict[str, _Project] = {}
        self._statuses: dict[str, _Status] = {}
        self._transitions: list[_Transition] = []
        self._priorities: list[tuple[str, str]] = []  # (id, name), highest first
        self._issue_types: dict[str, str] = {}  # name -> id
        self._resolutions: dict[str, str] = {}  # name -> id
        self._link_types: dict[str, tuple[str, str, str]] = {}  # name -> (id, inward, outward)
        self._custom_fields: dict[str, _CustomField] = {}
        self._issues: dict[int, _Issue] = {}
        self._keys: dict[str, int] = {}
        self._links: list[_Link] = []
        self._stale: dict[int, _Stale] = {}
        self._page_tokens: dict[str, tuple[str, int, datetime]] = {}
        self._next_id = Counter(
            {"issue": 10000, "comment": 10000, "history": 10000, "link": 10000, "project": 10000}
        )
        self._key_counters: Counter[str] = Counter()
        self._seed_defaults(display_name)

    # ----------------------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        """Base URL (``http://127.0.0.1:<port>``) once started."""
        if self._server is None:
            raise RuntimeError("FakeJira is not running; use it as a context manager or call start()")
        return f"http://127.0.0.1:{self._port}"

    @property
    def auth(self) -> tuple[str, str]:
        """``(email, api_token)`` for ``requests``' ``auth=``."""
        return (self.email, self.api_token)

    def start(self) -> FakeJira:
        """Bind an ephemeral port on 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._stop.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.name = f"FakeJira:{self._port}"
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

    def __enter__(self) -> FakeJira:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if exc_type is None and self.response_violations:
            raise AssertionError(
                "FakeJira sent responses its spec does not allow:\n" + "\n".join(self.response_violations)
            )

    def now(self) -> datetime:
        """The fake's current time."""
        return self._clock()

    # ----------------------------------------------------------------------------- seeding

    def _seed_defaults(self, display_name: str) -> None:
        self.add_user(self.account_id, self.email, display_name)
        self.add_status("To Do", "new", id="10000")
        self.add_status("In Progress", "indeterminate", id="3")
        self.add_status("Done", "done", id="10001")
        self.set_workflow(
            [
                ("21", "Start Progress", "In Progress", ["To Do"]),
                ("31", "Done", "Done", ["In Progress"]),
                ("41", "Reopen", "To Do", ["Done"]),
            ]
        )
        for priority_id, name in (
            ("1", "Highest"),
            ("2", "High"),
            ("3", "Medium"),
            ("4", "Low"),
            ("5", "Lowest"),
        ):
            self.add_priority(name, id=priority_id)
        for type_id, name in (("10001", "Incident"), ("10002", "Postmortem"), ("10003", "Task")):
            self.add_issue_type(name, id=type_id)
        for resolution_id, name in (
            ("10000", "Done"),
            ("10001", "Won't Do"),
            ("10002", "Duplicate"),
            ("10003", "Cannot Reproduce"),
        ):
            self._resolutions[name] = resolution_id
        for link_id, name, inward, outward in (
            ("10000", "Blocks", "is blocked by", "blocks"),
            ("10001", "Cloners", "is cloned by", "clones"),
            ("10002", "Duplicate", "is duplicated by", "duplicates"),
            ("10003", "Relates", "relates to", "relates to"),
        ):
            self._link_types[name] = (link_id, inward, outward)
        self.add_custom_field(
            "customfield_10010", "Severity", kind="option", options=("SEV1", "SEV2", "SEV3", "SEV4")
        )

    def add_user(
        self,
        account_id: str,
        email: str,
        display_name: str,
        active: bool = True,
        *,
        email_visible: bool = True,
        time_zone: str = "UTC",
    ) -> None:
        """Add a user; ``email_visible=False`` hides ``emailAddress`` as Cloud privacy settings do."""
        with self._lock:
            self._users[account_id] = _User(account_id, email, display_name, active, email_visible, time_zone)

    def add_project(self, key: str, name: str | None = None, *, id: str | None = None) -> None:
        """Add a project (key ``[A-Z][A-Z0-9_]+``); its name may contain any characters."""
        if not re.fullmatch(r"[A-Z][A-Z0-9_]{1,9}", key):
            raise ValueError(f"invalid project key {key!r}")
        with self._lock:
            if id is None:
                self._next_id["project"] += 1
                id = str(self._next_id["project"])
            self._projects[key] = _Project(id, key, name or key)

    def add_status(
        self, name: str, category: Literal["new", "indeterminate", "done"], *, id: str | None = None
    ) -> None:
        """Add a workflow status in a status category (``new``, ``indeterminate``, ``done``)."""
        with self._lock:
            self._statuses[name] = _Status(id or str(10100 + len(self._statuses)), name, category)

    def set_workflow(self, transitions: Iterable[tuple[str, str, str, Sequence[str] | None]]) -> None:
        """Replace the transitions: ``(id, name, to_status, from_statuses or None for global)``."""
        with self._lock:
            self._transitions = [
                _Transition(str(tid), name, to, tuple(sources) if sources is not None else None)
                for tid, name, to, sources in transitions
            ]
            unknown = {t.to for t in self._transitions} - set(self._statuses)
            if unknown:
                raise ValueError(f"unknown statuses in workflow: {sorted(unknown)}")

    def add_priority(self, name: str, *, id: str | None = None) -> None:
        """Add a priority (appended as the lowest)."""
        with self._lock:
            self._priorities.append((id or str(len(self._priorities) + 1), name))

    def add_issue_type(self, name: str, *, id: str | None = None) -> None:
        """Add an issue type (Incident, Postmortem and Task exist by default)."""
        with self._lock:
            self._issue_types[name] = id or str(10100 + len(self._issue_types))

    def add_custom_field(
        self,
        field_id: str,
        name: str,
        *,
        kind: Literal["string", "number", "option", "textarea", "date", "any"] = "string",
        options: Sequence[str] = (),
    ) -> None:
        """Register ``customfield_NNNNN`` (settable on create/edit, searchable as ``cf[NNNNN]`` or by name)."""
        if not re.fullmatch(r"customfield_\d+", field_id):
            raise ValueError(f"invalid custom field id {field_id!r}")
        with self._lock:
            self._custom_fields[field_id] = _CustomField(field_id, name, kind, tuple(options))

    def add_issue(
        self,
        key: str,
        fields: Mapping[str, Any] | None = None,
        *,
        changelog: Sequence[Mapping[str, Any]] = (),
        comments: Sequence[Mapping[str, Any] | str] = (),
        properties: Mapping[str, Any] | None = None,
    ) -> str:
        """Seed an issue, visible to search at once. Returns its id.

        ``fields`` takes Jira shapes or shorthands: ``status``/``priority``/``issuetype``/
        ``resolution`` as a name or ``{"name"}``; ``assignee``/``reporter`` as an accountId or
        ``{"accountId"}``; ``description`` as text or ADF; ``created``/``updated``/
        ``resolutiondate`` as datetime or ISO text; custom fields by id. The project is created
        from the key prefix if missing. ``changelog`` items: ``{"created", "author"?, "items":
        [{"field", "fromString", "toString", ...}]}``; ``comments``: text or ``{"body", "author"?,
        "created"?}``.
        """
        fields = dict(fields or {})
        project_key, _, number = key.rpartition("-")
        if not project_key or not number.isdigit():
            raise ValueError(f"invalid issue key {key!r}")
        with self._lock:
            if key in self._keys:
                raise ValueError(f"{key} already exists")
            if project_key not in self._projects:
                self.add_project(project_key)
            now = self.now()
            created = _parse_time(fields.pop("created", now))
            issue = _Issue(
                id=self._new_id("issue"),
                key=key,
                project=project_key,
                issuetype=self._seed_name(fields.pop("issuetype", "Task"), self._issue_types, "issuetype"),
                summary=str(fields.pop("summary", key)),
                status=self._seed_name(fields.pop("status", "To Do"), self._statuses, "status"),
                created=created,
                updated=_parse_time(fields.pop("updated", created)),
                reporter=self.account_id,
            )
            resolution = fields.pop("resolution", None)
            resolved = fields.pop("resolutiondate", None)
            if self._statuses[issue.status].category == "done":
                issue.resolution = self._seed_name(resolution or "Done", self._resolutions, "resolution")
                issue.resolutiondate = _parse_time(resolved) if resolved else issue.updated
            elif resolution is not None:
                issue.resolution = self._seed_name(resolution, self._resolutions, "resolution")
            for name in ("assignee", "reporter"):
                if name in fields:
                    value = fields.pop(name)
                    account = value.get("accountId") if isinstance(value, Mapping) else value
                    if account is not None and account not in self._users:
                        raise ValueError(f"unknown user {account!r}; add_user() first")
                    setattr(issue, name, account)
            if "priority" in fields:
                value = fields.pop("priority")
                issue.priority = (
                    None
                    if value is None
                    else self._seed_name(value, {n: i for i, n in self._priorities}, "priority")
                )
            if "description" in fields:
                value = fields.pop("description")
                issue.description = adf_from_text(value) if isinstance(value, str) else value
            issue.labels = list(fields.pop("labels", []))
            duedate = fields.pop("duedate", None)
            issue.duedate = duedate.isoformat() if isinstance(duedate, date) else duedate
            for field_id, value in fields.items():
                if field_id not in self._custom_fields:
                    raise ValueError(f"unknown field {field_id!r}; add_custom_field() first")
                custom = self._custom_fields[field_id]
                if custom.kind == "option" and isinstance(value, Mapping):
                    value = value.get("value")
                if custom.kind == "textarea" and isinstance(value, str):
                    value = adf_from_text(value)
                issue.custom[field_id] = value
            for entry in changelog:
                history = dict(entry)
                history["id"] = str(self._new_id("history"))
                history["author"] = history.get("author") or self.account_id
                history["created"] = _parse_time(history.get("created", issue.created))
                history["items"] = [self._seed_change_item(item) for item in entry.get("items", [])]
                issue.histories.append(history)
            issue.histories.sort(key=lambda h: h["created"])
            for comment in comments:
                spec: Mapping[str, Any] = {"body": comment} if isinstance(comment, str) else comment
                body = spec.get("body", "")
                when = _parse_time(spec.get("created", issue.created))
                issue.comments.append(
                    _Comment(
                        self._new_id("comment"),
                        str(spec.get("author") or self.account_id),
                        adf_from_text(body) if isinstance(body, str) else dict(body),
                        when,
                        when,
                    )
                )
            issue.properties.update(properties or {})
            self._issues[issue.id] = issue
            self._keys[key] = issue.id
            self._key_counters[project_key] = max(self._key_counters[project_key], int(number))
            return str(issue.id)

    def add_link(self, link_type: str, inward_key: str, outward_key: str) -> None:
        """Seed an issue link (see the module docstring for direction)."""
        with self._lock:
            inward, outward = self._issue_or_404(inward_key), self._issue_or_404(outward_key)
            if link_type not in self._link_types:
                raise ValueError(f"unknown link type {link_type!r}")
            self._links.append(_Link(self._new_id("link"), link_type, inward.id, outward.id))

    def add_link_type(self, name: str, inward: str, outward: str, *, id: str | None = None) -> None:
        """Add an issue link type (e.g. "Action Item": "is action item of" / "has action item")."""
        with self._lock:
            self._link_types[name] = (id or str(10100 + len(self._link_types)), inward, outward)

    def delete_issue(self, key: str) -> None:
        """Delete an issue as Jira does: it and its links are gone; searches no longer find it."""
        with self._lock:
            issue = self._issue_or_404(key)
            del self._issues[issue.id]
            self._links = [link for link in self._links if issue.id not in {link.inward, link.outward}]
            self._stale.pop(issue.id, None)

    def delete_comment(self, key: str, index: int) -> None:
        """Delete an issue's comment (by position, oldest first); the issue counts as updated."""
        with self._lock:
            issue = self._issue_or_404(key)
            del issue.comments[index]
            issue.updated = self.now()

    def reindex(self) -> None:
        """End all pending search lag now (search sees every issue as it is)."""
        with self._lock:
            self._stale.clear()

    def expire_page_tokens(self) -> None:
        """Forget every nextPageToken handed out (later use answers 400)."""
        with self._lock:
            self._page_tokens.clear()

    # ----------------------------------------------------------------------------- inspection

    def issue(self, key: str) -> dict[str, Any]:
        """The issue as ``GET /rest/api/3/issue/{key}?expand=changelog`` would return it."""
        with self._lock:
            issue = self._issue_or_404(key)
            return self._issue_json(
                issue, "3", selected=self._select(["*all"]), expand={"changelog"}, properties=[]
            )

    def issue_keys(self) -> list[str]:
        """Keys of all issues, in creation order."""
        with self._lock:
            return [issue.key for issue in self._issues.values()]

    def comment_texts(self, key: str) -> list[str]:
        """Plain text of an issue's comments, oldest first."""
        with self._lock:
            return [adf_to_text(c.body) for c in self._issue_or_404(key).comments]

    def comment_bodies(self, key: str) -> list[dict[str, Any]]:
        """The ADF bodies of an issue's comments, oldest first."""
        with self._lock:
            return [copy.deepcopy(c.body) for c in self._issue_or_404(key).comments]

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        """Logged requests for one ``"METHOD /template"`` endpoint."""
        with self._lock:
            return [r for r in self.log if r.endpoint == endpoint]

    # ----------------------------------------------------------------------------- HTTP dispatch

    def _serve(self, handler: _Handler) -> None:
        method = handler.command
        split = urlsplit(handler.path)
        raw_path = split.path
        query = parse_qs(split.query, keep_blank_values=True)
        length = int(handler.headers.get("Content-Length") or 0)
        raw_body = handler.rfile.read(length) if length > 0 else b""
        parsed_body = _safe_json(raw_body)

        api = _API_PATH.match(raw_path)
        version = None if api is None else ("2" if api.group(1) in {"2", "latest"} else "3")
        rest = "" if api is None else (api.group(2) or "")
        spec_match = self.spec.match(method, "/rest/api/3" + rest) if api else None
        template = spec_match.template if spec_match else None
        endpoint = (
            f"{method} {template.replace('/rest/api/3', '/rest/api/' + api.group(1), 1)}"
            if template and api
            else f"{method} {raw_path}"
        )
        v3_endpoint = f"{method} {template}" if template else ""

        write = v3_endpoint in _WRITE_TEMPLATES
        if write and self.write_observer is not None:
            self.write_observer(endpoint, "before")
        with self._lock:
            record = RecordedRequest(method, raw_path, endpoint, query, parsed_body, version, self.now())
            self.log.append(record)
            self.requests[endpoint] += 1
            fault = self.faults._take(self.faults._request_faults, endpoint)

        if fault is not None:
            record.fault = fault.kind
            if fault.kind == "rate_limit":
                self._send(handler, record, self._rate_limited(fault))
                return
            if fault.kind == "unavailable":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                body = {"errorMessages": ["Service Unavailable"], "errors": {}}
                self._send(handler, record, _Reply(503, body, headers))
                return
            if fault.kind == "server_error":
                body = {"errorMessages": [f"Server error {fault.status}"], "errors": {}}
                self._send(handler, record, _Reply(fault.status, body))
                return
            if fault.kind == "reset_before_commit":
                self._drop(handler, reset=True)
                return
            if fault.kind == "timeout" and not fault.commit:
                self._stop.wait(fault.seconds)
                self._drop(handler, reset=False)
                return

        reply = self._answer(handler, method, raw_path, query, raw_body, version, spec_match, endpoint)

        committed = 200 <= reply.status < 300 and write
        if committed and self.write_observer is not None:
            self.write_observer(endpoint, "committed")
        if committed:
            with self._lock:
                reset = self.faults._take(self.faults._reset_faults, endpoint)
            if reset is not None:
                record.fault = reset.kind
                self._drop(handler, reset=True)
                return
        if fault is not None and fault.kind == "timeout":
            self._stop.wait(fault.seconds)
        self._send(handler, record, reply)
        if committed and self.write_observer is not None:
            self.write_observer(endpoint, "answered")

    def _answer(
        self,
        handler: _Handler,
        method: str,
        raw_path: str,
        query: dict[str, list[str]],
        raw_body: bytes,
        version: str | None,
        spec_match: PathMatch | None,
        endpoint: str,
    ) -> _Reply:
        if not self._authorized(handler.headers.get("Authorization")):
            return _Reply(
                401,
                {"errorMessages": ["Client must be authenticated to access this resource."], "errors": {}},
                {"WWW-Authenticate": 'Basic realm="protected-area"'},
            )
        if _REMOVED_PATH.match(raw_path):
            with self._lock:
                self.violations.append(
                    Violation(endpoint, "removed", (REMOVED_SEARCH_MESSAGE,), _safe_json(raw_body))
                )
            return _Reply(410, {"errorMessages": [REMOVED_SEARCH_MESSAGE], "errors": {}})
        if version is None or spec_match is None:
            return self._violation(
                endpoint,
                404,
                "unknown-endpoint",
                f"No operation in the Jira Cloud spec for {method} {raw_path}",
            )
        operation: Operation | None = spec_match.operation
        if operation is None:
            reply = self._violation(
                endpoint,
                405,
                "method",
                f"{method} is not allowed on {spec_match.template}; allowed: {', '.join(spec_match.allowed_methods)}",
            )
            reply.headers["Allow"] = ", ".join(spec_match.allowed_methods)
            return reply
        path_params = {name: unquote(value) for name, value in spec_match.path_params.items()}
        check = self.spec.check_request(
            operation,
            path_params=path_params,
            query=query,
            content_type=handler.headers.get("Content-Type"),
            body=raw_body,
        )
        with self._lock:
            self.ignored_params.extend((endpoint, name) for name in check.unknown_query)
        if check.errors:
            status = 415 if check.unsupported_media_type else 400
            kind = "media-type" if check.unsupported_media_type else "spec"
            return self._violation(endpoint, status, kind, *check.errors, body=_safe_json(raw_body))
        route = _ROUTES.get(f"{method} {operation.template}")
        if route is None:
            with self._lock:
                self.unimplemented.append(endpoint)
            return _Reply(
                501,
                {"errorMessages": [f"FakeJira does not implement {operation.operation_id}"], "errors": {}},
            )
        ctx = _Ctx(version=version, base=self.url, params=check.query, path=path_params, body=check.body)
        try:
            with self._lock:
                reply = getattr(self, route)(ctx)
        except _ApiError as error:
            body = {"errorMessages": error.messages, "errors": error.errors}
            with self._lock:
                if error.violation:
                    messages = (*error.messages, *error.errors.values())
                    self.violations.append(Violation(endpoint, error.violation, messages, check.body))
                if error.unimplemented:
                    self.unimplemented.append(f"{endpoint}: {error}")
            reply = _Reply(error.status, body)
        problems = self.spec.check_response(operation, reply.status, reply.body)
        if reply.status in {200, 201} and isinstance(reply.body, dict):
            issues = reply.body.get("issues")
            beans: list[Any] = issues if isinstance(issues, list) else [reply.body]
            for bean in beans:
                if isinstance(bean, dict) and isinstance(bean.get("fields"), dict):
                    problems.extend(self._check_fields(bean["fields"]))
        if problems:
            with self._lock:
                self.response_violations.extend(f"{endpoint} -> {reply.status}: {p}" for p in problems)
        return reply

    def _violation(self, endpoint: str, status: int, kind: str, *messages: str, body: Any = None) -> _Reply:
        with self._lock:
            self.violations.append(Violation(endpoint, kind, tuple(messages), body))
        return _Reply(status, {"errorMessages": list(messages), "errors": {}})

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return False
        return secrets.compare_digest(decoded, f"{self.email}:{self.api_token}")

    def _rate_limited(self, fault: Fault) -> _Reply:
        reset = jira_time(self.now() + timedelta(seconds=60))
        headers = {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset[:16] + "Z",
            "RateLimit-Reason": "jira-cost-based",
        }
        if fault.retry_after is not None:
            headers["Retry-After"] = fault.retry_after
        return _Reply(429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, headers)

    def _send(self, handler: _Handler, record: RecordedRequest, reply: _Reply) -> None:
        data = b"" if reply.body is None else json.dumps(reply.body).encode("utf-8")
        try:
            handler.send_response(reply.status)
            handler.send_header("X-Arequestid", secrets.token_hex(8))
            if reply.status != 204:
                if reply.body is not None:
                    handler.send_header("Content-Type", JSON_CONTENT_TYPE)
                handler.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            if data:
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
            sock.close()
        except OSError:
            pass

    # ----------------------------------------------------------------------------- search

    def _search_get(self, ctx: _Ctx) -> _Reply:
        return self._search(ctx, ctx.params)

    def _search_post(self, ctx: _Ctx) -> _Reply:
        return self._search(ctx, ctx.body or {})

    def _search(self, ctx: _Ctx, params: Mapping[str, Any]) -> _Reply:
        jql = str(params.get("jql") or "")
        max_results = params.get("maxResults", 50)
        if not isinstance(max_results, int) or not 1 <= max_results <= 5000:
            raise _ApiError(400, ["The maxResults parameter must be between 1 and 5000."])
        fields_param = params.get("fields") or ["id"]
        expand = _expand_set(params.get("expand"))
        properties = _csv(params.get("properties") or [])
        if len(properties) > 5:
            raise _ApiError(400, ["A maximum of 5 issue properties can be requested."])
        reconcile = {int(i) for i in params.get("reconcileIssues") or []}
        if len(reconcile) > 50:
            raise _ApiError(400, ["A maximum of 50 issues can be reconciled."])
        offset = 0
        token = params.get("nextPageToken")
        if token is not None:
            stored = self._page_tokens.get(str(token))
            if stored is None or stored[2] < self.now():
                raise _ApiError(400, ["The provided next page token is invalid or expired."])
            if stored[0] != jql:
                raise _ApiError(400, ["The provided next page token does not match the JQL query."])
            offset = stored[1]
        matches = self._run_jql(jql, reconcile)
        selected = self._select(_csv(fields_param))
        ids_only = not (selected & self._all_fields()) and not expand
        cap = self.id_page_cap if ids_only else self.page_cap
        size = min(max_results, cap)
        page = matches[offset : offset + size]
        issues = []
        for issue in page:
            if ids_only:
                bean: dict[str, Any] = {"id": str(issue.id)}
                if "key" in _csv(fields_param):
                    bean["key"] = issue.key
                issues.append(bean)
            else:
                issues.append(
                    self._issue_json(
                        issue,
                        ctx.version,
                        selected=selected,
                        expand=expand - {"names"},
                        properties=properties,
                        search=True,
                    )
                )
        body: dict[str, Any] = {"issues": issues, "isLast": offset + size >= len(matches)}
        if not body["isLast"]:
            new_token = secrets.token_urlsafe(24)
            self._page_tokens[new_token] = (jql, offset + size, self.now() + self.page_token_ttl)
            body["nextPageToken"] = new_token
        if "names" in expand:
            body["names"] = {f: self._field_name(f) for f in sorted(selected & self._all_fields())}
        return _Reply(200, body)

    def _count(self, ctx: _Ctx) -> _Reply:
        return _Reply(200, {"count": len(self._run_jql(str((ctx.body or {}).get("jql") or ""), set()))})

    def _run_jql(self, jql: str, reconcile: set[int]) -> list[_Issue]:
        try:
            query = _JqlParser(jql).parse()
            if query.where is None:
                raise JqlError(UNBOUNDED_JQL)
            predicate = self._compile(query.where)
            sort = self._sorter(query.order)
        except JqlError as error:
            if error.unsupported:
                self.unimplemented.append(f"JQL: {jql!r}: {error}")
            raise _ApiError(400, [str(error)]) from error
        candidates = self._search_view(reconcile)
        return sort([issue for issue in candidates if predicate(issue)])

    def _search_view(self, reconcile: set[int]) -> list[_Issue]:
        now = time.monotonic()
        for issue_id, stale in list(self._stale.items()):
            if (stale.due is not None and now >= stale.due) or (
                stale.searches_left is not None and stale.searches_left <= 0
            ):
                del self._stale[issue_id]
        view: list[_Issue] = []
        lagging = False
        for issue in self._issues.values():
            entry = self._stale.get(issue.id)
            if entry is None or issue.id in reconcile:
                view.append(issue)
                continue
            lagging = True
            if entry.snapshot is not None:
                view.append(entry.snapshot)
        for stale in self._stale.values():
            if stale.searches_left is not None:
                stale.searches_left -= 1
        if lagging:
            self.faults.fired["search_lag"] += 1
        return view

    def _before_write(self, issue: _Issue | None, issue_id: int) -> None:
        """Called before every change to an issue: starts (or extends) its search lag."""
        lag = self.faults._lag
        if lag is None:
            return
        seconds, searches = lag
        previous = self._stale.get(issue_id)
        snapshot = previous.snapshot if previous else (copy.deepcopy(issue) if issue is not None else None)
        due = time.monotonic() + seconds if seconds is not None else None
        self._stale[issue_id] = _Stale(snapshot, due, searches)

    # ----------------------------------------------------------------------------- JQL evaluation

    def _compile(self, node: _Clause | _BoolNode) -> Predicate:
        if isinstance(node, _BoolNode):
            parts = [self._compile(child) for child in node.children]
            if node.op == "and":
                return lambda issue: all(p(issue) for p in parts)
            if node.op == "or":
                return lambda issue: any(p(issue) for p in parts)
            return lambda issue: not parts[0](issue)
        return self._compile_clause(node)

    def _compile_clause(self, clause: _Clause) -> Predicate:
        name = clause.field.lower()
        op = clause.op
        values = [t.value for t in clause.values]
        custom = self._custom_field_for(clause.field)

        def unsupported_op() -> JqlError:
            return JqlError(f"The operator '{op.upper()}' is not supported by the '{clause.field}' field.")

        if name in {
            "created",
            "createddate",
            "updated",
            "updateddate",
            "resolutiondate",
            "resolved",
            "duedate",
            "due",
        }:
            attr = {
                "createddate": "created",
                "updateddate": "updated",
                "resolved": "resolutiondate",
                "due": "duedate",
            }.get(name, name)
            return self._date_predicate(clause, attr)
        if name == "labels":
            wanted = set(values)
            return _multi_predicate(op, wanted, lambda issue: set(issue.labels), unsupported_op)
        single: Callable[[_Issue], str | None]
        if name == "project":
            wanted = {self._resolve_project(v, clause.field) for v in values}
            single = lambda issue: issue.project  # noqa: E731
        elif name in {"key", "issuekey", "id"}:
            wanted = {self._resolve_issue_ref(v, clause.field) for v in values}
            single = lambda issue: issue.key  # noqa: E731
        elif name == "status":
            wanted = {
                self._resolve_named(v, {s.name: s.id for s in self._statuses.values()}, clause.field)
                for v in values
            }
            single = lambda issue: issue.status  # noqa: E731
        elif name == "statuscategory":
            wanted = {self._resolve_category(v, clause.field) for v in values}
            single = lambda issue: self._statuses[issue.status].category  # noqa: E731
        elif name in {"issuetype", "type"}:
            wanted = {self._resolve_named(v, self._issue_types, clause.field) for v in values}
            single = lambda issue: issue.issuetype  # noqa: E731
        elif name == "priority":
            wanted = {
                self._resolve_named(v, {n: i for i, n in self._priorities}, clause.field) for v in values
            }
            single = lambda issue: issue.priority  # noqa: E731
        elif name == "resolution":
            resolutions = {**self._resolutions}
            wanted = set()
            for value in values:
                if value.lower() == "unresolved":
                    wanted.add(None)  # type: ignore[arg-type]
                else:
                    wanted.add(self._resolve_named(value, resolutions, clause.field))
            single = lambda issue: issue.resolution  # noqa: E731
        elif name in {"assignee", "reporter"}:
            wanted = {self._resolve_user(v, clause.field) for v in values}
            single = lambda issue, attr=name: getattr(issue, attr)  # type: ignore[misc]  # noqa: E731
        elif custom is not None:
            wanted = set(values)
            single = lambda issue: _custom_text(issue.custom.get(custom.id))  # noqa: E731
        else:
            raise JqlError(f"Field '{clause.field}' does not exist or you do not have permission to view it.")
        return _single_predicate(op, wanted, single, unsupported_op)

    def _date_predicate(self, clause: _Clause, attr: str) -> Predicate:
        op = clause.op

        def value_of(issue: _Issue) -> datetime | None:
            raw = getattr(issue, attr)
            if raw is None or isinstance(raw, datetime):
                return raw
            return datetime.fromisoformat(str(raw)).replace(tzinfo=UTC)

        if op in {"is", "is not"}:
            return lambda issue: (value_of(issue) is None) == (op == "is")
        if op in {"in", "not in"}:
            raise JqlError(f"FakeJira does not support '{op.upper()}' on date fields.", unsupported=True)
        bound = _jql_date(clause.field, clause.values[0].value, self.now(),
                          ZoneInfo(self._users[self.account_id].time_zone))
        compare: dict[str, Callable[[datetime, datetime], bool]] = {
            "=": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
        }
        check = compare[op]

        def predicate(issue: _Issue) -> bool:
            value = value_of(issue)
            return value is not None and check(value, bound)

        return predicate

    def _sorter(self, order: tuple[tuple[str, bool], ...]) -> Callable[[list[_Issue]], list[_Issue]]:
        priority_rank = {name: index for index, (_, name) in enumerate(self._priorities)}
        far = datetime.max.replace(tzinfo=UTC)
        keys: dict[str, Callable[[_Issue], Any]] = {
            "key": lambda i: (i.project, i.number),
            "issuekey": lambda i: (i.project, i.number),
            "id": lambda i: i.id,
            "created": lambda i: i.created,
            "updated": lambda i: i.updated,
            "resolutiondate": lambda i: i.resolutiondate or far,
            "duedate": lambda i: i.duedate or "9999-12-31",
            "priority": lambda i: -priority_rank.get(i.priority or "", len(priority_rank)),
            "status": lambda i: i.status,
        }
        for name, _ in order:
            if name.lower() not in keys:
                raise JqlError(
                    f"FakeJira cannot order by '{name}' (or the field does not exist).", unsupported=True
                )

        def sort(issues: list[_Issue]) -> list[_Issue]:
            if not order:
                return sorted(issues, key=lambda i: i.id, reverse=True)
            result = sorted(issues, key=lambda i: i.id)
            for name, descending in reversed(order):
                result.sort(key=keys[name.lower()], reverse=descending)
            return result

        return sort

    def _resolve_project(self, value: str, field_name: str) -> str:
        for project in self._projects.values():
            if value.lower() in {project.key.lower(), project.name.lower()} or value == project.id:
                return project.key
        raise JqlError(f"The value '{value}' does not exist for the field '{field_name}'.")

    def _resolve_issue_ref(self, value: str, field_name: str) -> str:
        if value.isdigit() and int(value) in self._issues:
            return self._issues[int(value)].key
        if value.upper() in self._keys and self._keys[value.upper()] in self._issues:  # deleted: does not exist
            return value.upper()
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*-\d+", value):
            raise JqlError(f"The issue key '{value}' for field '{field_name}' is invalid.")
        raise JqlError(f"An issue with key '{value}' does not exist for field '{field_name}'.")

    def _resolve_named(self, value: str, table: Mapping[str, str], field_name: str) -> str:
        for name, ident in table.items():
            if value.lower() == name.lower() or value == ident:
                return name
        raise JqlError(f"The value '{value}' does not exist for the field '{field_name}'.")

    def _resolve_category(self, value: str, field_name: str) -> str:
        for key, (ident, _, name) in _STATUS_CATEGORIES.items():
            if value.lower() in {key, name.lower()} or value == str(ident):
                return key
        raise JqlError(f"The value '{value}' does not exist for the field '{field_name}'.")

    def _resolve_user(self, value: str, field_name: str) -> str:
        for user in self._users.values():
            if value in {user.account_id, user.email}:
                return user.account_id
        raise JqlError(f"The value '{value}' does not exist for the field '{field_name}'.")

    def _custom_field_for(self, name: str) -> _CustomField | None:
        match = re.fullmatch(r"cf\[(\d+)\]", name.strip(), re.IGNORECASE)
        field_id = f"customfield_{match.group(1)}" if match else name.strip().lower()
        for custom in self._custom_fields.values():
            if field_id == custom.id or name.strip().lower() == custom.name.lower():
                return custom
        return None

    # ----------------------------------------------------------------------------- issues

    def _get_issue(self, ctx: _Ctx) -> _Reply:
        issue = self._issue_or_404(ctx.path["issueIdOrKey"])
        selected = self._select(_csv(ctx.params.get("fields") or ["*all"]))
        expand = _expand_set(ctx.params.get("expand"))
        properties = _csv(ctx.params.get("properties") or [])
        return _Reply(
            200, self._issue_json(issue, ctx.version, selected=selected, expand=expand, properties=properties)
        )

    def _create_issue(self, ctx: _Ctx) -> _Reply:
        body = ctx.body or {}
        fields = body.get("fields") or {}
        errors: dict[str, str] = {}
        project = self._lookup_ref(fields.get("project"), {p.key: p.id for p in self._projects.values()})
        if project is None:
            errors["project"] = "Specify a valid project ID or key"
        issuetype = self._lookup_ref(fields.get("issuetype"), self._issue_types)
        if issuetype is None:
            errors["issuetype"] = "Specify an issue type"
        if not isinstance(fields.get("summary"), str) or not fields["summary"].strip():
            errors.setdefault("summary", "You must specify a summary of the issue.")
        settable = {k: v for k, v in fields.items() if k not in _CREATE_ONLY}
        changes, comment = self._field_changes(settable, body.get("update") or {}, ctx.version, errors)
        properties = self._entity_properties(body.get("properties"), errors)
        if errors:
            raise _ApiError(400, [], errors, violation="fields")
        if "transition" in body:
            raise _ApiError(400, ["FakeJira does not support 'transition' on create."], unimplemented=True)
        assert project is not None
        assert issuetype is not None
        now = self.now()
        self._key_counters[project] += 1
        issue = _Issue(
            id=self._new_id("issue"),
            key=f"{project}-{self._key_counters[project]}",
            project=project,
            issuetype=issuetype,
            summary="",
            status=self._initial_status(),
            created=now,
            updated=now,
            reporter=self.account_id,
        )
        self._before_write(None, issue.id)
        for name, value in changes.items():
            self._set_field(issue, name, value)
        issue.properties.update(properties)
        if comment is not None:
            issue.comments.append(_Comment(self._new_id("comment"), self.account_id, comment, now, now))
        self._issues[issue.id] = issue
        self._keys[issue.key] = issue.id
        return _Reply(
            201,
            {
                "id": str(issue.id),
                "key": issue.key,
                "self": f"{ctx.base}/rest/api/{ctx.version}/issue/{issue.id}",
            },
        )

    def _edit_issue(self, ctx: _Ctx) -> _Reply:
        issue = self._issue_or_404(ctx.path["issueIdOrKey"])
        body = ctx.body or {}
        fields = body.get("fields") or {}
        update = body.get("update") or {}
        errors: dict[str, str] = {}
        for name in fields:
            if name in update:
                errors[name] = f"Field '{name}' cannot be set in both 'fields' and 'update'."
        for name in list(fields) + list(update):
            if name in _CREATE_ONLY:
                errors[name] = (
                    f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
                )
        changes, comment = self._field_changes(
            {k: v for k, v in fields.items() if k not in _CREATE_ONLY},
            {k: v for k, v in update.items() if k not in _CREATE_ONLY},
            ctx.version,
            errors,
            current=issue,
        )
        properties = self._entity_properties(body.get("properties"), errors)
        if errors:
            raise _ApiError(400, [], errors, violation="fields")
        self._before_write(issue, issue.id)
        items = []
        for name, value in changes.items():
            item = self._change_item(issue, name, value)
            self._set_field(issue, name, value)
            if item is not None:
                items.append(item)
        now = self.now()
        if comment is not None:
            issue.comments.append(_Comment(self._new_id("comment"), self.account_id, comment, now, now))
        issue.properties.update(properties)
        if items or comment is not None:
            issue.updated = now
        if items:
            self._add_history(issue, items)
        if ctx.params.get("returnIssue"):
            expand = _expand_set(ctx.params.get("expand"))
            return _Reply(
                200,
                self._issue_json(
                    issue, ctx.version, selected=self._select(["*all"]), expand=expand, properties=[]
                ),
            )
        return _Reply(204)

    def _field_changes(
        self,
        fields: Mapping[str, Any],
        update: Mapping[str, Any],
        version: str,
        errors: dict[str, str],
        *,
        current: _Issue | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Validate ``fields``/``update`` into internal values (errors collected per field)."""
        changes: dict[str, Any] = {}
        comment: dict[str, Any] | None = None
        for name, value in fields.items():
            self._normalize_into(changes, errors, name, value, version)
        labels = list(current.labels) if current else []
        for name, operations in update.items():
            if not isinstance(operations, list):
                errors[name] = "Field update operations must be an array."
                continue
            for operation in operations:
                if not isinstance(operation, dict) or len(operation) != 1:
                    errors[name] = "Each update operation must have exactly one verb."
                    continue
                verb, argument = next(iter(operation.items()))
                if name == "labels" and verb in {"add", "remove", "set"}:
                    if verb == "set":
                        self._normalize_into(changes, errors, "labels", argument, version)
                        labels = list(changes.get("labels", []))
                        continue
                    problem = _label_problem(argument)
                    if problem:
                        errors["labels"] = problem
                    elif verb == "add" and argument not in labels:
                        labels.append(argument)
                    elif verb == "remove" and argument in labels:
                        labels.remove(argument)
                    changes["labels"] = list(labels)
                elif name == "comment" and verb == "add":
                    text = argument.get("body") if isinstance(argument, dict) else None
                    comment = self._comment_body(text, version, errors)
                elif verb == "set":
                    self._normalize_into(changes, errors, name, argument, version)
                else:
                    errors[name] = (
                        f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
                    )
        return changes, comment

    def _normalize_into(
        self, changes: dict[str, Any], errors: dict[str, str], name: str, value: Any, version: str
    ) -> None:
        try:
            changes[name] = self._normalize(name, value, version)
        except ValueError as problem:
            errors[name] = str(problem)

    def _normalize(self, name: str, value: Any, version: str) -> Any:
        """Internal value for a settable field, or ValueError with Jira's message."""
        if name == "summary":
            if not isinstance(value, str) or not value.strip():
                raise ValueError("You must specify a summary of the issue.")
            if len(value) > 255:
                raise ValueError("Summary must be less than 255 characters.")
            return value
        if name == "description" or (
            name in self._custom_fields and self._custom_fields[name].kind == "textarea"
        ):
            return self._text_value(value, version)
        if name == "labels":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("Labels must be an array of strings.")
            for label in value:
                problem = _label_problem(label)
                if problem:
                    raise ValueError(problem)
            return list(dict.fromkeys(value))
        if name == "priority":
            if value is None:
                return None
            found = self._lookup_ref(value, {n: i for i, n in self._priorities})
            if found is None:
                raise ValueError("Specified priority is not valid.")
            return found
        if name in {"assignee", "reporter"}:
            if value is None:
                return None
            account = value.get("accountId", value.get("id")) if isinstance(value, dict) else None
            user = self._users.get(str(account)) if account is not None else None
            if user is None or not user.active:
                raise ValueError(
                    f"User '{account}' cannot be assigned issues."
                    if name == "assignee"
                    else "Specify a valid reporter."
                )
            return user.account_id
        if name == "duedate":
            if value is None:
                return None
            if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError(f"Error parsing date string: {value}")
            date.fromisoformat(value)
            return value
        if name in self._custom_fields:
            return self._custom_value(self._custom_fields[name], value)
        raise ValueError(f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown.")

    def _text_value(self, value: Any, version: str) -> dict[str, Any] | None:
        if value is None:
            return None
        if version == "2":
            if not isinstance(value, str):
                raise ValueError(V2_TEXT_ERROR)
            return adf_from_text(value)
        if adf_problem(value) is not None:
            raise ValueError(V3_TEXT_ERROR)
        return copy.deepcopy(value)

    def _custom_value(self, custom: _CustomField, value: Any) -> Any:
        if value is None or custom.kind == "any":
            return value
        if custom.kind == "string" and not isinstance(value, str):
            raise ValueError(f"Field '{custom.name}' requires a string.")
        if custom.kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"Field '{custom.name}' requires a number.")
        if custom.kind == "date" and not (
            isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
        ):
            raise ValueError(f"Error parsing date string: {value}")
        if custom.kind == "option":
            chosen = value.get("value") if isinstance(value, dict) else None
            if isinstance(value, dict) and "id" in value and chosen is None:
                ids = {self._option_id(custom, o): o for o in custom.options}
                chosen = ids.get(str(value["id"]))
            if chosen is None or (custom.options and chosen not in custom.options):
                raise ValueError(f"Option value '{value}' is not valid")
            return chosen
        return value

    def _comment_body(self, value: Any, version: str, errors: dict[str, str]) -> dict[str, Any] | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            errors["comment"] = "Comment body can not be empty!"
            return None
        if version == "2":
            if not isinstance(value, str):
                errors["comment"] = V2_TEXT_ERROR
                return None
            return adf_from_text(value)
        if adf_problem(value) is not None:
            errors["comment"] = "Comment body is not valid!"
            return None
        return copy.deepcopy(value)

    def _entity_properties(self, value: Any, errors: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for entry in value or []:
            key = entry.get("key") if isinstance(entry, dict) else None
            if not isinstance(key, str) or not key or len(key) > 255:
                errors["properties"] = "Property key must be a non-empty string of at most 255 characters."
                continue
            if len(json.dumps(entry.get("value"))) > 32768:
                errors["properties"] = f"The property '{key}' exceeds 32768 characters."
                continue
            out[key] = entry.get("value")
        return out

    def _set_field(self, issue: _Issue, name: str, value: Any) -> None:
        if name in self._custom_fields:
            issue.custom[name] = value
        else:
            setattr(issue, name, value)

    def _change_item(self, issue: _Issue, name: str, value: Any) -> dict[str, Any] | None:
        old = issue.custom.get(name) if name in self._custom_fields else getattr(issue, name)
        if old == value:
            return None
        item: dict[str, Any] = {"field": name, "fieldtype": "jira", "fieldId": name}
        if name in self._custom_fields:
            item.update(field=self._custom_fields[name].name, fieldtype="custom")
        if name in {"assignee", "reporter"}:
            item.update(_drop_none(**{"from": old, "to": value}))
            item.update(_drop_none(fromString=self._display(old), toString=self._display(value)))
        elif name == "priority":
            ids = {n: i for i, n in self._priorities}
            item.update(
                _drop_none(
                    **{"from": ids.get(old or ""), "to": ids.get(value or "")}, fromString=old, toString=value
                )
            )
        else:
            item.update(_drop_none(fromString=_plain(old), toString=_plain(value)))
        return item

    def _add_history(self, issue: _Issue, items: list[dict[str, Any]]) -> None:
        issue.histories.append(
            {
                "id": str(self._new_id("history")),
                "author": self.account_id,
                "created": self.now(),
                "items": items,
            }
        )

    # ----------------------------------------------------------------------------- comments, transitions, links

    def _get_comments(self, ctx: _Ctx) -> _Reply:
        issue = self._issue_or_404(ctx.path["issueIdOrKey"])
        start = int(ctx.params.get("startAt", 0))
        size = int(ctx.params.get("maxResults", 100))
        comments = sorted(
            issue.comments, key=lambda c: (c.created, c.id), reverse=ctx.params.get("orderBy") == "-created"
        )
        page = comments[start : start + size]
        return _Reply(
            200,
            {
                "startAt": start,
                "maxResults": size,
                "total": len(comments),
                "comments": [self._comment_json(issue, c, ctx.version) for c in page],
            },
        )

    def _add_comment(self, ctx: _Ctx) -> _Reply:
        issue = self._issue_or_404(ctx.path["issueIdOrKey"])
        errors: dict[str, str] = {}
        body = self._comment_body((ctx.body or {}).get("body"), ctx.version, errors)
        if errors or body is None:
            raise _ApiError(400, [], errors, violation="fields")
        self._before_write(issue, issue.id)
        now = self.now()
        comment = _Comment(self._new_id("comment"), self.account_id, body, now, now)
        issue.comments.append(comment)
        issue.updated = now
        return _Reply(201, self._comment_json(issue, comment, ctx.version))

    def _get_transitions(self, ctx: _Ctx) -> _Reply:
        issue = self._issue_or_404(ctx.path["issueIdOrKey"])
        wanted = ctx.params.get("transitionId")
        transitions = [t for t in self._available(issue) if wanted is None or t.id == str(wanted)]
        return _Reply(200, {"transitions": [self._transition_json(t, ctx) for t in transitions]})

    def _do_transition(self, ctx: _Ctx) -> _Reply:
        issue = self._issue_or_404(ctx.path["issueIdOrKey"])
        body = ctx.body or {}
        transition = body.get("transition") or {}
        if transition.get("id") is None:
            raise _ApiError(400, ["Missing 'transition' identifier"], violation="fields")
        chosen = next((t for t in self._available(issue) if t.id == str(transition["id"])), None)
        if chosen is None:
            raise _ApiError(400, [f"Transition id '{transition['id']}' is not valid for this issue."])
        target = self._statuses[chosen.to]
        errors: dict[str, str] = {}
        resolution: str | None = None
        for name, value in (body.get("fields") or {}).items():
            if name == "resolution" and target.category == "done":
                resolution = self._lookup_ref(value, self._resolutions)
                if resolution is None:
                    errors["resolution"] = "Specified resolution is not valid."
            else:
                errors[name] = (
                    f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
                )
        _, comment = self._field_changes({}, body.get("update") or {}, ctx.version, errors, current=issue)
        if errors:
            raise _ApiError(400, [], errors, violation="fields")
        self._before_write(issue, issue.id)
        now = self.now()
        old = self._statuses[issue.status]
        items: list[dict[str, Any]] = [
            {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": old.id,
                "fromString": old.name,
                "to": target.id,
                "toString": target.name,
            }
        ]
        if target.category == "done" and old.category != "done":
            issue.resolution = resolution or "Done"
            issue.resolutiondate = now
            items.append(
                {
                    "field": "resolution",
                    "fieldtype": "jira",
                    "fieldId": "resolution",
                    "to": self._resolutions[issue.resolution],
                    "toString": issue.resolution,
                }
            )
        elif target.category != "done" and issue.resolution is not None:
            items.append(
                {
                    "field": "resolution",
                    "fieldtype": "jira",
                    "fieldId": "resolution",
                    "from": self._resolutions[issue.resolution],
                    "fromString": issue.resolution,
                }
            )
            issue.resolution = None
            issue.resolutiondate = None
        issue.status = target.name
        issue.updated = now
        if comment is not None:
            issue.comments.append(_Comment(self._new_id("comment"), self.account_id, comment, now, now))
        self._add_history(issue, items)
        return _Reply(204)

    def _link_issues(self, ctx: _Ctx) -> _Reply:
        body = ctx.body or {}
        type_ref = body.get("type") or {}
        link_type = next(
            (
                name
                for name, (ident, _, _) in self._link_types.items()
                if type_ref.get("name") == name or type_ref.get("id") == ident
            ),
            None,
        )
        if link_type is None:
            raise _ApiError(
                404, [f"No issue link type with name '{type_ref.get('name', type_ref.get('id'))}' found."]
            )
        inward = self._issue_or_404(
            str(body["inwardIssue"].get("key") or body["inwardIssue"].get("id") or "")
        )
        outward = self._issue_or_404(
            str(body["outwardIssue"].get("key") or body["outwardIssue"].get("id") or "")
        )
        if inward.id == outward.id:
            raise _ApiError(400, ["You cannot link an issue to itself."])
        if any(
            lk.type == link_type and lk.inward == inward.id and lk.outward == outward.id for lk in self._links
        ):
            return _Reply(201)  # "the response indicates that the issue link was created"
        for issue in (inward, outward):
            self._before_write(issue, issue.id)
            issue.updated = self.now()
        self._links.append(_Link(self._new_id("link"), link_type, inward.id, outward.id))
        return _Reply(201)

    def _link_types_json(self, ctx: _Ctx) -> _Reply:
        return _Reply(
            200, {"issueLinkTypes": [self._link_type_json(name, ctx.version) for name in self._link_types]}
        )

    def _get_changelog(self, ctx: _Ctx) -> _Reply:
        issue = self._issue_or_404(ctx.path["issueIdOrKey"])
        start = int(ctx.params.get("startAt", 0))
        size = int(ctx.params.get("maxResults", 100))
        histories = issue.histories[start : start + size]
        body: dict[str, Any] = {
            "self": f"{ctx.base}/rest/api/{ctx.version}/issue/{issue.key}/changelog?startAt={start}&maxResults={size}",
            "startAt": start,
            "maxResults": size,
            "total": len(issue.histories),
            "isLast": start + size >= len(issue.histories),
            "values": [self._history_json(h, ctx.version) for h in histories],
        }
        if not body["isLast"]:
            body["nextPage"] = (
                f"{ctx.base}/rest/api/{ctx.version}/issue/{issue.key}/changelog?startAt={start + size}&maxResults={size}"
            )
        return _Reply(200, body)

    # ----------------------------------------------------------------------------- properties, users

    def _property_keys(self, ctx: _Ctx) -> _Reply:
        issue = self._issue_or_404(ctx.path["issueIdOrKey"])
        base = f"{ctx.base}/rest/api/{ctx.version}/issue/{issue.key}/properties/"
        return _Reply(200, {"keys": [{"key": k, "self": base + k} for k in issue.properties]})

    def _get_property(self, ctx: _Ctx) -> _Reply:
        issue = self._issue_or_404(ctx.path["issueIdOrKey"])
        key = ctx.path["propertyKey"]
        if key not in issue.properties:
            raise _ApiError(404, [f"The property with key '{key}' does not exist."])
        return _Reply(200, {"key": key, "value": issue.properties[key]})

    def _set_property(self, ctx: _Ctx) -> _Reply:
        issue = self._issue_or_404(ctx.path["issueIdOrKey"])
        key = ctx.path["propertyKey"]
        if len(key) > 255:
            raise _ApiError(
                400, ["The property key cannot be longer than 255 characters."], violation="fields"
            )
        if len(json.dumps(ctx.body)) > 32768:
            raise _ApiError(
                400, ["The property value cannot be longer than 32768 characters."], violation="fields"
            )
        existed = key in issue.properties
        issue.properties[key] = ctx.body
        return _Reply(200 if existed else 201)

    def _delete_property(self, ctx: _Ctx) -> _Reply:
        issue = self._issue_or_404(ctx.path["issueIdOrKey"])
        if issue.properties.pop(ctx.path["propertyKey"], None) is None:
            raise _ApiError(404, [f"The property with key '{ctx.path['propertyKey']}' does not exist."])
        return _Reply(204)

    def _find_users(self, ctx: _Ctx) -> _Reply:
        query = ctx.params.get("query")
        account_id = ctx.params.get("accountId")
        if "property" in ctx.params:
            raise _ApiError(400, ["FakeJira does not support the 'property' parameter."], unimplemented=True)
        if (query is None) == (account_id is None):
            raise _ApiError(
                400, ["Provide exactly one of the 'query' or 'accountId' parameters."], violation="fields"
            )
        if account_id is not None:
            found = [u for u in self._users.values() if u.account_id == account_id]
        else:
            needle = str(query).lower()
            found = [
                u
                for u in self._users.values()
                if needle in u.display_name.lower() or u.email.lower().startswith(needle)
            ]
        start = int(ctx.params.get("startAt", 0))
        size = int(ctx.params.get("maxResults", 50))
        return _Reply(200, [self._user_json(u, ctx.version) for u in found[start : start + size]])

    def _myself(self, ctx: _Ctx) -> _Reply:
        body = self._user_json(self._users[self.account_id], ctx.version)
        body["locale"] = "en_US"
        return _Reply(200, body)

    # ----------------------------------------------------------------------------- rendering

    def _all_fields(self) -> set[str]:
        return set(_SYSTEM_FIELDS) | set(self._custom_fields)

    def _select(self, specs: Sequence[str]) -> set[str]:
        include: set[str] = set()
        exclude: set[str] = set()
        for spec in specs:
            if spec == "*all":
                include |= self._all_fields()
            elif spec == "*navigable":
                include |= self._all_fields() - _NOT_NAVIGABLE
            elif spec.startswith("-"):
                exclude.add(spec[1:])
            elif spec != "*none":
                include.add(spec)
        return include - exclude

    def _issue_json(
        self,
        issue: _Issue,
        version: str,
        *,
        selected: set[str],
        expand: set[str],
        properties: Sequence[str],
        search: bool = False,
    ) -> dict[str, Any]:
        base = self.url if self._server is not None else "http://127.0.0.1"
        fields: dict[str, Any] = {}
        for name in [*_SYSTEM_FIELDS, *self._custom_fields]:
            if name in selected:
                fields[name] = self._field_json(issue, name, version, base)
        bean: dict[str, Any] = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": str(issue.id),
            "self": f"{base}/rest/api/{version}/issue/{issue.id}",
            "key": issue.key,
            "fields": fields,
        }
        if "changelog" in expand:
            cap = self.search_changelog_cap if search else self.changelog_cap
            recent = list(reversed(issue.histories))[:cap]
            bean["changelog"] = {
                "startAt": 0,
                "maxResults": len(recent),
                "total": len(issue.histories),
                "histories": [self._history_json(h, version) for h in recent],
            }
        if "names" in expand:
            bean["names"] = {name: self._field_name(name) for name in fields}
        if "transitions" in expand:
            ctx = _Ctx(version=version, base=base, params={}, path={}, body=None)
            bean["transitions"] = [self._transition_json(t, ctx) for t in self._available(issue)]
        wanted = [p for p in properties if p in issue.properties]
        if wanted:
            bean["properties"] = {p: issue.properties[p] for p in wanted}
        return bean

    def _field_json(self, issue: _Issue, name: str, version: str, base: str) -> Any:
        api = f"{base}/rest/api/{version}"
        if name in self._custom_fields:
            custom = self._custom_fields[name]
            value = issue.custom.get(name)
            if value is None:
                return None
            if custom.kind == "option":
                option_id = self._option_id(custom, value)
                return {"self": f"{api}/customFieldOption/{option_id}", "value": value, "id": option_id}
            if custom.kind == "textarea":
                return adf_to_text(value) if version == "2" else value
            return value
        if name == "summary":
            return issue.summary
        if name == "description":
            if issue.description is None:
                return None
            return adf_to_text(issue.description) if version == "2" else issue.description
        if name == "status":
            return self._status_json(self._statuses[issue.status], api)
        if name == "priority":
            if issue.priority is None:
                return None
            ident = dict((n, i) for i, n in self._priorities)[issue.priority]
            return {
                "self": f"{api}/priority/{ident}",
                "iconUrl": f"{base}/images/icons/priorities/{issue.priority.lower()}.svg",
                "name": issue.priority,
                "id": ident,
            }
        if name in {"assignee", "reporter"}:
            account = getattr(issue, name)
            return None if account is None else self._user_json(self._users[account], version)
        if name == "labels":
            return list(issue.labels)
        if name == "duedate":
            return issue.duedate
        if name in {"created", "updated"}:
            return jira_time(getattr(issue, name))
        if name == "resolutiondate":
            return None if issue.resolutiondate is None else jira_time(issue.resolutiondate)
        if name == "resolution":
            if issue.resolution is None:
                return None
            ident = self._resolutions[issue.resolution]
            return {"self": f"{api}/resolution/{ident}", "id": ident, "name": issue.resolution}
        if name == "issuetype":
            ident = self._issue_types[issue.issuetype]
            return {
                "self": f"{api}/issuetype/{ident}",
                "id": ident,
                "iconUrl": f"{base}/images/icons/issuetypes/{issue.issuetype.lower()}.svg",
                "name": issue.issuetype,
                "subtask": False,
                "hierarchyLevel": 0,
            }
        if name == "project":
            project = self._projects[issue.project]
            return {
                "self": f"{api}/project/{project.id}",
                "id": project.id,
                "key": project.key,
                "name": project.name,
                "projectTypeKey": "software",
                "simplified": False,
                "avatarUrls": _avatars(f"{base}/secure/projectavatar?pid={project.id}"),
            }
        if name == "issuelinks":
            return [
                self._link_json(issue, link, version, base)
                for link in self._links
                if issue.id in {link.inward, link.outward}
            ]
        if name == "comment":
            return {
                "self": f"{api}/issue/{issue.id}/comment",
                "maxResults": len(issue.comments),
                "total": len(issue.comments),
                "startAt": 0,
                "comments": [self._comment_json(issue, c, version) for c in issue.comments],
            }
        raise AssertionError(f"unrendered field {name}")

    def _status_json(self, status: _Status, api: str) -> dict[str, Any]:
        ident, color, category_name = _STATUS_CATEGORIES[status.category]
        return {
            "self": f"{api}/status/{status.id}",
            "description": "",
            "iconUrl": f"{api.split('/rest/')[0]}/images/icons/statuses/generic.png",
            "name": status.name,
            "id": status.id,
            "statusCategory": {
                "self": f"{api}/statuscategory/{ident}",
                "id": ident,
                "key": status.category,
                "colorName": color,
                "name": category_name,
            },
        }

    def _user_json(self, user: _User, version: str) -> dict[str, Any]:
        base = self.url if self._server is not None else "http://127.0.0.1"
        body: dict[str, Any] = {
            "self": f"{base}/rest/api/{version}/user?accountId={user.account_id}",
            "accountId": user.account_id,
            "accountType": "atlassian",
            "avatarUrls": _avatars(f"https://avatar-management.example/{user.account_id}"),
            "displayName": user.display_name,
            "active": user.active,
            "timeZone": user.time_zone,
        }
        if user.email_visible:
            body["emailAddress"] = user.email
        return body

    def _comment_json(self, issue: _Issue, comment: _Comment, version: str) -> dict[str, Any]:
        base = self.url if self._server is not None else "http://127.0.0.1"
        author = self._users.get(comment.author) or self._users[self.account_id]
        return {
            "self": f"{base}/rest/api/{version}/issue/{issue.id}/comment/{comment.id}",
            "id": str(comment.id),
            "author": self._user_json(author, version),
            "body": adf_to_text(comment.body) if version == "2" else comment.body,
            "updateAuthor": self._user_json(author, version),
            "created": jira_time(comment.created),
            "updated": jira_time(comment.updated),
            "jsdPublic": True,
        }

    def _history_json(self, history: Mapping[str, Any], version: str) -> dict[str, Any]:
        author = self._users.get(history["author"]) or self._users[self.account_id]
        return {
            "id": history["id"],
            "author": self._user_json(author, version),
            "created": jira_time(history["created"]),
            "items": [dict(item) for item in history["items"]],
        }

    def _transition_json(self, transition: _Transition, ctx: _Ctx) -> dict[str, Any]:
        return {
            "id": transition.id,
            "name": transition.name,
            "to": self._status_json(self._statuses[transition.to], f"{ctx.base}/rest/api/{ctx.version}"),
            "hasScreen": False,
            "isGlobal": transition.sources is None,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "isLooped": False,
        }

    def _link_type_json(self, name: str, version: str) -> dict[str, Any]:
        base = self.url if self._server is not None else "http://127.0.0.1"
        ident, inward, outward = self._link_types[name]
        return {
            "id": ident,
            "name": name,
            "inward": inward,
            "outward": outward,
            "self": f"{base}/rest/api/{version}/issueLinkType/{ident}",
        }

    def _link_json(self, issue: _Issue, link: _Link, version: str, base: str) -> dict[str, Any]:
        api = f"{base}/rest/api/{version}"
        other_id, side = (
            (link.outward, "outwardIssue") if issue.id == link.inward else (link.inward, "inwardIssue")
        )
        other = self._issues[other_id]
        linked_fields: dict[str, Any] = {
            "summary": other.summary,
            "status": self._status_json(self._statuses[other.status], api),
            "issuetype": self._field_json(other, "issuetype", version, base),
        }
        if other.priority is not None:
            linked_fields["priority"] = self._field_json(other, "priority", version, base)
        return {
            "id": str(link.id),
            "self": f"{api}/issueLink/{link.id}",
            "type": self._link_type_json(link.type, version),
            side: {
                "id": str(other.id),
                "key": other.key,
                "self": f"{api}/issue/{other.id}",
                "fields": linked_fields,
            },
        }

    def _check_fields(self, fields: Mapping[str, Any]) -> list[str]:
        """Schema checks for system fields inside IssueBean.fields (free-form in the spec)."""
        problems: list[str] = []
        for name, component in _FIELD_COMPONENTS.items():
            if fields.get(name) is not None:
                problems.extend(
                    f"fields.{name}: {p}" for p in self.spec.check_component(component, fields[name])
                )
        for name in ("created", "updated", "resolutiondate"):
            value = fields.get(name)
            if value is not None and not _JIRA_TIME.match(str(value)):
                problems.append(f"fields.{name}: {value!r} is not a Jira timestamp")
        if "labels" in fields and not (
            isinstance(fields["labels"], list) and all(isinstance(v, str) for v in fields["labels"])
        ):
            problems.append("fields.labels: not an array of strings")
        for index, link in enumerate(fields.get("issuelinks") or []):
            sides = [s for s in ("inwardIssue", "outwardIssue") if s in link]
            if len(sides) != 1:
                problems.append(f"fields.issuelinks/{index}: needs exactly one of inwardIssue/outwardIssue")
            problems.extend(
                f"fields.issuelinks/{index}/type: {p}"
                for p in self.spec.check_component("IssueLinkType", link.get("type"))
            )
            for side in sides:
                problems.extend(
                    f"fields.issuelinks/{index}/{side}: {p}"
                    for p in self.spec.check_component("LinkedIssue", link[side])
                )
        return problems

    # ----------------------------------------------------------------------------- lookups

    def _new_id(self, kind: str) -> int:
        self._next_id[kind] += 1
        return self._next_id[kind]

    def _issue_or_404(self, ref: str) -> _Issue:
        issue_id = int(ref) if ref.isdigit() else self._keys.get(ref.upper())
        if issue_id is None or issue_id not in self._issues:
            raise _ApiError(404, [ISSUE_NOT_FOUND])
        return self._issues[issue_id]

    def _available(self, issue: _Issue) -> list[_Transition]:
        return [t for t in self._transitions if t.sources is None or issue.status in t.sources]

    def _initial_status(self) -> str:
        return next(s.name for s in self._statuses.values() if s.category == "new")

    def _lookup_ref(self, ref: Any, table: Mapping[str, str]) -> str | None:
        """Resolve ``{"name"|"key"|"id": ...}`` against ``name -> id``; returns the name."""
        if not isinstance(ref, dict):
            return None
        for name, ident in table.items():
            if (
                ref.get("name") == name
                or ref.get("key") == name
                or (ref.get("id") is not None and str(ref["id"]) == ident)
            ):
                return name
        return None

    def _seed_name(self, value: Any, table: Mapping[str, Any], what: str) -> str:
        name = value.get("name") if isinstance(value, Mapping) else value
        if name not in table:
            raise ValueError(f"unknown {what} {name!r}")
        return str(name)

    def _seed_change_item(self, item: Mapping[str, Any]) -> dict[str, Any]:
        allowed = {"field", "fieldtype", "fieldId", "from", "fromString", "to", "toString"}
        unknown = set(item) - allowed
        if unknown:
            raise ValueError(f"unknown changelog item keys {sorted(unknown)}")
        out = {k: str(v) for k, v in item.items() if v is not None}
        out.setdefault("fieldtype", "jira")
        return out

    def _display(self, account: str | None) -> str | None:
        return None if account is None else self._users[account].display_name

    def _field_name(self, name: str) -> str:
        return self._custom_fields[name].name if name in self._custom_fields else _FIELD_NAMES.get(name, name)

    @staticmethod
    def _option_id(custom: _CustomField, value: str) -> str:
        """Option ids follow the declared order; free values (no declared options) get a stable id."""
        if value in custom.options:
            return str(10100 + custom.options.index(value))
        return str(20000 + int.from_bytes(value.encode()[:4].ljust(4, b"\0"), "big") % 10000)


# ================================================================================== module helpers


@dataclass
class _Ctx:
    version: str  # "2" or "3"
    base: str
    params: dict[str, Any]
    path: dict[str, str]
    body: Any


_ROUTES = {
    "GET /rest/api/3/search/jql": "_search_get",
    "POST /rest/api/3/search/jql": "_search_post",
    "POST /rest/api/3/search/approximate-count": "_count",
    "POST /rest/api/3/issue": "_create_issue",
    "GET /rest/api/3/issue/{issueIdOrKey}": "_get_issue",
    "PUT /rest/api/3/issue/{issueIdOrKey}": "_edit_issue",
    "GET /rest/api/3/issue/{issueIdOrKey}/comment": "_get_comments",
    "POST /rest/api/3/issue/{issueIdOrKey}/comment": "_add_comment",
    "GET /rest/api/3/issue/{issueIdOrKey}/transitions": "_get_transitions",
    "POST /rest/api/3/issue/{issueIdOrKey}/transitions": "_do_transition",
    "GET /rest/api/3/issue/{issueIdOrKey}/changelog": "_get_changelog",
    "GET /rest/api/3/issue/{issueIdOrKey}/properties": "_property_keys",
    "GET /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}": "_get_property",
    "PUT /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}": "_set_property",
    "DELETE /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}": "_delete_property",
    "POST /rest/api/3/issueLink": "_link_issues",
    "GET /rest/api/3/issueLinkType": "_link_types_json",
    "GET /rest/api/3/user/search": "_find_users",
    "GET /rest/api/3/myself": "_myself",
}


def _find_spec(explicit: str | os.PathLike[str] | None) -> Path:
    candidates = [Path(explicit)] if explicit else []
    if os.environ.get(SPEC_ENV):
        candidates.append(Path(os.environ[SPEC_ENV]))
    candidates.extend(_SPEC_CANDIDATES)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"Jira Cloud OpenAPI spec not found; set {SPEC_ENV}. Looked in: {[str(c) for c in candidates]}"
    )


def _csv(values: Any) -> list[str]:
    """Flatten repeated and comma-separated parameter values."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


def _expand_set(value: Any) -> set[str]:
    return set(_csv(value))


def _label_problem(label: Any) -> str | None:
    if not isinstance(label, str) or not label:
        return "Labels must be non-empty strings."
    if re.search(r"\s", label):
        return f"The label '{label}' contains spaces which is invalid."
    if len(label) > 255:
        return f"The label '{label[:20]}...' exceeds the maximum length of 255 characters."
    return None


def _custom_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return adf_to_text(value)
    return str(value)


def _single_predicate(
    op: str, wanted: set[Any], value_of: Callable[[_Issue], Any], error: Callable[[], JqlError]
) -> Predicate:
    """Semantics of a single-valued field. ``!=`` and ``NOT IN`` never match EMPTY (as in Jira)."""
    wanted_lower = {w.lower() if isinstance(w, str) else w for w in wanted}

    def norm(value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    if op in {"=", "in"}:
        return lambda issue: norm(value_of(issue)) in wanted_lower
    if op in {"!=", "not in"}:
        return lambda issue: value_of(issue) is not None and norm(value_of(issue)) not in wanted_lower
    if op == "is":
        return lambda issue: value_of(issue) is None
    if op == "is not":
        return lambda issue: value_of(issue) is not None
    raise error()


def _multi_predicate(
    op: str, wanted: set[str], values_of: Callable[[_Issue], set[str]], error: Callable[[], JqlError]
) -> Predicate:
    """Semantics of a multi-valued field (labels): ``!=``/``NOT IN`` need a non-empty value."""
    if op in {"=", "in"}:
        return lambda issue: bool(values_of(issue) & wanted)
    if op in {"!=", "not in"}:
        return lambda issue: bool(values_of(issue)) and not values_of(issue) & wanted
    if op == "is":
        return lambda issue: not values_of(issue)
    if op == "is not":
        return lambda issue: bool(values_of(issue))
    raise error()


def _drop_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _avatars(prefix: str) -> dict[str, str]:
    return {size: f"{prefix}?s={size.split('x')[0]}" for size in ("48x48", "24x24", "16x16", "32x32")}


def _safe_json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return raw.decode("utf-8", "replace")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    fake: FakeJira


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
                self.server.fake.response_violations.append("FakeJira crashed:\n" + traceback.format_exc())
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
