"""Benchmark: how many Jira requests the Jira source needs, counted on the Jira fake.

Seeds the fake (tests/fakes/jira.py) with 10,000 issues (1,000 incidents, 1,000 postmortems,
8,000 action items, each action item linked to its incident with one comment and one
history entry), then counts the requests the extractor sends:

- `jira_backfill_10k_requests` / `jira_backfill_10k_pages`: a first run without watermark
  (the target is the page count plus a small constant: the searches page by 100 issues with
  fields, and nothing is fetched per issue unless its comments or history exceed what
  search returns);
- `jira_incremental_1pct_requests`: the next run after 1% of the issues changed.

Figures are merged into bench/results.json (same names replaced, sorted by name).
Usage: ``.venv/bin/python bench/jira_requests.py [--issues N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
sys.path.insert(0, str(ROOT))

from followthrough.gateways.jira import JiraClient, text_to_adf  # noqa: E402
from followthrough.sources.jira import JiraQueries, JiraSourceConfig, extract  # noqa: E402
from tests.fakes.jira import FakeJira  # noqa: E402

T0 = datetime(2026, 7, 15, 10, 0, tzinfo=UTC)
CONFIG = JiraSourceConfig(
    jql=JiraQueries(
        incidents="project = INC AND issuetype = Incident",
        postmortems="project = PM AND issuetype = Postmortem",
        action_items="project = AI AND issuetype = Task",
    ),
    fields={"severity": "customfield_10010", "team_id": "customfield_10020", "service": "customfield_10030"},
)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def seed(jira: FakeJira, total: int) -> tuple[int, int, int]:
    incidents, postmortems = total // 10, total // 10
    actions = total - incidents - postmortems
    for project in ("INC", "PM", "AI"):
        jira.add_project(project)
    jira.add_custom_field("customfield_10020", "Team")
    jira.add_custom_field("customfield_10030", "Service")
    teams = ("payments", "identity", "search", "platform-infra", "data", "mobile")
    for n, team in enumerate(teams):
        jira.add_user(f"acc-{team}", f"owner.{n}@example.com", f"Owner {n}")
    start = T0 - timedelta(days=180)
    for n in range(1, incidents + 1):
        created = start + timedelta(minutes=10 * n)
        jira.add_issue(f"INC-{n}", {
            "issuetype": "Incident", "summary": f"Incident {n}", "customfield_10010": f"SEV{n % 4 + 1}",
            "customfield_10020": teams[n % len(teams)], "customfield_10030": f"svc-{n % 40}", "status": "Done",
            "created": created, "resolutiondate": created + timedelta(hours=2), "updated": created + timedelta(hours=2)})
    for n in range(1, postmortems + 1):
        created = start + timedelta(minutes=10 * n + 5)
        jira.add_issue(f"PM-{n}", {
            "issuetype": "Postmortem", "summary": f"Postmortem {n}", "assignee": f"acc-{teams[n % len(teams)]}",
            "description": text_to_adf("# Summary\n\nIt broke.\n\n## Root cause\n\nA config push."),
            "created": created, "updated": created})
        jira.add_link("Relates", f"PM-{n}", f"INC-{n}")
    for n in range(1, actions + 1):
        created = start + timedelta(minutes=2 * n)
        owner = f"acc-{teams[n % len(teams)]}"
        jira.add_issue(
            f"AI-{n}",
            {"summary": f"Action {n}", "assignee": owner, "priority": "Medium", "duedate": "2026-09-01",
             "customfield_10020": teams[n % len(teams)], "status": "In Progress", "created": created,
             "updated": created + timedelta(hours=1)},
            comments=[{"body": "On it.", "author": owner, "created": created + timedelta(minutes=30)}],
            changelog=[{"created": created + timedelta(hours=1), "author": owner, "items": [
                {"field": "duedate", "fieldId": "duedate", "from": "2026-08-01", "to": "2026-09-01"}]}],
        )
        jira.add_link("Relates", f"AI-{n}", f"INC-{(n - 1) % incidents + 1}")
    return incidents, postmortems, actions


def change_one_percent(client: JiraClient, counts: tuple[int, int, int]) -> int:
    incidents, postmortems, actions = counts
    changed = 0
    for n in range(1, incidents + 1, 100):
        client.edit_issue(f"INC-{n}", {"customfield_10030": "svc-changed"})
        changed += 1
    for n in range(1, postmortems + 1, 100):
        client.edit_issue(f"PM-{n}", {"summary": f"Postmortem {n} (reviewed)"})
        changed += 1
    for n in range(1, actions + 1, 100):
        client.add_comment(f"AI-{n}", text_to_adf("Still on it."))
        changed += 1
    return changed


def record(figures: list[dict[str, object]]) -> None:
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    names = {f["name"] for f in figures}
    merged = [f for f in existing if f["name"] not in names] + figures
    RESULTS.write_text(json.dumps(sorted(merged, key=lambda f: str(f["name"])), indent=2) + "\n")
    for figure in figures:
        print(f"{figure['name']:<40} {figure['value']:>12} {figure['unit']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--issues", type=int, default=10_000)
    args = parser.parse_args()
    clock = Clock()
    with FakeJira(clock=clock) as jira:
        counts = seed(jira, args.issues)
        client = JiraClient(jira.url, jira.email, jira.api_token, sleep=lambda s: None)

        started, before = time.perf_counter(), len(jira.log)
        backfill = extract(client, CONFIG, None)
        backfill_requests = len(jira.log) - before
        backfill_pages = client.stats["pages"]
        fetched = sum(backfill.fetched.values())
        print(f"backfill: {fetched} issues, {backfill_pages} pages, {backfill_requests} requests, "
              f"{len(backfill.quarantine)} quarantined, {time.perf_counter() - started:.1f}s (fake included)")
        assert fetched == args.issues, backfill.fetched

        clock.now = T0 + timedelta(hours=1)
        changed = change_one_percent(client, counts)
        before, pages_before = len(jira.log), client.stats["pages"]
        incremental = extract(client, CONFIG, backfill.watermark)
        incremental_requests = len(jira.log) - before
        endpoints: dict[str, int] = {}
        for request in jira.log[before:]:
            endpoints[request.endpoint] = endpoints.get(request.endpoint, 0) + 1
        print(f"incremental: {changed} changed, {sum(incremental.fetched.values())} fetched "
              f"({incremental.fetched}), {client.stats['pages'] - pages_before} pages, {incremental_requests} "
              f"requests {endpoints}")
        if jira.violations:
            raise SystemExit(f"the fake saw requests Jira would reject: {[str(v) for v in jira.violations]}")
    figures: list[dict[str, object]] = [
        {"name": "jira_backfill_10k_requests", "value": backfill_requests, "unit": "requests"},
        {"name": "jira_backfill_10k_pages", "value": backfill_pages, "unit": "pages"},
        {"name": "jira_incremental_1pct_requests", "value": incremental_requests, "unit": "requests"},
    ]
    if args.issues == 10_000:
        record(figures)
    else:  # a smaller trial run: print, do not record under the 10k names
        print(json.dumps(figures))

if __name__ == "__main__":
    main()
