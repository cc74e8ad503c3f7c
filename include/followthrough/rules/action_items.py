"""Action-item rules: ownership, quality, deadlines, staleness, drift and won't-do closures.

See docs/rules.md for the exact semantics of each rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from followthrough.model import OPEN_ACTION_STATUSES, PRIORITIES
from followthrough.rules.common import (
    existing_at,
    finding_frame,
    incident_attributes,
    is_blank,
    team_leads,
    team_timezones,
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
        [normalised == "", normalised.isin(placeholders), normalised.isin(team_names), is_group],
        ["no owner set", "owner is a placeholder", "owner is a team, not a person", "owner is a group alias"],
        default="",
    )
    return pd.Series(problem, index=owners.index, dtype="string")


def responsible_for(frames: Mapping[str, pd.DataFrame], items: pd.DataFrame, policy: Policy) -> pd.Series:
    """The item's owner when a named person owns it, else its team lead."""
    named = owner_problem(items["owner"], _team_names(frames), policy) == ""
    return items["owner"].where(named, team_leads(frames, items["team_id"])).astype("string")


def _item_findings(rule: str, frames: Mapping[str, pd.DataFrame], hits: pd.DataFrame, policy: Policy,
                   *, responsible: pd.Series | None = None, **columns: Any) -> pd.DataFrame:
    """The columns every action-item finding shares, plus the rule's own."""
    return finding_frame(
        rule,
        "action_item",
        hits,
        subject_id=hits["action_item_id"],
        team_id=hits["team_id"],
        incident_id=hits["incident_id"],
        responsible=responsible if responsible is not None else responsible_for(frames, hits, policy),
        confidential=incident_attributes(frames, hits["incident_id"], "confidential"),
        title=hits["summary"],
        **columns,
    )


def find_unowned_action_items(frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """AI-NO-OWNER: open items that no named person owns (empty, TBD, a team, a group)."""
    items = open_action_items(frames, as_of)
    problems = owner_problem(items["owner"], _team_names(frames), policy)
    hits, problems = items[problems != ""], problems[problems != ""]
    return _item_findings(
        "AI-NO-OWNER", frames, hits, policy,
        responsible=team_leads(frames, hits["team_id"]),
        due_at=hits["created_at"],
        reason=problems.map(lambda p: f"{p}: no named person is accountable for this action item"),
        evidence=[
            {"check": "owner is a named person", "observed": text_or_empty(owner), "problem": problem,
             "policy_key": "action_items.placeholder_owners / action_items.group_owner_patterns"}
            for owner, problem in zip(hits["owner"].astype(object), problems, strict=True)
        ],
    )


def find_departed_owners(frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """AI-OWNER-GONE: open items owned by a person who is not an active member of the roster."""
    items = open_action_items(frames, as_of)
    named = owner_problem(items["owner"], _team_names(frames), policy) == ""
    people = frames["people"]
    active = set(people.loc[people["active"].fillna(False).astype(bool), "person_id"].str.strip().str.lower())
    known = set(people["person_id"].str.strip().str.lower())
    owner = items["owner"].fillna("").str.strip().str.lower()
    hits = items[named & ~owner.isin(active)]
    state = owner[hits.index].map(lambda o: "inactive in the roster" if o in known else "not in the roster")
    return _item_findings(
        "AI-OWNER-GONE", frames, hits, policy,
        responsible=team_leads(frames, hits["team_id"]),
        due_at=hits["created_at"],
        reason=[f"owner {o} is {s}: the item needs a new owner" for o, s in zip(hits["owner"], state, strict=True)],
        evidence=[{"check": "owner is an active person in the roster", "observed": o, "problem": s,
                   "policy_key": "people.csv active"} for o, s in zip(hits["owner"], state, strict=True)],
    )


def find_vague_action_items(frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """AI-VAGUE: open items whose summary names no concrete failure mode, target or outcome."""
    from followthrough.rules.vague import assess_summaries

    items = open_action_items(frames, as_of)
    verdicts = assess_summaries(items["summary"])
    hits = items[verdicts["vague"].to_numpy()]
    reasons = verdicts.loc[hits.index, "reasons"]
    return _item_findings(
        "AI-VAGUE", frames, hits, policy,
        due_at=hits["created_at"],
        reason=["not specific enough to act on: " + "; ".join(r["detail"] for r in rs) for rs in reasons],
        evidence=[{"check": "summary names a concrete failure mode, target or measurable outcome",
                   "observed": text_or_empty(s), "reasons": list(rs), "policy_key": "rules.vague"}
                  for s, rs in zip(hits["summary"].astype(object), reasons, strict=True)],
    )


def find_items_without_due_date(frames: Mapping[str, pd.DataFrame], policy: Policy,
                                as_of: pd.Timestamp) -> pd.DataFrame:
    """AI-NO-DUE: open items with no due date."""
    items = open_action_items(frames, as_of)
    hits = items[items["due_date"].isna()]
    return _item_findings(
        "AI-NO-DUE", frames, hits, policy,
        due_at=hits["created_at"],
        reason="no due date: nobody can tell when this is late",
        evidence=[{"check": "due date is set", "observed": None, "policy_key": "action_items.due_limit_days"}] * len(hits),
    )


def due_limit_days(frames: Mapping[str, pd.DataFrame], items: pd.DataFrame, policy: Policy) -> pd.Series:
    """Days from creation allowed by policy: the stricter of the priority and severity limits (NaN: none)."""
    import numpy as np
    import pandas as pd

    limits = policy.action_items.due_limit_days
    by_priority = items["priority"].map(limits.by_priority).astype("float64")
    severity = incident_attributes(frames, items["incident_id"], "severity")
    by_severity = severity.map(limits.by_severity).astype("float64")
    # fmin: the smaller, ignoring a missing one (over whole arrays: Series.combine calls it per row)
    return pd.Series(np.fmin(by_priority.to_numpy(), by_severity.to_numpy()), index=items.index, dtype="float64")


def find_due_dates_beyond_sla(frames: Mapping[str, pd.DataFrame], policy: Policy,
                              as_of: pd.Timestamp) -> pd.DataFrame:
    """AI-DUE-BEYOND-SLA: the due date is later than the policy allows for the priority/severity."""
    import pandas as pd

    items = open_action_items(frames, as_of)
    items = items[items["due_date"].notna()]
    limit = due_limit_days(frames, items, policy)
    latest = items["created_at"].dt.normalize() + pd.to_timedelta(limit, unit="D")
    beyond = limit.notna() & (items["due_date"] > latest)
    hits, limit, latest = items[beyond], limit[beyond], latest[beyond]
    # dates as text column by column (a Timestamp per row costs more than the rule itself at 1M items)
    due_days, latest_days = _day_texts(hits["due_date"]), _day_texts(latest)
    limit_days = limit.astype("int64").tolist()
    return _item_findings(
        "AI-DUE-BEYOND-SLA", frames, hits, policy,
        due_at=hits["created_at"],
        reason=[f"due {d} is later than the {n} days the policy allows (latest {m})"
                for d, n, m in zip(due_days, limit_days, latest_days, strict=True)],
        evidence=[{"check": "due date within the limit for its priority and incident severity",
                   "observed": d, "threshold_days": n, "latest_allowed": m,
                   "priority": text_or_empty(p), "policy_key": "action_items.due_limit_days"}
                  for d, n, m, p in zip(due_days, limit_days, latest_days, hits["priority"].astype(object),
                                        strict=True)],
    )


def _day_texts(instants: pd.Series) -> list[str]:
    """Each UTC instant's calendar day as YYYY-MM-DD (what Timestamp.date().isoformat() gives)."""
    return instants.dt.strftime("%Y-%m-%d").tolist()


def find_overdue_action_items(frames: Mapping[str, pd.DataFrame], policy: Policy,
                              as_of: pd.Timestamp) -> pd.DataFrame:
    """AI-OVERDUE: open items past the end of their due date in the team's time zone."""
    import pandas as pd

    from followthrough.calendar import local_day_start

    items = open_action_items(frames, as_of)
    items = items[items["due_date"].notna()]
    late_from = local_day_start(items["due_date"] + pd.Timedelta(days=1), team_timezones(frames, items["team_id"],
                                                                                         policy))
    hits, late_from = items[as_of >= late_from], late_from[as_of >= late_from]
    days_late = ((as_of - late_from).dt.total_seconds() // 86400 + 1).astype("int64").tolist()
    due_days = _day_texts(hits["due_date"])
    return _item_findings(
        "AI-OVERDUE", frames, hits, policy,
        due_at=late_from,
        reason=[f"past its due date {d} by {n} day{'s' if n != 1 else ''}"
                for d, n in zip(due_days, days_late, strict=True)],
        evidence=[{"check": "open after its due date", "observed": d, "days_late": n,
                   "policy_key": "action_items.due_date"} for d, n in zip(due_days, days_late, strict=True)],
    )


def last_activity(frames: Mapping[str, pd.DataFrame], items: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Latest status update at or before as_of per item, else the item's creation time."""
    updates = frames["status_updates"]
    known = updates[updates["posted_at"] <= as_of]
    latest = known.groupby("action_item_id", as_index=False)["posted_at"].max()
    # a merge keeps the datetime dtype even when no item has an update
    merged = items[["action_item_id"]].merge(latest, on="action_item_id", how="left")
    return merged["posted_at"].set_axis(items.index).fillna(items["created_at"])


def find_stale_action_items(frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """AI-STALE: open items with no status update for more than the update interval (per team)."""
    import pandas as pd

    items = open_action_items(frames, as_of)
    overrides = {t: o.update_interval_days for t, o in policy.teams.items() if o.update_interval_days}
    interval_days = items["team_id"].map(overrides).fillna(policy.action_items.update_interval_days).astype("int64")
    interval = pd.to_timedelta(interval_days, unit="D")
    activity = last_activity(frames, items, as_of)
    stale = (as_of - activity) > interval
    hits, activity, interval_days = items[stale], activity[stale], interval_days[stale]
    days_silent = ((as_of - activity).dt.total_seconds() // 86400).astype("int64")
    return _item_findings(
        "AI-STALE", frames, hits, policy,
        due_at=activity + pd.to_timedelta(interval_days, unit="D"),
        reason=[f"no status update for {d} days (policy: at least every {n} days)"
                for d, n in zip(days_silent, interval_days, strict=True)],
        evidence=[
            {"check": "days since last status update", "observed": int(d), "last_activity": a.isoformat(),
             "threshold_days": int(n), "policy_key": "action_items.update_interval_days"}
            for d, a, n in zip(days_silent, activity, interval_days, strict=True)
        ],
    )


def find_drifting_action_items(frames: Mapping[str, pd.DataFrame], policy: Policy,
                               as_of: pd.Timestamp) -> pd.DataFrame:
    """AI-DRIFT: the due date was pushed later repeatedly, or the priority was lowered."""
    import pandas as pd

    items = open_action_items(frames, as_of)
    history = frames["action_item_history"]
    history = history[history["changed_at"] <= as_of]
    due = history[history["field"] == "due_date"]
    old_due = pd.to_datetime(due["old_value"], errors="coerce", format="%Y-%m-%d")
    new_due = pd.to_datetime(due["new_value"], errors="coerce", format="%Y-%m-%d")
    pushes = due[new_due > old_due].groupby("action_item_id").size()
    rank = {p: i for i, p in enumerate(PRIORITIES)}  # P1 = 0 is the highest priority
    prio = history[history["field"] == "priority"]
    lowered = prio[prio["new_value"].map(rank) > prio["old_value"].map(rank)].groupby("action_item_id").agg(
        changes=("new_value", "size"), last=("new_value", "last"))
    push_count = items["action_item_id"].map(pushes).fillna(0).astype("int64")
    lowered_count = items["action_item_id"].map(lowered["changes"] if not lowered.empty else {}).fillna(0).astype(
        "int64")
    drift = policy.action_items.drift
    fires = (push_count >= drift.max_due_date_pushes) | ((lowered_count > 0) & drift.flag_priority_lowered)
    hits, push_count, lowered_count = items[fires], push_count[fires], lowered_count[fires]
    return _item_findings(
        "AI-DRIFT", frames, hits, policy,
        due_at=hits["created_at"],
        reason=[
            "; ".join(filter(None, [f"due date pushed later {p} times" if p >= drift.max_due_date_pushes else "",
                                    f"priority lowered {lw} time{'s' if lw != 1 else ''}" if lw else ""]))
            for p, lw in zip(push_count, lowered_count, strict=True)
        ],
        evidence=[{"check": "due date and priority hold", "due_date_pushes": int(p), "priority_lowered": int(lw),
                   "threshold_pushes": drift.max_due_date_pushes,
                   "policy_key": "action_items.drift"} for p, lw in zip(push_count, lowered_count, strict=True)],
    )


def find_unjustified_wont_do(frames: Mapping[str, pd.DataFrame], policy: Policy,
                             as_of: pd.Timestamp) -> pd.DataFrame:
    """AI-WONTDO-UNJUSTIFIED: closed as won't do without a reason or without an approver other than the owner."""
    items = frames["action_items"]
    closed = items[(items["status"] == "wont_do") & existing_at(items["created_at"], as_of)
                   & (items["closed_at"].isna() | (items["closed_at"] <= as_of))]
    no_reason = is_blank(closed["resolution_note"])
    approver = closed["approver"].fillna("").str.strip().str.lower()
    no_approver = (approver == "") | (approver == closed["owner"].fillna("").str.strip().str.lower())
    fires = no_reason | no_approver
    hits, no_reason, no_approver = closed[fires], no_reason[fires], no_approver[fires]
    return _item_findings(
        "AI-WONTDO-UNJUSTIFIED", frames, hits, policy,
        responsible=team_leads(frames, hits["team_id"]),
        due_at=hits["closed_at"].fillna(hits["created_at"]),
        reason=[
            "closed as won't do " + " and ".join(filter(None, ["without a reason" if r else "",
                                                              "without an approver other than the owner" if a else ""]))
            for r, a in zip(no_reason, no_approver, strict=True)
        ],
        evidence=[{"check": "won't-do closure has a reason and an approver", "reason_given": not r,
                   "approver": text_or_empty(ap), "policy_key": "action_items (wont_do)"}
                  for r, ap in zip(no_reason, hits["approver"].astype(object), strict=True)],
    )
