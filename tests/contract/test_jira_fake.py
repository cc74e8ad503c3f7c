"""The Jira Cloud fake is honest: spec-valid answers, Jira's quirks, and working fault switches.

These tests talk to :class:`tests.fakes.jira.FakeJira` over real HTTP with plain ``requests``
(and once with atlassian-python-api), so the product's Jira tests can trust what the fake says.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.fakes.jira import REMOVED_SEARCH_MESSAGE, FakeJira, adf_from_text
from tests.fakes.openapi import load_spec

SEARCH = "/rest/api/3/search/jql"
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def _adf(text: str) -> dict[str, Any]:
    return adf_from_text(text)


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    fake = FakeJira(clock=lambda: NOW)
    fake.add_project("OPS", "Operations")
    fake.add_project("SRE", 'Site "Reliability" AND team (EU)')
    fake.add_user("acc-alice", "alice@example.com", "Alice Adams")
    fake.add_user("acc-bob", "bob@example.com", "Bob Brown", email_visible=False)
    with fake:
        yield fake


@pytest.fixture
def http(jira: FakeJira) -> Iterator[requests.Session]:
    session = requests.Session()
    session.auth = jira.auth
    yield session
    session.close()


def _search(http: requests.Session, jira: FakeJira, jql: str, **params: Any) -> requests.Response:
    return http.get(jira.url + SEARCH, params={"jql": jql, **params}, timeout=5)


def _create(
    http: requests.Session, jira: FakeJira, summary: str, timeout: float = 5, **fields: Any
) -> requests.Response:
    body = {
        "fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": summary, **fields}
    }
    return http.post(jira.url + "/rest/api/3/issue", json=body, timeout=timeout)


# ---------------------------------------------------------------------------------------------- honesty


def test_writer_and_extractor_round_trip_is_spec_valid(jira: FakeJira, http: requests.Session) -> None:
    spec = load_spec(str(jira.spec_path), "/rest/api/3/")
    assert spec is jira.spec  # parsed once per session, shared read-only by every FakeJira
    base = jira.url + "/rest/api/3"
    created = _create(
        http,
        jira,
        "Postmortem for INC-1 is overdue",
        description=_adf("Please publish the postmortem."),
        labels=["followthrough", "fp-abc123"],
        priority={"name": "High"},
        assignee={"accountId": "acc-alice"},
        duedate="2025-03-20",
        customfield_10010={"value": "SEV2"},
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert spec.check_response(spec.operation("POST", "/rest/api/3/issue"), 201, created.json()) == []

    edit = http.put(f"{base}/issue/{key}", json={"update": {"labels": [{"add": "escalated"}]}}, timeout=5)
    assert edit.status_code == 204
    comment = http.post(f"{base}/issue/{key}/comment", json={"body": _adf("Reminder sent")}, timeout=5)
    assert comment.status_code == 201
    assert comment.json()["body"]["type"] == "doc"
    transitions = http.get(f"{base}/issue/{key}/transitions", timeout=5).json()["transitions"]
    assert [(t["id"], t["to"]["name"]) for t in transitions] == [("21", "In Progress")]
    assert (
        http.post(f"{base}/issue/{key}/transitions", json={"transition": {"id": "21"}}, timeout=5).status_code
        == 204
    )
    other = _create(http, jira, "Incident INC-1").json()["key"]
    link = {"type": {"name": "Relates"}, "inwardIssue": {"key": key}, "outwardIssue": {"key": other}}
    assert http.post(f"{base}/issueLink", json=link, timeout=5).status_code == 201
    assert http.post(f"{base}/issueLink", json=link, timeout=5).status_code == 201  # duplicate: a no-op

    issue = http.get(f"{base}/issue/{key}", params={"expand": "changelog"}, timeout=5).json()
    fields = issue["fields"]
    assert fields["status"]["statusCategory"]["key"] == "indeterminate"
    assert fields["assignee"] == {
        **fields["assignee"],
        "accountId": "acc-alice",
        "displayName": "Alice Adams",
    }
    assert fields["labels"] == ["followthrough", "fp-abc123", "escalated"]
    assert fields["description"]["type"] == "doc"
    assert fields["customfield_10010"]["value"] == "SEV2"
    assert fields["duedate"] == "2025-03-20"
    assert fields["created"] == "2025-03-10T12:00:00.000+0000"
    assert len(fields["issuelinks"]) == 1
    assert fields["issuelinks"][0]["outwardIssue"]["key"] == other
    assert [h["items"][0]["field"] for h in issue["changelog"]["histories"]] == ["status", "labels"]
    assert spec.check_response(spec.operation("GET", "/rest/api/3/issue/{issueIdOrKey}"), 200, issue) == []

    users = http.get(f"{base}/user/search", params={"query": "bob"}, timeout=5).json()
    assert users[0]["accountId"] == "acc-bob"
    assert "emailAddress" not in users[0]  # hidden by the user's privacy setting
    assert http.get(f"{base}/myself", timeout=5).json()["emailAddress"] == jira.email
    history = http.get(f"{base}/issue/{key}/changelog", timeout=5).json()
    assert [h["items"][0]["field"] for h in history["values"]] == ["labels", "status"]  # oldest first
    assert http.get(f"{base}/issue/{key}/comment", timeout=5).json()["total"] == 1

    assert jira.violations == []
    assert jira.response_violations == []


def test_a_response_the_spec_forbids_fails_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeJira()
    real = fake._field_json

    def broken(issue: Any, name: str, version: str, base: str) -> Any:
        value = real(issue, name, version, base)
        return {**value, "bogus": True} if name == "issuetype" else value  # IssueTypeDetails is closed

    monkeypatch.setattr(fake, "_field_json", broken)
    fake.add_issue("OPS-1", {"summary": "x"})
    with pytest.raises(AssertionError, match="fields.issuetype"), fake:
        requests.get(fake.url + "/rest/api/3/issue/OPS-1", auth=fake.auth, timeout=5)


def test_v2_paths_take_and_return_plain_text(jira: FakeJira, http: requests.Session) -> None:
    body: dict[str, Any] = {
        "fields": {
            "project": {"key": "OPS"},
            "issuetype": {"name": "Task"},
            "summary": "v2",
            "description": "line 1\nline 2",
        }
    }
    created = http.post(jira.url + "/rest/api/2/issue", json=body, timeout=5)
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert (
        http.post(f"{jira.url}/rest/api/2/issue/{key}/comment", json={"body": "plain"}, timeout=5).status_code
        == 201
    )
    assert (
        http.get(f"{jira.url}/rest/api/2/issue/{key}", timeout=5).json()["fields"]["description"]
        == "line 1\nline 2"
    )
    v3 = http.get(f"{jira.url}/rest/api/3/issue/{key}", timeout=5).json()["fields"]
    assert v3["description"]["type"] == "doc"  # what the v3 extractor gets back for v2-written text
    assert v3["comment"]["comments"][0]["body"]["type"] == "doc"
    rejected = http.post(
        f"{jira.url}/rest/api/2/issue/{key}/comment", json={"body": _adf("ADF on v2")}, timeout=5
    )
    assert rejected.status_code == 400
    assert rejected.json()["errors"] == {"comment": "Operation value must be a string"}


# ---------------------------------------------------------------------------------------------- search


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/rest/api/2/search"),
        ("GET", "/rest/api/3/search"),
        ("POST", "/rest/api/3/search"),
        ("POST", "/rest/api/latest/search"),
    ],
)
def test_removed_search_answers_410(jira: FakeJira, http: requests.Session, method: str, path: str) -> None:
    response = http.request(
        method, jira.url + path, params={"jql": "project = OPS"}, json={"jql": "project = OPS"}, timeout=5
    )
    assert response.status_code == 410
    assert response.json() == {"errorMessages": [REMOVED_SEARCH_MESSAGE], "errors": {}}
    assert [v.kind for v in jira.violations] == ["removed"]


def test_search_returns_only_ids_unless_fields_are_asked_for(jira: FakeJira, http: requests.Session) -> None:
    issue_id = jira.add_issue("OPS-1", {"summary": "a"})
    assert _search(http, jira, "project = OPS").json() == {"issues": [{"id": issue_id}], "isLast": True}
    bean = _search(http, jira, "project = OPS", fields="summary").json()["issues"][0]
    assert bean["key"] == "OPS-1"
    assert bean["fields"] == {"summary": "a"}


@pytest.mark.parametrize("use_post", [False, True])
def test_pagination_over_three_pages(jira: FakeJira, http: requests.Session, use_post: bool) -> None:
    for number in range(1, 251):
        jira.add_issue(f"OPS-{number}", {"summary": f"issue {number}"})
    keys: list[str] = []
    pages: list[int] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {
            "jql": "project = OPS ORDER BY key ASC",
            "fields": ["summary"],
            "maxResults": 1000,
        }
        if token:
            params["nextPageToken"] = token
        if use_post:
            page = http.post(jira.url + SEARCH, json=params, timeout=5).json()
        else:
            page = http.get(jira.url + SEARCH, params=params, timeout=5).json()
        pages.append(len(page["issues"]))
        keys.extend(issue["key"] for issue in page["issues"])
        if page["isLast"]:
            assert "nextPageToken" not in page
            break
        token = page["nextPageToken"]
    assert pages == [100, 100, 50]  # maxResults=1000, but pages with fields are capped at page_cap
    assert keys == [f"OPS-{n}" for n in range(1, 251)]
    ids_only = _search(http, jira, "project = OPS", maxResults=5000).json()
    assert len(ids_only["issues"]) == 250  # id-only pages go up to 5000
    assert ids_only["isLast"] is True


def test_page_tokens_are_checked(jira: FakeJira, http: requests.Session) -> None:
    for number in range(1, 4):
        jira.add_issue(f"OPS-{number}")
    token = _search(http, jira, "project = OPS", maxResults=1).json()["nextPageToken"]
    assert _search(http, jira, "project = OPS", maxResults=1, nextPageToken=token).status_code == 200
    assert _search(http, jira, "project = SRE", maxResults=1, nextPageToken=token).status_code == 400
    assert _search(http, jira, "project = OPS", nextPageToken="forged").status_code == 400
    jira.expire_page_tokens()
    assert _search(http, jira, "project = OPS", maxResults=1, nextPageToken=token).status_code == 400
    assert _search(http, jira, "project = OPS", maxResults=0).status_code == 400
    assert _search(http, jira, "project = OPS", maxResults=5001).status_code == 400


def test_search_changelog_expand_is_capped(jira: FakeJira, http: requests.Session) -> None:
    history = [
        {
            "created": NOW - timedelta(hours=30 - n),
            "items": [{"field": "summary", "fromString": str(n), "toString": str(n + 1)}],
        }
        for n in range(30)
    ]
    jira.add_issue("OPS-1", changelog=history)
    bean = _search(http, jira, "key = OPS-1", fields="summary", expand="changelog").json()["issues"][0]
    assert bean["changelog"]["total"] == 30
    assert len(bean["changelog"]["histories"]) == 20
    assert bean["changelog"]["histories"][0]["items"][0]["toString"] == "30"  # most recent first
    full = http.get(jira.url + "/rest/api/3/issue/OPS-1/changelog", timeout=5).json()
    assert len(full["values"]) == 30


# ---------------------------------------------------------------------------------------------- JQL


@pytest.fixture
def seeded(jira: FakeJira) -> FakeJira:
    jira.add_issue("OPS-1", {"labels": ["x AND y"], "updated": "2025-03-01T09:00:00Z", "status": "Done"})
    jira.add_issue("OPS-2", {"labels": ["plain"], "updated": "2025-03-05T10:30:00Z", "assignee": "acc-alice"})
    jira.add_issue(
        "SRE-1", {"labels": ['say "hi"'], "updated": "2025-03-03T08:00:00Z", "customfield_10010": "SEV1"}
    )
    return jira


@pytest.mark.parametrize(
    ("jql", "expected"),
    [
        ("project = OPS ORDER BY key ASC", ["OPS-1", "OPS-2"]),
        ('project = "Site \\"Reliability\\" AND team (EU)"', ["SRE-1"]),  # a name with quotes/operators
        ("project = 'Site \"Reliability\" AND team (EU)'", ["SRE-1"]),
        ("project in (OPS, SRE) ORDER BY updated ASC", ["OPS-1", "SRE-1", "OPS-2"]),
        ("project in (OPS, SRE) ORDER BY updated DESC, key ASC", ["OPS-2", "SRE-1", "OPS-1"]),
        ('labels = "x AND y"', ["OPS-1"]),
        ('labels = "say \\"hi\\""', ["SRE-1"]),
        ('project = OPS AND updated >= "2025-03-05 10:00"', ["OPS-2"]),
        ('updated >= "2025-03-02" AND project in (OPS, SRE) ORDER BY key ASC', ["OPS-2", "SRE-1"]),
        ("key = OPS-2", ["OPS-2"]),
        ("project = OPS AND statusCategory != Done", ["OPS-2"]),
        ("assignee = acc-alice", ["OPS-2"]),
        ("cf[10010] = SEV1", ["SRE-1"]),
        ("project = OPS AND (labels = plain OR status = Done) ORDER BY key DESC", ["OPS-2", "OPS-1"]),
        ("project in (OPS, SRE) AND labels != plain ORDER BY key ASC", ["OPS-1", "SRE-1"]),
    ],
)
def test_jql_subset(seeded: FakeJira, http: requests.Session, jql: str, expected: list[str]) -> None:
    response = _search(http, seeded, jql, fields="key")
    assert response.status_code == 200, response.text
    assert [issue["key"] for issue in response.json()["issues"]] == expected


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("", "Unbounded JQL"),
        ("ORDER BY key DESC", "Unbounded JQL"),
        ('project = Site "Reliability" AND team (EU)', "Expecting either 'OR' or 'AND'"),  # unquoted name
        ("project = OPS AND team", "Expecting an operator"),
        ("project = and", "reserved JQL word"),
        ('labels = "unterminated', "has not been completed"),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'"),
        ("key = OPS-99", "An issue with key 'OPS-99' does not exist"),
        ("colour = red", "Field 'colour' does not exist"),
        ('updated >= "yesterday"', "Date value 'yesterday' for field 'updated' is invalid"),
        ("project = OPS AND assignee = currentUser()", "does not support JQL functions"),
        ("summary ~ disk", "does not support text search"),
    ],
)
def test_bad_or_unsupported_jql_is_a_400(
    seeded: FakeJira, http: requests.Session, jql: str, message: str
) -> None:
    response = _search(http, seeded, jql)
    assert response.status_code == 400
    assert message in response.json()["errorMessages"][0]
    assert seeded.violations == []  # a JQL error is Jira's answer, not a contract violation
    assert bool(seeded.unimplemented) == ("does not support" in message)


# ---------------------------------------------------------------------------------------------- contract violations


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "kind"),
    [
        ("POST", SEARCH, {"jql": "project = OPS", "startAt": 50}, 400, "spec"),  # additionalProperties: false
        ("POST", SEARCH, {"jql": "project = OPS", "maxResults": "ten"}, 400, "spec"),
        ("POST", "/rest/api/3/issue/OPS-1/transitions", {"transition": {"id": None}}, 400, "spec"),
        (
            "POST",
            "/rest/api/3/issueLink",
            {"type": {"name": "Relates"}, "inwardIssue": {"key": "OPS-1"}},
            400,
            "spec",
        ),
        ("POST", "/rest/api/3/issue", None, 400, "spec"),
        ("PUT", "/rest/api/3/issue/OPS-1", {"fields": {"description": "not ADF"}}, 400, "fields"),
        ("PUT", "/rest/api/3/issue/OPS-1", {"fields": {"labels": ["has space"]}}, 400, "fields"),
        ("PUT", "/rest/api/3/issue/OPS-1", {"fields": {"status": {"name": "Done"}}}, 400, "fields"),
        (
            "PUT",
            "/rest/api/3/issue/OPS-1",
            {"fields": {"customfield_10010": {"value": "SEV9"}}},
            400,
            "fields",
        ),
        ("POST", "/rest/api/3/issue/OPS-1/comment", {"body": "plain text on v3"}, 400, "fields"),
        ("DELETE", "/rest/api/3/myself", None, 405, "method"),
        ("GET", "/rest/api/3/no/such/thing", None, 404, "unknown-endpoint"),
    ],
)
def test_a_request_the_spec_forbids_is_rejected_and_recorded(
    jira: FakeJira, http: requests.Session, method: str, path: str, body: Any, status: int, kind: str
) -> None:
    jira.add_issue("OPS-1")
    response = http.request(method, jira.url + path, json=body, timeout=5)
    assert response.status_code == status, response.text
    error = response.json()
    assert set(error) == {"errorMessages", "errors"}
    assert error["errorMessages"] or error["errors"]
    assert [v.kind for v in jira.violations] == [kind]
    assert jira.violations[0].endpoint.startswith(method)


def test_non_json_body_is_415_and_unknown_query_params_are_ignored_but_noted(
    jira: FakeJira, http: requests.Session
) -> None:
    response = http.post(
        jira.url + SEARCH,
        data="jql=project%20%3D%20OPS",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    assert response.status_code == 415
    assert jira.violations[-1].kind == "media-type"
    assert _search(http, jira, "project = OPS", startAt=50).status_code == 200  # Jira ignores it...
    assert ("GET /rest/api/3/search/jql", "startAt") in jira.ignored_params  # ...tests can still see it


def test_basic_auth_is_required(jira: FakeJira) -> None:
    url = jira.url + "/rest/api/3/myself"
    assert requests.get(url, timeout=5).status_code == 401
    wrong = requests.get(url, auth=(jira.email, "wrong-token"), timeout=5)
    assert wrong.status_code == 401
    assert wrong.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert requests.get(url, auth=jira.auth, timeout=5).status_code == 200


# ---------------------------------------------------------------------------------------------- faults


@pytest.mark.parametrize("retry_after", ["1", "0", datetime(2025, 3, 10, 12, 0, 5, tzinfo=UTC)])
def test_rate_limit(jira: FakeJira, http: requests.Session, retry_after: Any) -> None:
    jira.faults.rate_limit(2, retry_after=retry_after)
    first, second, third = (http.get(jira.url + "/rest/api/3/myself", timeout=5) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    expected = "Mon, 10 Mar 2025 12:00:05 GMT" if isinstance(retry_after, datetime) else retry_after
    assert first.headers["Retry-After"] == expected
    assert first.headers["X-RateLimit-Remaining"] == "0"
    assert jira.faults.fired["rate_limit"] == 2
    assert jira.requests["GET /rest/api/3/myself"] == 3


def test_unavailable_can_target_one_endpoint(jira: FakeJira, http: requests.Session) -> None:
    jira.faults.unavailable(1, retry_after="2", only="POST /rest/api/3/issue")
    assert http.get(jira.url + "/rest/api/3/myself", timeout=5).status_code == 200
    response = _create(http, jira, "first try")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert jira.issue_keys() == []  # a 503 from this switch never commits
    assert _create(http, jira, "second try").status_code == 201
    assert jira.faults.fired == {"unavailable": 1}


def test_timeout_without_commit_hangs_without_blocking_other_requests(
    jira: FakeJira, http: requests.Session
) -> None:
    jira.faults.timeout(1, seconds=1.0, only="POST")
    outcome: dict[str, Any] = {}
    session = requests.Session()
    session.auth = jira.auth
    worker = threading.Thread(target=lambda: outcome.update(response=_post_with_timeout(session, jira, 0.3)))
    worker.start()
    time.sleep(0.1)
    assert http.get(jira.url + "/rest/api/3/myself", timeout=2).status_code == 200  # served meanwhile
    worker.join(5)
    assert isinstance(outcome.get("response"), requests.exceptions.ReadTimeout)
    assert jira.issue_keys() == []  # not committed
    assert jira.faults.fired["timeout"] == 1


def _post_with_timeout(session: requests.Session, jira: FakeJira, timeout: float) -> Any:
    body: dict[str, Any] = {
        "fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "slow"}
    }
    try:
        return session.post(jira.url + "/rest/api/3/issue", json=body, timeout=timeout)
    except requests.RequestException as exc:
        return exc


def test_timeout_with_commit_applies_the_write(jira: FakeJira, http: requests.Session) -> None:
    jira.faults.timeout(1, seconds=1.0, commit=True)
    with pytest.raises(requests.exceptions.ReadTimeout):
        _create(http, jira, "ambiguous", timeout=0.3, labels=["fp-1"])  # the client gives up...
    assert jira.issue_keys() == ["OPS-1"]  # ...but the issue exists


def test_stop_releases_a_hanging_request() -> None:
    fake = FakeJira()
    fake.faults.timeout(1, seconds=60)
    with fake:
        worker = threading.Thread(target=_post_with_timeout, args=(requests.Session(), fake, 0.2))
        worker.start()
        worker.join(2)
        started = time.monotonic()
    assert time.monotonic() - started < 3


def test_reset_after_commit_drops_the_answer_after_writing(jira: FakeJira, http: requests.Session) -> None:
    jira.add_issue("OPS-1")
    jira.faults.reset_after_commit(2)
    assert _search(http, jira, "project = OPS").status_code == 200  # reads are not affected
    with pytest.raises(requests.exceptions.ConnectionError):
        _create(http, jira, "created but unanswered")
    with pytest.raises(requests.exceptions.ConnectionError):
        http.post(jira.url + "/rest/api/3/issue/OPS-1/comment", json={"body": _adf("note")}, timeout=5)
    assert jira.issue_keys() == ["OPS-1", "OPS-2"]
    assert jira.comment_texts("OPS-1") == ["note"]
    assert jira.faults.fired["reset_after_commit"] == 2
    assert [r.status for r in jira.requests_to("POST /rest/api/3/issue")] == [None]
    assert _create(http, jira, "answered").status_code == 201


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_answers_its_status_without_applying_the_write(jira: FakeJira, http: requests.Session,
                                                                   status: int) -> None:
    jira.faults.server_error(1, status, only="POST /rest/api/3/issue")
    response = _create(http, jira, "refused")
    assert response.status_code == status
    assert response.json()["errorMessages"] == [f"Server error {status}"]
    assert jira.issue_keys() == []
    assert _create(http, jira, "accepted").status_code == 201
    assert jira.faults.fired == {"server_error": 1}
    assert jira.faults.fired_forms == {f"server_error:{status}": 1}


def test_server_error_accepts_only_5xx_statuses(jira: FakeJira) -> None:
    with pytest.raises(ValueError, match="status must be one of"):
        jira.faults.server_error(1, 501)


def test_reset_before_commit_drops_the_request_unapplied(jira: FakeJira, http: requests.Session) -> None:
    jira.add_issue("OPS-1")
    jira.faults.reset_before_commit(2, only="POST")
    with pytest.raises(requests.exceptions.ConnectionError):
        _create(http, jira, "never created")
    with pytest.raises(requests.exceptions.ConnectionError):
        http.post(jira.url + "/rest/api/3/issue/OPS-1/comment", json={"body": _adf("never added")}, timeout=5)
    assert jira.issue_keys() == ["OPS-1"]
    assert jira.comment_texts("OPS-1") == []
    assert jira.faults.fired == {"reset_before_commit": 2}
    assert _create(http, jira, "answered").status_code == 201


def test_a_random_mix_fires_every_kind_and_form_and_pauses(jira: FakeJira, http: requests.Session) -> None:
    jira.add_issue("OPS-1")
    jira.faults.random_mix(3, rate_limit=0.3, unavailable=0.0, server_error=0.3, timeout=0.0,
                           reset_before_commit=0.1)
    statuses = Counter()
    for _ in range(200):
        try:
            statuses[http.get(jira.url + "/rest/api/3/issue/OPS-1", timeout=5).status_code] += 1
        except requests.exceptions.ConnectionError:
            statuses["reset"] += 1
    forms = jira.faults.fired_forms
    assert {f"rate_limit:{f}" for f in ("zero", "fraction", "http-date", "none", "seconds")} <= set(forms)
    assert {f"server_error:{s}" for s in (500, 502, 503, 504)} <= set(forms)
    assert statuses[429] == jira.faults.fired["rate_limit"]
    assert sum(statuses[s] for s in (500, 502, 503, 504)) == jira.faults.fired["server_error"]
    assert statuses["reset"] == jira.faults.fired["reset_before_commit"] > 0
    assert sum(forms.values()) == sum(jira.faults.fired.values())
    before = dict(jira.faults.fired)
    with jira.faults.paused():
        assert all(http.get(jira.url + "/rest/api/3/issue/OPS-1", timeout=5).status_code == 200 for _ in range(20))
    assert dict(jira.faults.fired) == before


def test_search_lag_for_a_while(jira: FakeJira, http: requests.Session) -> None:
    jira.faults.search_lag(0.4)
    created = _create(http, jira, "fresh", labels=["fp-42"]).json()
    assert _search(http, jira, 'labels = "fp-42"').json()["issues"] == []
    assert http.get(f"{jira.url}/rest/api/3/issue/{created['key']}", timeout=5).status_code == 200
    reconciled = _search(http, jira, 'labels = "fp-42"', reconcileIssues=created["id"]).json()
    assert reconciled["issues"] == [{"id": created["id"]}]
    time.sleep(0.45)
    assert _search(http, jira, 'labels = "fp-42"').json()["issues"] == [{"id": created["id"]}]
    assert jira.faults.fired["search_lag"] == 1


def test_search_lag_for_n_searches_shows_stale_values(jira: FakeJira, http: requests.Session) -> None:
    jira.add_issue("OPS-1", {"labels": ["old"]})
    jira.faults.search_lag(searches=2)
    edit = {"update": {"labels": [{"remove": "old"}, {"add": "new"}]}}
    assert http.put(jira.url + "/rest/api/3/issue/OPS-1", json=edit, timeout=5).status_code == 204
    assert [len(_search(http, jira, "labels = old").json()["issues"]) for _ in range(2)] == [1, 1]
    assert _search(http, jira, "labels = old").json()["issues"] == []
    assert len(_search(http, jira, "labels = new").json()["issues"]) == 1


def test_requests_are_counted_per_endpoint_template(jira: FakeJira, http: requests.Session) -> None:
    jira.add_issue("OPS-1")
    jira.add_issue("OPS-2")
    for key in ("OPS-1", "OPS-2", "OPS-2"):
        http.get(f"{jira.url}/rest/api/3/issue/{key}", timeout=5)
    http.post(f"{jira.url}/rest/api/2/issue/OPS-1/comment", json={"body": "v2"}, timeout=5)
    assert jira.requests == {
        "GET /rest/api/3/issue/{issueIdOrKey}": 3,
        "POST /rest/api/2/issue/{issueIdOrKey}/comment": 1,
    }
    assert [r.path for r in jira.log] == [
        "/rest/api/3/issue/OPS-1",
        "/rest/api/3/issue/OPS-2",
        "/rest/api/3/issue/OPS-2",
        "/rest/api/2/issue/OPS-1/comment",
    ]
    assert jira.log[-1].body == {"body": "v2"}
    assert jira.log[-1].status == 201


def test_instances_share_no_state() -> None:
    with FakeJira() as first, FakeJira() as second:
        first.add_issue("OPS-1")
        first.faults.rate_limit(1)
        assert first.url != second.url
        assert second.issue_keys() == []
        assert requests.get(second.url + "/rest/api/3/myself", auth=second.auth, timeout=5).status_code == 200
        assert second.faults.fired == {}


# ---------------------------------------------------------------------------------------------- a real client


def test_atlassian_python_api_client_works_against_the_fake(jira: FakeJira) -> None:
    from atlassian import Jira

    for number in range(1, 8):
        jira.add_issue(f"OPS-{number}", {"summary": f"incident {number}", "issuetype": "Incident"})
    client = Jira(url=jira.url, username=jira.email, password=jira.api_token, cloud=True)

    jira.faults.rate_limit(1, retry_after="0")  # the client retries a 429 with Retry-After once
    first = client.enhanced_jql("project = OPS ORDER BY key ASC", fields=["summary", "status"], limit=3)
    keys = [issue["key"] for issue in first["issues"]]
    token = first.get("nextPageToken")
    while token:
        page = client.enhanced_jql(
            "project = OPS ORDER BY key ASC", fields=["summary", "status"], nextPageToken=token, limit=3
        )
        keys.extend(issue["key"] for issue in page["issues"])
        token = page.get("nextPageToken")
    assert keys == [f"OPS-{n}" for n in range(1, 8)]
    assert jira.requests["GET /rest/api/3/search/jql"] == 4  # one 429 + three pages

    created = client.issue_create(
        fields={"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "via v2"}
    )
    client.issue_add_comment(created["key"], "plain text comment")
    client.set_issue_status(created["key"], "In Progress")  # GET transitions, POST {"transition": {"id": 21}}
    assert jira.issue(created["key"])["fields"]["status"]["name"] == "In Progress"
    assert jira.violations == []

    with pytest.raises(requests.HTTPError, match="removed"):
        Jira(url=jira.url, username=jira.email, password=jira.api_token).jql(
            "project = OPS"
        )  # cloud=False: /2/search
