"""Follow-up metrics for team leads, computed as of a run's instant (definitions: docs/metrics.md).

Every function is pure: canonical frames (as the source contract produced them), the store's
findings and the policy in, JSON-able numbers out. `weekly_trend` rebuilds each past week
from the items' history (due-date, priority and status changes), so a team sees its trend
from the first run on, before any escalation was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from followthrough.model import CLOSED_ACTION_STATUSES

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.policy import Policy

AGE_BUCKETS = (("0-7 days", 0, 7), ("8-30 days", 8, 30), ("31-90 days", 31, 90), ("over 90 days", 91, None))
TREND_WEEKS = 52
DAY_SECONDS = 86400.0


def _round(value: float | None, digits: int = 2) -> float | None:
    if value is None or value != value:  # NaN
        return None
    return round(float(value), digits)


def _share(part: int, whole: int) -> float | None:
    return _round(part / whole, 4) if whole else None


def _days(delta: pd.Series) -> pd.Series:
    return delta.dt.total_seconds() / DAY_SECONDS


def _median(values: pd.Series) -> float | None:
    return _round(values.median()) if len(values.dropna()) else None


def _per_team(frame: pd.DataFrame, compute: Any) -> dict[str, Any]:
    return {str(team): compute(rows) for team, rows in frame.groupby("team_id", sort=True)}


def item_deadlines(frames: Mapping[str, pd.DataFrame], items: pd.DataFrame, policy: Policy,
                   due: pd.Series | None = None) -> pd.Series:
    """When each item becomes overdue: the end of its due day in the team's time zone (NaT: no due date)."""
    import pandas as pd

    from followthrough.calendar import local_day_start
    from followthrough.rules.common import team_timezones

    due = items["due_date"] if due is None else due
    return local_day_start(due + pd.Timedelta(days=1), team_timezones(frames, items["team_id"], policy))


def open_at(items: pd.DataFrame, instant: pd.Timestamp) -> pd.Series:
    """Items that existed at `instant` and were not closed by then."""
    created = items["created_at"].isna() | (items["created_at"] <= instant)
    closed = items["status"].isin(CLOSED_ACTION_STATUSES) & items["closed_at"].notna() & (
        items["closed_at"] <= instant)
    return created & ~closed


def time_to_postmortem(frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp) -> dict[str, Any]:
    """Incidents that need a postmortem, resolved by as-of: days to publication, and the share within the limit."""
    from followthrough.rules.postmortems import postmortem_deadlines, resolved_required_incidents

    incidents = resolved_required_incidents(frames, policy, as_of)
    if incidents.empty:
        return {"incidents": 0, "published": 0, "within_sla": 0, "late": 0, "pending": 0, "share_within_sla": None,
                "median_days": None, "by_team": {}}
    _, limit = postmortem_deadlines(frames, policy, incidents)
    pms = frames["postmortems"]
    pms = pms[pms["published_at"].notna() & (pms["published_at"] <= as_of)]
    import pandas as pd

    # reindex, not map: map with an empty mapper casts datetimes to float
    first_published = pms.groupby("incident_id")["published_at"].min()
    published = pd.to_datetime(pd.Series(first_published.reindex(incidents["incident_id"]).to_numpy(),
                                         index=incidents.index), utc=True)
    days = _days(published - incidents["resolved_at"])
    within = published.notna() & (published <= limit)
    late = (published.notna() & (published > limit)) | (published.isna() & (as_of > limit))
    table = incidents.assign(days=days, within=within, late=late, published=published.notna())

    def numbers(rows: pd.DataFrame) -> dict[str, Any]:
        decided = int(rows["within"].sum() + rows["late"].sum())
        return {"incidents": len(rows), "published": int(rows["published"].sum()),
                "within_sla": int(rows["within"].sum()), "late": int(rows["late"].sum()),
                "pending": len(rows) - decided, "share_within_sla": _share(int(rows["within"].sum()), decided),
                "median_days": _median(rows["days"])}

    return {**numbers(table), "by_team": _per_team(table, numbers)}


def closed_within_sla(frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp) -> dict[str, Any]:
    """Of the items with a due date that were closed or overdue by as-of: the share closed by the deadline."""
    items = frames["action_items"]
    items = items[items["due_date"].notna() & (items["created_at"].isna() | (items["created_at"] <= as_of))]
    deadline = item_deadlines(frames, items, policy)
    closed = ~open_at(items, as_of) & items["closed_at"].notna()
    eligible = closed | (deadline <= as_of)
    within = closed & (items["closed_at"] <= deadline)
    table = items.assign(eligible=eligible, within=within)[eligible]

    def numbers(rows: pd.DataFrame) -> dict[str, Any]:
        return {"items": len(rows), "within_sla": int(rows["within"].sum()),
                "share": _share(int(rows["within"].sum()), len(rows))}

    return {**numbers(table), "by_team": _per_team(table, numbers)}


def open_by_age(frames: Mapping[str, pd.DataFrame], as_of: pd.Timestamp) -> dict[str, dict[str, int]]:
    """Open items per team and age bucket (days since creation, whole days)."""
    items = frames["action_items"]
    items = items[open_at(items, as_of)]
    age = (_days(as_of - items["created_at"]) // 1).fillna(0).astype("int64")
    result: dict[str, dict[str, int]] = {}
    for team, ages in age.groupby(items["team_id"], sort=True):
        result[str(team)] = {name: int(((ages >= low) & (True if high is None else ages <= high)).sum())
                             for name, low, high in AGE_BUCKETS}
    return result


def stale_items(frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp) -> dict[str, int]:
    """Open items per team with no status update for longer than the team's update interval."""
    import pandas as pd

    from followthrough.rules.action_items import last_activity

    items = frames["action_items"]
    items = items[open_at(items, as_of)]
    overrides = {t: o.update_interval_days for t, o in policy.teams.items() if o.update_interval_days}
    interval = items["team_id"].map(overrides).fillna(policy.action_items.update_interval_days).astype("int64")
    stale = (as_of - last_activity(frames, items, as_of)) > pd.to_timedelta(interval, unit="D")
    return {str(team): int(n) for team, n in stale.groupby(items["team_id"], sort=True).sum().items()}


def repeat_incidents(findings: pd.DataFrame) -> dict[str, int]:
    """Incidents with an open INC-REPEAT finding, per team."""
    repeats = findings[(findings["rule"] == "INC-REPEAT") & (findings["status"] == "open")]
    return {str(team): int(n) for team, n in repeats.groupby("team_id", sort=True).size().items()}


def median_days_to_close(frames: Mapping[str, pd.DataFrame], as_of: pd.Timestamp) -> dict[str, Any]:
    """Median days from creation to closing, over items closed by as-of."""
    items = frames["action_items"]
    items = items[~open_at(items, as_of) & items["closed_at"].notna()]
    days = _days(items["closed_at"] - items["created_at"])
    return {"all": _median(days), "items": int(days.notna().sum()),
            "by_team": {str(t): _median(d) for t, d in days.groupby(items["team_id"], sort=True)}}


def open_findings_at(findings: pd.DataFrame, instant: pd.Timestamp) -> int:
    """Findings open at `instant` by the store's record (first seen by then, not resolved or waived by then)."""
    import pandas as pd

    if findings.empty:
        return 0
    naive = instant.tz_convert("UTC").tz_localize(None) if instant.tzinfo else instant
    seen = pd.to_datetime(findings["first_seen_as_of"]) <= naive
    resolved = pd.to_datetime(findings["resolved_as_of"])
    still = resolved.isna() | (resolved > naive)
    not_waived = findings["status"] != "waived"
    return int((seen & still & not_waived).sum())


def week_over_week(frames: Mapping[str, pd.DataFrame], findings: pd.DataFrame, policy: Policy,
                   as_of: pd.Timestamp) -> dict[str, dict[str, Any]]:
    """This week against the week before (as-of minus 7 days)."""
    import pandas as pd

    before = as_of - pd.Timedelta(days=7)

    def figures(instant: pd.Timestamp) -> dict[str, Any]:
        items = frames["action_items"]
        open_items = items[open_at(items, instant)]
        overdue = int((item_deadlines(frames, open_items, policy) <= instant).sum())
        return {"open_items": len(open_items), "overdue_items": overdue,
                "closed_within_sla_share": closed_within_sla(frames, policy, instant)["share"],
                "open_findings": open_findings_at(findings, instant)}

    now, then = figures(as_of), figures(before)
    return {name: {"this_week": now[name], "last_week": then[name],
                   "change": _round(now[name] - then[name], 4) if now[name] is not None and then[name] is not None
                   else None} for name in now}


def _changes_in_time_order(history: pd.DataFrame, field: str) -> tuple[pd.DataFrame, pd.Series]:
    """One field's changes with a known instant and item, sorted by time (stable), and those instants."""
    changes = history[(history["field"] == field) & history["changed_at"].notna()
                      & history["action_item_id"].notna()]
    changes = changes.sort_values("changed_at", kind="stable")
    return changes, changes["changed_at"]


def _position(times: pd.Series, instant: pd.Timestamp) -> int:
    """How many of the sorted change instants are at or before `instant`."""
    return int(times.searchsorted(instant, side="right"))


def weekly_trend(frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp,
                 weeks: int = TREND_WEEKS) -> list[dict[str, Any]]:
    """Weekly compliance per team over the last `weeks` weeks, rebuilt from the items' history.

    For each week's end W (as-of, then every 7 days back, not before the first item): the items
    open at W, with the due date and status they had at W; compliance is the share of them with a
    due date whose deadline had not passed at W.
    """
    import numpy as np
    import pandas as pd

    items = frames["action_items"]
    history = frames.get("action_item_history")
    if items.empty:
        return []
    if history is None:
        history = pd.DataFrame(columns=["action_item_id", "changed_at", "field", "old_value", "new_value"])
    start = items["created_at"].min()
    # Everything a week needs is computed once, as arrays over the items in their order; a week is
    # then a few numpy operations (a week used to cost tens of milliseconds of frame operations).
    # Each item's deadline from its due date, once: a week recomputes only the items whose due date
    # changed after that week.
    deadlines = _utc_values(item_deadlines(frames, items, policy))
    due_now = _utc_values(items["due_date"])
    created = _utc_values(items["created_at"])
    closed_at = _utc_values(items["closed_at"])
    closed_status = items["status"].isin(CLOSED_ACTION_STATUSES).to_numpy()
    team_codes, team_names = pd.factorize(items["team_id"], sort=True)  # a missing team: -1, no team's row
    # each field's changes sorted by time (stable: changes at the same instant keep their order); a
    # week takes the changes up to its end (a prefix) or after it (a suffix) by binary search
    status_changes, status_times = _changes_in_time_order(history, "status")
    due_changes, due_times = _changes_in_time_order(history, "due_date")
    codes, _ = pd.factorize(pd.concat([items["action_item_id"], status_changes["action_item_id"],
                                       due_changes["action_item_id"]], ignore_index=True))
    # an item without an id (code -1) gets a slot of its own that no change writes: it matches none
    nobody = int(codes.max()) + 1
    item_of = np.where(codes[:len(items)] < 0, nobody, codes[:len(items)])
    status_of = codes[len(items):len(items) + len(status_changes)]
    due_of = codes[len(items) + len(status_changes):]
    known = nobody + 1
    new_status = status_changes["new_value"].astype("string").to_numpy(dtype=object, na_value=None)
    earlier_dues = _utc_values(pd.to_datetime(due_changes["old_value"].astype("string").replace("", pd.NA),
                                              utc=True, errors="coerce", format="ISO8601"))
    rows: list[dict[str, Any]] = []
    for back in range(weeks - 1, -1, -1):
        week_end = as_of - pd.Timedelta(days=7 * back)
        if pd.notna(start) and week_end < start:
            continue
        instant = week_end.tz_convert("UTC").tz_localize(None).as_unit("ns").to_datetime64()
        # the status each item had at W: its last change up to W (none: the item's own state decides)
        until = _position(status_times, week_end)
        status_then = np.full(known, None, dtype=object)
        last = _last_of_each(status_of[:until])
        status_then[status_of[:until][last]] = new_status[:until][last]
        status_then = status_then[item_of]
        had_status = status_then != None  # noqa: E711  (elementwise: an object array of texts and None)
        closed_by_history = had_status & np.isin(status_then, list(CLOSED_ACTION_STATUSES))
        exists = np.isnat(created) | (created <= instant)
        # without a status change up to W, the item's own status and closing instant say (open_at)
        closed_by_item = ~had_status & (closed_status & ~np.isnat(closed_at) & (closed_at <= instant))
        open_then = exists & ~closed_by_history & ~closed_by_item
        # the due date each item had at W: the old value of its first change after W, else today's
        after = _position(due_times, week_end)
        first = _first_of_each(due_of[after:])
        changed_code = np.zeros(known, dtype=bool)
        changed_code[due_of[after:][first]] = True
        due_by_code = np.full(known, np.datetime64("NaT"), dtype=earlier_dues.dtype)
        due_by_code[due_of[after:][first]] = earlier_dues[after:][first]
        changed_later = open_then & changed_code[item_of]
        due = np.where(changed_later, due_by_code[item_of], due_now)
        deadline = deadlines.copy()
        if changed_later.any():
            changed_rows = items[changed_later]
            deadline[changed_later] = _utc_values(item_deadlines(
                frames, changed_rows, policy, pd.Series(due[changed_later], index=changed_rows.index).dt.tz_localize("UTC")))
        overdue = open_then & (deadline <= instant)
        ok = open_then & ~np.isnat(due) & ~overdue
        # all teams, then each team with an open item that week (sorted): counted with bincount
        counts = [("(all)", int(open_then.sum()), int(overdue.sum()), int(ok.sum()))]
        has_team = team_codes >= 0
        per_team = [np.bincount(team_codes[has_team & mask], minlength=len(team_names))
                    for mask in (open_then, overdue, ok)]
        counts += [(str(team_names[t]), int(per_team[0][t]), int(per_team[1][t]), int(per_team[2][t]))
                   for t in np.flatnonzero(per_team[0])]
        week = week_end.date().isoformat()
        rows += [{"week_end": week, "team_id": team, "open": n, "overdue": late, "compliance": _share(good, n)}
                 for team, n, late, good in counts]
    return rows


def _utc_values(instants: pd.Series) -> Any:
    """A UTC datetime column as a numpy array of naive UTC instants in nanoseconds (NaT where missing)."""
    import pandas as pd

    values = pd.to_datetime(instants, utc=True)
    return values.dt.tz_localize(None).dt.as_unit("ns").to_numpy()


def _last_of_each(codes: Any) -> Any:
    """Positions of the last occurrence of each distinct code."""
    import numpy as np

    _, from_end = np.unique(codes[::-1], return_index=True)
    return len(codes) - 1 - from_end


def _first_of_each(codes: Any) -> Any:
    """Positions of the first occurrence of each distinct code."""
    import numpy as np

    _, first = np.unique(codes, return_index=True)
    return first


def compute_metrics(frames: Mapping[str, pd.DataFrame], findings: pd.DataFrame, policy: Policy,
                    as_of: pd.Timestamp, weeks: int = TREND_WEEKS) -> dict[str, Any]:
    """Every metric of docs/metrics.md, as of the run's instant."""
    return {
        "as_of": as_of.isoformat(),
        "time_to_postmortem": time_to_postmortem(frames, policy, as_of),
        "closed_within_sla": closed_within_sla(frames, policy, as_of),
        "open_by_age": open_by_age(frames, as_of),
        "stale_items": stale_items(frames, policy, as_of),
        "repeat_incidents": repeat_incidents(findings),
        "median_days_to_close": median_days_to_close(frames, as_of),
        "week_over_week": week_over_week(frames, findings, policy, as_of),
        "weekly_trend": weekly_trend(frames, policy, as_of, weeks),
    }
