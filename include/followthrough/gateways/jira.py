"""Jira Cloud: a small REST v3 client, ADF conversion, and the ticket gateway.

``JiraClient`` talks to Jira Cloud REST v3 over one ``requests.Session`` (basic auth: the
account's email and an API token). It searches with ``POST /rest/api/3/search/jql`` (the old
``/search`` answers 410 since 2025) and pages with ``nextPageToken``, always naming the
fields it wants (the endpoint returns only ids otherwise). Retries:

- 429 is retried for every request (Jira did not process it), after ``Retry-After``
  (seconds, ``0`` or an HTTP date; exponential backoff when absent);
- 5xx answers, timeouts and lost connections are retried with exponential backoff only for
  idempotent requests (GET, search, PUT edit). For a create, a comment or a transition they
  raise ``JiraAmbiguousError``: the write may have happened, so the caller checks before
  trying again (the gateway does; a create is never blindly repeated);
- a connection that could not be opened is retried for every request (nothing was sent);
- every retry spends one unit of the client's budget (``retry_budget``) and one of the
  request's (``max_retries_per_request``); when either runs out the client raises
  ``JiraRetriesExhausted`` naming the request and the last problem.

The API token never appears in an exception, a log line or ``repr``: messages are masked.

``text_to_adf`` / ``adf_to_text`` convert between a Markdown-like text and the Atlassian
Document Format (paragraphs, headings, lists, code blocks, mentions, links, hard breaks);
``adf_to_text_with_unknown`` also reports node types it does not know (their text is kept)
so the Jira source can quarantine such documents.

``JiraTicketGateway`` delivers the outbox's Jira actions (create, comment, resolve) exactly
once per idempotency key, see its docstring.

This module imports neither Airflow nor pandas at import time.
"""

from __future__ import annotations

import base64
import logging
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from followthrough.gateways.outbox import Delivery

log = logging.getLogger(__name__)

API = "/rest/api/3"
# search/jql: most issues per page when fields are requested (Jira's documented cap for
# issues with fields is lower than for ids; 100 is the commonly reported value), and for
# id/key-only searches (the spec's 5000).
MAX_PAGE_WITH_FIELDS = 100
MAX_PAGE_IDS_ONLY = 5000
SUMMARY_MAX = 255
DESCRIPTION_MAX = 32_000  # Jira's limit is 32,767 characters of rendered text; keep a margin


# ================================================================================== errors


class JiraError(Exception):
    """A Jira request failed. Messages never carry the API token."""

    def __init__(self, message: str, *, status: int | None = None, method: str = "", path: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.method = method
        self.path = path


class JiraApiError(JiraError):
    """Jira answered with a client error (4xx other than 429); retrying cannot help."""

    def __init__(self, message: str, *, status: int, method: str, path: str, messages: Sequence[str] = ()) -> None:
        super().__init__(message, status=status, method=method, path=path)
        self.messages = list(messages)


class JiraAmbiguousError(JiraError):
    """A non-idempotent request (create, comment, transition) may or may not have been applied.

    Raised on a timeout, a lost connection or a 5xx after the request was sent. The caller
    must check Jira's state before trying again.
    """


class JiraRetriesExhausted(JiraError):
    """The request's or the client's retry budget ran out."""


class DeliveryUncertain(Exception):
    """The action may not have happened yet and must not be repeated blindly.

    The outbox entry stays pending; the next dispatch repeats the gateway's checks (search for
    the ticket's idempotency label, read the comments, read the status) before writing.
    """


# ================================================================================== JQL


def jql_quote(value: str) -> str:
    """A JQL string literal: double quotes around the value, with quotes, backslashes and
    control characters escaped, so the value can never end the literal early and add
    operators (``x" OR project = SECRET OR "`` stays one value)."""
    escaped = (
        str(value)
        .replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def jql_field(field_id: str) -> str:
    """How a field id is named in JQL: ``customfield_10020`` -> ``cf[10020]``."""
    match = re.fullmatch(r"customfield_(\d+)", field_id)
    if match:
        return f"cf[{match.group(1)}]"
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", field_id):
        raise ValueError(f"not a Jira field id: {field_id!r}")
    return field_id


def idempotency_label(fingerprint: str, episode: int) -> str:
    """The label that marks the ticket of one finding episode: ``ft-<16 hex>-e<episode>``."""
    head = str(fingerprint).strip().lower()[:16]
    if not re.fullmatch(r"[0-9a-f]{16}", head):
        raise ValueError(f"fingerprint must start with 16 hex digits, got {fingerprint!r}")
    return f"ft-{head}-e{int(episode)}"


def comment_marker(idempotency_key: str) -> str:
    """The trailing marker that makes a comment findable (and so never posted twice)."""
    return f"[followthrough:{idempotency_key}]"


# ================================================================================== client


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds, ``0`` or an HTTP date); None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    return max(0.0, seconds) if math.isfinite(seconds) else None


class JiraClient:
    """A small Jira Cloud REST v3 client with bounded, idempotency-aware retries (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        email: str,
        api_token: str,
        *,
        timeout: float = 30.0,
        retry_budget: int = 30,
        max_retries_per_request: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        session: requests.Session | None = None,
    ) -> None:
        if not base_url or "://" not in base_url:
            raise ValueError(f"Jira base URL must be an absolute URL, got {base_url!r}")
        if not email or not api_token:
            raise ValueError("Jira email and API token are required")
        self.base_url = base_url.rstrip("/")
        self.email = email
        self._secrets = [s for s in (api_token, base64.b64encode(f"{email}:{api_token}".encode()).decode()) if s]
        self.timeout = timeout
        self.retry_budget = retry_budget
        self.retries_left = retry_budget
        self.max_retries_per_request = max_retries_per_request
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        self.now = now
        self.stats: Counter[str] = Counter()  # requests, retries, searches, pages
        self._session = session or requests.Session()
        self._session.auth = (email, api_token)
        self._session.headers.update({"Accept": "application/json", "User-Agent": "followthrough"})
        self._user_cache: dict[str, str | None] = {}

    def __repr__(self) -> str:
        return f"JiraClient({self.base_url!r}, email={self.email!r}, api_token='***')"

    @classmethod
    def from_connection(cls, conn_id: str = "jira_default", **kwargs: Any) -> JiraClient:
        """Build a client from an Airflow Connection (host = site URL, login = email, password = API token).

        The Connection is read here, when called (never at import or DAG-parse time). Extra
        ``timeout`` (seconds) is honoured; keyword arguments override it.
        """
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
        host = (conn.host or "").strip()
        if not host:
            raise ValueError(f"Airflow Connection {conn_id!r} has no host (the Jira site URL)")
        if "://" not in host:
            host = f"{conn.schema or 'https'}://{host}"
        if conn.port:
            host = f"{host.rstrip('/')}:{conn.port}"
        extra = conn.extra_dejson or {}
        if "timeout" in extra and "timeout" not in kwargs:
            kwargs["timeout"] = float(extra["timeout"])
        if not conn.login or not conn.password:
            raise ValueError(f"Airflow Connection {conn_id!r} needs login (email) and password (API token)")
        return cls(host, conn.login, conn.password, **kwargs)

    # ------------------------------------------------------------------------------ transport

    def mask(self, text: str) -> str:
        """The text with every credential replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff_max, self.backoff_base * (2**attempt)))

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool,
    ) -> requests.Response:
        url = self.base_url + API + path
        where = f"{method} {API}{path}"
        attempt = 0
        while True:
            self.stats["requests"] += 1
            wait: float
            try:
                response = self._session.request(method, url, params=params, json=json_body, timeout=self.timeout)
            except requests.exceptions.ConnectTimeout:
                problem, sent = f"could not connect within {self.timeout}s", False
            except requests.exceptions.Timeout:
                problem, sent = f"no answer within {self.timeout}s", True
            except requests.exceptions.ConnectionError as exc:
                sent = not _never_connected(exc)
                problem = "connection refused" if not sent else f"connection lost ({_exception_summary(exc)})"
            except requests.RequestException as exc:
                raise JiraError(self.mask(f"Jira {where} failed: {_exception_summary(exc)}"),
                                method=method, path=path) from None
            else:
                status = response.status_code
                if status < 400:
                    return response
                detail = self.mask(_error_detail(response))
                if status == 429:
                    problem = f"429 rate limited{': ' + detail if detail else ''}"
                    asked = parse_retry_after(response.headers.get("Retry-After"), self.now())
                    if asked is not None and asked > self.max_retry_after:
                        raise JiraRetriesExhausted(
                            f"Jira {where}: rate limited and asked to wait {asked:.0f}s, "
                            f"more than the {self.max_retry_after:.0f}s this client waits",
                            status=429, method=method, path=path)
                    wait = asked if asked is not None else self._backoff(attempt)
                elif status >= 500:
                    problem = f"{status} {detail or response.reason}"
                    if not idempotent:
                        raise JiraAmbiguousError(
                            f"Jira {where} answered {status} after the request was sent; it may have been "
                            f"applied: {detail or response.reason}", status=status, method=method, path=path)
                    asked = parse_retry_after(response.headers.get("Retry-After"), self.now())
                    wait = min(asked, self.max_retry_after) if asked is not None else self._backoff(attempt)
                else:
                    messages = _error_messages(response)
                    raise JiraApiError(
                        self.mask(f"Jira {where} answered {status}: {detail or response.reason}"),
                        status=status, method=method, path=path, messages=[self.mask(m) for m in messages])
                self._spend_retry(where, method, path, attempt, problem, status)
                log.warning("Jira %s: %s; retry %d in %.1fs", where, problem, attempt + 1, wait)
                self.sleep(wait)
                attempt += 1
                continue
            # no answer
            problem = self.mask(problem)
            if sent and not idempotent:
                raise JiraAmbiguousError(f"Jira {where}: {problem} after the request was sent; it may have been applied",
                                         method=method, path=path)
            wait = self._backoff(attempt)
            self._spend_retry(where, method, path, attempt, problem, None)
            log.warning("Jira %s: %s; retry %d in %.1fs", where, problem, attempt + 1, wait)
            self.sleep(wait)
            attempt += 1

    def _spend_retry(self, where: str, method: str, path: str, attempt: int, problem: str, status: int | None) -> None:
        if attempt >= self.max_retries_per_request:
            raise JiraRetriesExhausted(
                f"Jira {where} still failing after {attempt} retries: {problem}",
                status=status, method=method, path=path)
        if self.retries_left <= 0:
            raise JiraRetriesExhausted(
                f"Jira {where} failed ({problem}) and this client's retry budget of {self.retry_budget} retries "
                "is spent; try again later", status=status, method=method, path=path)
        self.retries_left -= 1
        self.stats["retries"] += 1

    def _json(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
              json_body: Any = None, idempotent: bool) -> Any:
        response = self._request(method, path, params=params, json_body=json_body, idempotent=idempotent)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise JiraError(f"Jira {method} {API}{path} answered {response.status_code} with a body that is not JSON",
                            status=response.status_code, method=method, path=path) from None

    # ------------------------------------------------------------------------------ search

    def search(
        self,
        jql: str,
        fields: Sequence[str],
        max_results: int = MAX_PAGE_WITH_FIELDS,
        next_page_token: str | None = None,
        *,
        expand: Sequence[str] | str | None = None,
        reconcile_issues: Sequence[int | str] = (),
    ) -> dict[str, Any]:
        """One page of ``POST /rest/api/3/search/jql``: ``{"issues", "nextPageToken"?, "isLast"}``."""
        body: dict[str, Any] = {"jql": jql, "fields": list(fields) or ["id"], "maxResults": int(max_results)}
        if next_page_token:
            body["nextPageToken"] = next_page_token
        if expand:
            body["expand"] = expand if isinstance(expand, str) else ",".join(expand)
        if reconcile_issues:
            body["reconcileIssues"] = [int(i) for i in reconcile_issues][:50]
        self.stats["searches"] += 1
        page = self._json("POST", "/search/jql", json_body=body, idempotent=True)
        return page if isinstance(page, dict) else {"issues": [], "isLast": True}

    def search_all(
        self,
        jql: str,
        fields: Sequence[str],
        *,
        expand: Sequence[str] | str | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every issue matching ``jql``, page by page, at the largest page size allowed.

        Id/key-only searches page by 5000, searches with fields by 100 (or ``page_size`` if
        smaller). Pages end when ``isLast`` is true or no ``nextPageToken`` comes back.
        """
        ids_only = set(fields) <= {"id", "key"} and not expand
        cap = MAX_PAGE_IDS_ONLY if ids_only else MAX_PAGE_WITH_FIELDS
        size = min(cap, page_size) if page_size else cap
        token: str | None = None
        while True:
            page = self.search(jql, fields, size, token, expand=expand)
            self.stats["pages"] += 1
            yield from page.get("issues") or []
            token = page.get("nextPageToken")
            if page.get("isLast", True) or not token:
                return

    # ------------------------------------------------------------------------------ issues

    def get_issue(self, key: str, fields: Sequence[str] = ("*all",), *, expand: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"fields": ",".join(fields)}
        if expand:
            params["expand"] = expand
        issue: dict[str, Any] = self._json("GET", f"/issue/{_key(key)}", params=params, idempotent=True)
        return issue

    def create_issue(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /issue``; never retried after it may have been applied (raises JiraAmbiguousError)."""
        created: dict[str, Any] = self._json("POST", "/issue", json_body={"fields": dict(fields)}, idempotent=False)
        return created

    def edit_issue(self, key: str, fields: Mapping[str, Any] | None = None,
                   update: Mapping[str, Any] | None = None) -> None:
        """``PUT /issue/{key}`` (idempotent: setting a value twice, adding a label twice, is a no-op)."""
        body: dict[str, Any] = {}
        if fields:
            body["fields"] = dict(fields)
        if update:
            body["update"] = dict(update)
        self._json("PUT", f"/issue/{_key(key)}", json_body=body, idempotent=True)

    def add_comment(self, key: str, adf: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /issue/{key}/comment`` with an ADF body; raises JiraAmbiguousError when unsure."""
        comment: dict[str, Any] = self._json("POST", f"/issue/{_key(key)}/comment", json_body={"body": dict(adf)},
                                             idempotent=False)
        return comment

    def comments(self, key: str, *, newest_first: bool = False, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every comment of an issue (``GET /issue/{key}/comment``, paginated)."""
        start = 0
        while True:
            params = {"startAt": start, "maxResults": page_size, "orderBy": "-created" if newest_first else "created"}
            page = self._json("GET", f"/issue/{_key(key)}/comment", params=params, idempotent=True) or {}
            found = page.get("comments") or []
            yield from found
            start += len(found)
            if not found or start >= int(page.get("total", start)):
                return

    def changelog(self, key: str, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """An issue's full change history, oldest first (``GET /issue/{key}/changelog``, paginated)."""
        start = 0
        while True:
            params = {"startAt": start, "maxResults": page_size}
            page = self._json("GET", f"/issue/{_key(key)}/changelog", params=params, idempotent=True) or {}
            found = page.get("values") or []
            yield from found
            start += len(found)
            if not found or page.get("isLast", True):
                return

    def transitions(self, key: str) -> list[dict[str, Any]]:
        """Transitions available from the issue's current status."""
        answer = self._json("GET", f"/issue/{_key(key)}/transitions", idempotent=True) or {}
        return list(answer.get("transitions") or [])

    def do_transition(self, key: str, transition_id: str) -> None:
        """``POST /issue/{key}/transitions``; raises JiraAmbiguousError when unsure (re-read the status)."""
        self._json("POST", f"/issue/{_key(key)}/transitions", json_body={"transition": {"id": str(transition_id)}},
                   idempotent=False)

    def transition(self, key: str, to_status_name: str) -> str:
        """Move the issue to the status named ``to_status_name`` (one hop); return the transition id used.

        The transition is chosen by its target status (or, failing that, its own name),
        case-insensitively, among those available now. Raises JiraError if none leads there.
        """
        wanted = to_status_name.casefold()
        available = self.transitions(key)
        chosen = next((t for t in available if str((t.get("to") or {}).get("name", "")).casefold() == wanted), None)
        chosen = chosen or next((t for t in available if str(t.get("name", "")).casefold() == wanted), None)
        if chosen is None:
            names = ", ".join(f"{t.get('name')} -> {(t.get('to') or {}).get('name')}" for t in available) or "none"
            raise JiraError(f"{key}: no transition to {to_status_name!r} from its current status (available: {names})",
                            method="POST", path=f"/issue/{key}/transitions")
        self.do_transition(key, str(chosen["id"]))
        return str(chosen["id"])

    # ------------------------------------------------------------------------------ users

    def find_user(self, email: str) -> str | None:
        """The accountId of the active user with this email, or None.

        Jira may hide a user's email (privacy settings); then a single active match for the
        exact email query is accepted (Jira matched it server-side). Results are cached.
        """
        wanted = email.strip().casefold()
        if not wanted:
            return None
        if wanted in self._user_cache:
            return self._user_cache[wanted]
        users = self._json("GET", "/user/search", params={"query": email.strip(), "maxResults": 20},
                           idempotent=True) or []
        active = [u for u in users if isinstance(u, dict) and u.get("active", True) and u.get("accountId")]
        exact = [u for u in active if str(u.get("emailAddress") or "").casefold() == wanted]
        hidden = [u for u in active if not u.get("emailAddress")]
        chosen = exact[0] if exact else (hidden[0] if len(hidden) == 1 and len(active) == 1 else None)
        account = str(chosen["accountId"]) if chosen else None
        self._user_cache[wanted] = account
        return account

    def user(self, account_id: str) -> dict[str, Any] | None:
        """A user by accountId (``GET /user/search?accountId=``), or None if Jira does not know it."""
        users = self._json("GET", "/user/search", params={"accountId": account_id}, idempotent=True) or []
        return users[0] if users and isinstance(users[0], dict) else None


def _key(key: str) -> str:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*-\d+|\d+", str(key)):
        raise ValueError(f"not a Jira issue key: {key!r}")
    return str(key)


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection could not be opened at all (so the request was never sent)."""
    import urllib3.exceptions

    reason: Any = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError)


def _exception_summary(exc: BaseException) -> str:
    text = str(exc)
    for pattern in (r"\(Caused by (\w+)", r"'([A-Za-z]+Error)"):
        found = re.search(pattern, text)
        if found:
            return found.group(1)
    return type(exc).__name__


def _error_messages(response: requests.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    messages = [str(m) for m in body.get("errorMessages") or []]
    errors = body.get("errors") or {}
    if isinstance(errors, dict):
        messages.extend(f"{k}: {v}" for k, v in errors.items())
    return messages


def _error_detail(response: requests.Response) -> str:
    messages = _error_messages(response)
    text = "; ".join(messages) if messages else ""
    return text[:500]


# ================================================================================== ADF

_BLOCK_CONTAINERS = frozenset({"doc", "panel", "layoutSection", "layoutColumn", "bodiedExtension", "tableCell",
                               "tableHeader"})
_KNOWN_NODES = frozenset({
    "doc", "paragraph", "text", "hardBreak", "heading", "bulletList", "orderedList", "listItem", "codeBlock",
    "blockquote", "rule", "mention", "emoji", "inlineCard", "blockCard", "embedCard", "panel", "table",
    "tableRow", "tableHeader", "tableCell", "mediaSingle", "mediaGroup", "media", "mediaInline", "date",
    "status", "expand", "nestedExpand", "taskList", "taskItem", "decisionList", "decisionItem", "layoutSection",
    "layoutColumn", "extension", "bodiedExtension", "inlineExtension", "placeholder", "caption",
})
_INLINE_TOKEN = re.compile(
    r"\[~accountid:(?P<mention>[^\]\s]+)\]"
    r"|\[(?P<label>[^\]\n]+)\]\((?P<href>https?://[^)\s]+)\)"
    r"|(?P<url>https?://[^\s<>\"]+)"
)


def text_to_adf(text: str) -> dict[str, Any]:
    """An ADF document from Markdown-like text.

    Blocks are separated by blank lines. ``# ``..``###### `` start a heading; ``- ``/``* ``
    lines a bullet list; ``1. `` lines an ordered list; a ```` ``` ```` fence a code block.
    Other lines are paragraphs; single line breaks inside one become hard breaks. Inline:
    ``[text](https://...)`` and bare URLs become links, ``[~accountid:ID]`` a mention.
    """
    content: list[dict[str, Any]] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_kind = ""
    list_start = 1
    lines = str(text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")

    def flush_paragraph() -> None:
        if paragraph:
            inline: list[dict[str, Any]] = []
            for index, line in enumerate(paragraph):
                if index:
                    inline.append({"type": "hardBreak"})
                inline.extend(_inline_nodes(line))
            content.append({"type": "paragraph", "content": inline})
            paragraph.clear()

    def flush_list() -> None:
        nonlocal list_kind
        if items:
            node: dict[str, Any] = {"type": list_kind, "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": _inline_nodes(item)}]}
                for item in items]}
            if list_kind == "orderedList" and list_start != 1:
                node["attrs"] = {"order": list_start}
            content.append(node)
            items.clear()
        list_kind = ""

    index = 0
    while index < len(lines):
        line = lines[index]
        fence = re.match(r"^```\s*([\w+#.-]*)\s*$", line)
        heading = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        bullet = re.match(r"^\s*[-*+]\s+(.*)$", line)
        ordered = re.match(r"^\s*(\d+)[.)]\s+(.*)$", line)
        if fence:
            flush_paragraph()
            flush_list()
            body: list[str] = []
            index += 1
            while index < len(lines) and not re.match(r"^```\s*$", lines[index]):
                body.append(lines[index])
                index += 1
            code: dict[str, Any] = {"type": "codeBlock", "content": []}
            if fence.group(1):
                code["attrs"] = {"language": fence.group(1)}
            if "\n".join(body):
                code["content"] = [{"type": "text", "text": "\n".join(body)}]
            content.append(code)
        elif heading:
            flush_paragraph()
            flush_list()
            content.append({"type": "heading", "attrs": {"level": len(heading.group(1))},
                            "content": _inline_nodes(heading.group(2))})
        elif bullet or ordered:
            flush_paragraph()
            kind = "bulletList" if bullet else "orderedList"
            if kind != list_kind:
                flush_list()
                list_kind = kind
                list_start = int(ordered.group(1)) if ordered else 1
            items.append(bullet.group(1) if bullet else ordered.group(2) if ordered else "")
        elif not line.strip():
            flush_paragraph()
            flush_list()
        else:
            flush_list()
            paragraph.append(line)
        index += 1
    flush_paragraph()
    flush_list()
    return {"type": "doc", "version": 1, "content": content}


def _inline_nodes(line: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    position = 0
    for match in _INLINE_TOKEN.finditer(line):
        if match.start() > position:
            nodes.append({"type": "text", "text": line[position:match.start()]})
        if match.group("mention"):
            account = match.group("mention")
            nodes.append({"type": "mention", "attrs": {"id": account, "text": f"[~accountid:{account}]"}})
            position = match.end()
        elif match.group("href"):
            nodes.append({"type": "text", "text": match.group("label"),
                          "marks": [{"type": "link", "attrs": {"href": match.group("href")}}]})
            position = match.end()
        else:
            url = match.group("url").rstrip(".,;:!?)'")
            nodes.append({"type": "text", "text": url, "marks": [{"type": "link", "attrs": {"href": url}}]})
            position = match.start() + len(url)
    if position < len(line):
        nodes.append({"type": "text", "text": line[position:]})
    return [n for n in nodes if n.get("type") != "text" or n.get("text")]


def adf_to_text(doc: Any) -> str:
    """Markdown-like text of an ADF document (headings as ``#``, lists as ``-``/``1.``, code fenced)."""
    return adf_to_text_with_unknown(doc)[0]


def adf_to_text_with_unknown(doc: Any) -> tuple[str, list[str]]:
    """``(text, unknown node types)``: text as :func:`adf_to_text`; the text of unknown nodes is kept."""
    if doc is None:
        return "", []
    if isinstance(doc, str):  # v2 APIs and old data give plain text
        return doc, []
    unknown: set[str] = set()
    text = _render(doc, unknown) if isinstance(doc, dict) else ""
    return text.strip("\n"), sorted(unknown)


def _children(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = node.get("content")
    return [c for c in content if isinstance(c, dict)] if isinstance(content, list) else []


def _blocks(nodes: Iterable[Mapping[str, Any]], unknown: set[str], separator: str = "\n\n") -> str:
    parts = [_render(n, unknown) for n in nodes]
    return separator.join(p for p in parts if p != "")


def _inline(node: Mapping[str, Any], unknown: set[str]) -> str:
    return "".join(_render(child, unknown) for child in _children(node))


def _indent(text: str, prefix: str, width: int) -> str:
    lines = text.split("\n")
    return "\n".join([prefix + lines[0], *[(" " * width + line) if line else line for line in lines[1:]]])


def _render(node: Mapping[str, Any], unknown: set[str]) -> str:
    kind = str(node.get("type", ""))
    attrs: dict[str, Any] = node["attrs"] if isinstance(node.get("attrs"), dict) else {}
    if kind == "text":
        text = str(node.get("text", ""))
        for mark in node.get("marks") or []:
            if isinstance(mark, dict) and mark.get("type") == "link":
                href = str((mark.get("attrs") or {}).get("href", ""))
                if href and href != text:
                    return f"[{text}]({href})"
        return text
    if kind == "hardBreak":
        return "\n"
    if kind == "paragraph":
        return _inline(node, unknown)
    if kind == "heading":
        level = attrs.get("level", 1)
        level = level if isinstance(level, int) and 1 <= level <= 6 else 1
        return "#" * level + " " + _inline(node, unknown)
    if kind in {"bulletList", "orderedList", "taskList", "decisionList"}:
        start = attrs.get("order", 1) if kind == "orderedList" else 1
        start = start if isinstance(start, int) else 1
        lines = []
        for offset, item in enumerate(_children(node)):
            body = _render(item, unknown)
            if kind == "orderedList":
                prefix = f"{start + offset}. "
            elif kind == "taskList":
                done = (item.get("attrs") or {}).get("state") == "DONE"
                prefix = "- [x] " if done else "- [ ] "
            else:
                prefix = "- "
            lines.append(_indent(body, prefix, len(prefix)))
        return "\n".join(lines)
    if kind == "listItem":
        return _blocks(_children(node), unknown, "\n")
    if kind in {"taskItem", "decisionItem"}:
        return _inline(node, unknown)
    if kind == "codeBlock":
        language = attrs.get("language") or ""
        return f"```{language}\n{_inline(node, unknown)}\n```"
    if kind == "blockquote":
        return "\n".join("> " + line if line else ">" for line in _blocks(_children(node), unknown).split("\n"))
    if kind == "rule":
        return "---"
    if kind == "mention":
        return str(attrs.get("text") or f"[~accountid:{attrs.get('id', '')}]")
    if kind == "emoji":
        return str(attrs.get("text") or attrs.get("shortName") or "")
    if kind in {"inlineCard", "blockCard", "embedCard"}:
        return str(attrs.get("url") or "")
    if kind == "date":
        try:
            return datetime.fromtimestamp(int(str(attrs.get("timestamp"))) / 1000, UTC).date().isoformat()
        except (TypeError, ValueError, OverflowError):
            return ""
    if kind == "status":
        return str(attrs.get("text") or "")
    if kind in {"placeholder", "media", "mediaInline", "extension", "inlineExtension"}:
        return ""
    if kind in {"mediaSingle", "mediaGroup"}:
        return _blocks(_children(node), unknown)
    if kind == "table":
        return "\n".join(_render(row, unknown) for row in _children(node))
    if kind == "tableRow":
        cells = [_blocks(_children(cell), unknown, " ").replace("\n", " ") for cell in _children(node)]
        return "| " + " | ".join(cells) + " |"
    if kind in {"expand", "nestedExpand"}:
        title = str(attrs.get("title") or "")
        body = _blocks(_children(node), unknown)
        return f"{title}\n\n{body}" if title and body else title or body
    if kind in _BLOCK_CONTAINERS or kind == "caption":
        return _blocks(_children(node), unknown)
    # unknown node type: keep whatever text it carries, and report it
    unknown.add(kind or "<no type>")
    children = _children(node)
    if children:
        block = any(str(c.get("type")) not in {"text", "hardBreak", "mention", "emoji", "inlineCard", "date",
                                                "status"} for c in children)
        return _blocks(children, unknown) if block else _inline(node, unknown)
    return str(node.get("text") or "")


# ================================================================================== gateway

DEFAULT_PRIORITY_NAMES = {"P1": "Highest", "P2": "High", "P3": "Medium", "P4": "Low"}


class JiraTicketGateway:
    """Delivers the outbox's Jira actions: create_ticket, comment_ticket, resolve_ticket.

    **Create** is idempotent per finding episode. The ticket carries the label
    ``ft-<first 16 hex of the fingerprint>-e<episode>``. Before creating, the gateway reuses
    (a) the ticket the store recorded for this fingerprint and episode
    (``ticket_key_for``: a previous create's external_ref; search lag cannot hide it), then
    (b) a ticket found by searching for the label. When the create itself fails ambiguously
    (timeout, reset, 5xx after sending) it is never sent again: the gateway searches for the
    label with backoff for ``search_lag_seconds`` and returns the ticket if it appears, or
    raises :class:`DeliveryUncertain` (the entry stays pending; the next run checks again).
    A reopened finding is a new episode and so gets a new ticket, whose description names
    the previous episode's ticket when the store knows it; the old ticket stays closed.

    **Comment** carries ``[followthrough:<idempotency key>]`` as its last line and is skipped
    when a comment with that marker exists (comments are read live, not through search).

    **Resolve** moves the ticket to Done (through intermediate statuses when the workflow
    needs it) unless its status is already in the done category, then adds the payload's
    comment once.

    The assignee is looked up by email (``payload["assignee_email"]``, ``payload["email"]``
    or an email in ``payload["assignee"]``); a person Jira does not know leaves the ticket
    unassigned and the description says so. Tickets go to ``project_key`` (the policy's
    ``dispatch.jira_project``); ``payload["project"]`` is not consulted. Optional payload
    keys: ``priority`` (P1..P4 or a Jira priority name), ``due_date`` (YYYY-MM-DD).
    """

    ACTIONS = ("create_ticket", "comment_ticket", "resolve_ticket", "update_ticket", "reopen_ticket")

    def __init__(
        self,
        client: JiraClient,
        project_key: str,
        issue_type: str = "Task",
        *,
        ticket_key_for: Callable[[str, int], str | None],
        search_lag_seconds: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        done_status: str = "Done",
        reopen_status: str = "To Do",
        priority_names: Mapping[str, str] | None = None,
        max_transition_hops: int = 4,
    ) -> None:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]+", project_key):
            raise ValueError(f"invalid Jira project key {project_key!r}")
        self.client = client
        self.project_key = project_key
        self.issue_type = issue_type
        self.ticket_key_for = ticket_key_for
        self.search_lag_seconds = float(search_lag_seconds)
        self.sleep = sleep
        self.clock = clock
        self.done_status = done_status
        self.reopen_status = reopen_status
        self.priority_names = dict(DEFAULT_PRIORITY_NAMES if priority_names is None else priority_names)
        self.max_transition_hops = max_transition_hops

    def deliver(self, entry: Mapping[str, Any]) -> Delivery:
        from followthrough.gateways.outbox import Delivery

        action = entry.get("action")
        if action == "create_ticket":
            key = self._create(entry)
        elif action == "comment_ticket":
            key = self._comment(entry)
        elif action == "resolve_ticket":
            key = self._resolve(entry)
        elif action == "update_ticket":
            key = self._update(entry)
        elif action == "reopen_ticket":
            key = self._reopen(entry)
        else:
            raise ValueError(f"JiraTicketGateway cannot deliver action {action!r} "
                             f"(entry {entry.get('idempotency_key')}); it handles {', '.join(self.ACTIONS)}")
        return Delivery(status="sent", external_ref=key)

    # ------------------------------------------------------------------------------ create

    def _create(self, entry: Mapping[str, Any]) -> str:
        fingerprint, episode = str(entry["fingerprint"]), int(entry["episode"])
        label = idempotency_label(fingerprint, episode)
        payload = dict(entry.get("payload") or {})
        labels = _clean_labels([*(payload.get("labels") or []), "followthrough", label])
        existing = self._existing_ticket(fingerprint, episode, label)
        if existing is not None:
            key, current_labels = existing
            missing = [lb for lb in labels if lb not in current_labels]
            if missing:  # e.g. a ticket recorded by the store before it carried the label
                self.client.edit_issue(key, update={"labels": [{"add": lb} for lb in missing]})
            log.info("ticket %s already exists for %s episode %d", key, fingerprint[:16], episode)
            return key
        fields = self._create_fields(entry, payload, labels)
        try:
            created = self.client.create_issue(fields)
        except JiraAmbiguousError as exc:
            log.warning("create for %s may have been applied (%s); looking for label %s", fingerprint[:16], exc, label)
            found = self._await_label(label)
            if found is None:
                raise DeliveryUncertain(
                    f"creating the ticket for {entry.get('idempotency_key')} failed ambiguously ({exc}) and no ticket "
                    f"labelled {label} appeared within {self.search_lag_seconds:.0f}s; left pending so the next run "
                    "checks again before creating") from None
            return found
        key = str(created["key"])
        log.info("created %s for %s episode %d", key, fingerprint[:16], episode)
        return key

    def _existing_ticket(self, fingerprint: str, episode: int, label: str) -> tuple[str, list[str]] | None:
        recorded = self.ticket_key_for(fingerprint, episode)
        if recorded:
            try:
                issue = self.client.get_issue(recorded, fields=("labels", "status"))
            except JiraApiError as exc:
                if exc.status != 404:
                    raise
                log.warning("recorded ticket %s no longer exists; searching by label", recorded)
            else:
                return str(issue["key"]), list((issue.get("fields") or {}).get("labels") or [])
        issues = self._search_label(label)
        if not issues:
            return None
        if len(issues) > 1:
            log.warning("%d tickets carry label %s (%s); using the oldest", len(issues), label,
                        ", ".join(str(i["key"]) for i in issues))
        return str(issues[0]["key"]), list((issues[0].get("fields") or {}).get("labels") or [])

    def _search_label(self, label: str) -> list[dict[str, Any]]:
        page = self.client.search(f"labels = {jql_quote(label)} ORDER BY created ASC", ["labels", "status"], 10)
        return list(page.get("issues") or [])

    def _await_label(self, label: str) -> str | None:
        """Search for the label with backoff until it shows or ``search_lag_seconds`` have passed."""
        start = self.clock()
        slept = 0.0
        delay = 1.0
        while True:
            issues = self._search_label(label)
            if issues:
                return str(issues[0]["key"])
            elapsed = max(self.clock() - start, slept)
            if elapsed >= self.search_lag_seconds:
                return None
            wait = min(delay, self.search_lag_seconds - elapsed)
            self.sleep(wait)
            slept += wait
            delay = min(delay * 2, 8.0)

    def _create_fields(self, entry: Mapping[str, Any], payload: Mapping[str, Any], labels: list[str]) -> dict[str, Any]:
        notes: list[str] = []
        fields: dict[str, Any] = {
            "project": {"key": self.project_key},
            "issuetype": {"name": self.issue_type},
            "summary": _one_line(str(payload.get("summary") or entry.get("idempotency_key")), SUMMARY_MAX),
            "labels": labels,
        }
        email = _assignee_email(payload)
        responsible = str(payload.get("assignee") or entry.get("recipient") or "")
        if email:
            account = self.client.find_user(email)
            if account:
                fields["assignee"] = {"accountId": account}
            else:
                notes.append(f"Unassigned: no Jira user was found for {email} (responsible: {responsible or email}).")
        elif responsible:
            notes.append(f"Unassigned: no email is known for the responsible person {responsible}.")
        episode = int(entry["episode"])
        if episode > 1:
            previous = self.ticket_key_for(str(entry["fingerprint"]), episode - 1)
            notes.append(f"This problem came back (episode {episode})"
                         + (f"; the previous episode's ticket is {previous}." if previous else "."))
        priority = payload.get("priority")
        if priority:
            fields["priority"] = {"name": self.priority_names.get(str(priority), str(priority))}
        due = payload.get("due_date") or payload.get("duedate")
        if due:
            due_text = str(due)[:10]
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", due_text):
                raise ValueError(f"entry {entry.get('idempotency_key')}: due date {due!r} is not YYYY-MM-DD")
            fields["duedate"] = due_text
        description = "\n\n".join([str(payload.get("description") or ""), *notes]).strip()
        fields["description"] = text_to_adf(description[:DESCRIPTION_MAX])
        return fields

    # ------------------------------------------------------------------------------ comment, resolve

    def _ticket(self, entry: Mapping[str, Any]) -> str:
        fingerprint, episode = str(entry["fingerprint"]), int(entry["episode"])
        recorded = self.ticket_key_for(fingerprint, episode)
        if recorded:
            return recorded
        label = idempotency_label(fingerprint, episode)
        issues = self._search_label(label)
        if issues:
            return str(issues[0]["key"])
        raise DeliveryUncertain(
            f"{entry.get('action')} {entry.get('idempotency_key')}: no ticket labelled {label} is known or "
            "searchable yet (its create may be pending or not yet indexed); left pending")

    def _comment(self, entry: Mapping[str, Any]) -> str:
        key = self._ticket(entry)
        payload = entry.get("payload") or {}
        text = str(payload.get("comment") or payload.get("text") or "")
        self._comment_once(key, text, str(entry["idempotency_key"]))
        return key

    def _comment_once(self, key: str, text: str, idempotency_key: str) -> None:
        marker = comment_marker(idempotency_key)
        body = text_to_adf(f"{text}\n\n{marker}" if text.strip() else marker)
        for _ in range(3):
            if self._has_comment(key, marker):
                return
            try:
                self.client.add_comment(key, body)
                return
            except JiraAmbiguousError as exc:
                log.warning("comment on %s may have been applied (%s); checking", key, exc)
        if self._has_comment(key, marker):
            return
        raise DeliveryUncertain(f"commenting on {key} for {idempotency_key} failed ambiguously three times; left pending")

    def _has_comment(self, key: str, marker: str) -> bool:
        return any(marker in adf_to_text(c.get("body")) for c in self.client.comments(key, newest_first=True))

    def _update(self, entry: Mapping[str, Any]) -> str:
        """The finding's evidence changed: rewrite the description (a PUT: safe to repeat)."""
        key = self._ticket(entry)
        description = str((entry.get("payload") or {}).get("description") or "")
        self.client.edit_issue(key, fields={"description": text_to_adf(description[:DESCRIPTION_MAX])})
        return key

    def _reopen(self, entry: Mapping[str, Any]) -> str:
        """The finding returned soon after its resolution: reopen the previous episode's ticket.

        The ticket gets the new episode's label (so search finds it for this episode too), moves
        back out of Done if it is there, and gets the payload's comment once. With no earlier
        ticket to be found, a new one is created instead.
        """
        fingerprint, episode = str(entry["fingerprint"]), int(entry["episode"])
        previous = self.ticket_key_for(fingerprint, episode - 1)
        if previous is None:
            found = self._search_label(idempotency_label(fingerprint, episode - 1))
            previous = str(found[0]["key"]) if found else None
        if previous is None:
            return self._create(entry)
        label = idempotency_label(fingerprint, episode)
        self.client.edit_issue(previous, update={"labels": [{"add": label}]})
        status = (self.client.get_issue(previous, fields=("status",)).get("fields") or {}).get("status") or {}
        if (status.get("statusCategory") or {}).get("key") == "done":
            self.client.transition(previous, self.reopen_status)
        comment = str((entry.get("payload") or {}).get("comment") or "Reopened: the problem is back.")
        self._comment_once(previous, comment, str(entry["idempotency_key"]))
        return previous

    def _resolve(self, entry: Mapping[str, Any]) -> str:
        key = self._ticket(entry)
        payload = entry.get("payload") or {}
        self._move_to_done(key, str(payload.get("transition") or self.done_status))
        comment = str(payload.get("comment") or "")
        if comment:
            self._comment_once(key, comment, str(entry["idempotency_key"]))
        return key

    def _move_to_done(self, key: str, target: str) -> None:
        visited: set[str] = set()
        for _ in range(self.max_transition_hops + 1):
            status = (self.client.get_issue(key, fields=("status",)).get("fields") or {}).get("status") or {}
            if (status.get("statusCategory") or {}).get("key") == "done":
                return
            visited.add(str(status.get("name")))
            available = self.client.transitions(key)
            choice = _pick_transition(available, target, visited)
            if choice is None:
                names = ", ".join(f"{t.get('name')} -> {(t.get('to') or {}).get('name')}" for t in available) or "none"
                raise JiraError(f"{key} cannot move from {status.get('name')!r} towards {target!r} "
                                f"(available: {names})", method="POST", path=f"/issue/{key}/transitions")
            try:
                self.client.do_transition(key, str(choice["id"]))
            except JiraAmbiguousError as exc:
                log.warning("transition of %s may have been applied (%s); re-reading its status", key, exc)
        raise JiraError(f"{key} did not reach a done status after {self.max_transition_hops} transitions")


def _pick_transition(available: Sequence[Mapping[str, Any]], target: str, visited: set[str]) -> Mapping[str, Any] | None:
    """The transition to the target status, else to any done status, else forward to a status not yet visited."""
    def to(t: Mapping[str, Any]) -> Mapping[str, Any]:
        return t.get("to") or {}

    def category(t: Mapping[str, Any]) -> str:
        return str((to(t).get("statusCategory") or {}).get("key", ""))

    for accept in (
        lambda t: str(to(t).get("name", "")).casefold() == target.casefold(),
        lambda t: category(t) == "done",
        lambda t: category(t) == "indeterminate" and str(to(t).get("name")) not in visited,
    ):
        found = next((t for t in available if accept(t)), None)
        if found is not None:
            return found
    return None


def _assignee_email(payload: Mapping[str, Any]) -> str:
    for name in ("assignee_email", "email"):
        value = str(payload.get(name) or "").strip()
        if "@" in value:
            return value
    assignee = str(payload.get("assignee") or "").strip()
    return assignee if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", assignee) else ""


def _clean_labels(labels: Iterable[Any]) -> list[str]:
    """Jira labels: no whitespace, at most 255 characters, no duplicates (order kept)."""
    out: list[str] = []
    for label in labels:
        text = re.sub(r"\s+", "-", str(label).strip())[:255]
        if text and text not in out:
            out.append(text)
    return out


def _one_line(text: str, limit: int) -> str:
    line = re.sub(r"\s+", " ", text).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"
