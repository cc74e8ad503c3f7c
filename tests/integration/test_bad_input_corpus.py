"""Bad input under fire: the corpus of tests/integration/bad_input_corpus.py, run and asserted.

- Files: the demo export is run once as it is (the baseline) and once with every files case
  injected (their rows all carry new ids, so each case's rows are told apart), both through the
  whole in-process pipeline (extract, contract, rules, reconcile, plan, dry-run dispatch,
  report). Each case asserts its own rows' outcome, and that every finding about a row the
  corpus did not inject is the same as in the baseline (and so is the outbox about them).
- Jira: the honest Jira fake over HTTP, seeded as the extractor's contract tests seed it, is
  extracted without and with the corpus issues; the frames go through the source contract and
  the rules. Each case asserts its issue's outcome and that every other issue's rows and
  findings are unchanged.
- Policy: each invalid policy makes the first task fail with a message naming the key, and the
  store has no run, no finding and no outbox entry afterwards.

The last test prints the figure (cases tried, cases as expected) and fails unless every case
is as expected.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from followthrough import config, staging, tasks
from followthrough.exceptions import PolicyError
from followthrough.gateways.jira import JiraClient
from followthrough.model import ENTITIES, ENTITY_BY_NAME, empty_raw_frame
from followthrough.policy import load_policy, policy_for_tests
from tests.contract.test_jira_extract import T0, Clock, seed
from tests.contract.test_jira_extract import config as jira_config
from tests.fakes.jira import FakeJira
from tests.integration.bad_input_corpus import (
    CASES,
    FILE_CASES,
    FIXTURE,
    FIXTURE_OUTCOMES,
    JIRA_CASES,
    POLICY_CASES,
    Accepted,
    Case,
    PolicyRejected,
    Quarantined,
)
from tests.integration.conftest import run_pipeline
from tests.pipeline import (
    DEMO,
    DEMO_AS_OF,
    expected_open_findings,
    expected_quarantine,
    use_embedded_store,
    write_policy,
)

RUN_ID = "manual__2026-07-15T10:00:00+00:00"
SOURCE = "demo"
# what a finding is, for "the same as without the corpus"
FINDING_KEY = ["rule", "subject_type", "subject_id", "level", "status", "team_id", "responsible", "due_at"]

TALLY: dict[str, bool] = {}


def started(case: Case) -> None:
    TALLY[case.id] = False


def as_expected(case: Case) -> None:
    """The last line of a case's test: reached only when every assertion before it held."""
    TALLY[case.id] = True


# ============================================================================ files


@dataclass
class Snapshot:
    """What one in-process run left: findings, quarantine, clean frames, outbox and report."""

    findings: pd.DataFrame
    quarantine: list[dict[str, Any]]
    clean: dict[str, pd.DataFrame]
    outbox: pd.DataFrame
    report: str


def _run(home: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Snapshot:
    home.mkdir(parents=True)
    use_embedded_store(monkeypatch, home, write_policy(home.parent, folder))
    run_pipeline(RUN_ID, DEMO_AS_OF)
    store = tasks.open_store()
    return Snapshot(
        findings=store.findings_frame(),
        quarantine=store.quarantine_seen_in(RUN_ID),
        clean=staging.read_frames(RUN_ID, f"clean/{SOURCE}"),
        outbox=store.outbox_frame(),
        report=(config.report_dir(RUN_ID) / "report.html").read_text(encoding="utf-8"),
    )


def _inject(folder: Path, cases: tuple[Case, ...]) -> None:
    appends = [entry for case in cases for entry in case.inject]
    for name, text in [*FIXTURE, *appends]:
        path = folder / name
        data = path.read_bytes()
        if not data.endswith(b"\n"):
            data += b"\n"
        encoded = text.removeprefix("latin-1:").encode("latin-1" if text.startswith("latin-1:") else "utf-8")
        path.write_bytes(data + encoded)
    for case in cases:
        if not case.transform:
            continue
        how, name = case.transform.split(":")
        path = folder / name
        data = path.read_bytes()
        if how == "bom":
            path.write_bytes(b"\xef\xbb\xbf" + data)
        elif how == "crlf":
            path.write_bytes(data.replace(b"\n", b"\r\n"))
        elif how == "blank":
            lines = data.split(b"\n")
            path.write_bytes(b"\n".join([*lines[:2], b"", b"   ", *lines[2:4], b"", *lines[4:]]))
        else:
            raise ValueError(case.transform)


def _demo_rows() -> dict[str, int]:
    """Data rows per entity in the untouched demo export: injected rows are numbered after them."""
    import csv

    counts = {}
    for schema in ENTITIES:
        with (DEMO / schema.file).open(encoding="utf-8", newline="") as handle:
            counts[schema.name] = sum(1 for r in csv.reader(handle) if r) - 1
    return counts


@dataclass
class FileRuns:
    baseline: Snapshot
    corpus: Snapshot
    injected_ids: set[str]
    demo_rows: dict[str, int]

    def is_injected_finding(self, subject_type: str, subject_id: str) -> bool:
        if subject_type != "source_row":
            return subject_id in self.injected_ids
        entity, ident, _ = subject_id.split("/", 2) if subject_id.count("/") >= 2 else (subject_id, "", "")
        if ident.startswith("row-"):
            return int(ident.removeprefix("row-")) > self.demo_rows[entity]
        return ident in self.injected_ids

    def others(self, snapshot: Snapshot) -> pd.DataFrame:
        frame = snapshot.findings
        keep = [not self.is_injected_finding(t, s) for t, s in zip(frame["subject_type"], frame["subject_id"],
                                                                    strict=True)]
        return _finding_keys(frame[keep])

    def others_unchanged(self) -> bool:
        return self.others(self.baseline).equals(self.others(self.corpus)) and self.other_outbox(
            self.baseline) == self.other_outbox(self.corpus)

    def other_outbox(self, snapshot: Snapshot) -> list[str]:
        """Idempotency keys of the outbox entries that are about findings the corpus did not inject."""
        fingerprints = dict(zip(snapshot.findings["fingerprint"], zip(snapshot.findings["subject_type"],
                                                                      snapshot.findings["subject_id"], strict=True),
                                strict=True))
        keys = []
        for key, fingerprint in zip(snapshot.outbox["idempotency_key"], snapshot.outbox["fingerprint"], strict=True):
            subject = fingerprints.get(fingerprint)
            if subject is not None and not self.is_injected_finding(*subject):
                keys.append(str(key))
        return sorted(keys)


def _finding_keys(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[FINDING_KEY].astype("string").fillna("")
    return out.sort_values(FINDING_KEY, ignore_index=True)


@pytest.fixture(scope="module")
def file_runs(tmp_path_factory: pytest.TempPathFactory) -> FileRuns:
    base = tmp_path_factory.mktemp("bad-input")
    with pytest.MonkeyPatch.context() as monkeypatch:
        baseline = _run(base / "baseline" / "home", DEMO, monkeypatch)
        folder = base / "corpus" / "export"
        shutil.copytree(DEMO, folder)
        _inject(folder, FILE_CASES)
        corpus = _run(base / "corpus" / "home", folder, monkeypatch)
    injected = {o.record_id for case in FILE_CASES for o in case.outcomes
                if isinstance(o, Quarantined | Accepted) and o.record_id}
    injected |= {o.record_id for o in FIXTURE_OUTCOMES}
    return FileRuns(baseline=baseline, corpus=corpus, injected_ids=injected, demo_rows=_demo_rows())


def test_the_baseline_is_the_demo_as_documented(file_runs: FileRuns) -> None:
    findings = file_runs.baseline.findings
    open_ = findings[findings["status"] == "open"]
    assert sorted(zip(open_["rule"], open_["subject_type"], open_["subject_id"], strict=True)) == \
        expected_open_findings()
    assert sorted((q["entity"], q["row_number"], q["reason_code"]) for q in file_runs.baseline.quarantine) == \
        expected_quarantine()


def _quarantine_rows(runs: FileRuns, outcome: Quarantined) -> list[dict[str, Any]]:
    rows = [q for q in runs.corpus.quarantine if q["entity"] == outcome.entity and q["row_number"] >
            runs.demo_rows[outcome.entity]]
    return [q for q in rows if fnmatch.fnmatchcase(str(q["record_id"]), outcome.record_id)
            and (outcome.record_id or not q["record_id"])]


def _findings_about(snapshot: Snapshot, record_id: str) -> pd.DataFrame:
    frame = snapshot.findings
    return frame[(frame["subject_id"] == record_id) & (frame["subject_type"] != "source_row")]


def _clean_ids(snapshot: Snapshot, entity: str) -> set[str]:
    frame = snapshot.clean[entity]
    return set(frame[ENTITY_BY_NAME[entity].id_column].astype(str))


def assert_file_outcome(runs: FileRuns, case: Case, outcome: Quarantined | Accepted | PolicyRejected) -> None:
    if isinstance(outcome, Quarantined):
        rows = _quarantine_rows(runs, outcome)
        assert rows, f"{case.id}: nothing quarantined in {outcome.entity} for {outcome.record_id!r}"
        assert {r["reason_code"] for r in rows} == set(outcome.reasons), (case.id, rows)
        assert all(r["reason"] for r in rows)
        sources = runs.corpus.findings[runs.corpus.findings["rule"] == "SRC-INVALID"]["subject_id"].tolist()
        for row in rows:  # each quarantined row is followed up as SRC-INVALID
            assert any(s.startswith(f"{outcome.entity}/") and s.endswith(f"/{row['reason_code']}")
                       and (f"/{row['record_id']}/" in s or f"/row-{row['row_number']}/" in s) for s in sources)
        if outcome.record_id and "*" not in outcome.record_id:
            assert outcome.record_id not in _clean_ids(runs.corpus, outcome.entity)
            assert _findings_about(runs.corpus, outcome.record_id).empty
    elif isinstance(outcome, Accepted):
        assert outcome.record_id in _clean_ids(runs.corpus, outcome.entity), (case.id, outcome)
        assert not [q for q in runs.corpus.quarantine if q["entity"] == outcome.entity
                    and q["record_id"] == outcome.record_id], case.id
        if outcome.rules is not None:
            fired = set(_findings_about(runs.corpus, outcome.record_id)["rule"])
            assert fired == set(outcome.rules), (case.id, outcome.record_id, fired)
        if outcome.check:
            CHECKS[outcome.check](runs)
    else:
        raise AssertionError(f"{case.id}: a files case cannot expect {outcome}")


@pytest.mark.parametrize("case", FILE_CASES, ids=[c.id for c in FILE_CASES])
def test_file_case(file_runs: FileRuns, case: Case) -> None:
    started(case)
    for outcome in case.outcomes:
        assert_file_outcome(file_runs, case, outcome)
    assert file_runs.others_unchanged(), "a finding about a row the corpus did not inject changed"
    as_expected(case)


def test_the_reference_item_and_the_unchanged_rest(file_runs: FileRuns) -> None:
    for outcome in FIXTURE_OUTCOMES:
        assert_file_outcome(file_runs, FILE_CASES[0], outcome)
    assert file_runs.others(file_runs.baseline).equals(file_runs.others(file_runs.corpus))
    assert file_runs.other_outbox(file_runs.baseline) == file_runs.other_outbox(file_runs.corpus)
    assert len(file_runs.other_outbox(file_runs.baseline)) > 50  # the comparison compares something


# --- named checks of accepted rows


def _one_finding(runs: FileRuns, rule: str, subject: str) -> dict[str, Any]:
    frame = runs.corpus.findings
    rows = frame[(frame["rule"] == rule) & (frame["subject_id"] == subject)].to_dict("records")
    assert len(rows) == 1, (rule, subject, rows)
    return rows[0]


def _payloads(runs: FileRuns, subject: str, action: str) -> list[dict[str, Any]]:
    frame = runs.corpus.findings
    fingerprints = set(frame.loc[frame["subject_id"] == subject, "fingerprint"])
    outbox = runs.corpus.outbox
    rows = outbox[outbox["fingerprint"].isin(fingerprints) & (outbox["action"] == action)]
    return [p if isinstance(p, dict) else json.loads(p) for p in rows["payload"]]


def check_dst_gap_update(runs: FileRuns) -> None:
    updates = runs.corpus.clean["status_updates"].set_index("update_id")
    assert updates.loc["UPD-99117", "posted_at"] == pd.Timestamp("2026-03-29T01:30:00Z")


def check_santiago_gap(runs: FileRuns) -> None:
    # 2025-09-07 00:00 does not exist in Santiago (-04:00 -> -03:00): the day starts at 01:00 -03:00
    due_at = pd.Timestamp(_one_finding(runs, "AI-OVERDUE", "AI-99118")["due_at"])
    due_at = due_at if due_at.tzinfo else due_at.tz_localize("UTC")
    assert due_at == pd.Timestamp("2025-09-07T04:00Z")


def check_no_email(runs: FileRuns) -> None:
    messages = _payloads(runs, "AI-99137", "dm_owner")
    assert messages, "the owner without e-mail is still told"
    assert all(m["email"] == "" and m["slack_id"].startswith("U") for m in messages)


def check_no_lead(runs: FileRuns) -> None:
    finding = _one_finding(runs, "AI-NO-OWNER", "AI-99138")
    assert finding["responsible"] in (None, "") or pd.isna(finding["responsible"])


def check_html(runs: FileRuns) -> None:
    assert "&lt;script&gt;alert(" in runs.corpus.report
    assert "<script>alert(" not in runs.corpus.report
    assert "<img src=x" not in runs.corpus.report


def check_slack(runs: FileRuns) -> None:
    outbox = runs.corpus.outbox[runs.corpus.outbox["channel"] == "slack"]
    texts = [t for t in (json.dumps(p) for p in outbox["payload"]) if "AI-99134" in t]
    assert texts  # the owner's message (or the day's summary of them) names the item
    assert all("&lt;!channel&gt;" in t and "<!channel>" not in t and "<https://evil" not in t for t in texts)


def check_jira(runs: FileRuns) -> None:
    tickets = _payloads(runs, "AI-99135", "create_ticket")
    assert tickets
    text = json.dumps(tickets)
    assert "[status page|https://evil.example]" in text  # the words are kept, as text
    assert '"mention"' not in text
    assert '"inlineCard"' not in text
    assert "https://evil.example\"" not in text.replace("|https://evil.example]", "")  # no link mark's href


CHECKS = {
    "dst_gap_update": check_dst_gap_update, "santiago_gap": check_santiago_gap, "no_email": check_no_email,
    "no_lead": check_no_lead, "html": check_html, "slack": check_slack, "jira": check_jira,
}


# ============================================================================ Jira

JIRA_TEAMS = ('ops "blue"', "a AND b", "x ~ y", "back\\slash", "it's")


def seed_jira_corpus(jira: FakeJira) -> None:
    """The corpus issues, by case (see JIRA_CASES)."""
    jira.add_user("acc-hidden", "hidden.user@example.com", "Hidden User", email_visible=False)
    inc = {"issuetype": "Incident", "customfield_10020": "payments", "customfield_10030": "checkout-api",
           "customfield_10040": "config", "status": "Done", "created": T0 - timedelta(days=9),
           "resolutiondate": T0 - timedelta(days=9, hours=-2)}
    task = {"customfield_10020": "payments", "assignee": "acc-cara", "priority": "High", "duedate": "2026-08-01",
            "status": "In Progress", "created": T0 - timedelta(days=5)}
    jira.add_issue("INC-101", {**inc, "summary": "no severity"})  # J01
    jira.add_issue("AI-102", {**{k: v for k, v in task.items() if k != "customfield_10020"}, "summary": "no team"})
    jira.add_link("Relates", "AI-102", "INC-1")
    odd = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Summary: fine"}]},
        {"type": "confluenceMacro", "content": [{"type": "text", "text": "macro text"}]}]}
    jira.add_issue("PM-103", {"issuetype": "Postmortem", "summary": "odd ADF", "assignee": "acc-alice",
                              "description": odd, "status": "In Progress"})  # J03
    jira.add_link("Relates", "PM-103", "INC-4")
    jira.add_issue("AI-104", {**task, "summary": "comment with odd ADF"},  # J04
                   comments=[{"body": odd, "author": "acc-cara", "created": T0 - timedelta(days=1)}])
    jira.add_link("Relates", "AI-104", "INC-2")
    jira.add_issue("AI-105", {**task, "assignee": "acc-hidden", "summary": "hidden owner"})  # J05
    jira.add_link("Relates", "AI-105", "INC-2")
    jira.add_issue("AI-106", {**task, "summary": "handed to a hidden user"}, changelog=[  # J06
        {"created": T0 - timedelta(days=2), "author": "acc-cara", "items": [
            {"field": "assignee", "fieldId": "assignee", "from": "acc-cara", "fromString": "Cara Diaz",
             "to": "acc-hidden", "toString": "Hidden User"}]}])
    jira.add_link("Relates", "AI-106", "INC-3")
    jira.add_issue("SECRET-7", {**inc, "customfield_10010": "SEV3", "summary": "out of scope"})  # J07
    jira.add_issue("AI-107", {**task, "summary": "linked outside the incidents query"})
    jira.add_link("Relates", "AI-107", "SECRET-7")
    jira.add_issue("INC-199", {**inc, "customfield_10010": "SEV3", "summary": "deleted later"})  # J14
    jira.add_issue("AI-114", {**task, "summary": "linked to a deleted incident"})
    jira.add_link("Relates", "AI-114", "INC-199")
    jira.delete_issue("INC-199")
    jira.add_issue("PM-108", {"issuetype": "Postmortem", "summary": "not linked", "assignee": "acc-alice",
                              "status": "In Progress"})  # J08
    jira.add_issue("AI-109", {"customfield_10020": "payments", "status": "In Progress",  # J09
                              "created": T0 - timedelta(days=5), "summary": "Add a p99 latency alert on the ledger "
                              "write path"})
    jira.add_link("Relates", "AI-109", "INC-2")
    jira.add_priority("Blocker")
    jira.add_issue("AI-110", {**task, "priority": "Blocker", "summary": "priority not mapped"})  # J10
    jira.add_link("Relates", "AI-110", "INC-2")
    jira.add_issue("AI-111", {**task, "duedate": "2026-02-30", "summary": "impossible due date"})  # J11
    jira.add_link("Relates", "AI-111", "INC-3")
    jira.add_issue("INC-112", {**inc, "customfield_10010": "SEV4", "summary": MARKUP_SUMMARY})  # J12
    for n, name in enumerate(JIRA_TEAMS, start=113):  # J13
        jira.add_issue(f"INC-{n}", {**inc, "customfield_10010": "SEV4", "customfield_10020": name,
                                    "summary": f"team {name}"})


MARKUP_SUMMARY = "<b>x</b> <!channel> [click|https://evil.example] {color:red}r{color} \u202eتقرير 🚨"
JIRA_IDS = {"INC-101", "AI-102", "PM-103", "AI-104", "AI-105", "AI-106", "SECRET-7", "AI-107", "INC-199", "AI-114", "PM-108", "AI-109",
            "AI-110", "AI-111", "INC-112", *(f"INC-{n}" for n in range(113, 113 + len(JIRA_TEAMS)))}


@dataclass
class JiraRun:
    frames: dict[str, pd.DataFrame]  # raw extracted
    quarantine: pd.DataFrame  # extractor's and contract's
    clean: dict[str, pd.DataFrame]
    findings: pd.DataFrame
    fetched: dict[str, int]


def _jira_run(client: JiraClient, **overrides: Any) -> JiraRun:
    from followthrough.quality.gx import apply_source_contract
    from followthrough.rules import evaluate_rules
    from followthrough.sources.jira import extract

    result = extract(client, jira_config(**overrides), None)
    raw = dict(result.frames)
    for schema in ENTITIES:
        raw.setdefault(schema.name, empty_raw_frame(schema))
    contract = apply_source_contract(raw, list(ENTITIES))
    quarantine = pd.concat([result.quarantine, contract.quarantine], ignore_index=True)
    clean = {**contract.clean, "quarantine": quarantine}
    findings = evaluate_rules(clean, policy_for_tests(), pd.Timestamp(T0))
    return JiraRun(frames=result.frames, quarantine=quarantine, clean=contract.clean, findings=findings,
                   fetched=result.fetched)


def _subject_of_jira(subject_id: str) -> str:
    """The issue key a finding subject or row id is about (AI-1:comment:5 -> AI-1)."""
    if "/" in subject_id:
        subject_id = subject_id.split("/")[1]
    return subject_id.split(":")[0]


@dataclass
class JiraRuns:
    baseline: JiraRun
    corpus: JiraRun
    teams: JiraRun
    violations: list[str]

    def others_unchanged(self) -> bool:
        for entity, frame in self.baseline.frames.items():
            corpus = self.corpus.frames[entity]
            other = corpus[~corpus.iloc[:, 0].map(_subject_of_jira).isin(JIRA_IDS)]
            if not other.drop(columns="_row").reset_index(drop=True).equals(
                    frame.drop(columns="_row").reset_index(drop=True)):
                return False
        keep = ~self.corpus.findings["subject_id"].map(_subject_of_jira).isin(JIRA_IDS)
        return _jira_keys(self.corpus.findings[keep]).equals(_jira_keys(self.baseline.findings))


def _jira_keys(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["rule", "subject_type", "subject_id", "level", "team_id", "responsible", "due_at"]
    return frame[columns].astype("string").fillna("").sort_values(columns, ignore_index=True)


@pytest.fixture(scope="module")
def jira_runs() -> JiraRuns:
    clock = Clock(T0)
    with FakeJira(clock=clock) as fake:
        seed(fake)
        client = JiraClient(fake.url, fake.email, fake.api_token, timeout=5, sleep=lambda s: None)
        baseline = _jira_run(client)
        seed_jira_corpus(fake)
        corpus = _jira_run(client)
        teams = _jira_run(client, teams=JIRA_TEAMS)
        violations = [str(v) for v in fake.violations]
    return JiraRuns(baseline=baseline, corpus=corpus, teams=teams, violations=violations)


def assert_jira_outcome(runs: JiraRuns, case: Case, outcome: Quarantined | Accepted | PolicyRejected) -> None:
    quarantine = runs.corpus.quarantine
    if isinstance(outcome, Quarantined):
        rows = quarantine[(quarantine["entity"] == outcome.entity)
                          & quarantine["record_id"].map(lambda r: fnmatch.fnmatchcase(str(r), outcome.record_id))]
        assert set(rows["reason_code"]) == set(outcome.reasons), (case.id, rows.to_dict("records"))
        findings = runs.corpus.findings
        about = findings[findings["subject_id"].map(_subject_of_jira) == _subject_of_jira(outcome.record_id)]
        assert "SRC-INVALID" in set(about["rule"]), case.id  # followed up
        if outcome.entity in ("incidents", "postmortems", "action_items"):  # the subject itself is not judged
            assert set(about["rule"]) == {"SRC-INVALID"}, (case.id, about)
    elif isinstance(outcome, Accepted):
        frame = runs.corpus.clean[outcome.entity]
        ids = set(frame[ENTITY_BY_NAME[outcome.entity].id_column])
        assert outcome.record_id in ids, case.id
        assert not ((quarantine["entity"] == outcome.entity) & (quarantine["record_id"] == outcome.record_id)).any()
        if outcome.rules is not None:
            findings = runs.corpus.findings
            fired = set(findings.loc[findings["subject_id"] == outcome.record_id, "rule"])
            assert fired == set(outcome.rules), (case.id, fired)
        if outcome.check == "jql_teams":
            fetched = set(runs.teams.frames["incidents"]["incident_id"])
            assert fetched == {f"INC-{n}" for n in range(113, 113 + len(JIRA_TEAMS))}
            assert set(runs.teams.frames["incidents"]["team_id"]) == set(JIRA_TEAMS)
        if outcome.check == "no_incident":
            incident = frame.set_index("action_item_id").loc[outcome.record_id, "incident_id"]
            assert pd.isna(incident) or incident == ""
        if case.id == "J12":
            titles = frame.set_index("incident_id")["title"]
            assert titles["INC-112"] == MARKUP_SUMMARY
    else:
        raise AssertionError(f"{case.id}: a Jira case cannot expect {outcome}")


@pytest.mark.parametrize("case", JIRA_CASES, ids=[c.id for c in JIRA_CASES])
def test_jira_case(jira_runs: JiraRuns, case: Case) -> None:
    started(case)
    for outcome in case.outcomes:
        assert_jira_outcome(jira_runs, case, outcome)
    assert not jira_runs.violations  # every request the extractor made was a valid one, JQL included
    assert jira_runs.others_unchanged(), "a row or finding about an issue the corpus did not add changed"
    as_expected(case)


def test_the_jira_baseline_is_clean(jira_runs: JiraRuns) -> None:
    assert jira_runs.baseline.quarantine.empty
    assert len(jira_runs.baseline.findings) > 0  # the comparison compares something


# ============================================================================ policy


@pytest.mark.parametrize("case", POLICY_CASES, ids=[c.id for c in POLICY_CASES])
def test_policy_case(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started(case)
    base = f"sources: [{{name: demo, kind: files, path: {json.dumps(str(DEMO))}}}]\n"
    (tmp_path / "valid.yaml").write_text(base)
    load_policy(tmp_path / "valid.yaml")  # without the case's text the policy is valid
    policy = tmp_path / "policy.yaml"
    policy.write_text(base + "".join(text for _, text in case.inject))
    use_embedded_store(monkeypatch, tmp_path / "home", policy)
    (outcome,) = case.outcomes
    assert isinstance(outcome, PolicyRejected)
    with pytest.raises(PolicyError) as error:
        tasks.extract_sources(RUN_ID, "followthrough_enforce", DEMO_AS_OF)
    assert outcome.key in str(error.value)
    store = tasks.open_store()  # before any action: no run, no finding, nothing to send
    assert store.get_run(RUN_ID) is None
    assert store.findings_frame().empty
    assert store.outbox_frame().empty
    assert store.audit_events() == []
    as_expected(case)


# ============================================================================ the figure


def test_the_corpus_figure(capsys: pytest.CaptureFixture[str]) -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)) >= 40
    tried = [i for i in ids if i in TALLY]
    passed = [i for i in tried if TALLY[i]]
    figure = (f"bad-input corpus: {len(ids)} cases ({len(FILE_CASES)} files, {len(JIRA_CASES)} Jira, "
              f"{len(POLICY_CASES)} policy), {len(tried)} tried, {len(passed)} as expected")
    with capsys.disabled():  # shown in every run's output, not only with -s
        print(f"\n{figure}")
    if len(tried) < len(ids):
        pytest.skip(f"run the whole module for the figure ({figure})")
    assert passed == ids, f"not as expected: {sorted(set(ids) - set(passed))}"
