"""Action-item rules: AI-NO-OWNER and AI-STALE."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from followthrough.model import OPEN_ACTION_STATUSES
from followthrough.rules.common import (
    existing_at,
    finding_frame,
    incident_attributes,
    team_leads,
    text_or_empty,
)

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.policy import Policy


def open_action_items(frames: Mapping[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    """Items that existed at as_of and are still being worked on."""
    items = frames["action_items"]
    return items[items["status"].isin(OPEN_ACTION_STATUSES) & existing_at(items["created_at"], as_of)]


def _team_names(frames: Mapping[str, pd.DataFrame]) -> set[str]:
    teams = frames["teams"]
    return set(teams["team_id"].dropna().str.lower()) | set(teams["name"].dropna().str.lower())


def owner_problem(owners: pd.Series, team_names: set[str], policy: Policy) -> pd.Series:
    """Why each owner is not a named person ('' when it is one): empty, placeholder, team or group."""
    import numpy as np
    import pandas as pd

    normalised = owners.fillna("").astype("string").str.strip().str.lower()
    placeholders = {p.lower() for p in policy.action_items.placeholder_owners}
    group_pattern = "|".join(f"(?:{p})" for p in policy.action_items.group_owner_patterns)
    is_group = normalised.str.contains(group_pattern, regex=True, case=False) if group_pattern else False
    problem = np.select(
        [
            normalised == "",
            normalised.isin(placeholders),
            normalised.isin(team_names),
            is_group,
        ],
        ["no owner set", "owner is a placeholder", "owner is a team, not a person", "owner is a group alias"],
        default="",
    )
    return pd.Series(problem, index=owners.index, dtype="string")


def find_unowned_action_items(
    frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp
) -> pd.DataFrame:
    """AI-NO-OWNER: open items that no named person owns (empty, TBD, a team, a group)."""
    items = open_action_items(frames, as_of)
    problems = owner_problem(items["owner"], _team_names(frames), policy)
    hits = items[problems != ""]
    problems = problems[problems != ""]
    return finding_frame(
        "AI-NO-OWNER",
        "action_item",
        hits,
        subject_id=hits["action_item_id"],
        team_id=hits["team_id"],
        incident_id=hits["incident_id"],
        responsible=team_leads(frames, hits["team_id"]),
        due_at=hits["created_at"],
        confidential=incident_attributes(frames, hits["incident_id"], "confidential"),
        title=hits["summary"],
        reason=problems.map(lambda p: f"{p}: no named person is accountable for this action item"),
        evidence=[
            {"check": "owner is a named person", "observed": text_or_empty(owner),
             "problem": problem, "policy_key": "action_items.placeholder_owners / action_items.group_owner_patterns"}
            for owner, problem in zip(hits["owner"].astype(object), problems, strict=True)
        ],
    )


def last_activity(frames: Mapping[str, pd.DataFrame], items: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Latest status update at or before as_of per item, else the item's creation time."""
    updates = frames["status_updates"]
    known = updates[updates["posted_at"] <= as_of]
    latest = known.groupby("action_item_id", as_index=False)["posted_at"].max()
    # a merge keeps the datetime dtype even when no item has an update
    merged = items[["action_item_id"]].merge(latest, on="action_item_id", how="left")
    return merged["posted_at"].set_axis(items.index).fillna(items["created_at"])


def find_stale_action_items(
    frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp
) -> pd.DataFrame:
    """AI-STALE: open items with no status update for more than the update interval."""
    import pandas as pd

    interval = pd.Timedelta(days=policy.action_items.update_interval_days)
    items = open_action_items(frames, as_of)
    activity = last_activity(frames, items, as_of)
    stale = (as_of - activity) > interval
    hits, activity = items[stale], activity[stale]
    # an item without a named person as owner (empty, TBD, a group) still goes to someone: its team lead
    named_owner = owner_problem(hits["owner"], _team_names(frames), policy) == ""
    responsible = hits["owner"].where(named_owner, team_leads(frames, hits["team_id"]))
    days_silent = ((as_of - activity).dt.total_seconds() // 86400).astype("int64")
    return finding_frame(
        "AI-STALE",
        "action_item",
        hits,
        subject_id=hits["action_item_id"],
        team_id=hits["team_id"],
        incident_id=hits["incident_id"],
        responsible=responsible,
        due_at=activity + interval,
        confidential=incident_attributes(frames, hits["incident_id"], "confidential"),
        title=hits["summary"],
        reason=days_silent.map(
            lambda d: f"no status update for {d} days (policy: at least every "
            f"{policy.action_items.update_interval_days} days)"
        ),
        evidence=[
            {"check": "days since last status update", "observed": int(d), "last_activity": a.isoformat(),
             "threshold_days": policy.action_items.update_interval_days,
             "policy_key": "action_items.update_interval_days"}
            for d, a in zip(days_silent, activity, strict=True)
        ],
    )
