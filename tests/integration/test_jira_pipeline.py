"""The enforcement tasks in sequence against the Jira fake: extraction by JQL, live tickets, faults.

Incidents, postmortems and action items come from the fake Jira (the roster from files);
tickets go back to it. Under every fault switch, re-running the day leaves exactly one
ticket per finding, loses no action and ends with an empty outbox.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml

from followthrough.store.repository import Store
from tests.contract.test_jira_extract import FIELDS, QUERIES, T0, Clock, seed
from tests.fakes.jira import FakeJira
from tests.integration.test_pipeline import run_pipeline
from tests.pipeline import DEMO, use_embedded_store

AS_OF = T0.isoformat()
SEARCH = "POST /rest/api/3/search/jql"
CREATE = "POST /rest/api/3/issue"


# a roster export: teams, people and services only (the rest comes from Jira)
ROSTER_ONLY_ABSENT = ("incidents", "postmortems", "action_items", "status_updates", "action_item_history")


@pytest.fixture
def jira(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeJira]:
    fake = FakeJira(clock=Clock(T0))
    seed(fake, incidents=4, action_items=5)  # small: every ticket costs several validated requests
    fake.add_project("FOLLOW")
    with fake:
        roster = tmp_path / "roster"
        roster.mkdir()
        for name in ("teams.csv", "people.csv", "services.csv"):
            shutil.copy(DEMO / name, roster / name)
        policy = {
            "sources": [{"name": "roster", "path": str(roster), "absent_entities": list(ROSTER_ONLY_ABSENT)},
                        {"name": "jira", "kind": "jira", "jira": {"jql": QUERIES, "fields": FIELDS}}],
            "dispatch": {"jira": "live", "slack": "dry_run", "jira_project": "FOLLOW", "jira_retry_budget": 50,
                         "jira_search_lag_seconds": 3},
        }
        (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
        user, token = fake.auth
        monkeypatch.setenv("AIRFLOW_CONN_JIRA_DEFAULT", json.dumps(
            {"conn_type": "jira", "host": fake.url, "login": user, "password": token, "extra": {"timeout": 1}}))
        use_embedded_store(monkeypatch, tmp_path / "home", tmp_path / "policy.yaml")
        yield fake


def _store(tmp: Path) -> Store:
    return Store(f"sqlite:///{tmp / 'home' / 'followthrough.db'}")


def _tickets_by_label(jira: FakeJira) -> Counter[str]:
    labels: Counter[str] = Counter()
    for key in jira.issue_keys():
        if key.startswith("FOLLOW-"):
            # the gateway's idempotency label: ft-<fingerprint prefix>-e<episode>
            labels.update(label for label in jira.issue(key)["fields"]["labels"]
                          if re.fullmatch(r"ft-[0-9a-f]{16}-e\d+", label))
    return labels


def _run_until_settled(store: Store, tries: int = 4) -> int:
    """Re-run the day until nothing is pending, as the next scheduled runs would; return the runs made."""
    for attempt in range(1, tries + 1):
        run_pipeline(f"run-{attempt}", AS_OF)  # a backlog is not a failure: the next run continues it
        outbox = store.outbox_frame()
        if not outbox.empty and (~outbox["status"].isin(["pending", "claimed"])).all():
            return attempt
    return tries


def _assert_one_ticket_per_finding(jira: FakeJira, store: Store) -> None:
    outbox = store.outbox_frame()
    assert (outbox["status"] == "pending").sum() == 0, outbox[outbox["status"] == "pending"]
    creates = outbox[outbox["action"] == "create_ticket"]
    assert len(creates) > 0
    assert set(creates["status"]) == {"sent"}
    labels = _tickets_by_label(jira)
    assert all(count == 1 for count in labels.values()), labels  # no episode has two tickets
    reopens = outbox[(outbox["action"] == "reopen_ticket")
                     & ~outbox["payload"].map(lambda p: bool((p or {}).get("same_episode")))]
    assert len(labels) == len(creates) + len(reopens)  # a reopened ticket carries both episodes' labels
    assert sorted(creates["external_ref"]) == sorted(k for k in jira.issue_keys() if k.startswith("FOLLOW-"))


def test_extracts_from_jira_and_opens_one_ticket_per_finding(jira: FakeJira, tmp_path: Path) -> None:
    run_pipeline("run-1", AS_OF)
    store = _store(tmp_path)
    findings = store.findings_frame("open")
    assert "AI-OWNER-GONE" in set(findings["rule"])  # cara.diaz owns the items and is not in the roster
    assert any(s.startswith("AI-") for s in findings["subject_id"])  # subjects are Jira keys
    _assert_one_ticket_per_finding(jira, store)
    ticket = jira.issue(store.outbox_frame().query("action == 'create_ticket'")["external_ref"].iloc[0])
    assert ticket["fields"]["project"]["key"] == "FOLLOW"
    assert store.watermark("jira") is not None


def test_a_run_with_no_changes_searches_at_most_twice_per_query_and_creates_nothing(jira: FakeJira,
                                                                                     tmp_path: Path) -> None:
    run_pipeline("run-1", AS_OF)
    before_searches, before_creates = len(jira.requests_to(SEARCH)), len(jira.requests_to(CREATE))
    run_pipeline("run-2", AS_OF)
    assert len(jira.requests_to(SEARCH)) - before_searches <= 2 * len(QUERIES)
    assert len(jira.requests_to(CREATE)) == before_creates


@pytest.mark.parametrize(
    "fault",
    [
        ("rate_limit", (3,), {"retry_after": "0"}),
        ("unavailable", (2,), {}),
        ("timeout", (1,), {"seconds": 2, "commit": True, "only": CREATE}),
        ("reset_after_commit", (2,), {"only": CREATE}),
        ("search_lag", (), {"searches": 6}),
    ],
    ids=lambda f: f[0],
)
def test_faults_never_duplicate_or_lose_a_ticket(jira: FakeJira, tmp_path: Path, fault: tuple) -> None:
    name, args, kwargs = fault
    jira.faults.set(name, *args, **kwargs)
    _run_until_settled(_store(tmp_path))
    assert jira.faults.fired[name] > 0
    _assert_one_ticket_per_finding(jira, _store(tmp_path))


def test_missing_jira_connection_fails_loudly(jira: FakeJira, monkeypatch: pytest.MonkeyPatch) -> None:
    from followthrough.exceptions import ConnectionMissing

    monkeypatch.delenv("AIRFLOW_CONN_JIRA_DEFAULT")
    with pytest.raises(ConnectionMissing, match="jira_default"):
        run_pipeline("run-1", AS_OF)


def _assign(jira: FakeJira, key: str, account: str) -> None:
    import requests

    answer = requests.put(f"{jira.url}/rest/api/3/issue/{key}", auth=jira.auth, timeout=10,
                          json={"fields": {"assignee": {"accountId": account}}})
    assert answer.status_code == 204, answer.text


def test_a_fixed_problem_resolves_its_ticket_and_a_return_reopens_it(jira: FakeJira, tmp_path: Path) -> None:
    run_pipeline("run-1", AS_OF)
    store = _store(tmp_path)
    outbox = store.outbox_frame()
    findings = store.findings_frame()
    gone = findings[(findings["rule"] == "AI-OWNER-GONE") & (findings["subject_id"] == "AI-1")].iloc[0]
    ticket = outbox[(outbox["fingerprint"] == gone["fingerprint"])
                    & (outbox["action"] == "create_ticket")]["external_ref"].iloc[0]

    _assign(jira, "AI-1", "acc-alice")  # aisha.khan is in the roster: the owner is back
    run_pipeline("run-2", AS_OF)
    assert jira.issue(ticket)["fields"]["status"]["statusCategory"]["key"] == "done"

    _assign(jira, "AI-1", "acc-cara")  # and gone again, the same day: within the reopen window
    run_pipeline("run-3", AS_OF)
    assert jira.issue(ticket)["fields"]["status"]["statusCategory"]["key"] != "done"
    assert any("Reopened" in text for text in jira.comment_texts(ticket))
    latest = store.outbox_frame("run-3")
    assert list(latest[latest["fingerprint"] == gone["fingerprint"]]["action"])[0] == "reopen_ticket"
    assert _told(latest, str(gone["fingerprint"]), 2)
    _assert_one_ticket_per_finding(jira, store)


def test_full_extract_ignores_the_watermark(jira: FakeJira, tmp_path: Path) -> None:
    from followthrough import tasks

    run_pipeline("run-1", AS_OF)
    fetched = len(jira.requests_to(SEARCH))
    tasks.extract_sources("run-2", "followthrough_enforce", AS_OF)
    incremental = [str(r.body.get("jql")) for r in jira.requests_to(SEARCH)[fetched:]]
    for query in QUERIES.values():
        assert [q for q in incremental if query in q and "updated >=" in q], incremental
    assert _store(tmp_path).release_run_lock("run-2")  # run-2 ends here (its later tasks are not the point)
    tasks.extract_sources("run-3", "followthrough_enforce", AS_OF, full_extract=True)
    backfill = [str(r.body.get("jql")) for r in jira.requests_to(SEARCH)[fetched + len(incremental):]]
    for query in QUERIES.values():
        assert [q for q in backfill if query in q], backfill
    assert not [q for q in backfill if "updated >=" in q]


def test_an_issue_deleted_in_jira_resolves_its_findings_as_gone(jira: FakeJira, tmp_path: Path) -> None:
    from datetime import timedelta

    run_pipeline("run-1", AS_OF)
    store = _store(tmp_path)
    opened = store.findings_frame("open")
    subject = sorted(s for s in opened["subject_id"] if s.startswith("AI-"))[0]
    fingerprints = set(opened.loc[opened["subject_id"] == subject, "fingerprint"])
    jira.delete_issue(subject)
    jira._clock.now = T0 + timedelta(days=1)  # noqa: SLF001  the next day's first run sweeps
    run_pipeline("run-2", (T0 + timedelta(days=1)).isoformat())
    resolved = store.findings_frame("resolved")
    gone = resolved[resolved["fingerprint"].isin(fingerprints)]
    assert len(gone) == len(fingerprints)
    assert set(gone["resolution"]) == {"gone"}
    others = resolved[~resolved["fingerprint"].isin(fingerprints)]
    assert set(others["resolution"]) <= {"fixed"}
    # their tickets are resolved in Jira
    tickets = store.outbox_frame().query("action == 'create_ticket'")
    for key in tickets[tickets["fingerprint"].isin(fingerprints)]["external_ref"]:
        assert jira.issue(key)["fields"]["status"]["statusCategory"]["key"] == "done"


def _told(outbox: pd.DataFrame, fingerprint: str, episode: int) -> set[str]:
    """Who was told of a finding's episode by DM: one by one, or in the day's summary (the daily DM cap)."""
    direct = outbox[(outbox["fingerprint"] == fingerprint) & (outbox["action"] == "dm_owner")]
    summaries = outbox[outbox["action"] == "dm_summary"]
    folded = summaries[summaries["payload"].map(lambda p: any(
        k.removeprefix("dry_run/").startswith(f"{fingerprint}:{episode}:slack:step0:dm_owner")
        for k in (p or {}).get("folded", [])))]
    return set(direct["recipient"]) | set(folded["recipient"])


def _ticket_of(store: Store, rule: str, subject: str) -> tuple[str, str]:
    findings = store.findings_frame()
    finding = findings[(findings["rule"] == rule) & (findings["subject_id"] == subject)].iloc[0]
    outbox = store.outbox_frame()
    ticket = outbox[(outbox["fingerprint"] == finding["fingerprint"]) & (outbox["action"] == "create_ticket")]
    return str(finding["fingerprint"]), str(ticket["external_ref"].iloc[0])


def _with_policy(tmp_path: Path, **changes: object) -> None:
    path = tmp_path / "policy.yaml"
    policy = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump(policy | changes))


def _done(jira: FakeJira, key: str) -> bool:
    return jira.issue(key)["fields"]["status"]["statusCategory"]["key"] == "done"


def test_one_ticket_across_waive_expiry_and_reopen(jira: FakeJira, tmp_path: Path) -> None:
    run_pipeline("run-1", AS_OF)
    store = _store(tmp_path)
    fingerprint, ticket = _ticket_of(store, "AI-OWNER-GONE", "AI-1")
    assert not _done(jira, ticket)

    expires = (T0 + timedelta(days=1)).date().isoformat()
    _with_policy(tmp_path, waivers=[{"rule": "AI-OWNER-GONE", "subject_id": "AI-1", "reason": "owner on leave",
                                     "approver": "lena.lead", "expires": expires}])
    run_pipeline("run-2", AS_OF)
    assert store.findings_frame("waived")["fingerprint"].tolist() == [fingerprint]
    assert _done(jira, ticket)  # resolved as waived
    assert any(f"Waived by lena.lead until {expires}: owner on leave" in t for t in jira.comment_texts(ticket))
    pending_dm = store.outbox_frame()
    assert not ((pending_dm["fingerprint"] == fingerprint) & pending_dm["status"].isin(["pending", "held"])).any()

    later = (T0 + timedelta(days=3)).isoformat()  # the waiver expired; the owner is still gone
    run_pipeline("run-3", later)
    assert fingerprint in set(store.findings_frame("open")["fingerprint"])
    assert not _done(jira, ticket)  # the same ticket reopened
    assert any("the waiver expired" in t for t in jira.comment_texts(ticket))
    labels = _tickets_by_label(jira)
    mine = [label for label in labels if label.startswith(f"ft-{fingerprint[:16]}-")]
    assert mine == [f"ft-{fingerprint[:16]}-e1"]  # still one ticket, one episode
    creates = store.outbox_frame().query("action == 'create_ticket' and fingerprint == @fingerprint")
    assert len(creates) == 1
    run_pipeline("run-4", later)  # the same day again changes nothing
    assert [label for label in _tickets_by_label(jira) if label.startswith(f"ft-{fingerprint[:16]}-")] == mine


def _first_run_and_an_owned_item(tmp_path: Path) -> tuple[Store, pd.Series]:
    """Run the first day; the open finding of an action item with an owner other than aisha.khan."""
    run_pipeline("run-1", AS_OF)
    store = _store(tmp_path)
    findings = store.findings_frame("open")
    candidates = findings[findings["subject_id"].str.startswith("AI-") & findings["responsible"].notna()
                          & ~findings["rule"].isin(["AI-OWNER-GONE", "AI-NO-OWNER"])
                          & (findings["responsible"] != "aisha.khan")]
    assert not candidates.empty, findings[["rule", "subject_id", "responsible"]]
    return store, candidates.iloc[0]


def test_a_new_owner_gets_the_ticket_and_is_told(jira: FakeJira, tmp_path: Path) -> None:
    store, finding = _first_run_and_an_owned_item(tmp_path)
    fingerprint, ticket = _ticket_of(store, str(finding["rule"]), str(finding["subject_id"]))

    _assign(jira, str(finding["subject_id"]), "acc-alice")  # aisha.khan, in the roster, takes the item over
    jira.add_user("acc-aisha", "aisha.khan@followthrough-demo.example", "Aisha Khan")  # her roster e-mail
    run_pipeline("run-2", AS_OF)
    moved = store.findings_frame().set_index("fingerprint").loc[fingerprint]
    assert moved["responsible"] == "aisha.khan"
    assert jira.issue(ticket)["fields"]["assignee"]["accountId"] == "acc-aisha"
    assert any("to aisha.khan" in t for t in jira.comment_texts(ticket))
    assert _told(store.outbox_frame("run-2"), fingerprint, 1) == {"aisha.khan"}


COMMENT = "POST /rest/api/3/issue/{issueIdOrKey}/comment"


@pytest.mark.parametrize("fault", [None, ("reset_after_commit", (2,), {"only": COMMENT})],
                         ids=["clean", "comment_reset_after_commit"])
def test_a_new_owner_without_a_jira_user_gets_the_reassignment_comment_and_the_request_to_reassign(
        jira: FakeJira, tmp_path: Path, fault: tuple | None) -> None:
    """The two comments of one reassignment are told apart: neither keeps the other off the ticket, each
    is posted once (a write that landed without an answer is found, not repeated), and a re-run adds none."""
    store, finding = _first_run_and_an_owned_item(tmp_path)
    previous = str(finding["responsible"])
    fingerprint, ticket = _ticket_of(store, str(finding["rule"]), str(finding["subject_id"]))
    assignee = jira.issue(ticket)["fields"]["assignee"]
    before = list(jira.comment_texts(ticket))

    # aisha.khan (acc-alice in the source) takes the item over; no Jira user has her roster e-mail
    _assign(jira, str(finding["subject_id"]), "acc-alice")
    if fault is not None:
        name, args, kwargs = fault
        jira.faults.set(name, *args, **kwargs)
    run_pipeline("run-2", AS_OF)
    if fault is not None:
        assert jira.faults.fired[fault[0]] > 0
    assert store.findings_frame().set_index("fingerprint").loc[fingerprint, "responsible"] == "aisha.khan"
    assert jira.issue(ticket)["fields"]["assignee"] == assignee  # no user to give it to: left as it was
    added = jira.comment_texts(ticket)[len(before):]
    reassigned = [t for t in added if f"Reassigned from {previous} to aisha.khan, the item's owner now." in t]
    no_user = [t for t in added if "The responsible person is now aisha.khan, but no Jira user was found for them "
               "(aisha.khan@followthrough-demo.example); please reassign." in t]
    assert len(reassigned) == 1, added
    assert len(no_user) == 1, added
    assert len(added) == 2, added
    entry_key = f"{fingerprint}:1:jira:reassign:aisha.khan"
    assert reassigned[0].endswith(f"[followthrough:{entry_key}]")  # two markers: neither passes for the other
    assert no_user[0].endswith(f"[followthrough:{entry_key}#no-jira-user]")
    outbox = store.outbox_frame()
    reassign = outbox[outbox["idempotency_key"] == entry_key]
    assert list(reassign["status"]) == ["sent"]
    assert list(reassign["external_ref"]) == [ticket]
    assert _told(store.outbox_frame("run-2"), fingerprint, 1) == {"aisha.khan"}

    comments_posted = len(jira.requests_to(COMMENT))
    run_pipeline("run-3", AS_OF)  # the same day again
    assert jira.comment_texts(ticket)[len(before):] == added
    assert len(jira.requests_to(COMMENT)) == comments_posted
    assert jira.issue(ticket)["fields"]["assignee"] == assignee


def test_extraction_faults_are_audited_and_a_read_that_keeps_failing_fails_the_task(jira: FakeJira,
                                                                                   tmp_path: Path) -> None:
    from followthrough import tasks
    from followthrough.gateways.jira import JiraRetriesExhausted

    jira.faults.server_error(1, 502, only=SEARCH)
    jira.faults.rate_limit(1, retry_after="0", only=SEARCH)
    tasks.extract_sources("run-1", "followthrough_enforce", AS_OF)
    store = _store(tmp_path)
    [read] = [e["payload"] for e in store.audit_events("run-1") if e["kind"] == "source_read"]
    assert (read["source"], read["faults"], read["retries"]) == ("jira", {"http_502": 1, "rate_limit": 1}, 2)
    assert store.release_run_lock("run-1")  # run-1 ends here (its later tasks are not the point)

    jira.faults.unavailable(50, only=SEARCH)  # more than one request's retries
    with pytest.raises(JiraRetriesExhausted, match="still failing"):
        tasks.extract_sources("run-2", "followthrough_enforce", AS_OF)
    [failed] = [e["payload"] for e in store.audit_events("run-2") if e["kind"] == "source_read_failed"]
    assert failed["faults"] == {"http_503": jira.faults.fired["unavailable"]}
    assert "still failing" in failed["error"]
    assert jira.api_token not in json.dumps(failed)
    jira.faults.clear()
    tasks.extract_sources("run-2", "followthrough_enforce", AS_OF)  # the task's retry
    assert [e["kind"] for e in store.audit_events("run-2") if e["kind"].startswith("source_read")] == [
        "source_read_failed", "source_read"]
