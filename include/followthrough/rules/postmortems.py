"""Postmortem rules: PM-OVERDUE."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from followthrough.calendar import add_business_days
from followthrough.policy import requires_postmortem
from followthrough.rules.common import finding_frame, team_leads, team_timezones

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.policy import Policy


def find_overdue_postmortems(
    frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp
) -> pd.DataFrame:
    """PM-OVERDUE: a required postmortem not published within N business days of resolution.

    The limit is counted on the incident team's local calendar; the finding fires once as_of
    is strictly past it and the postmortem is not published as of as_of.
    """
    incidents = frames["incidents"].drop_duplicates("incident_id")
    joined = frames["postmortems"].merge(
        incidents[["incident_id", "severity", "team_id", "resolved_at", "confidential", "title"]],
        on="incident_id",
        how="inner",
    )
    required = joined["severity"].isin(requires_postmortem(policy))
    resolved = joined["resolved_at"].notna() & (joined["resolved_at"] <= as_of)
    candidates = joined[required & resolved]
    days = policy.postmortem.limit_business_days
    deadline = add_business_days(
        candidates["resolved_at"], days, team_timezones(frames, candidates["team_id"])
    )
    published = candidates["published_at"].notna() & (candidates["published_at"] <= as_of)
    overdue = (as_of > deadline) & ~published
    hits, deadline = candidates[overdue], deadline[overdue]
    owners = hits["owner"].where(hits["owner"].notna(), team_leads(frames, hits["team_id"]))
    return finding_frame(
        "PM-OVERDUE",
        "postmortem",
        hits,
        subject_id=hits["postmortem_id"],
        team_id=hits["team_id"],
        incident_id=hits["incident_id"],
        responsible=owners,
        due_at=deadline,
        critical=hits["severity"] == "SEV1",
        confidential=hits["confidential"],
        title="Postmortem for " + hits["incident_id"] + ": " + hits["title"].fillna(""),
        reason=[
            f"{sev} postmortem not published {days} business days after resolution "
            f"(due {d.isoformat()}, status {status})"
            for sev, d, status in zip(hits["severity"], deadline, hits["status"], strict=True)
        ],
        evidence=[
            {"check": "published within the limit", "observed_status": status, "resolved_at": r.isoformat(),
             "deadline": d.isoformat(), "threshold_business_days": days,
             "policy_key": "postmortem.limit_business_days"}
            for status, r, d in zip(hits["status"], hits["resolved_at"], deadline, strict=True)
        ],
    )
