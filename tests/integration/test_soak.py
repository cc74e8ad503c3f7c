"""The long fault soak: weeks of business days against the Jira and Slack fakes, both live, under a fault mix.

Every simulated business day people work in Jira (status updates as comments, due dates set
and pushed, items closed and reopened, owners changed, new incidents with postmortems and
action items); then the enforcement tasks run at 07:00 UTC and the hourly dispatch through
the teams' working hours. Both fakes answer a seeded random mix of 429s (each Retry-After
form), 500/502/503/504, timeouts before and after commit and connection resets before and
after commit, on the extraction's reads as on the deliveries. A task that fails is run again,
as Airflow retries it, and counted.

The figures come from the fakes' own state: every live outbox entry the run expected is found
in Jira (ticket label, comment marker, the edit in the request log) or Slack (message metadata)
exactly once: duplicated 0, lost 0. Every fault a fake fired is in the audit trail (the
``faults`` of the ``action_attempt``, ``source_read`` and ``source_read_failed`` events), kind
by kind. The CI size runs in ``make test``; ``make soak`` runs the full size
(``FOLLOWTHROUGH_SOAK_DAYS``, ``FOLLOWTHROUGH_SOAK_INCIDENTS_PER_DAY``) and writes the figures to
``FOLLOWTHROUGH_SOAK_OUT`` (``bench/soak.json``).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
import yaml

from followthrough import tasks
from followthrough.gateways.jira import text_to_adf
from followthrough.gateways.jira.jql import idempotency_label
from followthrough.store.repository import Store
from tests import canaries
from tests.contract.test_jira_extract import FIELDS, PM_TEXT, QUERIES, Clock
from tests.fakes.jira import FakeJira
from tests.fakes.slack import FakeSlack
from tests.pipeline import DEMO, fake_connections, use_embedded_store

pytestmark = pytest.mark.soak

DAYS = int(os.environ.get("FOLLOWTHROUGH_SOAK_DAYS", "4"))
INCIDENTS_PER_DAY = float(os.environ.get("FOLLOWTHROUGH_SOAK_INCIDENTS_PER_DAY", "1"))
MIN_ACTIONS = int(os.environ.get("FOLLOWTHROUGH_SOAK_MIN_ACTIONS", "100"))  # CI size: a floor
OUT = os.environ.get("FOLLOWTHROUGH_SOAK_OUT", "")
SEED = int(os.environ.get("FOLLOWTHROUGH_SOAK_SEED", "20260706"))
START = date(2026, 7, 6)  # a Monday
DISPATCH_HOURS = (10, 13, 16, 19)  # UTC: the hourly dispatch while the teams' working hours are open
TASK_TRIES = 4  # Airflow's retries of a failed task
ROSTER_ONLY_ABSENT = ("incidents", "postmortems", "action_items", "status_updates", "action_item_history")
DOMAIN = "followthrough-demo.example"
MIX = {"rate_limit": 0.05, "unavailable": 0.0, "server_error": 0.04, "timeout": 0.01, "timeout_seconds": 3.0,
       "reset_before_commit": 0.01, "reset_after_commit": 0.03}
# a timeout fault hangs 3 s against the clients' 1 s: at 1.5 s a starved client (the fakes serve from
# threads of the same process) once read a late answer in time, so the fault it met was no fault
# what a fake fired, as the client that met it counts it (the client cannot tell whether a
# timeout or a reset came before or after the server applied the request)
SEEN_AS = {"rate_limit": "rate_limit", "unavailable": "http_503", "timeout": "timeout",
           "reset_before_commit": "connection_lost", "reset_after_commit": "connection_lost"}


def business_days(start: date, count: int) -> list[date]:
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


# ================================================================================== the world


@dataclass
class Person:
    person_id: str
    team_id: str
    account: str


@dataclass
class World:
    """The Jira site people work in: incidents, postmortems and action items, changed a little each day."""

    jira: FakeJira
    clock: Clock
    rng: random.Random
    people: list[Person]
    services: dict[str, list[str]]
    numbers: Counter[str] = field(default_factory=Counter)
    items: list[str] = field(default_factory=list)  # action item keys
    work: Counter[str] = field(default_factory=Counter)  # what people did, by kind

    def team_people(self, team: str) -> list[Person]:
        return [p for p in self.people if p.team_id == team]

    def _key(self, project: str) -> str:
        self.numbers[project] += 1
        return f"{project}-{self.numbers[project]}"

    def rest(self, method: str, path: str, body: dict[str, Any]) -> None:
        """A person's edit through Jira's REST API (no fault fires on it: the fakes' faults are for Followthrough)."""
        with self.jira.faults.paused():
            answer = requests.request(method, f"{self.jira.url}/rest/api/3/{path}", auth=self.jira.auth, json=body,
                                      timeout=30)
        assert answer.status_code < 300, (method, path, answer.status_code, answer.text)

    def new_incident(self) -> None:
        """An incident, usually with a postmortem (in review or done, sometimes missing sections) and action items."""
        rng, now = self.rng, self.clock.now
        team = rng.choice(sorted({p.team_id for p in self.people}))
        service = rng.choice(self.services[team])
        severity = rng.choice(["SEV1", "SEV2", "SEV2", "SEV3"])
        incident = self._key("INC")
        started = now - timedelta(hours=rng.randint(2, 30))
        self.jira.add_issue(incident, {
            "issuetype": "Incident", "summary": f"{service} degraded ({incident})", "customfield_10010": severity,
            "customfield_10020": team, "customfield_10030": service,
            "customfield_10040": rng.choice(["config", "capacity", "dependency", "deploy"]),
            "customfield_10050": [service], "labels": [], "status": "Done", "created": started,
            "resolutiondate": started + timedelta(hours=rng.randint(1, 5)), "updated": now})
        self.work["incidents"] += 1
        members = self.team_people(team)
        if rng.random() < 0.8:
            postmortem = self._key("PM")
            text = PM_TEXT if rng.random() < 0.7 else PM_TEXT.split("## Impact")[0]
            owner = rng.choice(members)
            self.jira.add_issue(postmortem, {
                "issuetype": "Postmortem", "summary": f"Postmortem {incident}", "assignee": owner.account,
                "status": rng.choice(["In Progress", "Done"]), "description": text_to_adf(text), "created": now,
                "updated": now})
            self.jira.add_link("Relates", postmortem, incident)
            self.work["postmortems"] += 1
        for _ in range(rng.randint(1, 4)):
            item = self._key("AI")
            owner = rng.choice(members)
            due = now.date() + timedelta(days=rng.choice([-3, 2, 5, 10, 20, 45, 90]))
            fields: dict[str, Any] = {
                "summary": f"Follow-up for {incident}: {rng.choice(['add an alert', 'fix the retry', 'load test'])}",
                "priority": rng.choice(["Highest", "High", "Medium"]), "customfield_10020": team,
                "status": rng.choice(["To Do", "In Progress"]), "created": now, "updated": now}
            if rng.random() < 0.85:
                fields["assignee"] = owner.account
            if rng.random() < 0.8:
                fields["duedate"] = due.isoformat()
            self.jira.add_issue(item, fields)
            self.jira.add_link("Relates", item, incident)
            self.items.append(item)
            self.work["action_items"] += 1

    def a_day_of_work(self) -> None:
        """Status updates, due dates set and pushed, items closed and reopened, owners changed."""
        rng = self.rng
        for key in self.items:
            issue = self.jira.issue(key)["fields"]
            done = issue["status"]["statusCategory"]["key"] == "done"
            roll = rng.random()
            if done:
                if roll < 0.08:
                    self.rest("POST", f"issue/{key}/transitions", {"transition": {"id": "41"}})
                    self.work["reopened"] += 1
                continue
            if roll < 0.25:
                self.rest("POST", f"issue/{key}/comment", {"body": text_to_adf(
                    rng.choice(["Working on it.", "PR in review.", "Blocked on the vendor; retrying next week."]))})
                self.work["status_updates"] += 1
            elif roll < 0.33:
                current = issue.get("duedate")
                due = (date.fromisoformat(current) if current else self.clock.now.date()) + timedelta(days=rng.randint(3, 20))
                self.rest("PUT", f"issue/{key}", {"fields": {"duedate": due.isoformat()}})
                self.work["due_pushed" if current else "due_set"] += 1
            elif roll < 0.41:
                if issue["status"]["name"] == "To Do":
                    self.rest("POST", f"issue/{key}/transitions", {"transition": {"id": "21"}})
                self.rest("POST", f"issue/{key}/transitions", {"transition": {"id": "31"}})
                self.work["closed"] += 1
            elif roll < 0.46:
                team = str(issue.get("customfield_10020") or "")
                someone = rng.choice(self.team_people(team) or self.people)
                self.rest("PUT", f"issue/{key}", {"fields": {"assignee": {"accountId": someone.account}}})
                self.work["owner_changed"] += 1


def _roster(folder: Path) -> tuple[list[Person], dict[str, list[str]]]:
    for name in ("teams.csv", "people.csv", "services.csv"):
        shutil.copy(DEMO / name, folder / name)
    people = pd.read_csv(DEMO / "people.csv", dtype=str, keep_default_na=False)
    services = pd.read_csv(DEMO / "services.csv", dtype=str, keep_default_na=False)
    active = people[(people["active"] == "true") & (people["role"] == "engineer")]
    found = [Person(r.person_id, r.team_id, f"acc-{n:03d}") for n, r in enumerate(active.itertuples())]
    return found, services.groupby("team_id")["service"].apply(list).to_dict()


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[World, FakeSlack]]:
    clock = Clock(at(START, 6))
    # canary secrets in every Connection the soak uses (the store is the embedded one: no password)
    jira = FakeJira(clock=clock, api_token=canaries.CANARIES["jira_token"])
    slack = FakeSlack(token=canaries.CANARIES["slack_token"])
    for project in ("INC", "PM", "AI", "FOLLOW"):
        jira.add_project(project)
    for custom, name in (("customfield_10020", "Team"), ("customfield_10030", "Service"),
                         ("customfield_10040", "Root cause category")):
        jira.add_custom_field(custom, name)
    jira.add_custom_field("customfield_10050", "Affected services", kind="any")
    jira.add_custom_field("customfield_10060", "Participants", kind="any")
    roster = tmp_path / "roster"
    roster.mkdir()
    people, services = _roster(roster)
    directory = pd.read_csv(DEMO / "people.csv", dtype=str, keep_default_na=False)
    for person in people:
        jira.add_user(person.account, f"{person.person_id}@{DOMAIN}", person.person_id)
    for row in directory.itertuples():
        if row.slack_id:
            slack.add_user(row.slack_id, row.email, row.name)
    teams = pd.read_csv(DEMO / "teams.csv", dtype=str, keep_default_na=False)
    for n, team in enumerate(teams.itertuples()):
        slack.add_channel(f"CTEAM{n:05d}", team.slack_channel.lstrip("#"))
    slack.add_channel("CPLATFORM0", "incident-followup")
    with jira, slack:
        policy = {
            "sources": [{"name": "roster", "path": str(roster), "absent_entities": list(ROSTER_ONLY_ABSENT)},
                        {"name": "jira", "kind": "jira", "jira": {"jql": QUERIES, "fields": FIELDS}}],
            "dispatch": {"jira": "live", "slack": "live", "jira_project": "FOLLOW", "jira_search_lag_seconds": 2,
                         "attempt_time_budget_seconds": 900, "alert_backlog_after_hours": 72},
        }
        (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
        for name, value in fake_connections(jira, slack, timeout=1).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AIRFLOW_CONN_FOLLOWTHROUGH_AUDIT",
                           json.dumps({"conn_type": "generic", "password": canaries.CANARIES["audit_key"]}))
        use_embedded_store(monkeypatch, tmp_path / "home", tmp_path / "policy.yaml")
        yield World(jira, clock, random.Random(SEED), people, services), slack


# ================================================================================== the run


ENFORCE = ("extract_sources", "validate_source_contract", "evaluate_rules", "reconcile_findings", "plan_actions",
           "dispatch_outbox", "record_run")


@dataclass
class Runner:
    """Runs the tasks in process as Airflow would: a failed task is tried again (TASK_TRIES in all), counted."""

    clock: Clock
    task_retries: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    runs: int = 0
    dispatches: int = 0

    def task(self, name: str, call: Callable[[], Any]) -> Any:
        for attempt in range(1, TASK_TRIES + 1):
            try:
                return call()
            except Exception as exc:  # noqa: BLE001  a task failure is retried, as Airflow does, and counted
                self.failures.append(f"{name}: {type(exc).__name__}: {str(exc)[:300]}")
                if attempt == TASK_TRIES:
                    raise
                self.task_retries[name] += 1
        raise AssertionError("unreachable")

    def enforce(self, day: date) -> None:
        instant = at(day, 7)
        self.clock.now = instant
        run_id, as_of = f"scheduled__{instant.isoformat()}", instant.isoformat()
        for name in ENFORCE:
            function = getattr(tasks, name)
            if name == "extract_sources":
                self.task(name, lambda f=function: f(run_id, "followthrough_enforce", as_of))
            else:
                self.task(name, lambda f=function: f(run_id, as_of))
        self.runs += 1

    def dispatch(self, day: date, hour: int) -> dict[str, int]:
        instant = at(day, hour)
        self.clock.now = instant
        self.dispatches += 1
        counts: dict[str, int] = self.task("dispatch_due", lambda: tasks.dispatch_outbox(
            f"dispatch__{instant.isoformat()}", instant.isoformat()))
        return counts


# ================================================================================== the figures


LABEL = re.compile(r"ft-[0-9a-f]{16}-e\d+")
MARKER = re.compile(r"\[followthrough:([^\]]+)\]")


def _jira_evidence(jira: FakeJira) -> tuple[Counter[str], Counter[str], dict[str, str]]:
    """Tickets by idempotency label, comments by marker (idempotency key), and each ticket's status category."""
    labels: Counter[str] = Counter()
    markers: Counter[str] = Counter()
    status: dict[str, str] = {}
    for key in jira.issue_keys():
        if not key.startswith("FOLLOW-"):
            continue
        issue = jira.issue(key)["fields"]
        labels.update(label for label in issue["labels"] if LABEL.fullmatch(label))
        status[key] = issue["status"]["statusCategory"]["key"]
        for text in jira.comment_texts(key):
            markers.update(MARKER.findall(text))
    return labels, markers, status


def _edits(jira: FakeJira) -> Counter[str]:
    """Successful ``PUT /issue/{key}`` requests by issue key (a ticket's description rewrite or reassignment)."""
    done: Counter[str] = Counter()
    for record in jira.requests_to("PUT /rest/api/3/issue/{issueIdOrKey}"):
        if record.status == 204:
            done[record.path.rsplit("/", 1)[1]] += 1
    return done


def delivery_figures(store: Store, jira: FakeJira, slack: FakeSlack) -> dict[str, Any]:
    """Expected live actions (the outbox's planned entries) checked one by one in the fakes' state."""
    outbox = store.outbox_frame()
    live = outbox[~outbox["idempotency_key"].str.startswith("dry_run/")]
    superseded = live[live["status"] == "cancelled"]
    expected = live[live["status"] != "cancelled"]
    labels, markers, _status = _jira_evidence(jira)
    edits = _edits(jira)
    messages = Counter(((m.get("metadata") or {}).get("event_payload") or {}).get("key") for m in slack.messages()
                       if (m.get("metadata") or {}).get("event_type") == "followthrough_action")
    found: dict[str, int] = {}
    unverifiable: list[str] = []
    for entry in expected.to_dict("records"):
        key, action, payload = str(entry["idempotency_key"]), str(entry["action"]), entry["payload"] or {}
        if entry["channel"] == "slack":
            found[key] = messages[key]
        elif action == "create_ticket":
            found[key] = labels[idempotency_label(str(entry["fingerprint"]), int(entry["episode"]))]
        elif action == "update_ticket" and not payload.get("comment"):
            # a description rewrite is a PUT (idempotent: repeating it changes nothing); its evidence is the request
            found[key] = min(1, edits[str(entry["external_ref"] or "")])
            unverifiable += [] if found[key] else [key]
        else:  # comment, resolve, reopen and reassign carry the comment marker
            found[key] = markers[key]
    counts = Counter(found.values())
    planned_keys = set(expected["idempotency_key"])
    stray_messages = sum(n for key, n in messages.items() if key not in planned_keys)
    stray_markers = 0
    for marker, n in markers.items():
        # an entry's second comment (``<key>#<note>``: a reassignment's request to reassign by hand) belongs to
        # the entry: stray when the entry was never planned, a duplicate when posted twice
        entry_key, _, note = marker.partition("#")
        if entry_key not in planned_keys:
            stray_markers += n
        elif note:
            stray_markers += n - 1
    tickets = [k for k in jira.issue_keys() if k.startswith("FOLLOW-")]
    unlabelled = [k for k in tickets if not any(LABEL.fullmatch(x) for x in jira.issue(k)["fields"]["labels"])]
    return {
        "actions_expected": len(expected),
        "actions_superseded": len(superseded),
        "expected_by_action": dict(Counter(expected["action"])),
        "expected_by_channel": dict(Counter(expected["channel"])),
        "delivered": sum(1 for n in found.values() if n >= 1),
        "duplicated": sum(n - 1 for n in found.values() if n > 1) + stray_messages + stray_markers + len(unlabelled),
        "lost": counts.get(0, 0),
        "lost_keys": sorted(k for k, n in found.items() if n == 0)[:20],
        "outbox_status": dict(Counter(live["status"])),
        "jira_tickets": len(tickets),
        "slack_messages": sum(messages.values()),
    }


def ladder_cross_check(store: Store, last_run: str, as_of: datetime) -> dict[str, Any]:
    """The ladder, recomputed from the findings, against the outbox: what each finding must have been given."""
    from followthrough.escalation import ladder_steps

    loaded = tasks.run_policy(store, last_run)
    findings = store.findings_frame()
    outbox = store.outbox_frame()
    keys = set(outbox["idempotency_key"])
    summaries = outbox[outbox["action"] == "dm_summary"]
    folded = {k for p in summaries["payload"] for k in (p or {}).get("folded", [])}
    ticketed = findings[(findings["level"] == "violation") & ~findings["private"].astype(bool)]
    missing: list[str] = []
    for f in ticketed.to_dict("records"):
        head = f"{f['fingerprint']}:{int(f['episode'])}"
        if not {f"{head}:jira:create", f"{head}:jira:reopen"} & keys and not any(
                k.startswith(f"{head}:jira:reopen") for k in keys):
            missing.append(f"{head} ticket")
        if not any(k.startswith(f"{head}:slack:step0:dm_owner") for k in keys | folded):
            missing.append(f"{head} dm_owner")
        if f["status"] == "resolved" and f"{head}:jira:resolve" not in keys:
            missing.append(f"{head} resolve")
    open_tickets = ticketed[ticketed["status"] == "open"].reset_index(drop=True)
    steps = ladder_steps(open_tickets, tasks.load_clean_frames(last_run, loaded), loaded.policy,
                         pd.Timestamp(as_of)) if not open_tickets.empty else pd.Series(dtype="int64")
    reached: Counter[int] = Counter()
    for index, f in open_tickets.iterrows():
        step = int(steps[index])
        reached[step] += 1
        if step > 0 and f"{f['fingerprint']}:{int(f['episode'])}:jira:step{step}" not in keys:
            missing.append(f"{f['fingerprint']}:{int(f['episode'])} step {step}")
    return {"findings": len(findings), "ticketed_findings": len(ticketed), "open_by_ladder_step": dict(reached),
            "missing": missing}


def audit_figures(store: Store) -> dict[str, Any]:
    """Faults and retries as the audit trail records them."""
    faults: Counter[str] = Counter()
    retries: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    unexplained: list[str] = []
    for event in store.audit_events():
        payload = event["payload"] or {}
        if event["kind"] == "action_attempt":
            outcomes[str(payload["outcome"])] += 1
            retries["within_delivery_attempts"] += int(payload.get("retries") or 0)
            if payload["outcome"] not in ("sent", "dry_run") and not payload.get("reason"):
                unexplained.append(str(payload["idempotency_key"]))
        elif event["kind"] in ("source_read", "source_read_failed"):
            retries["extraction"] += int(payload.get("retries") or 0)
        else:
            continue
        faults.update(payload.get("faults") or {})
    return {"faults": dict(sorted(faults.items())), "attempt_outcomes": dict(outcomes), "retries": dict(retries),
            "failed_attempts_without_reason": unexplained}


def fired_as_seen(*fakes: Any) -> Counter[str]:
    seen: Counter[str] = Counter()
    for fake in fakes:
        for form, n in fake.faults.fired_forms.items():
            kind, _, detail = form.partition(":")
            seen[f"http_{detail}" if kind == "server_error" else SEEN_AS[kind]] += n
    return seen


# ================================================================================== the soak


def test_weeks_of_business_days_under_faults_deliver_every_action_exactly_once(
        world: tuple[World, FakeSlack]) -> None:
    people, slack = world
    jira = people.jira
    started = time.monotonic()
    runner = Runner(people.clock)
    days = business_days(START, DAYS)
    for n in range(4):  # the site's history before the soak starts
        people.clock.now = at(START, 6) - timedelta(days=4 - n)
        people.new_incident()
    for seed, fake in ((SEED, jira), (SEED + 1, slack)):
        fake.faults.random_mix(seed, **MIX)
    rng = people.rng
    for day in days:
        people.clock.now = at(day, 6)
        people.a_day_of_work()
        for _ in range(int(INCIDENTS_PER_DAY) + (rng.random() < INCIDENTS_PER_DAY % 1)):
            people.new_incident()
        runner.enforce(day)
        for hour in DISPATCH_HOURS:
            runner.dispatch(day, hour)
    store = tasks.open_store()
    drain_day = days[-1]
    drained = 0
    while drained < 5 and not _settled(store):  # the next days' hourly dispatch, faults still on
        drain_day = business_days(drain_day + timedelta(days=1), 1)[0]
        for hour in (7, *DISPATCH_HOURS):
            runner.dispatch(drain_day, hour)
        drained += 1
    seconds = time.monotonic() - started

    deliveries = delivery_figures(store, jira, slack)
    audit = audit_figures(store)
    ladder = ladder_cross_check(store, f"scheduled__{at(days[-1], 7).isoformat()}", at(days[-1], 7))
    outbox = store.outbox_frame()
    live = outbox[~outbox["idempotency_key"].str.startswith("dry_run/")]
    attempts = int(live["attempts"].sum())
    tried = int((live["attempts"] > 0).sum())
    fired = {"jira": dict(sorted(jira.faults.fired_forms.items())), "slack": dict(sorted(slack.faults.fired_forms.items()))}
    seen = fired_as_seen(jira, slack)
    figures = {
        "simulated_business_days": len(days),
        "first_day": days[0].isoformat(), "last_day": days[-1].isoformat(), "drain_days": drained,
        "enforcement_runs": runner.runs, "dispatch_runs": runner.dispatches,
        "people_worked": dict(sorted(people.work.items())),
        "live_actions": deliveries["delivered"],
        **deliveries,
        "faults_injected": {"total": sum(seen.values()), "by_kind": {}, "jira": fired["jira"], "slack": fired["slack"]},
        "faults_in_audit": audit["faults"],
        "faults_as_clients_see_them": dict(sorted(seen.items())),
        "timeouts_not_injected": audit["faults"].get("timeout", 0) - seen.get("timeout", 0),
        "retries_spent": {"delivery_reattempts": attempts - tried, **audit["retries"],
                          "task_retries": dict(runner.task_retries)},
        "attempt_outcomes": audit["attempt_outcomes"],
        "ladder_cross_check": {k: v for k, v in ladder.items() if k != "missing"} | {"missing": len(ladder["missing"])},
        "seconds": round(seconds),
        "size": {"days": DAYS, "incidents_per_day": INCIDENTS_PER_DAY, "seed": SEED, "fault_mix": MIX},
    }
    by_kind: Counter[str] = Counter()
    for fake in (jira, slack):
        by_kind.update(fake.faults.fired)
    figures["faults_injected"]["by_kind"] = dict(sorted(by_kind.items()))
    scan = canaries.Scan()
    scan.paths(Path(os.environ["FOLLOWTHROUGH_HOME"]))  # reports, CSVs, Data Docs, staging, the store file
    scan.store(store.url)
    scan.fake_requests(jira, slack)
    figures["canary_scan"] = scan.figure()
    print(json.dumps(figures, indent=1))  # the figure this suite proves
    if OUT:
        Path(OUT).write_text(json.dumps(figures, indent=1) + "\n")

    assert not scan.hits, scan.report()
    assert deliveries["duplicated"] == 0
    assert deliveries["lost"] == 0, deliveries["lost_keys"]
    assert set(deliveries["outbox_status"]) <= {"sent", "cancelled"}, deliveries["outbox_status"]
    assert deliveries["delivered"] == deliveries["actions_expected"] >= MIN_ACTIONS
    assert not ladder["missing"], ladder["missing"][:20]
    assert not audit["failed_attempts_without_reason"]
    # every fault a fake fired is in the audit trail, kind by kind, as the client met it; the audit
    # may hold more timeouts than were injected (a loaded machine answering later than the 1 s
    # client timeout is a real timeout), never fewer of anything
    assert all(audit["faults"].get(kind, 0) >= n for kind, n in seen.items()), (seen, audit["faults"])
    assert {kind for kind, n in audit["faults"].items() if n > seen.get(kind, 0)} <= {"timeout"}
    for kind in ("rate_limit", "server_error", "timeout", "reset_before_commit", "reset_after_commit"):
        assert by_kind[kind] > 0, by_kind
    assert not jira.violations, [str(v) for v in jira.violations][:5]
    assert not slack.violations, [str(v) for v in slack.violations][:5]


def _settled(store: Store) -> bool:
    outbox = store.outbox_frame()
    return bool((~outbox["status"].isin(["pending", "claimed", "held"])).all())
