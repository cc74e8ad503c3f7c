"""What every rule shares: the findings frame layout and the canonical joins rules need."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

FINDING_COLUMNS = [
    "rule",
    "subject_type",
    "subject_id",
    "team_id",
    "incident_id",
    "responsible",  # person to address first: the owner, or the team lead when there is none
    "due_at",  # when the follow-up became due (UTC); the escalation ladder counts from here
    "critical",
    "confidential",
    "title",  # what the subject is, for the ticket and the message
    "reason",  # why the rule fired, in one sentence
    "evidence",  # dict: what was checked, the observed value, the threshold, the policy key
]

DEFAULT_TIMEZONE = "UTC"


def text_or_empty(value: object) -> str:
    """A cell as text; None, NaN and pd.NA become ''."""
    import pandas as pd

    return "" if value is None or pd.isna(value) else str(value)


def empty_findings() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype="object") for c in FINDING_COLUMNS})


def team_timezones(frames: Mapping[str, pd.DataFrame], team_ids: pd.Series) -> pd.Series:
    """Each row's team time zone (UTC when the team is unknown)."""
    teams = frames["teams"].drop_duplicates("team_id").set_index("team_id")["timezone"]
    return team_ids.map(teams).fillna(DEFAULT_TIMEZONE).astype("string")


def team_leads(frames: Mapping[str, pd.DataFrame], team_ids: pd.Series) -> pd.Series:
    teams = frames["teams"].drop_duplicates("team_id").set_index("team_id")["lead"]
    return team_ids.map(teams).astype("string")


def incident_attributes(frames: Mapping[str, pd.DataFrame], incident_ids: pd.Series, column: str) -> pd.Series:
    incidents = frames["incidents"].drop_duplicates("incident_id").set_index("incident_id")[column]
    return incident_ids.map(incidents)


def existing_at(created: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """Rows that existed at the as-of instant (no creation time counts as existing)."""
    return created.isna() | (created <= as_of)


def finding_frame(rule: str, subject_type: str, rows: pd.DataFrame, **columns: object) -> pd.DataFrame:
    """Assemble a findings frame for `rows` from per-row columns (Series or scalars)."""
    import pandas as pd

    frame = pd.DataFrame(index=rows.index)
    frame["rule"] = rule
    frame["subject_type"] = subject_type
    for name in FINDING_COLUMNS[2:]:
        frame[name] = columns.get(name)
    frame["critical"] = frame["critical"].fillna(False).astype(bool)
    frame["confidential"] = frame["confidential"].fillna(False).astype(bool)
    return frame.reset_index(drop=True)[FINDING_COLUMNS]
