"""The weekly trend, computed with arrays once per run, against the frame-per-week form it replaced.

`reference_weekly_trend` is that earlier implementation, kept here as the oracle: over random
rosters, items and histories (status and due-date changes, missing instants and values, unknown,
duplicate and missing ids, items without a team, several time zones), both give the same rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from followthrough.model import CLOSED_ACTION_STATUSES, is_in
from followthrough.policy import policy_for_tests
from followthrough.report import metrics
from tests.unit.frames import AS_OF, TEAMS, frames

POLICY = policy_for_tests()


def reference_weekly_trend(frames: dict[str, pd.DataFrame], policy: Any, as_of: pd.Timestamp,
                           weeks: int) -> list[dict[str, Any]]:
    items = frames["action_items"]
    history = frames["action_item_history"]
    if items.empty:
        return []
    start = items["created_at"].min()
    deadlines = metrics.item_deadlines(frames, items, policy)
    status_changes, status_times = metrics._changes_in_time_order(history, "status")
    due_changes, due_times = metrics._changes_in_time_order(history, "due_date")
    rows: list[dict[str, Any]] = []
    for back in range(weeks - 1, -1, -1):
        week_end = as_of - pd.Timedelta(days=7 * back)
        if pd.notna(start) and week_end < start:
            continue
        until = status_changes.iloc[:metrics._position(status_times, week_end)]
        last_status = until.drop_duplicates("action_item_id", keep="last")
        status_then = items["action_item_id"].map(last_status.set_index("action_item_id")["new_value"]).astype("string")
        created = items["created_at"].isna() | (items["created_at"] <= week_end)
        closed_by_history = status_then.isin(CLOSED_ACTION_STATUSES)
        closed_by_item = status_then.isna() & ~metrics.open_at(items, week_end)
        open_then = items[created & ~closed_by_history & ~closed_by_item]
        later = due_changes.iloc[metrics._position(due_times, week_end):]
        due_then = later.drop_duplicates("action_item_id", keep="first").set_index("action_item_id")["old_value"]
        changed_later = is_in(open_then["action_item_id"], due_then.index)
        earlier_due = pd.to_datetime(open_then["action_item_id"].map(due_then).astype("string").replace("", pd.NA),
                                     utc=True, errors="coerce", format="ISO8601")
        due = open_then["due_date"].where(~changed_later, earlier_due)
        deadline = deadlines.loc[open_then.index].copy()
        if changed_later.any():
            deadline.loc[changed_later[changed_later].index] = metrics.item_deadlines(
                frames, open_then[changed_later], policy, due[changed_later])
        overdue = deadline <= week_end
        ok = due.notna() & ~overdue
        table = open_then.assign(overdue=overdue.fillna(False).astype(bool), ok=ok.astype(bool))
        per_team = table.groupby("team_id", sort=True).agg(open=("ok", "size"), overdue=("overdue", "sum"),
                                                           ok=("ok", "sum"))
        counts = [("(all)", len(table), int(table["overdue"].sum()), int(table["ok"].sum()))]
        counts += [(str(team), int(n), int(late), int(good)) for team, n, late, good in zip(
            per_team.index, per_team["open"], per_team["overdue"], per_team["ok"], strict=True)]
        week = week_end.date().isoformat()
        rows += [{"week_end": week, "team_id": team, "open": n, "overdue": late,
                  "compliance": metrics._share(good, n)} for team, n, late, good in counts]
    return rows


def _random_frames(seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 120))
    teams = [t["team_id"] for t in TEAMS] + ["", "unknown-team"]

    def instant(days_back: int) -> str:
        moment = AS_OF - pd.Timedelta(days=int(rng.integers(-5, days_back)), hours=int(rng.integers(0, 24)))
        return moment.isoformat()

    ids = [f"AI-{i}" for i in range(n)]
    if n > 3 and seed % 3 == 0:
        ids[1] = ids[0]  # the same id twice (two sources)
    if n > 3 and seed % 4 == 1:
        ids[2] = ""  # an item without an id, and changes without one below: they match nothing
    items = []
    for item_id in ids:
        status = str(rng.choice(["open", "in_progress", "done", "wont_do", "blocked"]))
        items.append({
            "action_item_id": item_id, "incident_id": "INC-1", "summary": "Add alert on p99 latency",
            "owner": "omar.owner", "team_id": str(rng.choice(teams)), "priority": "P2", "status": status,
            "created_at": "" if rng.random() < 0.05 else instant(200),
            "due_date": "" if rng.random() < 0.2 else instant(150)[:10],
            "closed_at": instant(100) if status in ("done", "wont_do") and rng.random() < 0.9 else "",
        })
    history = []
    for change in range(int(rng.integers(0, 3 * n))):
        field = str(rng.choice(["status", "due_date", "priority"]))
        values = {"status": ["open", "in_progress", "done", "wont_do", ""],
                  "due_date": ["2026-05-01", "2026-06-20", "2026-07-30", "", "not a date", "2026-07-10T12:00:00+02:00"],
                  "priority": ["P1", "P2"]}[field]
        history.append({
            "change_id": f"H{change}", "action_item_id": str(rng.choice(ids + ["AI-unknown", ""])),
            "changed_at": "" if rng.random() < 0.05 else instant(200), "field": field,
            "old_value": str(rng.choice(values)), "new_value": str(rng.choice(values))})
    return frames(action_items=items, action_item_history=history)


@pytest.mark.parametrize("seed", range(24))
def test_the_array_form_gives_the_rows_of_the_frame_form(seed: int) -> None:
    data = _random_frames(seed)
    weeks = 3 if seed % 4 == 0 else 20
    assert metrics.weekly_trend(data, POLICY, AS_OF, weeks) == reference_weekly_trend(data, POLICY, AS_OF, weeks)


def test_the_random_frames_exercise_every_branch() -> None:
    """The generator is not vacuous: across the seeds, items close by history and by their own state,
    due dates change after a week's end, some teams are missing, and weeks have overdue items."""
    seen = {"closed_by_history": 0, "due_changed": 0, "no_team": 0, "overdue": 0}
    for seed in range(24):
        data = _random_frames(seed)
        history = data["action_item_history"]
        seen["closed_by_history"] += int((history["field"].eq("status") & history["new_value"].isin(["done"])).sum())
        seen["due_changed"] += int(history["field"].eq("due_date").sum())
        seen["no_team"] += int(data["action_items"]["team_id"].isna().sum())
        seen["overdue"] += sum(r["overdue"] for r in metrics.weekly_trend(data, POLICY, AS_OF, 3))
    assert all(count > 0 for count in seen.values()), seen
