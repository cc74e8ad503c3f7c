"""Jira Cloud transport: a small REST v3 client with bounded, idempotency-aware retries.

``JiraClient`` talks to Jira Cloud REST v3 over one ``requests.Session``. Built from an Airflow
Connection (:meth:`JiraClient.from_connection`) it takes the session of the provider's
``JiraHook`` (``verify`` and proxies as a ``jira`` Connection means them; basic auth with the
account's email and an API token) and keeps its own retry and ambiguity logic on top. It
searches with ``POST /rest/api/3/search/jql`` (the old ``/search`` answers 410 since 2025) and
pages with ``nextPageToken``, always naming the fields it wants. Retries:

- 429 is a wait, never a failure: it is retried for every request (Jira did not process it),
  after ``Retry-After`` (seconds, ``0`` or an HTTP date; exponential backoff when absent), and
  spends neither retry budget; ``max_rate_limit_waits`` bounds the waits of one request;
- 5xx answers, timeouts and lost connections are retried with exponential backoff only for
  idempotent requests (GET, search, PUT edit). For a create, a comment or a transition they
  raise ``JiraAmbiguousError``: the write may have happened, so the caller checks before
  trying again (the gateway does; a create is never blindly repeated);
- a connection that could not be opened is retried for every request (nothing was sent);
- every retry spends one unit of the client's budget (``retry_budget``) and one of the
  request's (``max_retries_per_request``); when either runs out the client raises
  ``JiraRetriesExhausted`` naming the request and the last problem. ``grant_retries`` adds
  to the client's budget (the outbox grants a per-entry allowance as it goes).

The API token never appears in an exception, a log line or ``repr``: messages are masked.

This module imports neither Airflow nor pandas at import time.
"""

from __future__ import annotations

import base64
import logging
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from followthrough.gateways.jira.jql import MAX_PAGE_IDS_ONLY, MAX_PAGE_WITH_FIELDS

log = logging.getLogger(__name__)

API = "/rest/api/3"

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
        max_rate_limit_waits: int = 20,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
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
        self.max_rate_limit_waits = max_rate_limit_waits
        self.sleep = sleep
        self.now = now
        self.clock = clock
        # a monotonic instant no wait may cross (the dispatch attempt's time budget); None: no limit
        self.deadline: float | None = None
        self.stats: Counter[str] = Counter()  # requests, retries, rate_limited, searches, pages
        # every failed request by what went wrong (rate_limit, http_5xx, timeout, connect_timeout,
        # connection_lost, connection_refused): the dispatch audits them per attempt, the extraction per run
        self.faults: Counter[str] = Counter()
        self._session = session or requests.Session()
        self._session.auth = (email, api_token)
        self._session.headers.update({"Accept": "application/json", "User-Agent": "followthrough"})
        self._user_cache: dict[str, str | None] = {}

    def __repr__(self) -> str:
        return f"JiraClient({self.base_url!r}, email={self.email!r}, api_token='***')"

    @classmethod
    def from_connection(cls, conn_id: str = "jira_default", **kwargs: Any) -> JiraClient:
        """Build a client from an Airflow ``jira`` Connection through the provider's ``JiraHook``.

        host = site URL, login = email, password = API token; the hook's session carries what
        the Connection says (``verify`` in its extra, proxies), and this client's retries run
        on that session. The Connection is read here, when called (never at import or
        DAG-parse time). Extra ``timeout`` (seconds) is honoured; keyword arguments override it.
        """
        from airflow.providers.atlassian.jira.hooks.jira import JiraHook

        hook = JiraHook(jira_conn_id=conn_id, api_version="3")
        conn = hook.get_connection(conn_id)
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
        session = hook.get_conn().session
        # the hook's client mounts urllib3 retries that would re-send a POST after a reset; this client retries itself
        session.mount("http://", requests.adapters.HTTPAdapter(max_retries=0))
        session.mount("https://", requests.adapters.HTTPAdapter(max_retries=0))
        session.verify = hook.get_conn().verify_ssl
        return cls(host, conn.login, conn.password, session=session, **kwargs)

    def grant_retries(self, count: int) -> None:
        """Add ``count`` retries to the client's budget (the outbox's per-entry allowance)."""
        self.retries_left += max(0, int(count))
        self.retry_budget += max(0, int(count))

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
        rate_waits = 0
        while True:
            self.stats["requests"] += 1
            wait: float
            try:
                response = self._session.request(method, url, params=params, json=json_body, timeout=self.timeout)
            except requests.exceptions.ConnectTimeout:
                problem, sent = f"could not connect within {self.timeout}s", False
                self.faults["connect_timeout"] += 1
            except requests.exceptions.Timeout:
                problem, sent = f"no answer within {self.timeout}s", True
                self.faults["timeout"] += 1
            except requests.exceptions.ConnectionError as exc:
                sent = not _never_connected(exc)
                problem = "connection refused" if not sent else f"connection lost ({_exception_summary(exc)})"
                self.faults["connection_lost" if sent else "connection_refused"] += 1
            except requests.RequestException as exc:
                raise JiraError(self.mask(f"Jira {where} failed: {_exception_summary(exc)}"),
                                method=method, path=path) from None
            else:
                status = response.status_code
                if status < 400:
                    return response
                detail = self.mask(_error_detail(response))
                if status == 429 or status >= 500:
                    self.faults["rate_limit" if status == 429 else f"http_{status}"] += 1
                if status == 429:
                    problem = f"429 rate limited{': ' + detail if detail else ''}"
                    asked = parse_retry_after(response.headers.get("Retry-After"), self.now())
                    if asked is not None and asked > self.max_retry_after:
                        raise JiraRetriesExhausted(
                            f"Jira {where}: rate limited and asked to wait {asked:.0f}s, "
                            f"more than the {self.max_retry_after:.0f}s this client waits",
                            status=429, method=method, path=path)
                    wait = asked if asked is not None else self._backoff(attempt)
                    # a 429 is a wait, not a failure: it spends no retry budget, only the request's wait count
                    rate_waits += 1
                    if rate_waits > self.max_rate_limit_waits:
                        raise JiraRetriesExhausted(
                            f"Jira {where}: still rate limited after {self.max_rate_limit_waits} waits",
                            status=429, method=method, path=path)
                    self._check_deadline(where, method, path, wait, problem, status)
                    self.stats["rate_limited"] += 1
                    log.info("Jira %s: %s; waiting %.1fs", where, problem, wait)
                    self.sleep(wait)
                    continue
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
                self._check_deadline(where, method, path, wait, problem, status)
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
            self._check_deadline(where, method, path, wait, problem, None)
            log.warning("Jira %s: %s; retry %d in %.1fs", where, problem, attempt + 1, wait)
            self.sleep(wait)
            attempt += 1

    def _check_deadline(self, where: str, method: str, path: str, wait: float, problem: str,
                        status: int | None) -> None:
        if self.deadline is not None and self.clock() + wait > self.deadline:
            raise JiraRetriesExhausted(
                f"Jira {where} failed ({problem}) and waiting {wait:.1f}s would pass this dispatch attempt's "
                "time budget", status=status, method=method, path=path)

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

    def myself(self) -> dict[str, Any]:
        """The API user's profile (``GET /myself``): Jira reads JQL dates in its ``timeZone``."""
        profile: dict[str, Any] = self._json("GET", "/myself", idempotent=True) or {}
        return profile

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

