"""The Jira extractor against the honest Jira fake: canonical frames, paging, incremental runs, quarantine, JQL quoting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from followthrough.gateways.jira import JiraClient, text_to_adf
from followthrough.model import (
    ACTION_ITEM_HISTORY,
    ACTION_ITEMS,
    INCIDENTS,
    POSTMORTEMS,
    ROW_NUMBER,
    STATUS_UPDATES,
)
from followthrough.sources.jira import (
    QUARANTINE_COLUMNS,
    ExtractResult,
    JiraQueries,
    JiraSourceConfig,
    build_jql,
    extract,
)
from tests.fakes.jira import FakeJira

T0 = datetime(2026, 7, 15, 10, 0, tzinfo=UTC)
SEARCH = "POST /rest/api/3/search/jql"
QUERIES = {
    "incidents": "project = INC AND issuetype = Incident",
    "postmortems": "project = PM AND issuetype = Postmortem",
    "action_items": "project = AI AND issuetype = Task",
}
FIELDS = {
    "severity": "customfield_10010",
    "team_id": "customfield_10020",
    "service": "customfield_10030",
    "root_cause_category": "customfield_10040",
    "affected_services": "customfield_10050",
    "participants": "customfield_10060",
}
PM_TEXT = (
    "# Summary\n\nCheckout failed for 12 minutes after a config push; see [the status page](https://status.example.com/1)."
    "\n\n## Timeline\n\n- 10:00 config pushed\n- 10:12 rolled back\n\n## Root cause\n\nThe pool limit was removed:\n\n"
    "```yaml\npool_max: 0\n```\n\n## Impact\n\n4% of checkouts failed.\nNo data was lost.\n\n## Actions\n\n"
    "1. Validate the pool limit in CI\n2. Alert on pool exhaustion\n\nReviewed with [~accountid:acc-alice]."
)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def config(**overrides: Any) -> JiraSourceConfig:
    return JiraSourceConfig(**{"jql": JiraQueries(**QUERIES), "fields": FIELDS, **overrides})


def _user(account: str, email: str, name: str) -> dict[str, str]:
    return {"accountId": account, "emailAddress": email, "displayName": name}


def seed(jira: FakeJira, incidents: int = 12, action_items: int = 15) -> None:
    """Incidents INC-1.., postmortems PM-1..3, action items AI-1.., all last updated before T0 - 1 day."""
    for project in ("INC", "PM", "AI", "SECRET"):
        jira.add_project(project)
    jira.add_custom_field("customfield_10020", "Team")
    jira.add_custom_field("customfield_10030", "Service")
    jira.add_custom_field("customfield_10040", "Root cause category")
    jira.add_custom_field("customfield_10050", "Affected services", kind="any")
    jira.add_custom_field("customfield_10060", "Participants", kind="any")
    jira.add_user("acc-alice", "aisha.khan@example.com", "Aisha Khan")
    jira.add_user("acc-bob", "bob.stone@example.com", "Bob Stone", email_visible=False)
    jira.add_user("acc-cara", "cara.diaz@example.com", "Cara Diaz")
    for n in range(1, incidents + 1):
        created = T0 - timedelta(days=40 - n)
        jira.add_issue(f"INC-{n}", {
            "issuetype": "Incident", "summary": f"Checkout errors #{n}", "customfield_10010": "SEV2",
            "customfield_10020": "payments", "customfield_10030": "checkout-api", "customfield_10040": "config",
            "customfield_10050": ["checkout-api", "payments-db"], "labels": ["config-change"],
            "status": "Done", "created": created, "resolutiondate": created + timedelta(hours=3),
            "updated": created + timedelta(hours=5),
        })
    for n in range(1, 4):
        created = T0 - timedelta(days=20 - n)
        jira.add_issue(f"PM-{n}", {
            "issuetype": "Postmortem", "summary": f"Postmortem INC-{n}", "assignee": "acc-alice",
            "status": "In Progress", "description": text_to_adf(PM_TEXT), "created": created, "updated": created,
            "customfield_10060": [_user("acc-alice", "aisha.khan@example.com", "Aisha Khan"),
                                  _user("acc-cara", "cara.diaz@example.com", "Cara Diaz")],
        })
        jira.add_link("Relates", f"PM-{n}", f"INC-{n}")
    for n in range(1, action_items + 1):
        created = T0 - timedelta(days=15, hours=n)
        jira.add_issue(
            f"AI-{n}",
            {"summary": f"Add a CI check for the pool limit #{n}", "assignee": "acc-cara", "priority": "High",
             "customfield_10020": "payments", "duedate": "2026-08-01", "status": "In Progress",
             "created": created, "updated": created + timedelta(days=2)},
            comments=[{"body": "Started on this.", "author": "acc-cara", "created": created + timedelta(days=1)}],
            changelog=[{"created": created + timedelta(days=2), "author": "acc-cara", "items": [
                {"field": "duedate", "fieldId": "duedate", "from": "2026-07-20", "fromString": "2026-07-20",
                 "to": "2026-08-01", "toString": "2026-08-01"},
                {"field": "priority", "fieldId": "priority", "from": "1", "fromString": "Highest", "to": "2",
                 "toString": "High"},
                {"field": "status", "fieldId": "status", "from": "10000", "fromString": "To Do", "to": "3",
                 "toString": "In Progress"},
                {"field": "assignee", "fieldId": "assignee", "from": "acc-alice", "fromString": "Aisha Khan",
                 "to": "acc-cara", "toString": "Cara Diaz"},
            ]}],
        )
        jira.add_link("Relates", f"AI-{n}", f"INC-{(n - 1) % incidents + 1}")


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def jira(clock: Clock) -> Iterator[FakeJira]:
    fake = FakeJira(clock=clock)
    seed(fake)
    with fake:
        yield fake
    assert not fake.violations, [str(v) for v in fake.violations]
    assert not fake.unimplemented


@pytest.fixture
def client(jira: FakeJira) -> JiraClient:
    return JiraClient(jira.url, jira.email, jira.api_token, timeout=5, sleep=lambda s: None)


def searches_by_query(jira: FakeJira, since: int = 0) -> dict[str, int]:
    counts = dict.fromkeys(QUERIES, 0)
    for record in jira.requests_to(SEARCH)[since:]:
        for name, jql in QUERIES.items():
            if record.body["jql"].startswith(f"({jql})"):
                counts[name] += 1
    return counts


def test_backfill_gives_canonical_frames(jira: FakeJira, client: JiraClient) -> None:
    result = extract(client, config(), None)
    frames = result.frames
    assert set(frames) == {"incidents", "postmortems", "action_items", "status_updates", "action_item_history"}
    for schema in (INCIDENTS, STATUS_UPDATES, ACTION_ITEM_HISTORY):
        assert list(frames[schema.name].columns) == [*schema.column_names, ROW_NUMBER]
    assert list(frames["action_items"].columns) == [*ACTION_ITEMS.column_names, ROW_NUMBER, "via_link"]
    assert list(frames["postmortems"].columns) == [*POSTMORTEMS.column_names, ROW_NUMBER, "document_text"]
    for frame in frames.values():
        assert all(str(dtype) == "string" for name, dtype in frame.dtypes.items() if name != ROW_NUMBER)
    assert result.fetched == {"incidents": 12, "postmortems": 3, "action_items": 15}
    assert result.quarantine.empty
    assert list(result.quarantine.columns) == QUARANTINE_COLUMNS

    incident = frames["incidents"].set_index("incident_id").loc["INC-1"].to_dict()
    assert incident == {
        "title": "Checkout errors #1", "severity": "SEV2", "status": "resolved", "team_id": "payments",
        "service": "checkout-api", "started_at": "2026-06-06T10:00:00+00:00", "resolved_at": "2026-06-06T13:00:00+00:00",
        "confidential": "false", "root_cause_category": "config", "labels": "config-change",
        "affected_services": "checkout-api;payments-db", ROW_NUMBER: 1,
    }
    postmortem = frames["postmortems"].set_index("postmortem_id").loc["PM-2"]
    assert (postmortem["incident_id"], postmortem["owner"], postmortem["status"]) == ("INC-2", "aisha.khan", "in_review")
    assert postmortem["participants"] == "aisha.khan;cara.diaz"
    assert postmortem["document"].endswith("/browse/PM-2")
    item = frames["action_items"].set_index("action_item_id").loc["AI-13"]
    assert (item["incident_id"], item["owner"], item["priority"], item["status"], item["due_date"], item["team_id"]) == (
        "INC-1", "cara.diaz", "P2", "in_progress", "2026-08-01", "payments")
    updates = frames["status_updates"]
    assert len(updates) == 15
    first = updates.set_index("action_item_id").loc["AI-1"]
    assert (first["author"], first["body"], first["posted_at"]) == ("cara.diaz", "Started on this.",
                                                                     "2026-07-01T09:00:00+00:00")
    history = frames["action_item_history"]
    changes = history[history["action_item_id"] == "AI-1"].set_index("field")[["old_value", "new_value"]]
    assert changes.to_dict("index") == {
        "due_date": {"old_value": "2026-07-20", "new_value": "2026-08-01"},
        "priority": {"old_value": "P1", "new_value": "P2"},
        "status": {"old_value": "open", "new_value": "in_progress"},
        "owner": {"old_value": "aisha.khan", "new_value": "cara.diaz"},
    }
    assert result.watermark == T0 - timedelta(days=15, hours=1) + timedelta(days=2)  # AI-1 is the latest update


def test_backfill_pages_through_every_query(jira: FakeJira, client: JiraClient) -> None:
    extract(client, config(page_size=5), None)
    # pages of 5 with fields, then one id-only sweep page (5000 keys a page) per query
    assert searches_by_query(jira) == {"incidents": 4, "postmortems": 2, "action_items": 4}
    bodies = [r.body for r in jira.requests_to(SEARCH)]
    with_fields = [b for b in bodies if b["fields"] != ["id", "key"]]
    assert all("*all" not in b["fields"] for b in with_fields)  # only the fields it maps
    assert [b["maxResults"] for b in bodies if b["fields"] == ["id", "key"]] == [5000, 5000, 5000]
    assert sum("nextPageToken" in b for b in bodies) == 4
    assert jira.requests["GET /rest/api/3/search"] == 0  # never the removed endpoint


def test_the_client_follows_whatever_page_size_jira_gives(clock: Clock) -> None:
    fake = FakeJira(clock=clock, page_cap=4)  # Jira may return fewer issues than asked for
    seed(fake)
    with fake:
        client = JiraClient(fake.url, fake.email, fake.api_token, sleep=lambda s: None)
        result = extract(client, config(), None)
        assert result.fetched == {"incidents": 12, "postmortems": 3, "action_items": 15}
        with_fields = [r for r in fake.requests_to(SEARCH) if r.body["fields"] != ["id", "key"]]
        assert {r.body["maxResults"] for r in with_fields} == {100}
        # plus the sweep: id-only pages are not capped by page_cap
        assert searches_by_query(fake) == {"incidents": 4, "postmortems": 2, "action_items": 5}


def test_adf_descriptions_become_markdown_like_text(jira: FakeJira, client: JiraClient) -> None:
    text = extract(client, config(), None).frames["postmortems"].set_index("postmortem_id").loc["PM-1", "document_text"]
    assert text.startswith("# Summary\n\nCheckout failed for 12 minutes after a config push; see [the status page]")
    assert "## Timeline\n\n- 10:00 config pushed\n- 10:12 rolled back" in text
    assert "```yaml\npool_max: 0\n```" in text
    assert "4% of checkouts failed.\nNo data was lost." in text  # a hard break
    assert "1. Validate the pool limit in CI\n2. Alert on pool exhaustion" in text
    assert text.endswith("Reviewed with [~accountid:acc-alice].")


def test_incremental_run_fetches_only_changed_issues(jira: FakeJira, client: JiraClient, clock: Clock) -> None:
    first = extract(client, config(), None)
    clock.now = T0 + timedelta(hours=1)
    client.edit_issue("INC-4", {"customfield_10010": {"value": "SEV1"}})
    client.add_comment("AI-7", text_to_adf("Blocked on the DB team."))
    client.edit_issue("AI-9", {"duedate": "2026-09-01"})
    before = len(jira.requests_to(SEARCH))
    second = extract(client, config(), first.watermark)
    assert {k: len(v) for k, v in second.frames.items()} == {
        "incidents": 1, "postmortems": 0, "action_items": 3, "status_updates": 4, "action_item_history": 13}
    assert set(second.frames["incidents"]["incident_id"]) == {"INC-4"}
    assert second.frames["incidents"].loc[0, "severity"] == "SEV1"
    # AI-1 holds the previous watermark, so the overlap returns it again; the others are the changed ones
    assert set(second.frames["action_items"]["action_item_id"]) == {"AI-1", "AI-7", "AI-9"}
    assert second.watermark == T0 + timedelta(hours=1)
    jql = jira.requests_to(SEARCH)[before].body["jql"]
    watermark_minus_overlap = (first.watermark - timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M")
    assert f'AND updated >= "{watermark_minus_overlap}" ORDER BY created ASC, key ASC' in jql
    due = second.frames["action_item_history"]
    assert due[(due["action_item_id"] == "AI-9") & (due["field"] == "due_date")]["new_value"].tolist() == [
        "2026-08-01", "2026-09-01"]


def test_a_no_change_incremental_run_makes_at_most_two_searches_per_query(
    jira: FakeJira, client: JiraClient, clock: Clock
) -> None:
    first = extract(client, config(), None)
    clock.now = T0 + timedelta(days=1)
    before = len(jira.requests_to(SEARCH))
    again = extract(client, config(), first.watermark)
    counts = searches_by_query(jira, before)
    assert all(count <= 2 for count in counts.values()), counts
    assert sum(counts.values()) == 4  # one page each, plus one key listing to check AI-1's incident link
    assert again.watermark == first.watermark
    assert again.quarantine.empty


def test_rows_that_cannot_be_mapped_are_quarantined_with_reasons(
    jira: FakeJira, client: JiraClient
) -> None:
    jira.add_issue("INC-50", {"issuetype": "Incident", "summary": "no severity", "customfield_10020": "payments"})
    jira.add_issue("SECRET-1", {"issuetype": "Incident", "summary": "out of scope", "customfield_10010": "SEV1",
                                "customfield_10020": "payments"})
    jira.add_issue("AI-50", {"summary": "owned by someone hidden", "assignee": "acc-bob",
                             "customfield_10020": "payments"})
    jira.add_issue("AI-51", {"summary": "linked outside", "customfield_10020": "payments"})
    jira.add_link("Relates", "AI-51", "SECRET-1")
    jira.add_issue("PM-50", {"issuetype": "Postmortem", "summary": "not linked", "assignee": "acc-alice"})
    odd = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Summary: fine"}]},
        {"type": "confluenceMacro", "content": [{"type": "text", "text": "macro text"}]}]}
    jira.add_issue("PM-51", {"issuetype": "Postmortem", "summary": "odd ADF", "description": odd})
    jira.add_link("Relates", "PM-51", "INC-5")
    result = extract(client, config(), None)
    reasons = {(r["entity"], r["record_id"], r["reason_code"]): r["reason"] for r in result.quarantine.to_dict("records")}
    assert set(reasons) == {
        ("incidents", "INC-50", "missing_value"),
        ("action_items", "AI-50", "unknown_user"),
        ("action_items", "AI-51", "unresolved_link"),
        ("postmortems", "PM-50", "missing_value"),
        ("postmortems", "PM-51", "unknown_adf_node"),
    }
    assert reasons[("incidents", "INC-50", "missing_value")] == "severity is empty (Jira field customfield_10010)"
    assert "Bob Stone (acc-bob)" in reasons[("action_items", "AI-50", "unknown_user")]
    assert "SECRET-1 not returned by the incidents query" in reasons[("action_items", "AI-51", "unresolved_link")]
    assert "no link to an Incident issue" in reasons[("postmortems", "PM-50", "missing_value")]
    assert "confluenceMacro" in reasons[("postmortems", "PM-51", "unknown_adf_node")]
    kept = {name: set(frame.iloc[:, 0]) for name, frame in result.frames.items()}
    assert not {"INC-50", "AI-50", "AI-51", "PM-50", "PM-51"} & (kept["incidents"] | kept["action_items"]
                                                                 | kept["postmortems"])
    raw = result.quarantine.set_index("record_id").loc["AI-50", "raw"]
    assert raw["team_id"] == "payments"
    assert raw["owner"] == "acc-bob"
    # a users map names the hidden user
    mapped = extract(client, config(users={"acc-bob": "bob.stone"}), None)
    assert "AI-50" in set(mapped.frames["action_items"]["action_item_id"])


def test_history_beyond_what_search_returns_is_read_from_the_changelog(jira: FakeJira, client: JiraClient) -> None:
    pushes = [{"created": T0 - timedelta(days=30 - d), "items": [
        {"field": "duedate", "fieldId": "duedate", "from": f"2026-08-{d:02d}", "to": f"2026-08-{d + 1:02d}"}]}
        for d in range(1, 26)]
    jira.add_issue("AI-60", {"summary": "pushed 25 times", "customfield_10020": "payments"}, changelog=pushes)
    history = extract(client, config(), None).frames["action_item_history"]
    dates = history[history["action_item_id"] == "AI-60"]["new_value"].tolist()
    assert dates == [f"2026-08-{d + 1:02d}" for d in range(1, 26)]  # all 25, oldest first (search shows 20)
    assert jira.requests["GET /rest/api/3/issue/{issueIdOrKey}/changelog"] == 1


def test_a_wont_do_resolution_and_a_status_map(jira: FakeJira, client: JiraClient) -> None:
    jira.add_issue("AI-70", {"summary": "dropped", "customfield_10020": "payments", "status": "Done",
                             "resolution": "Won't Do"})
    jira.add_status("Waiting on vendor", "indeterminate")
    jira.add_issue("AI-71", {"summary": "waiting", "customfield_10020": "payments", "status": "Waiting on vendor"})
    items = extract(client, config(status_map={"action_items": {"waiting on vendor": "blocked"}}), None)
    statuses = items.frames["action_items"].set_index("action_item_id")["status"]
    assert (statuses["AI-70"], statuses["AI-71"]) == ("wont_do", "blocked")


def test_team_names_are_quoted_so_they_cannot_change_the_query(jira: FakeJira, client: JiraClient) -> None:
    jira.add_issue("SECRET-2", {"issuetype": "Incident", "summary": "secret", "customfield_10010": "SEV1",
                                "customfield_10020": "x"})
    hostile = extract(client, config(teams=('x" OR project = SECRET OR "',)), None)
    assert hostile.fetched == {"incidents": 0, "postmortems": 3, "action_items": 0}
    assert not jira.violations  # the query parsed: the value stayed one string literal
    jira.add_issue("INC-80", {"issuetype": "Incident", "summary": "quoted team", "customfield_10010": "SEV3",
                              "customfield_10020": 'ops "blue"'})
    quoted = extract(client, config(teams=('ops "blue"',)), None)
    assert quoted.fetched["incidents"] == 1
    assert quoted.frames["incidents"].loc[0, "team_id"] == 'ops "blue"'
    jql = build_jql("project = INC", teams=['x" OR project = SECRET OR "'], team_field="customfield_10020",
                    since=datetime(2026, 7, 15, 9, 59, 30, tzinfo=UTC), timezone="Europe/Berlin")
    assert jql == ('(project = INC) AND cf[10020] in ("x\\" OR project = SECRET OR \\"") '
                   'AND updated >= "2026-07-15 11:59" ORDER BY created ASC, key ASC')


def test_the_configuration_is_validated() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        JiraSourceConfig(jql=JiraQueries(**QUERIES), fields=FIELDS, page_sise=10)
    with pytest.raises(ValidationError, match="ORDER BY"):
        JiraQueries(**{**QUERIES, "incidents": "project = INC ORDER BY created"})
    assert JiraQueries(**{**QUERIES, "incidents": 'summary = "order by me"'}).incidents  # inside a string: fine
    with pytest.raises(ValidationError, match="severity"):
        JiraSourceConfig(jql=JiraQueries(**QUERIES), fields={"team_id": "customfield_10020"})
    with pytest.raises(ValidationError, match="unknown canonical column"):
        config(fields={**FIELDS, "colour": "customfield_1"})
    with pytest.raises(ValidationError, match="less than or equal to 100"):
        config(page_size=500)
    with pytest.raises(ValidationError, match="not in"):
        config(status_map={"incidents": {"Open": "ongoing"}})


def test_extract_result_shape(jira: FakeJira, client: JiraClient) -> None:
    result = extract(client, config(), None)
    assert isinstance(result, ExtractResult)
    assert result.frames["incidents"][ROW_NUMBER].tolist() == list(range(1, 13))
