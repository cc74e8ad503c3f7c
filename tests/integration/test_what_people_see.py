"""The security of what people see: every protection, and the test that fails if it is removed.

`PROTECTIONS` names each protection, where it lives, and the tests that guard it; each of those
tests was seen to fail with the protection removed (a local edit, reverted: see the secrets
suite's report in the README's Guarantees). The tests that were missing are here, on the live
path against the fakes where the protection concerns Jira or Slack:

- the Slack gateway escapes raw text itself (not only the planner);
- every Jira write (description, comment, update, reopen, resolve) sends tracker text as inert ADF;
- the dashboard escapes a tracker title that holds markup;
- SQL-injection strings through every value that reaches the store, and the filters, on PostgreSQL;
- a confidential title never reaches a channel, live in Slack;
- a PM-BLAME quote reaches its postmortem owner and nobody else, live in Slack.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tests.fakes.jira import FakeJira
from tests.fakes.slack import FakeSlack
from tests.integration.test_slack_pipeline import _write
from tests.pipeline import DEMO, ROOT, add_demo_directory, use_embedded_store

AS_OF = "2026-07-15T10:00:00+00:00"
HOSTILE_SLACK = "<!channel> <@U0LEAD0001> <https://evil.example|click> R&D"
HOSTILE_JIRA = ("Ping [~accountid:acc-ceo] and [click](https://evil.example) https://evil.example/x\n"
                "# not a heading\n- not a list\n```\nnot code\n```")

# protection -> (where it lives, the tests that fail when it is removed)
PROTECTIONS: dict[str, tuple[str, list[str]]] = {
    "Slack: tracker text escaped when a message is planned": (
        "followthrough.escalation.escape_slack",
        ["tests/unit/test_escalation.py::test_tracker_text_is_escaped_for_slack"]),
    "Slack: the gateway escapes any raw text it is given": (
        "followthrough.gateways.slack.SlackGateway._message (ensure_escaped)",
        ["tests/integration/test_what_people_see.py::test_the_slack_gateway_escapes_raw_text_itself"]),
    "Slack: every text object is verbatim": (
        "followthrough.gateways.slack.SlackGateway._message",
        ["tests/contract/test_slack_gateway.py::test_every_text_object_is_verbatim_so_slack_links_and_mentions_nothing"]),
    "Jira: tracker text never becomes a mention, a link or structure in ADF": (
        "followthrough.gateways.jira.tickets (text_to_adf(..., markup=False))",
        ["tests/contract/test_jira_gateway.py::test_tracker_text_in_a_ticket_never_becomes_a_mention_or_a_link",
         "tests/integration/test_what_people_see.py::test_every_jira_write_carries_tracker_text_as_inert_adf"]),
    "HTML: the report escapes every value": (
        "followthrough.report.summary.render (autoescape)",
        ["tests/integration/test_report.py::test_text_from_trackers_is_escaped"]),
    "HTML: the dashboard escapes every value": (
        "followthrough.dashboard.app (autoescape)",
        ["tests/integration/test_what_people_see.py::test_the_dashboard_escapes_tracker_text",
         "tests/integration/test_dashboard.py::test_unknown_team_is_a_clear_422"]),
    "SQL: no statement is built from variables": (
        "include/ (SQLAlchemy Core, bound parameters)",
        ["tests/unit/test_sql_is_parameterised.py::test_no_sql_in_include_is_built_from_variables",
         "tests/integration/test_what_people_see.py::test_sql_injection_strings_round_trip_and_the_tables_stay"]),
    "Confidential: titles kept out of channel posts": (
        "followthrough.escalation._slack (hide)",
        ["tests/unit/test_escalation.py::test_channel_posts_never_describe_confidential_subjects",
         "tests/integration/test_what_people_see.py::test_a_confidential_title_never_reaches_a_channel_live"]),
    "Confidential: digests count them and never describe them": (
        "followthrough.report.digest.team_digest",
        ["tests/unit/test_digest.py::test_rendered_digest_names_no_people_and_hides_confidential_subjects"]),
    "Confidential and private: a DM that falls back to a channel does not show its text": (
        "followthrough.gateways.slack.SlackGateway._message (DM_ACTIONS fallback)",
        ["tests/contract/test_slack_gateway.py::test_a_private_message_with_no_owner_reaches_nobody_but_a_notice_without_the_quote",
         "tests/contract/test_slack_gateway.py::test_fallbacks_end_at_the_platform_channel_without_private_text"]),
    "PM-BLAME: told to the postmortem owner alone (no ticket, no ladder, no lead)": (
        "followthrough.escalation.plan_actions (private branch)",
        ["tests/unit/test_escalation.py::test_a_blame_finding_is_told_to_its_owner_alone_never_to_the_lead",
         "tests/integration/test_what_people_see.py::test_a_blame_quote_reaches_its_postmortem_owner_and_nobody_else"]),
    "PM-BLAME: quotes withheld from the report, actions.csv, the audit trail and the dashboard": (
        "followthrough.privacy, followthrough.report.summary.redact_private, followthrough.dashboard.app",
        ["tests/integration/test_report.py::test_report_withholds_blame_quotes_and_confidential_titles",
         "tests/integration/test_report.py::test_actions_csv_and_audit_payloads_keep_a_hash_not_the_quote_or_title",
         "tests/integration/test_dashboard.py::test_private_and_confidential_stay_hidden_in_json"]),
}


def test_every_protection_names_tests_that_exist() -> None:
    """The register above stays true: each named test is a test function in its file."""
    for protection, (_, tests) in PROTECTIONS.items():
        assert tests, protection
        for node in tests:
            path, name = node.split("::")
            assert f"def {name}(" in (ROOT / path).read_text(), f"{protection}: {node} does not exist"


# ================================================================================== Slack


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_user("U0OWNER001", "omar.owner@example.com", "Omar Owner")
    fake.add_channel("C0PAYMENTS1", "payments")
    fake.add_channel("C0PLATFORM1", "incident-followup")
    with fake:
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", json.dumps(
            {"conn_type": "slack", "password": fake.token, "extra": {"base_url": fake.base_url}}))
        yield fake
    assert fake.violations == [], [str(v) for v in fake.violations]


def test_the_slack_gateway_escapes_raw_text_itself(slack: FakeSlack) -> None:
    """Text that reaches the gateway unescaped (a new planner, a hand-made entry) still mentions nobody."""
    from followthrough.gateways.slack import SlackGateway, hook_client_factory

    gateway = SlackGateway(hook_client_factory(), "#incident-followup")
    for n, (action, recipient) in enumerate([("post_team_channel", "#payments"), ("dm_owner", "omar.owner")]):
        fingerprint = f"{n:016x}" + "5" * 48
        gateway.deliver({"idempotency_key": f"{fingerprint}:1:slack:step0:{action}", "fingerprint": fingerprint,
                         "episode": 1, "step": 0, "channel": "slack", "action": action, "recipient": recipient,
                         "payload": {"to": recipient, "slack_id": "U0OWNER001" if n else "",
                                     "email": "omar.owner@example.com" if n else "",
                                     "text": f"Action item AI-9 ({HOSTILE_SLACK}) is overdue."}})
    messages = slack.messages()
    assert len(messages) == 2
    for message in messages:
        shown = [message["text"], *(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")]
        for part in shown:
            assert FakeSlack.control_sequences(part) == [], part
        assert "&lt;!channel&gt; &lt;@U0LEAD0001&gt; &lt;https://evil.example|click&gt; R&amp;D" in message["text"]


# ================================================================================== HTML


def test_the_dashboard_escapes_tracker_text(demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A finding's title from the tracker, holding markup, is shown as text on the dashboard page."""
    from fastapi.testclient import TestClient

    from followthrough.dashboard.app import create_app
    from followthrough.store.schema import findings

    copy = tmp_path / "followthrough.db"
    shutil.copy(demo_home / "followthrough.db", copy)
    engine = sa.create_engine(f"sqlite:///{copy}")
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    with engine.begin() as connection:  # the demo's first open, non-confidential finding gets a hostile title
        fingerprint = connection.execute(sa.select(findings.c.fingerprint).where(
            (findings.c.status == "open") & ~findings.c.confidential & ~findings.c.private)
            .order_by(findings.c.fingerprint).limit(1)).scalar_one()
        connection.execute(findings.update().where(findings.c.fingerprint == fingerprint).values(title=hostile))
    engine.dispose()
    monkeypatch.setenv("FOLLOWTHROUGH_DB_URL", f"sqlite:///{copy}")
    page = TestClient(create_app(access_check=lambda: None)).get("/", params={"limit": 1000}).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<script>alert" not in page
    assert "<img src=x" not in page


# ================================================================================== Jira


def _node_types(node: object) -> set[str]:
    if isinstance(node, dict):
        marks = {str(m.get("type")) for m in node.get("marks") or []}
        return {str(node.get("type")), *marks} | set().union(*map(_node_types, node.get("content") or []))
    return set()


def test_every_jira_write_carries_tracker_text_as_inert_adf() -> None:
    """Create, comment, update (description), resolve and reopen: no mention, link, heading, list or code."""
    from followthrough.gateways.jira import JiraClient
    from followthrough.gateways.jira.tickets import JiraTicketGateway

    fingerprint = "adf0" * 16
    keys: dict[tuple[str, int], str] = {}

    def entry(action: str, suffix: str, episode: int = 1, **payload: Any) -> dict[str, Any]:
        return {"idempotency_key": f"{fingerprint}:{episode}:jira:{suffix}", "fingerprint": fingerprint,
                "episode": episode, "step": 0, "channel": "jira", "action": action, "recipient": "",
                "payload": payload}

    with FakeJira() as jira:
        jira.add_project("FOLLOW")
        client = JiraClient(jira.url, jira.email, jira.api_token, timeout=2)
        gateway = JiraTicketGateway(client, "FOLLOW", ticket_key_for=lambda fp, ep: keys.get((fp, ep)),
                                    search_lag_seconds=0)
        created = gateway.deliver(entry("create_ticket", "create", summary="[AI-VAGUE] AI-1",
                                        description=f"Subject: {HOSTILE_JIRA}", labels=["followthrough"]))
        key = str(created.external_ref)
        keys[(fingerprint, 1)] = key
        gateway.deliver(entry("comment_ticket", "step1", comment=f"Still open: {HOSTILE_JIRA}"))
        gateway.deliver(entry("update_ticket", "update:1", description=f"Now: {HOSTILE_JIRA}"))
        gateway.deliver(entry("resolve_ticket", "resolve", comment=f"Resolved: {HOSTILE_JIRA}"))
        assert gateway.deliver(entry("reopen_ticket", "reopen", episode=2,
                                     comment=f"Reopened: {HOSTILE_JIRA}")).external_ref == key
        # every ADF document the fake received: each create and edit's description, each comment's body
        writes = [r for r in jira.log if isinstance(r.body, dict) and "search" not in r.endpoint]
        sent = [(r.endpoint, doc) for r in writes
                for doc in (dict(r.body.get("fields") or {}).get("description"), r.body.get("body")) if doc]
        assert sorted({e for e, _ in sent}) == ["POST /rest/api/3/issue", "POST /rest/api/3/issue/{issueIdOrKey}/comment",
                                                "PUT /rest/api/3/issue/{issueIdOrKey}"]
        assert len(sent) == 2 + 3  # two descriptions, three comments
        for endpoint, document in sent:
            assert _node_types(document) <= {"doc", "paragraph", "text", "hardBreak"}, (endpoint, document)
            assert "[~accountid:acc-ceo]" in json.dumps(document)  # shown as text, inert
        stored = [jira.issue(key)["fields"]["description"], *jira.comment_bodies(key)]
        assert all(_node_types(d) <= {"doc", "paragraph", "text", "hardBreak"} for d in stored)
        assert not jira.violations


# ================================================================================== SQL

INJECTIONS = [
    "'); DROP TABLE ft_findings;--",
    "x'; DELETE FROM ft_outbox; --",
    "\"; DROP TABLE ft_audit_events; --",
    "1 OR 1=1",
    "Robert'); DROP TABLE ft_runs;--",
]


def _injection_export(folder: Path) -> None:
    """The small export, with an injection string in every free-text and id column that reaches the store."""
    folder.mkdir()
    for name in ("people.csv", "services.csv"):
        shutil.copy(DEMO / name, folder / name)
    teams = list(csv.DictReader((DEMO / "teams.csv").open()))
    for team in teams:
        if team["team_id"] == "payments":
            team["name"] = f"Payments {INJECTIONS[0]}"
    identity = next(t for t in teams if t["team_id"] == "identity")
    teams.append(identity | {"team_id": f"identity{INJECTIONS[4]}", "name": f"Identity {INJECTIONS[2]}"})
    _write(folder / "teams.csv", teams)
    incident = {"incident_id": "INC-1", "title": f"Checkout down {INJECTIONS[1]}", "severity": "SEV3",
                "status": "resolved", "team_id": "payments", "service": "checkout-api",
                "started_at": "2026-06-01T10:00:00+00:00", "resolved_at": "2026-06-01T12:00:00+00:00",
                "confidential": "false"}
    _write(folder / "incidents.csv", [incident, incident | {"incident_id": f"INC-2{INJECTIONS[4]}"}])
    item = {"action_item_id": "AI-1", "incident_id": "INC-1", "summary": f"Fix the config {INJECTIONS[2]}",
            "owner": "jonas.weber", "team_id": "payments", "priority": "P3", "category": "root_cause",
            "status": "open", "created_at": "2026-07-01T10:00:00+00:00", "due_date": "2026-07-08"}
    _write(folder / "action_items.csv", [
        item,
        item | {"action_item_id": f"AI-2{INJECTIONS[0]}", "summary": INJECTIONS[3]},
        item | {"action_item_id": "AI-3", "owner": f"kevin{INJECTIONS[1]}", "team_id": f"identity{INJECTIONS[4]}"},
    ])


def _tables(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {t.name: int(connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                    for t in metadata.sorted_tables}
    finally:
        engine.dispose()


def _all_text(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return "\n".join(json.dumps(list(r), default=str, ensure_ascii=False)
                             for t in metadata.sorted_tables for r in connection.execute(sa.select(t)))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_sql_injection_strings_round_trip_and_the_tables_stay(
        tmp_path: Path, canary_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Injection strings in ids, team names, titles, summaries and owners go through a whole run on
    PostgreSQL (which, unlike SQLite, would run a second statement): every table is still there,
    each string is stored as it was given, and the CLI's and the dashboard's filters refuse them."""
    from fastapi.testclient import TestClient

    from followthrough import cli
    from followthrough.dashboard.app import create_app
    from followthrough.report.trail import InvalidQuery, TrailQuery, audit_trail
    from followthrough.store.repository import Store
    from tests.integration.conftest import run_pipeline

    export = tmp_path / "export"
    _injection_export(export)
    policy = {"sources": [{"name": "small", "path": str(export),
                           "absent_entities": ["postmortems", "status_updates", "action_item_history"]}]}
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    use_embedded_store(monkeypatch, tmp_path / "home", tmp_path / "policy.yaml")
    url = sa.engine.make_url(canary_store)
    monkeypatch.setenv("AIRFLOW_CONN_FOLLOWTHROUGH_DB", json.dumps({
        "conn_type": "postgres", "host": url.host, "port": url.port, "login": url.username,
        "password": url.password, "schema": url.database}))
    monkeypatch.setenv("FOLLOWTHROUGH_DB_URL", canary_store)

    run_pipeline("run-1", AS_OF)
    before = _tables(canary_store)
    assert {"ft_findings", "ft_outbox", "ft_audit_events", "ft_runs"} <= set(before)
    assert before["ft_findings"] > 0
    assert before["ft_outbox"] > 0
    stored = _all_text(canary_store)
    for value in INJECTIONS:  # stored as given (JSON-escaped where a JSON column holds it)
        assert value in stored or json.dumps(value)[1:-1] in stored, value
    store = Store(canary_store)
    findings = store.findings_frame()
    assert any(INJECTIONS[3] in str(t) or INJECTIONS[2] in str(t) for t in findings["title"])

    # past the CLI's validation, a query given an injection string binds it as a value: a team the
    # data named with one finds exactly its own events; any other finds nothing and runs nothing
    teams = {str(t) for t in findings["team_id"].dropna()}
    hostile_teams = {t for t in teams if any(v in t for v in INJECTIONS)}
    assert hostile_teams == {f"identity{INJECTIONS[4]}"}
    for team in hostile_teams:
        rows = audit_trail(store, TrailQuery(team=team))
        assert rows
        assert {r["team_id"] for r in rows} == {team}
    for value in INJECTIONS:
        if value not in teams:
            with pytest.raises(InvalidQuery, match="unknown team"):
                audit_trail(store, TrailQuery(team=value))
        with pytest.raises(InvalidQuery, match="not a valid id"):
            TrailQuery.validated(team=value)
    # the command line refuses them as filters (exit 2) before any query
    for flag in ("--team", "--person", "--incident", "--run"):
        assert cli.main(["audit", "trail", flag, INJECTIONS[0]]) == 2
    # the dashboard refuses them as filters (422)
    client = TestClient(create_app(access_check=lambda: None))
    for value in INJECTIONS:
        assert client.get("/findings.json", params={"team": value}).status_code == 422
        assert client.get("/", params={"rule": value}).status_code == 422
    assert _tables(canary_store) == before  # every table there, no row gone or added


# ================================================================================== confidential


def test_a_confidential_title_never_reaches_a_channel_live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The small export's confidential incident (INC-2) and its item AI-2, two days apart so the
    ladder posts in the team channel: the item's title reaches its owner's DM, never a channel,
    while the other items' titles do show in the channel (so a leak would be seen)."""
    from followthrough.escalation import escape_slack
    from followthrough.store.repository import Store
    from tests.integration.conftest import run_pipeline
    from tests.integration.test_slack_pipeline import _export

    export = tmp_path / "export"
    _export(export)
    policy = {"sources": [{"name": "small", "path": str(export),
                           "absent_entities": ["postmortems", "status_updates", "action_item_history"]}],
              "dispatch": {"jira": "dry_run", "slack": "live"}}
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    with FakeSlack() as slack:
        add_demo_directory(slack=slack)
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", json.dumps(
            {"conn_type": "slack", "password": slack.token, "extra": {"base_url": slack.base_url, "timeout": 5}}))
        use_embedded_store(monkeypatch, tmp_path / "home", tmp_path / "policy.yaml")
        run_pipeline("run-1", AS_OF)  # the owners are told (step 0)
        run_pipeline("run-2", "2026-07-20T10:00:00+00:00")  # three business days later: the team channel (step 1)
        messages = slack.messages()
    findings = Store(f"sqlite:///{tmp_path / 'home' / 'followthrough.db'}").findings_frame()
    secret = {str(t) for t in findings.loc[findings["confidential"].astype(bool), "title"] if t}
    public = {str(t) for t in findings.loc[~findings["confidential"].astype(bool), "title"] if t}
    assert secret
    in_channels = [json.dumps(m, ensure_ascii=False) for m in messages if str(m.get("channel", "")).startswith("C")]
    in_dms = [json.dumps(m, ensure_ascii=False) for m in messages if str(m.get("channel", "")).startswith("D")]
    assert any("a confidential item" in text for text in in_channels)  # posted about, not described
    assert any(escape_slack(t) in text for t in public for text in in_channels)
    for title in secret:
        assert not any(title in text or escape_slack(title) in text for text in in_channels), title
    assert any(escape_slack(title) in text for title in secret for text in in_dms)  # its owner is told what it is


# ================================================================================== PM-BLAME


@pytest.fixture
def demo_slack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    """The demo data with Slack live against the fake (Jira dry-run)."""
    fake = FakeSlack()
    add_demo_directory(slack=fake)
    with fake:
        text = (ROOT / "config" / "policy.yaml").read_text().replace("../data/demo", str(DEMO))
        policy = yaml.safe_load(text)
        policy.setdefault("dispatch", {}).update({"slack": "live", "jira": "dry_run"})
        (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", json.dumps(
            {"conn_type": "slack", "password": fake.token, "extra": {"base_url": fake.base_url, "timeout": 5}}))
        use_embedded_store(monkeypatch, tmp_path / "home", tmp_path / "policy.yaml")
        yield fake
    assert fake.violations == [], [str(v) for v in fake.violations]


def test_a_blame_quote_reaches_its_postmortem_owner_and_nobody_else(demo_slack: FakeSlack, tmp_path: Path) -> None:
    from followthrough import tasks
    from followthrough.escalation import escape_slack
    from followthrough.store.repository import Store
    from tests.integration.conftest import run_pipeline

    run_pipeline("run-1", AS_OF)
    tasks.dispatch_outbox("run-1", "2026-07-15T17:00:00+00:00")  # the held messages, in every team's hours
    store = Store(f"sqlite:///{tmp_path / 'home' / 'followthrough.db'}")
    findings = store.findings_frame()
    blame = findings[findings["rule"] == "PM-BLAME"]
    assert not blame.empty
    # planned: one direct message to the responsible person, nothing else (no ticket, no ladder, no lead)
    outbox = store.outbox_frame()
    for _, finding in blame.iterrows():
        planned = outbox[outbox["fingerprint"] == finding["fingerprint"]]
        assert list(zip(planned["channel"], planned["action"], planned["recipient"], strict=True)) == [
            ("slack", "dm_owner", finding["responsible"])], planned[["channel", "action", "recipient"]]
    people = {p["person_id"]: p for p in csv.DictReader((DEMO / "people.csv").open())}
    owners_told = 0
    for _, finding in blame.iterrows():
        quotes = [q.split("\u201d")[0] for q in str(finding["reason"]).split("\u201c")[1:]]
        assert quotes, finding["reason"]
        owner = people.get(str(finding["responsible"]), {})
        owner_dm = demo_slack.dm_channel(owner["slack_id"]) if owner.get("slack_id") else None
        for message in demo_slack.messages():
            shown = json.dumps(message, ensure_ascii=False)
            for quote in quotes:
                if escape_slack(quote) in shown or quote in shown:
                    assert message.get("channel") == owner_dm, f"{quote!r} reached {message.get('channel')}"
                    owners_told += 1
    assert owners_told > 0  # the quotes did reach their owners
