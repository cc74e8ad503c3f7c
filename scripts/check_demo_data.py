"""Independent checker for the Followthrough demo data set in ``data/demo/``.

Re-implements the source-contract quarantine and the rules AI-NO-OWNER, AI-STALE
and PM-OVERDUE naively (row by row, plain Python, no code shared with the
generator) and asserts that:

* the quarantined rows equal ``quarantine_expected.csv``;
* the findings at as_of 2026-07-15T10:00:00Z equal ``expected_findings.csv``;
* the size, coverage and counterexample requirements of the data set hold;
* everything outside the plants is clean (active owners, fresh updates, ...);
* ``scripts/make_demo_data.py`` re-creates every data file byte for byte.

Usage::

    .venv/bin/python scripts/check_demo_data.py [--data DIR] [--skip-regen]
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
AS_OF = datetime.fromisoformat("2026-07-15T10:00:00+00:00")
WEEK = timedelta(days=7)
OPEN = {"open", "in_progress", "blocked"}
HEADERS = {
    "teams": ["team_id", "name", "lead", "manager", "slack_channel", "timezone", "region"],
    "people": ["person_id", "name", "email", "team_id", "role", "slack_id", "active"],
    "incidents": ["incident_id", "title", "severity", "status", "team_id", "service", "started_at", "resolved_at",
                  "confidential", "root_cause_category", "labels"],
    "postmortems": ["postmortem_id", "incident_id", "owner", "status", "created_at", "published_at", "document"],
    "action_items": ["action_item_id", "incident_id", "summary", "owner", "team_id", "priority", "category",
                     "status", "created_at", "due_date", "closed_at", "resolution_note"],
    "status_updates": ["update_id", "action_item_id", "author", "posted_at", "body"],
}
ID_COLUMN = {name: cols[0] for name, cols in HEADERS.items()}
ENUMS = {
    "people": {"role": {"engineer", "lead", "manager"}, "active": {"true", "false"}},
    "incidents": {"severity": {"SEV1", "SEV2", "SEV3", "SEV4"},
                  "status": {"open", "mitigated", "resolved", "closed"}, "confidential": {"true", "false"},
                  "root_cause_category": {"config", "deploy", "capacity", "dependency", "hardware",
                                          "software-bug", "security", "unknown"}},
    "postmortems": {"status": {"draft", "in_review", "published"}},
    "action_items": {"priority": {"P1", "P2", "P3", "P4"},
                     "category": {"root_cause", "detection", "mitigation", "process", "documentation"},
                     "status": {"open", "in_progress", "blocked", "done", "wont_do"}},
}
TIMESTAMPS = {"incidents": ("started_at", "resolved_at"), "postmortems": ("created_at", "published_at"),
              "action_items": ("created_at", "closed_at"), "status_updates": ("posted_at", None)}
PLACEHOLDERS = {"", "tbd", "tba", "unassigned", "none", "n/a", "na", "?", "-", "unknown", "someone"}
GROUP_PATTERNS = [r"team$", r"^team[-_ ]", r"on-?call", r"^all[-_ ]", r"everyone", r"[-_ ]group$", r"squad$",
                  r"^sre$"]


def parse_ts(text: str) -> datetime | None:
    """An ISO 8601 timestamp with an explicit offset, or None."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def ts(text: str) -> datetime:
    """A timestamp of a row that passed the source contract."""
    value = parse_ts(text)
    assert value is not None, text
    return value


def read(data: Path, name: str) -> list[dict[str, str]]:
    with (data / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == HEADERS[name], f"{name}.csv header {reader.fieldnames}"
        rows = list(reader)
    frame = pd.read_csv(data / f"{name}.csv", dtype=str, keep_default_na=False)
    assert frame.to_dict("records") == rows, f"{name}.csv: pandas and csv disagree"
    return rows


def row_problems(name: str, row: dict[str, str], duplicated: bool) -> list[str]:
    """Every source-contract problem of one row, as reason codes."""
    problems = []
    if not row[ID_COLUMN[name]].strip():
        problems.append("missing_id")
    if duplicated:
        problems.append("duplicate_id")
    if name in TIMESTAMPS:
        start_col, end_col = TIMESTAMPS[name]
        start = parse_ts(row[start_col])
        end = parse_ts(row[end_col]) if end_col and row[end_col] else None
        bad_due = False
        if name == "action_items":
            try:
                date.fromisoformat(row["due_date"])
            except ValueError:
                bad_due = True
        if start is None or (end_col and row[end_col] and end is None) or bad_due:
            problems.append("unparseable_timestamp")
        if start and end and end < start:
            problems.append("time_order")
    if any(row[col] not in allowed for col, allowed in ENUMS.get(name, {}).items()):
        problems.append("unknown_value")
    return problems


def quarantine(name: str, rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], list[list[str]]]:
    ids = Counter(r[ID_COLUMN[name]] for r in rows if r[ID_COLUMN[name]].strip())
    clean, bad = [], []
    for n, row in enumerate(rows, start=1):
        problems = row_problems(name, row, ids[row[ID_COLUMN[name]]] > 1)
        if problems:
            assert len(problems) == 1, f"{name} row {n} has several problems {problems}; plant one per row"
            bad.append([name, str(n), row[ID_COLUMN[name]], problems[0]])
        else:
            clean.append(row)
    return clean, bad


def pm_deadline(resolved: datetime, tz: str) -> datetime:
    local = resolved.astimezone(ZoneInfo(tz))
    day = local.date() + timedelta(days={5: 2, 6: 1}.get(local.weekday(), 0))
    for _ in range(5):
        day += timedelta(days=3 if day.weekday() == 4 else 1)
    return datetime(day.year, day.month, day.day, local.hour, local.minute, local.second, tzinfo=ZoneInfo(tz))


def no_owner(owner: str, team_ids: set[str], team_names: set[str]) -> bool:
    o = owner.strip().lower()
    return (o in PLACEHOLDERS or o in team_ids or o in team_names
            or any(re.search(p, o) for p in GROUP_PATTERNS))


def evaluate(t: dict[str, list[dict[str, str]]]) -> tuple[set[tuple[str, str, str]], dict[str, datetime]]:
    """The three rules, row by row. Returns the findings and each open item's last activity."""
    team_ids = {r["team_id"].lower() for r in t["teams"]}
    team_names = {r["name"].lower() for r in t["teams"]}
    team_tz = {r["team_id"]: r["timezone"] for r in t["teams"]}
    updates: dict[str, list[datetime]] = defaultdict(list)
    for u in t["status_updates"]:
        updates[u["action_item_id"]].append(ts(u["posted_at"]))
    findings, last_activity = set(), {}
    for item in t["action_items"]:
        created = ts(item["created_at"])
        if item["status"] not in OPEN or created > AS_OF:
            continue
        if no_owner(item["owner"], team_ids, team_names):
            findings.add(("AI-NO-OWNER", "action_item", item["action_item_id"]))
        seen = [p for p in updates[item["action_item_id"]] if p <= AS_OF]
        last = max(seen) if seen else created
        last_activity[item["action_item_id"]] = last
        if AS_OF - last > WEEK:
            findings.add(("AI-STALE", "action_item", item["action_item_id"]))
    incidents = {i["incident_id"]: i for i in t["incidents"]}
    for pm in t["postmortems"]:
        inc = incidents[pm["incident_id"]]
        resolved = ts(inc["resolved_at"]) if inc["resolved_at"] else None
        created = ts(pm["created_at"])
        if inc["severity"] not in ("SEV1", "SEV2") or resolved is None or resolved > AS_OF:
            continue
        if created > AS_OF:
            continue
        published = ts(pm["published_at"]) if pm["published_at"] else None
        deadline = pm_deadline(resolved, team_tz[inc["team_id"]])
        if deadline < AS_OF and (published is None or published > AS_OF):
            findings.add(("PM-OVERDUE", "postmortem", pm["postmortem_id"]))
    return findings, last_activity


def check_regeneration(data: Path) -> None:
    """The generator must re-create every data file byte for byte (twice)."""
    for _ in range(2):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo_data.py"), "--out", tmp, "--quiet"],
                           check=True, capture_output=True)
            fresh = sorted(p.relative_to(tmp) for p in Path(tmp).rglob("*") if p.is_file())
            kept = sorted(p.relative_to(data) for p in data.rglob("*") if p.is_file() and p.name != "README.md")
            assert fresh == kept, f"file sets differ: {set(fresh) ^ set(kept)}"
            for rel in fresh:
                assert (Path(tmp) / rel).read_bytes() == (data / rel).read_bytes(), f"{rel} differs"


def main() -> None:  # noqa: C901 - a flat list of assertions reads best here
    parser = argparse.ArgumentParser(description="Check the Followthrough demo data set.")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "demo")
    parser.add_argument("--skip-regen", action="store_true", help="skip the byte-for-byte regeneration check")
    args = parser.parse_args()
    data: Path = args.data
    raw = {name: read(data, name) for name in HEADERS}

    # Source contract: quarantine malformed rows, compare with quarantine_expected.csv.
    t, quarantined = {}, []
    for name in HEADERS:
        t[name], bad = quarantine(name, raw[name])
        quarantined += bad
    with (data / "quarantine_expected.csv").open(newline="", encoding="utf-8") as fh:
        expected_q = list(csv.reader(fh))
    assert expected_q[0] == ["entity", "row_number", "id", "reason_code"]
    assert quarantined == expected_q[1:], f"quarantine differs:\n{quarantined}\n{expected_q[1:]}"
    reasons = Counter(r[3] for r in quarantined)
    assert {(r[0], r[3]) for r in quarantined} >= {
        ("incidents", c) for c in ("missing_id", "unparseable_timestamp", "unknown_value", "duplicate_id",
                                   "time_order")} | {
        ("action_items", c) for c in ("missing_id", "unparseable_timestamp", "unknown_value")}
    assert reasons["duplicate_id"] == 2, quarantined
    assert len(quarantined) == 9, quarantined
    bad_incident_ids = {r[2] for r in quarantined if r[0] == "incidents"} - {""}
    bad_item_ids = {r[2] for r in quarantined if r[0] == "action_items"} - {""}

    # Referential integrity: nothing clean depends on a quarantined row.
    people = {p["person_id"]: p for p in t["people"]}
    teams = {r["team_id"]: r for r in t["teams"]}
    incidents = {i["incident_id"]: i for i in t["incidents"]}
    items = {i["action_item_id"]: i for i in t["action_items"]}
    assert all(i["incident_id"] in incidents and i["incident_id"] not in bad_incident_ids
               for i in raw["action_items"]), "an action item points at a missing or quarantined incident"
    assert all(p["incident_id"] in incidents for p in t["postmortems"])
    assert all(u["action_item_id"] in items and u["action_item_id"] not in bad_item_ids
               for u in t["status_updates"]), "an update points at a missing or quarantined item"
    assert all(u["author"] in people for u in t["status_updates"])
    assert all(p["owner"] in people for p in t["postmortems"])
    assert all(i["team_id"] in teams for i in t["incidents"] + t["action_items"])
    assert all(p["team_id"] in teams for p in t["people"])

    # Rules, compared with expected_findings.csv (also checks its sort order).
    findings, last_activity = evaluate(t)
    with (data / "expected_findings.csv").open(newline="", encoding="utf-8") as fh:
        expected = [tuple(r) for r in csv.reader(fh)]
    assert expected[0] == ("rule", "subject_type", "subject_id")
    assert expected[1:] == sorted(expected[1:]), "expected_findings.csv is not sorted"
    assert set(expected[1:]) == findings, (f"missing {sorted(set(expected[1:]) - findings)}, "
                                           f"unexpected {sorted(findings - set(expected[1:]))}")
    by_rule: dict[str, list[str]] = defaultdict(list)
    for rule, _, subject in sorted(findings):
        by_rule[rule].append(subject)
    assert not (set(by_rule["AI-NO-OWNER"]) | set(by_rule["AI-STALE"])) & bad_item_ids

    # Size and coverage of the scenario.
    assert len(teams) == 6
    zones = {"Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Kolkata", "UTC"}
    assert zones <= {r["timezone"] for r in teams.values()}
    for team_id, team in teams.items():
        roles = Counter(p["role"] for p in people.values() if p["team_id"] == team_id)
        assert 3 <= roles["engineer"] <= 6, (team_id, roles)
        assert people[team["lead"]]["role"] == "lead", team_id
        assert people[team["manager"]]["role"] == "manager", team_id
        assert team["slack_channel"] == f"#{team_id}"
    assert sum(p["active"] == "false" for p in people.values()) == 2
    assert any(p["slack_id"] == "" for p in people.values())
    assert all(re.fullmatch(r"U0[A-Z0-9]{8}", p["slack_id"]) for p in people.values() if p["slack_id"])
    assert not any(no_owner(h, set(teams), {r["name"].lower() for r in teams.values()}) for h in people)
    assert 48 <= len(t["incidents"]) <= 60, len(t["incidents"])
    starts = [ts(i["started_at"]) for i in t["incidents"]]
    assert all(date(2026, 1, 5) <= s.date() <= date(2026, 7, 10) for s in starts if s)
    sev = Counter(i["severity"] for i in t["incidents"])
    n_inc = len(t["incidents"])
    for level, (low, high) in {"SEV1": (0.05, 0.15), "SEV2": (0.25, 0.40), "SEV3": (0.30, 0.50),
                               "SEV4": (0.10, 0.25)}.items():
        assert low <= sev[level] / n_inc <= high, sev
    assert any(i["confidential"] == "true" for i in t["incidents"])
    live_items = [i for i in t["action_items"] if ts(i["created_at"]) <= AS_OF]
    assert len(live_items) >= 280, len(live_items)
    assert sum(ts(i["created_at"]) > AS_OF for i in t["action_items"]) >= 2
    per_incident = Counter(i["incident_id"] for i in raw["action_items"])
    for inc_id, inc in incidents.items():
        low, high = (3, 8) if inc["severity"] in ("SEV1", "SEV2") else (0, 3)
        assert low <= per_incident[inc_id] <= high, (inc_id, inc["severity"], per_incident[inc_id])
    pm_by_incident = Counter(p["incident_id"] for p in t["postmortems"])
    assert all(pm_by_incident[i] == 1 for i, inc in incidents.items() if inc["severity"] in ("SEV1", "SEV2"))
    assert 1 <= sum(incidents[p["incident_id"]]["severity"] == "SEV3" for p in t["postmortems"]) <= 5
    for pm in t["postmortems"]:
        doc = (data / pm["document"]).read_text(encoding="utf-8")
        assert pm["document"] == f"postmortems/{pm['postmortem_id']}.md"
        assert "## Timeline (UTC)" in doc, pm["postmortem_id"]
        assert pm["incident_id"] in doc, pm["postmortem_id"]
        assert doc.count("\n## ") >= 6, pm["postmortem_id"]

    # Internal consistency of clean rows.
    for i in t["incidents"]:
        assert (i["resolved_at"] == "") == (i["status"] == "open"), i["incident_id"]
        assert i["resolved_at"] == "" or ts(i["resolved_at"]) <= AS_OF
    for pm in t["postmortems"]:
        assert (pm["published_at"] != "") == (pm["status"] == "published"), pm["postmortem_id"]
    for item in t["action_items"]:
        closed = item["status"] in ("done", "wont_do")
        assert (item["closed_at"] != "") == closed, item["action_item_id"]
        assert (item["resolution_note"] != "") == closed, item["action_item_id"]
        assert not closed or ts(item["closed_at"]) <= AS_OF
        assert date.fromisoformat(item["due_date"]) >= ts(item["created_at"]).date()
    for u in t["status_updates"]:
        assert ts(u["posted_at"]) >= ts(items[u["action_item_id"]]["created_at"])

    # Planted problems cover every kind the brief asks for.
    item_team = {i["action_item_id"]: i["team_id"] for i in t["action_items"]}
    owners = {items[s]["owner"].strip().lower() for s in by_rule["AI-NO-OWNER"]}
    assert len(by_rule["AI-NO-OWNER"]) >= 10
    assert len({item_team[s] for s in by_rule["AI-NO-OWNER"]}) >= 4
    assert {"", "tbd", "unassigned", "payments", "payments-oncall", "sre", "platform team", "?"} <= owners
    assert owners & {r["name"].lower() for r in teams.values()} - set(teams), "no team-name owner planted"
    stale_days = {s: (AS_OF - last_activity[s]) / timedelta(days=1) for s in by_rule["AI-STALE"]}
    in_range = [s for s, d in stale_days.items() if 8 <= d <= 60]
    assert len(in_range) >= 12, stale_days
    assert len({item_team[s] for s in in_range}) >= 4, stale_days
    updated = {u["action_item_id"] for u in t["status_updates"]}
    assert any(s not in updated for s in in_range), "no stale item relies on created_at"
    pm_team = {p["postmortem_id"]: incidents[p["incident_id"]]["team_id"] for p in t["postmortems"]}
    assert len(by_rule["PM-OVERDUE"]) >= 6
    assert len({pm_team[p] for p in by_rule["PM-OVERDUE"]}) >= 3

    # Clean counterexamples are present.
    def has_item(pred: Callable[[dict[str, str]], bool]) -> bool:
        return any(pred(i) for i in t["action_items"])

    assert has_item(lambda i: i["status"] == "done" and i["owner"] == "")
    assert has_item(lambda i: i["status"] == "wont_do" and i["owner"].strip().lower() == "tbd")
    boundary = {d: [s for s, last in last_activity.items() if AS_OF - last == d]
                for d in (WEEK, WEEK - timedelta(minutes=1), WEEK + timedelta(minutes=1))}
    assert all(boundary.values()), boundary
    assert all(s not in by_rule["AI-STALE"] for s in boundary[WEEK] + boundary[WEEK - timedelta(minutes=1)])
    by_item: dict[str, list[datetime]] = defaultdict(list)
    for u in t["status_updates"]:
        by_item[u["action_item_id"]].append(ts(u["posted_at"]))
    assert any(max(by_item[s], default=AS_OF) > AS_OF for s in by_rule["AI-STALE"]), "no stale item with a future update"
    assert has_item(lambda i: i["status"] == "done" and i["action_item_id"] in by_item
                    and AS_OF - max(by_item[i["action_item_id"]]) >= timedelta(days=90))
    unknown = [i for i in live_items if i["status"] in OPEN and i["owner"] not in people
               and i["action_item_id"] not in by_rule["AI-NO-OWNER"]]
    assert len(unknown) == 2, unknown
    assert all(re.fullmatch(r"[a-z]+\.[a-z]+", i["owner"]) for i in unknown), unknown
    for item in live_items:
        if item["status"] in OPEN and item["owner"] in people:
            assert people[item["owner"]]["active"] == "true", f"{item['action_item_id']} owned by a leaver"
    pm_cases: Counter[str] = Counter()
    for pm in t["postmortems"]:
        inc = incidents[pm["incident_id"]]
        resolved = ts(inc["resolved_at"]) if inc["resolved_at"] else None
        tz = teams[inc["team_id"]]["timezone"]
        overdue = pm["postmortem_id"] in by_rule["PM-OVERDUE"]
        if inc["severity"] == "SEV3" and pm["status"] == "draft":
            pm_cases["sev3_draft"] += 1
        if resolved is None or inc["severity"] not in ("SEV1", "SEV2"):
            continue
        deadline, local = pm_deadline(resolved, tz), resolved.astimezone(ZoneInfo(tz))
        pm_cases["deadline_equals_as_of"] += deadline == AS_OF and not overdue
        pm_cases["friday_not_due"] += local.weekday() == 4 and deadline > AS_OF and not overdue
        pm_cases["published_late_before_as_of"] += (pm["published_at"] != "" and not overdue
                                                   and deadline < ts(pm["published_at"]) <= AS_OF)
        pm_cases["kolkata_date_differs"] += tz == "Asia/Kolkata" and local.date() != resolved.date()
        pm_cases["published_after_as_of"] += overdue and pm["published_at"] != ""
    assert all(pm_cases[k] for k in ("sev3_draft", "deadline_equals_as_of", "friday_not_due",
                                     "published_late_before_as_of", "kolkata_date_differs")), pm_cases

    # Everything else is clean: every open item outside the findings was updated within 7 days.
    for item_id, last in last_activity.items():
        assert item_id in by_rule["AI-STALE"] or AS_OF - last <= WEEK

    # The README documents every finding and every quarantined row.
    readme = (data / "README.md").read_text(encoding="utf-8")
    missing = [s for _, _, s in findings if s not in readme]
    missing += [f"{e} row {n}" for e, n, _, _ in quarantined if f"| {e} | {n} |" not in readme]
    assert not missing, f"README.md does not mention {missing}"

    if not args.skip_regen:
        check_regeneration(data)
    counts = Counter(rule for rule, _, _ in findings)
    print(f"OK: {len(t['incidents'])} incidents (+{len(raw['incidents']) - len(t['incidents'])} quarantined), "
          f"{len(t['postmortems'])} postmortems, {len(t['action_items'])} action items "
          f"(+{len(raw['action_items']) - len(t['action_items'])} quarantined), {len(t['status_updates'])} updates, "
          f"{len(people)} people; findings {dict(sorted(counts.items()))}; PM cases {dict(pm_cases)}")


if __name__ == "__main__":
    main()
