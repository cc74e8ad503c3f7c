"""Independent checker for the Followthrough demo data set in ``data/demo/``.

Re-implements the source-contract quarantine and every rule of ``docs/rules.md`` naively (row
by row, plain Python, no code shared with the generator or the product's rules). The three
text rules use the package's detectors, as the product does: AI-VAGUE
(``followthrough.rules.vague.assess_summaries``), PM-INCOMPLETE
(``followthrough.rules.postmortem_text.detect_sections``) and PM-BLAME (``find_blame``).
It asserts that:

* the quarantined rows equal ``quarantine_expected.csv``;
* the findings at as_of 2026-07-15T10:00:00Z, with their levels and the waivers of
  ``waivers.yaml`` applied, equal ``expected_findings.csv``;
* every rule fires at least once and has its planted clean counterexamples;
* the size, coverage and internal consistency requirements of the data set hold;
* the README names every finding and every quarantined row;
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pandas as pd
import yaml

from followthrough.rules.postmortem_text import detect_sections, find_blame
from followthrough.rules.vague import assess_summaries

ROOT = Path(__file__).resolve().parent.parent
AS_OF = datetime.fromisoformat("2026-07-15T10:00:00+00:00")
WEEK = timedelta(days=7)
OPEN = {"open", "in_progress", "blocked"}
MAJOR = {"SEV1", "SEV2"}
SECTIONS = ("summary", "timeline", "root_cause", "impact", "actions")
PRIORITY_LIMIT = {"P1": 28, "P2": 56}
SEVERITY_LIMIT = {"SEV1": 15, "SEV2": 30}
RULES = ("PM-MISSING", "PM-OVERDUE", "PM-INCOMPLETE", "PM-BLAME", "PM-INSULAR", "PM-NO-ACTIONS", "AI-NO-OWNER",
         "AI-OWNER-GONE", "AI-VAGUE", "AI-NO-DUE", "AI-DUE-BEYOND-SLA", "AI-OVERDUE", "AI-STALE", "AI-DRIFT",
         "AI-WONTDO-UNJUSTIFIED", "INC-CATEGORY-GAP", "INC-REPEAT", "SRC-INVALID")
HEADERS = {
    "teams": ["team_id", "name", "lead", "manager", "slack_channel", "timezone", "region"],
    "people": ["person_id", "name", "email", "team_id", "role", "slack_id", "active"],
    "services": ["service", "team_id"],
    "incidents": ["incident_id", "title", "severity", "status", "team_id", "service", "started_at", "resolved_at",
                  "confidential", "root_cause_category", "labels", "affected_services"],
    "postmortems": ["postmortem_id", "incident_id", "owner", "status", "created_at", "published_at", "document",
                    "participants"],
    "action_items": ["action_item_id", "incident_id", "summary", "owner", "team_id", "priority", "category",
                     "status", "created_at", "due_date", "closed_at", "resolution_note", "approver"],
    "status_updates": ["update_id", "action_item_id", "author", "posted_at", "body"],
    "action_item_history": ["change_id", "action_item_id", "changed_at", "field", "old_value", "new_value"],
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
    "action_item_history": {"field": {"due_date", "priority", "status", "owner"}},
}
TIMESTAMPS = {"incidents": ("started_at", "resolved_at"), "postmortems": ("created_at", "published_at"),
              "action_items": ("created_at", "closed_at"), "status_updates": ("posted_at", None),
              "action_item_history": ("changed_at", None)}
PLACEHOLDERS = {"", "tbd", "tba", "unassigned", "none", "n/a", "na", "?", "-", "unknown", "someone"}
GROUP_PATTERNS = [r"team$", r"^team[-_ ]", r"on-?call", r"^all[-_ ]", r"everyone", r"[-_ ]group$", r"squad$",
                  r"^sre$"]

Finding = tuple[str, str, str]


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
        if start is None or (end_col and row[end_col] and end is None):
            problems.append("unparseable_timestamp")
        if start and end and end < start:
            problems.append("time_order")
    if name == "action_items" and row["due_date"]:  # an empty due date is allowed (AI-NO-DUE)
        try:
            date.fromisoformat(row["due_date"])
        except ValueError:
            problems.append("unparseable_date")
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


# ------------------------------------------------------------------------------------ calendars

_HOLIDAYS: dict[str, set[date]] = {}


def business_day(day: date, region: str) -> bool:
    if region not in _HOLIDAYS:
        _HOLIDAYS[region] = set(holidays.country_holidays(region, years=[2025, 2026, 2027]).keys())
    return day.weekday() < 5 and day not in _HOLIDAYS[region]


def plus_business_days(instant: datetime, n: int, tz: str, region: str, use_holidays: bool = True) -> datetime:
    """Local date (rolled forward to a business day) + n business days, at the same local time."""
    local = instant.astimezone(ZoneInfo(tz))
    day = local.date()

    def ok(d: date) -> bool:
        return business_day(d, region) if use_holidays else d.weekday() < 5

    while not ok(day):
        day = day + timedelta(days=1)
    added = 0
    while added < n:
        day = day + timedelta(days=1)
        if ok(day):
            added += 1
    return datetime(day.year, day.month, day.day, local.hour, local.minute, local.second, tzinfo=ZoneInfo(tz))


class Ctx:
    """The clean tables, indexed, with the as-of helpers every rule uses."""

    def __init__(self, t: dict[str, list[dict[str, str]]], data: Path) -> None:
        self.t, self.data = t, data
        self.teams = {r["team_id"]: r for r in t["teams"]}
        self.people = {p["person_id"]: p for p in t["people"]}
        self.service_team = {s["service"]: s["team_id"] for s in t["services"]}
        self.incidents = {i["incident_id"]: i for i in t["incidents"]}
        self.items = {i["action_item_id"]: i for i in t["action_items"]}
        self.updates: dict[str, list[datetime]] = defaultdict(list)
        for u in t["status_updates"]:
            self.updates[u["action_item_id"]].append(ts(u["posted_at"]))
        self.history: dict[str, list[dict[str, str]]] = defaultdict(list)
        for h in t["action_item_history"]:
            self.history[h["action_item_id"]].append(h)

    def calendar(self, team_id: str) -> tuple[str, str]:
        return self.teams[team_id]["timezone"], self.teams[team_id]["region"]

    def target(self, inc: dict[str, str]) -> datetime:
        return plus_business_days(ts(inc["resolved_at"]), 2, *self.calendar(inc["team_id"]))

    def limit(self, inc: dict[str, str]) -> datetime:
        if inc["severity"] == "SEV1":
            return ts(inc["resolved_at"]) + timedelta(days=3)
        return plus_business_days(ts(inc["resolved_at"]), 5, *self.calendar(inc["team_id"]))

    @staticmethod
    def resolved(inc: dict[str, str]) -> bool:
        return inc["resolved_at"] != "" and ts(inc["resolved_at"]) <= AS_OF

    @staticmethod
    def is_open(item: dict[str, str]) -> bool:
        return item["status"] in OPEN and ts(item["created_at"]) <= AS_OF

    @staticmethod
    def reviewed(pm: dict[str, str]) -> bool:
        """in_review, or published with published_at <= as_of."""
        return pm["status"] == "in_review" or (pm["status"] == "published" and pm["published_at"] != ""
                                                and ts(pm["published_at"]) <= AS_OF)

    def live_items(self, incident_id: str) -> list[dict[str, str]]:
        return [i for i in self.t["action_items"] if i["incident_id"] == incident_id and ts(i["created_at"]) <= AS_OF]

    def doc(self, pm: dict[str, str]) -> str:
        return (self.data / pm["document"]).read_text(encoding="utf-8")

    def last_activity(self, item: dict[str, str]) -> datetime:
        seen = [p for p in self.updates[item["action_item_id"]] if p <= AS_OF]
        return max(seen) if seen else ts(item["created_at"])

    def due_limit(self, item: dict[str, str]) -> int | None:
        limits = [x for x in (PRIORITY_LIMIT.get(item["priority"]),
                              SEVERITY_LIMIT.get(self.incidents[item["incident_id"]]["severity"])) if x is not None]
        return min(limits) if limits else None

    def overdue_from(self, item: dict[str, str]) -> datetime:
        """Local midnight (the item team's zone) of the day after the due date."""
        day = date.fromisoformat(item["due_date"]) + timedelta(days=1)
        return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(self.teams[item["team_id"]]["timezone"]))

    def changes(self, item_id: str, field: str, until: datetime = AS_OF) -> list[dict[str, str]]:
        return sorted((h for h in self.history[item_id] if h["field"] == field and ts(h["changed_at"]) <= until),
                      key=lambda h: (ts(h["changed_at"]), h["change_id"]))


def no_owner(owner: str, team_ids: set[str], team_names: set[str]) -> bool:
    o = owner.strip().lower()
    return (o in PLACEHOLDERS or o in team_ids or o in team_names
            or any(re.search(p, o) for p in GROUP_PATTERNS))


def evaluate_postmortem_rules(c: Ctx, out: dict[Finding, str]) -> None:
    pms_by_incident: dict[str, list[dict[str, str]]] = defaultdict(list)
    for pm in c.t["postmortems"]:
        pms_by_incident[pm["incident_id"]].append(pm)
    for inc_id, inc in c.incidents.items():
        if inc["severity"] not in MAJOR or not c.resolved(inc):
            continue
        rows = [p for p in pms_by_incident[inc_id] if p["created_at"] == "" or ts(p["created_at"]) <= AS_OF]
        if not rows and c.target(inc) < AS_OF:
            out[("PM-MISSING", "incident", inc_id)] = "violation"
        if c.limit(inc) < AS_OF and not c.live_items(inc_id):
            out[("PM-NO-ACTIONS", "incident", inc_id)] = "violation"
    for pm in c.t["postmortems"]:
        if ts(pm["created_at"]) > AS_OF:
            continue
        pm_id, inc = pm["postmortem_id"], c.incidents[pm["incident_id"]]
        published = pm["published_at"] != "" and ts(pm["published_at"]) <= AS_OF
        if inc["severity"] in MAJOR and c.resolved(inc) and not published and c.target(inc) < AS_OF:
            out[("PM-OVERDUE", "postmortem", pm_id)] = "violation" if c.limit(inc) < AS_OF else "warning"
        doc = c.doc(pm)
        if c.reviewed(pm):
            sections = detect_sections(doc)
            if not all(sections[s].present for s in SECTIONS):
                out[("PM-INCOMPLETE", "postmortem", pm_id)] = "violation"
            present = set()
            for p in pm["participants"].split(";"):
                present.add(c.people[p]["team_id"] if p in c.people else p)
            owners = {c.service_team[s] for s in inc["affected_services"].split(";") if s}
            if owners - {inc["team_id"]} - present:
                out[("PM-INSULAR", "postmortem", pm_id)] = "violation"
        if find_blame(doc):
            out[("PM-BLAME", "postmortem", pm_id)] = "violation"


def evaluate_item_rules(c: Ctx, out: dict[Finding, str]) -> None:
    team_ids = {r["team_id"].lower() for r in c.t["teams"]}
    team_names = {r["name"].lower() for r in c.t["teams"]}
    open_items = [i for i in c.t["action_items"] if c.is_open(i)]
    verdicts = assess_summaries(pd.Series([i["summary"] for i in open_items], dtype=object))
    for item, vague in zip(open_items, verdicts["vague"], strict=True):
        item_id = item["action_item_id"]
        unnamed = no_owner(item["owner"], team_ids, team_names)
        if unnamed:
            out[("AI-NO-OWNER", "action_item", item_id)] = "violation"
        person = c.people.get(item["owner"].strip().lower())
        if not unnamed and (person is None or person["active"] != "true"):
            out[("AI-OWNER-GONE", "action_item", item_id)] = "violation"
        if vague:
            out[("AI-VAGUE", "action_item", item_id)] = "violation"
        if item["due_date"] == "":
            out[("AI-NO-DUE", "action_item", item_id)] = "violation"
        else:
            limit = c.due_limit(item)
            created_day = ts(item["created_at"]).astimezone(UTC).date()
            if limit is not None and date.fromisoformat(item["due_date"]) > created_day + timedelta(days=limit):
                out[("AI-DUE-BEYOND-SLA", "action_item", item_id)] = "violation"
            if c.overdue_from(item) <= AS_OF:
                out[("AI-OVERDUE", "action_item", item_id)] = "violation"
        if AS_OF - c.last_activity(item) > WEEK:
            out[("AI-STALE", "action_item", item_id)] = "violation"
        pushes = sum(date.fromisoformat(h["new_value"]) > date.fromisoformat(h["old_value"])
                     for h in c.changes(item_id, "due_date"))
        lowered = any(int(h["new_value"][1]) > int(h["old_value"][1]) for h in c.changes(item_id, "priority"))
        if pushes >= 2 or lowered:
            out[("AI-DRIFT", "action_item", item_id)] = "violation"
    for item in c.t["action_items"]:
        if item["status"] != "wont_do" or ts(item["created_at"]) > AS_OF:
            continue
        if item["closed_at"] and ts(item["closed_at"]) > AS_OF:
            continue
        approver = item["approver"].strip().lower()
        if (item["resolution_note"].strip().lower() in PLACEHOLDERS or approver == ""
                or approver == item["owner"].strip().lower()):
            out[("AI-WONTDO-UNJUSTIFIED", "action_item", item["action_item_id"])] = "violation"


def evaluate_incident_rules(c: Ctx, out: dict[Finding, str]) -> None:
    for inc_id, inc in c.incidents.items():
        if inc["severity"] in MAJOR and c.resolved(inc) and c.limit(inc) < AS_OF:
            counted = [i for i in c.live_items(inc_id) if i["status"] != "wont_do"]
            categories = {i["category"] for i in counted}
            if counted and ("root_cause" not in categories or "detection" not in categories):
                out[("INC-CATEGORY-GAP", "incident", inc_id)] = "violation"
    for b_id, b in c.incidents.items():
        b_start = ts(b["started_at"])
        if b_start > AS_OF:
            continue
        for a_id, a in c.incidents.items():
            a_start = ts(a["started_at"])
            if not (a_start < b_start and b_start - a_start <= timedelta(days=90)):
                continue
            if not (a["service"] and a["service"] == b["service"] and a["root_cause_category"]
                    and a["root_cause_category"] == b["root_cause_category"]
                    and a["root_cause_category"] not in ("unknown", "other")):
                continue
            if any(c.is_open(i) and ts(i["created_at"]) < b_start for i in c.live_items(a_id)):
                out[("INC-REPEAT", "incident", b_id)] = "violation"


def evaluate(c: Ctx, quarantined: list[list[str]]) -> dict[Finding, str]:
    """Every rule, row by row: {(rule, subject_type, subject_id): level}."""
    out: dict[Finding, str] = {}
    evaluate_postmortem_rules(c, out)
    evaluate_item_rules(c, out)
    evaluate_incident_rules(c, out)
    ids = Counter((e, i) for e, _, i, _ in quarantined)
    for entity, n, record, reason in quarantined:
        name = record if record and ids[(entity, record)] == 1 else f"row-{n}"
        out[("SRC-INVALID", "source_row", f"{entity}/{name}/{reason}")] = "violation"
    return out


def load_waivers(data: Path) -> list[dict[str, object]]:
    content = yaml.safe_load((data / "waivers.yaml").read_text(encoding="utf-8"))
    assert isinstance(content, dict), "waivers.yaml must hold a mapping"
    assert list(content) == ["waivers"], "waivers.yaml needs one key, `waivers`"
    for w in content["waivers"]:
        assert set(w) == {"rule", "subject_id", "reason", "approver", "expires"}, w
        assert isinstance(w["expires"], date), w
    return content["waivers"]


def waiver_active(expires: date) -> bool:
    end = datetime(expires.year, expires.month, expires.day, tzinfo=UTC) + timedelta(days=1)  # end of that day
    return end > AS_OF


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


def check_integrity(raw: dict[str, list[dict[str, str]]], c: Ctx, quarantined: list[list[str]]) -> None:
    """References resolve, nothing clean depends on a quarantined row, rows are internally consistent."""
    t, people, teams, items = c.t, c.people, c.teams, c.items
    bad_incident_ids = {r[2] for r in quarantined if r[0] == "incidents"} - {""}
    bad_item_ids = {r[2] for r in quarantined if r[0] == "action_items"} - {""}
    assert all(i["incident_id"] in c.incidents and i["incident_id"] not in bad_incident_ids
               for i in raw["action_items"]), "an action item points at a missing or quarantined incident"
    assert all(p["incident_id"] in c.incidents for p in t["postmortems"])
    for name in ("status_updates", "action_item_history"):
        assert all(u["action_item_id"] in items and u["action_item_id"] not in bad_item_ids
                   for u in t[name]), f"{name}: a row points at a missing or quarantined item"
    assert all(u["author"] in people for u in t["status_updates"])
    assert all(p["owner"] in people for p in t["postmortems"])
    assert all(i["team_id"] in teams for i in t["incidents"] + t["action_items"] + t["services"])
    assert all(p["team_id"] in teams for p in t["people"])
    assert all(p["region"] for p in t["teams"])
    for inc in raw["incidents"]:  # services.csv lists every service an incident names
        assert inc["service"] in c.service_team, inc["incident_id"]
        assert inc["service"] in inc["affected_services"].split(";"), inc["incident_id"]
        assert all(s in c.service_team for s in inc["affected_services"].split(";") if s), inc["incident_id"]
        assert c.service_team[inc["service"]] == inc["team_id"], inc["incident_id"]
    for pm in t["postmortems"]:
        parts = pm["participants"].split(";")
        assert parts[0] == pm["owner"], pm["postmortem_id"]
        assert len(set(parts)) == len(parts), pm["postmortem_id"]
        assert all(p in people or p in teams for p in parts), pm["postmortem_id"]
    for i in t["incidents"]:
        assert (i["resolved_at"] == "") == (i["status"] == "open"), i["incident_id"]
        assert i["resolved_at"] == "" or ts(i["resolved_at"]) <= AS_OF
        assert i["severity"] not in MAJOR or i["status"] != "mitigated", i["incident_id"]
    for pm in t["postmortems"]:
        assert (pm["published_at"] != "") == (pm["status"] == "published"), pm["postmortem_id"]
    for item in t["action_items"]:
        item_id, closed = item["action_item_id"], item["status"] in ("done", "wont_do")
        assert (item["closed_at"] != "") == closed, item_id
        assert (item["resolution_note"] != "") == closed, item_id
        assert not closed or ts(item["closed_at"]) <= AS_OF, item_id
        assert item["due_date"] == "" or date.fromisoformat(item["due_date"]) >= ts(item["created_at"]).date()
        assert item["approver"] == "" or (item["status"] == "wont_do" and item["approver"] in people), item_id
    for u in t["status_updates"]:
        assert ts(u["posted_at"]) >= ts(items[u["action_item_id"]]["created_at"])
    # History: per field a consistent chain ending in the current value; only due dates change after as_of.
    current = {"due_date": "due_date", "priority": "priority", "status": "status", "owner": "owner"}
    for item_id, rows in c.history.items():
        item = items[item_id]
        for field, column in current.items():
            chain = c.changes(item_id, field, until=datetime.max.replace(tzinfo=UTC))
            if not chain:
                continue
            assert all(a["new_value"] == b["old_value"] for a, b in zip(chain, chain[1:], strict=False)), chain
            assert chain[-1]["new_value"] == item[column], (item_id, field)
            assert field != "status" or chain[0]["old_value"] == "open", item_id
            assert all(ts(h["changed_at"]) <= AS_OF for h in chain if field != "due_date"), (item_id, field)
        assert all(ts(h["changed_at"]) >= ts(item["created_at"]) for h in rows), item_id
        if c.is_open(item):  # counting history as activity would not change AI-STALE
            assert all(ts(h["changed_at"]) <= c.last_activity(item) for h in rows
                       if ts(h["changed_at"]) <= AS_OF), item_id
    for item in t["action_items"]:  # a status other than open was set by a change (or at creation, if silent)
        moved = item["status"] in ("done", "wont_do") or any(p <= AS_OF for p in c.updates[item["action_item_id"]])
        if item["status"] != "open" and ts(item["created_at"]) <= AS_OF and moved:
            assert c.changes(item["action_item_id"], "status"), f"{item['action_item_id']}: no status history"


def check_coverage(raw: dict[str, list[dict[str, str]]], c: Ctx, quarantined: list[list[str]],
                   by_rule: dict[str, list[str]]) -> None:
    """Size and realism of the scenario, and the coverage the earlier plants were built for."""
    t, teams, people = c.t, c.teams, c.people
    reasons = Counter(r[3] for r in quarantined)
    assert {(r[0], r[3]) for r in quarantined} >= {
        ("incidents", code) for code in ("missing_id", "unparseable_timestamp", "unknown_value", "duplicate_id",
                                         "time_order")} | {
        ("action_items", code) for code in ("missing_id", "unparseable_timestamp", "unknown_value")}
    assert reasons["duplicate_id"] == 2, quarantined
    assert len(quarantined) == 9, quarantined
    assert len(teams) == 6
    assert len(t["services"]) >= 25
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
    assert all(date(2026, 1, 5) <= ts(i["started_at"]).date() <= date(2026, 7, 13) for i in t["incidents"])
    sev = Counter(i["severity"] for i in t["incidents"])
    for level, (low, high) in {"SEV1": (0.05, 0.15), "SEV2": (0.25, 0.40), "SEV3": (0.30, 0.50),
                               "SEV4": (0.10, 0.25)}.items():
        assert low <= sev[level] / len(t["incidents"]) <= high, sev
    assert any(i["confidential"] == "true" for i in t["incidents"])
    assert sum(";" in i["affected_services"] for i in t["incidents"]) >= 10
    live = [i for i in t["action_items"] if ts(i["created_at"]) <= AS_OF]
    assert len(live) >= 250, len(live)
    assert sum(ts(i["created_at"]) > AS_OF for i in t["action_items"]) >= 3
    per_incident = Counter(i["incident_id"] for i in raw["action_items"])
    few = []  # major incidents with fewer than 3 action items: the PM-NO-ACTIONS plants and counterexamples
    for inc_id, inc in c.incidents.items():
        assert per_incident[inc_id] <= (8 if inc["severity"] in MAJOR else 3), (inc_id, per_incident[inc_id])
        if inc["severity"] in MAJOR and per_incident[inc_id] < 3:
            few.append(inc_id)
            assert inc_id in by_rule["PM-NO-ACTIONS"] or c.limit(inc) >= AS_OF or all(
                i["status"] == "wont_do" for i in c.live_items(inc_id)), inc_id
    assert len(few) <= 5, few
    pm_by_incident = Counter(p["incident_id"] for p in t["postmortems"])
    assert all(n == 1 for n in pm_by_incident.values())
    assert 2 <= sum(c.incidents[p["incident_id"]]["severity"] == "SEV3" for p in t["postmortems"]) <= 5
    for pm in t["postmortems"]:
        doc = c.doc(pm)
        assert pm["document"] == f"postmortems/{pm['postmortem_id']}.md"
        assert pm["incident_id"] in doc, pm["postmortem_id"]
        assert doc.count("\n## ") >= 5, pm["postmortem_id"]
    # The AI-NO-OWNER and AI-STALE plants of the first data set.
    item_team = {i["action_item_id"]: i["team_id"] for i in t["action_items"]}
    owners = {c.items[s]["owner"].strip().lower() for s in by_rule["AI-NO-OWNER"]}
    assert len(by_rule["AI-NO-OWNER"]) >= 10
    assert len({item_team[s] for s in by_rule["AI-NO-OWNER"]}) >= 4
    assert {"", "tbd", "unassigned", "payments", "payments-oncall", "sre", "platform team", "?"} <= owners
    assert owners & {r["name"].lower() for r in teams.values()} - set(teams), "no team-name owner planted"
    stale_days = {s: (AS_OF - c.last_activity(c.items[s])) / timedelta(days=1) for s in by_rule["AI-STALE"]}
    in_range = [s for s, d in stale_days.items() if 8 <= d <= 60]
    assert len(in_range) >= 12, stale_days
    assert len({item_team[s] for s in in_range}) >= 4, stale_days
    assert any(not c.updates[s] for s in in_range), "no stale item relies on created_at"
    assert any(max(c.updates[s], default=AS_OF) > AS_OF for s in by_rule["AI-STALE"]), "no stale item with a future update"
    pm_team = {p["postmortem_id"]: c.incidents[p["incident_id"]]["team_id"] for p in t["postmortems"]}
    assert len(by_rule["PM-OVERDUE"]) >= 6
    assert len({pm_team[p] for p in by_rule["PM-OVERDUE"]}) >= 3
    for item in live:  # leavers own closed items only, apart from the AI-OWNER-GONE plants
        if item["owner"] in people and people[item["owner"]]["active"] == "false" and item["status"] in OPEN:
            assert item["action_item_id"] in by_rule["AI-OWNER-GONE"]


def check_counterexamples(c: Ctx, findings: dict[Finding, str], waivers: list[dict[str, object]]) -> Counter[str]:
    """Each rule has clean counterexamples, most of them at its boundary. Returns the count per case."""
    t, fired = c.t, {(r, s) for r, _, s in findings}
    cases: Counter[str] = Counter()

    def case(name: str, condition: object) -> None:
        cases[name] += bool(condition)

    for pm in t["postmortems"]:
        inc, pm_id = c.incidents[pm["incident_id"]], pm["postmortem_id"]
        overdue = findings.get(("PM-OVERDUE", "postmortem", pm_id))
        live = ts(pm["created_at"]) <= AS_OF
        case("PM-MISSING/PM-OVERDUE: postmortem row created after as_of", not live)
        case("PM-INCOMPLETE: status draft, a section missing", live and pm["status"] == "draft" and not all(
            s.present for s in detect_sections(c.doc(pm)).values()))
        case("PM-INCOMPLETE: published after as_of, a section missing", pm["status"] == "published"
             and not c.reviewed(pm) and not all(s.present for s in detect_sections(c.doc(pm)).values()))
        case("PM-BLAME: fires on a draft", ("PM-BLAME", pm_id) in fired and pm["status"] == "draft")
        case("PM-BLAME: negated and collective wording", "not human error" in c.doc(pm) and (
            "PM-BLAME", pm_id) not in fired)
        others = {c.service_team[s] for s in inc["affected_services"].split(";")} - {inc["team_id"]}
        parts = pm["participants"].split(";")
        case("PM-INSULAR: draft without the other owning team", pm["status"] == "draft" and others and not any(
            p in others or c.people.get(p, {}).get("team_id") in others for p in parts))
        case("PM-INSULAR: another team took part by team id", c.reviewed(pm) and others and others <= set(parts)
             and ("PM-INSULAR", pm_id) not in fired)
        if inc["severity"] not in MAJOR or not c.resolved(inc) or not live:
            case("PM-OVERDUE: SEV3 postmortem not published", inc["severity"] == "SEV3" and pm["status"] != "published")
            continue
        resolved, (tz, region) = ts(inc["resolved_at"]), c.calendar(inc["team_id"])
        case("PM-OVERDUE: as_of equals the target", c.target(inc) == AS_OF and not overdue)
        case("PM-OVERDUE: as_of equals the limit (warning)", c.limit(inc) == AS_OF and overdue == "warning")
        case("PM-OVERDUE: SEV1 calendar limit (3 business days would warn)", inc["severity"] == "SEV1"
             and overdue == "violation" and plus_business_days(resolved, 3, tz, region) > AS_OF)
        case("PM-OVERDUE: SEV2 business-day limit (5 calendar days would violate)", inc["severity"] == "SEV2"
             and overdue == "warning" and resolved + timedelta(days=5) < AS_OF)
        case("PM-OVERDUE: limit moved by a public holiday", overdue and c.limit(inc) != plus_business_days(
            resolved, 5, tz, region, use_holidays=False) and inc["severity"] == "SEV2")
        case("PM-OVERDUE: local date differs from the UTC date (Kolkata)", tz == "Asia/Kolkata"
             and resolved.astimezone(ZoneInfo(tz)).date() != resolved.date() and overdue)
        case("PM-OVERDUE: published after as_of counts as unpublished", overdue and pm["published_at"] != "")
        case("PM-OVERDUE: published late but before as_of", not overdue and pm["published_at"] != ""
             and c.limit(inc) < ts(pm["published_at"]) <= AS_OF)
    for inc_id, inc in c.incidents.items():
        if inc["severity"] not in MAJOR or not c.resolved(inc):
            case("PM-OVERDUE/PM-MISSING: major incident still open", inc["severity"] in MAJOR)
            continue
        items = c.live_items(inc_id)
        has_pm = any(p["incident_id"] == inc_id for p in t["postmortems"])
        case("PM-MISSING: no postmortem, as_of equals the target", not has_pm and c.target(inc) == AS_OF)
        case("PM-NO-ACTIONS: no items, as_of equals the limit", not items and c.limit(inc) == AS_OF)
        case("PM-NO-ACTIONS: only wont_do items", items and all(i["status"] == "wont_do" for i in items)
             and ("PM-NO-ACTIONS", inc_id) not in fired and ("INC-CATEGORY-GAP", inc_id) not in fired)
        case("PM-NO-ACTIONS: fires because the only item is created after as_of",
             ("PM-NO-ACTIONS", inc_id) in fired and any(i["incident_id"] == inc_id for i in t["action_items"]))
        cats = {i["category"] for i in items if i["status"] != "wont_do"}
        case("INC-CATEGORY-GAP: gap but as_of <= limit", cats and not {"root_cause", "detection"} <= cats
             and c.limit(inc) >= AS_OF)
        case("INC-CATEGORY-GAP: fires because root_cause items are wont_do", ("INC-CATEGORY-GAP", inc_id) in fired
             and any(i["category"] == "root_cause" for i in items))
    for b_id, b in c.incidents.items():
        for a_id, a in c.incidents.items():
            gap = ts(b["started_at"]) - ts(a["started_at"])
            if a_id == b_id or gap <= timedelta(0) or (a["service"], a["root_cause_category"]) != (
                    b["service"], b["root_cause_category"]) or ("INC-REPEAT", b_id) in fired:
                continue
            open_a = [i for i in c.live_items(a_id) if c.is_open(i)]
            case("INC-REPEAT: same signature, category unknown", a["root_cause_category"] == "unknown" and open_a)
            case("INC-REPEAT: A's open item created after B started", gap <= timedelta(days=90) and open_a and all(
                ts(i["created_at"]) >= ts(b["started_at"]) for i in open_a))
            case("INC-REPEAT: A more than 90 days before B", timedelta(days=90) < gap <= timedelta(days=91)
                 and open_a)
    for item in t["action_items"]:
        item_id, is_open = item["action_item_id"], c.is_open(item)
        if not is_open:
            closed = item["status"] in ("done", "wont_do")
            case("AI-VAGUE: vague summary on a closed item", closed and bool(
                assess_summaries(pd.Series([item["summary"]], dtype=object))["vague"].iloc[0]))
            case("AI-NO-DUE: closed item without a due date", closed and item["due_date"] == "")
            case("AI-OVERDUE: closed item past its due date", closed and item["due_date"] != ""
                 and date.fromisoformat(item["due_date"]) < date(2026, 7, 1))
            pushes = sum(h["new_value"] > h["old_value"] for h in c.changes(item_id, "due_date"))
            case("AI-DRIFT: closed item with 3 pushes", closed and pushes >= 3)
            case("AI-WONTDO-UNJUSTIFIED: closed_at equals as_of", item["status"] == "wont_do"
                 and ts(item["closed_at"]) == AS_OF and ("AI-WONTDO-UNJUSTIFIED", item_id) in fired)
            lead = c.teams[item["team_id"]]["lead"]
            case("AI-WONTDO-UNJUSTIFIED: approved by the lead, not the owner", item["status"] == "wont_do"
                 and item["approver"] == lead != item["owner"] and ("AI-WONTDO-UNJUSTIFIED", item_id) not in fired)
            continue
        if item["due_date"]:
            due, limit = date.fromisoformat(item["due_date"]), c.due_limit(item)
            created = ts(item["created_at"])
            local_day = created.astimezone(ZoneInfo(c.teams[item["team_id"]]["timezone"])).date()
            case("AI-DUE-BEYOND-SLA: due exactly created + limit", limit and due == created.date() + timedelta(
                days=limit) and local_day == created.date())
            case("AI-DUE-BEYOND-SLA: UTC date + limit, local date differs", limit and local_day != created.date()
                 and due == created.date() + timedelta(days=limit))
            case("AI-DUE-BEYOND-SLA: no limit, due far away", limit is None and due > created.date() + timedelta(
                days=90))
            case("AI-OVERDUE: due today (not yet overdue)", due == date(2026, 7, 15))
            case("AI-OVERDUE: overdue for less than 6 hours", timedelta(0) <= AS_OF - c.overdue_from(item)
                 < timedelta(hours=6))
        pushes_now = sum(h["new_value"] > h["old_value"] for h in c.changes(item_id, "due_date"))
        pushes_all = sum(h["new_value"] > h["old_value"]
                         for h in c.changes(item_id, "due_date", datetime.max.replace(tzinfo=UTC)))
        case("AI-DRIFT: exactly 2 pushes fires", pushes_now == 2 and ("AI-DRIFT", item_id) in fired)
        case("AI-DRIFT: second push after as_of", pushes_now == 1 and pushes_all == 2)
        case("AI-DRIFT: push and pull-in", pushes_now == 1 and len(c.changes(item_id, "due_date")) == 2)
        case("AI-DRIFT: priority raised", any(h["new_value"] < h["old_value"] for h in c.changes(item_id, "priority"))
             and ("AI-DRIFT", item_id) not in fired)
        case("AI-OWNER-GONE: owner left the company", ("AI-OWNER-GONE", item_id) in fired
             and item["owner"] in c.people)
    expiries = [w["expires"] for w in waivers]
    case("waiver: active", any(isinstance(e, date) and e > date(2026, 7, 15) for e in expiries))
    case("waiver: expires on the as_of day (still active)", date(2026, 7, 15) in expiries)
    case("waiver: expired", any(isinstance(e, date) and e < date(2026, 7, 15) for e in expiries))
    missing = [name for name in CASES if not cases[name]]
    assert not missing, f"counterexamples missing: {missing}"
    return cases


CASES = (
    "PM-MISSING/PM-OVERDUE: postmortem row created after as_of", "PM-INCOMPLETE: status draft, a section missing",
    "PM-INCOMPLETE: published after as_of, a section missing", "PM-BLAME: fires on a draft",
    "PM-BLAME: negated and collective wording", "PM-INSULAR: draft without the other owning team",
    "PM-INSULAR: another team took part by team id", "PM-OVERDUE: SEV3 postmortem not published",
    "PM-OVERDUE: as_of equals the target", "PM-OVERDUE: as_of equals the limit (warning)",
    "PM-OVERDUE: SEV1 calendar limit (3 business days would warn)",
    "PM-OVERDUE: SEV2 business-day limit (5 calendar days would violate)",
    "PM-OVERDUE: limit moved by a public holiday", "PM-OVERDUE: local date differs from the UTC date (Kolkata)",
    "PM-OVERDUE: published after as_of counts as unpublished", "PM-OVERDUE: published late but before as_of",
    "PM-OVERDUE/PM-MISSING: major incident still open", "PM-MISSING: no postmortem, as_of equals the target",
    "PM-NO-ACTIONS: no items, as_of equals the limit", "PM-NO-ACTIONS: only wont_do items",
    "PM-NO-ACTIONS: fires because the only item is created after as_of", "INC-CATEGORY-GAP: gap but as_of <= limit",
    "INC-CATEGORY-GAP: fires because root_cause items are wont_do", "INC-REPEAT: same signature, category unknown",
    "INC-REPEAT: A's open item created after B started", "INC-REPEAT: A more than 90 days before B",
    "AI-VAGUE: vague summary on a closed item", "AI-NO-DUE: closed item without a due date",
    "AI-OVERDUE: closed item past its due date", "AI-DRIFT: closed item with 3 pushes",
    "AI-WONTDO-UNJUSTIFIED: closed_at equals as_of", "AI-WONTDO-UNJUSTIFIED: approved by the lead, not the owner",
    "AI-DUE-BEYOND-SLA: due exactly created + limit", "AI-DUE-BEYOND-SLA: UTC date + limit, local date differs",
    "AI-DUE-BEYOND-SLA: no limit, due far away", "AI-OVERDUE: due today (not yet overdue)",
    "AI-OVERDUE: overdue for less than 6 hours", "AI-DRIFT: exactly 2 pushes fires", "AI-DRIFT: second push after as_of",
    "AI-DRIFT: push and pull-in", "AI-DRIFT: priority raised", "AI-OWNER-GONE: owner left the company",
    "waiver: active", "waiver: expires on the as_of day (still active)", "waiver: expired",
)


def check_stale_boundaries(c: Ctx, by_rule: dict[str, list[str]]) -> None:
    """The AI-STALE and AI-NO-OWNER counterexamples of the first data set."""
    t = c.t
    last = {i["action_item_id"]: c.last_activity(i) for i in t["action_items"] if c.is_open(i)}
    boundary = {d: [s for s, moment in last.items() if AS_OF - moment == d]
                for d in (WEEK, WEEK - timedelta(minutes=1), WEEK + timedelta(minutes=1))}
    assert all(boundary.values()), boundary
    assert all(s not in by_rule["AI-STALE"] for s in boundary[WEEK] + boundary[WEEK - timedelta(minutes=1)])
    assert any(i["status"] == "done" and i["owner"] == "" for i in t["action_items"])
    assert any(i["status"] == "wont_do" and i["owner"].strip().lower() == "tbd" for i in t["action_items"])
    assert any(i["status"] == "done" and c.updates[i["action_item_id"]]
               and AS_OF - max(c.updates[i["action_item_id"]]) >= timedelta(days=90) for i in t["action_items"])


def main() -> None:
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
    c = Ctx(t, data)
    check_integrity(raw, c, quarantined)

    # Rules and waivers, compared with expected_findings.csv (also checks its sort order).
    findings = evaluate(c, quarantined)
    waivers = load_waivers(data)
    for w in waivers:
        hits = [f for f in findings if f[0] == w["rule"] and f[2] == w["subject_id"]]
        assert len(hits) == 1, f"waiver {w} matches no finding"
        if waiver_active(w["expires"]):  # type: ignore[arg-type]
            findings[hits[0]] = "waived"
    with (data / "expected_findings.csv").open(newline="", encoding="utf-8") as fh:
        expected = [tuple(r) for r in csv.reader(fh)]
    assert expected[0] == ("rule", "subject_type", "subject_id", "level")
    assert expected[1:] == sorted(expected[1:]), "expected_findings.csv is not sorted"
    derived = {(*f, level) for f, level in findings.items()}
    assert len(expected) - 1 == len(derived), "expected_findings.csv has duplicate rows"
    assert set(expected[1:]) == derived, (
        f"missing {sorted(set(expected[1:]) - derived)}, unexpected {sorted(derived - set(expected[1:]))}")
    by_rule: dict[str, list[str]] = defaultdict(list)
    for rule, _, subject in sorted(findings):
        by_rule[rule].append(subject)
    levels = Counter((r, level) for (r, _, _), level in findings.items())
    assert all(levels[(r, "violation")] + levels[(r, "warning")] for r in RULES), levels
    assert levels[("PM-OVERDUE", "warning")], levels
    assert levels[("PM-OVERDUE", "violation")], levels
    assert {level for (r, _, _), level in findings.items() if r != "PM-OVERDUE"} <= {"violation", "waived"}
    assert len(findings) < 150, len(findings)

    check_coverage(raw, c, quarantined, by_rule)
    check_stale_boundaries(c, by_rule)
    cases = check_counterexamples(c, findings, waivers)

    # The README documents every finding and every quarantined row.
    readme = (data / "README.md").read_text(encoding="utf-8")
    missing = [s for _, _, s in findings if s not in readme]
    missing += [f"{e} row {n}" for e, n, _, _ in quarantined if f"| {e} | {n} |" not in readme]
    assert not missing, f"README.md does not mention {missing}"

    if not args.skip_regen:
        check_regeneration(data)
    print(f"OK: {len(t['incidents'])} incidents (+{len(raw['incidents']) - len(t['incidents'])} quarantined), "
          f"{len(t['postmortems'])} postmortems, {len(t['action_items'])} action items "
          f"(+{len(raw['action_items']) - len(t['action_items'])} quarantined), {len(t['status_updates'])} updates, "
          f"{len(t['action_item_history'])} history rows, {len(c.people)} people; {len(findings)} findings")
    for rule in RULES:
        print(f"  {rule:<22} " + ", ".join(f"{level} {n}" for (r, level), n in sorted(levels.items()) if r == rule))
    print(f"  all {len(CASES)} counterexample cases present ({sum(cases.values())} rows or pairs in all)")


if __name__ == "__main__":
    main()
