"""What every rule shares: the findings frame layout, the team calendar and roster lookups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from followthrough.calendar import Calendars

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.policy import Limit, Policy

FINDING_COLUMNS = [
    "rule",
    "subject_type",
    "subject_id",
    "level",  # violation | warning (a warning only reminds the owner; it escalates no further)
    "team_id",
    "incident_id",
    "responsible",  # person to address first: the owner, or the team lead when there is none
    "due_at",  # when the follow-up became due (UTC); the escalation ladder counts from here
    "critical",  # starts at the policy's critical ladder step
    "confidential",  # never described in channels or digests
    "private",  # told to the responsible person only (PM-BLAME): no channel, manager or digest
    "title",  # what the subject is, for the ticket and the message
    "reason",  # why the rule fired, in one sentence
    "evidence",  # dict: what was checked, the observed value, the threshold, the policy key
]

PLACEHOLDER_TEXT = frozenset({"", "tbd", "tba", "todo", "n/a", "na", "none", "-", "?", "..."})


def empty_findings() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype="object") for c in FINDING_COLUMNS})


def text_or_empty(value: object) -> str:
    """A cell as text; None, NaN and pd.NA become ''."""
    if type(value) is str:  # most cells: no pandas call (this runs for every field of every finding)
        return value
    import pandas as pd

    return "" if value is None or pd.isna(value) else str(value)


def is_blank(values: pd.Series) -> pd.Series:
    """Empty, whitespace or a placeholder such as TBD."""
    return values.fillna("").astype("string").str.strip().str.lower().isin(PLACEHOLDER_TEXT)


def calendars(policy: Policy) -> Calendars:
    return Calendars(public=policy.calendar.public_holidays, extra=tuple(policy.calendar.extra_holidays))


def _team_attribute(frames: Mapping[str, pd.DataFrame], team_ids: pd.Series, column: str) -> pd.Series:
    teams = frames["teams"].drop_duplicates("team_id").set_index("team_id")[column]
    return team_ids.map(teams)


def team_timezones(frames: Mapping[str, pd.DataFrame], team_ids: pd.Series, policy: Policy | None = None) -> pd.Series:
    """Each row's team time zone: the policy's override, else teams.csv, else the default."""
    zones = _team_attribute(frames, team_ids, "timezone").astype("string")
    default = policy.calendar.default_timezone if policy else "UTC"
    overrides = {t: o.timezone for t, o in policy.teams.items() if o.timezone} if policy else {}
    if overrides:
        zones = team_ids.map(overrides).astype("string").fillna(zones)
    return zones.fillna(default)


def team_regions(frames: Mapping[str, pd.DataFrame], team_ids: pd.Series, policy: Policy | None = None) -> pd.Series:
    regions = _team_attribute(frames, team_ids, "region").astype("string")
    overrides = {t: o.region for t, o in policy.teams.items() if o.region} if policy else {}
    if overrides:
        regions = team_ids.map(overrides).astype("string").fillna(regions)
    return regions.fillna("")


def team_leads(frames: Mapping[str, pd.DataFrame], team_ids: pd.Series) -> pd.Series:
    return _team_attribute(frames, team_ids, "lead").astype("string")


def add_limit(frames: Mapping[str, pd.DataFrame], policy: Policy, instants: pd.Series, team_ids: pd.Series,
              limit: Limit) -> pd.Series:
    """instants + the limit, in calendar days or in business days on each team's calendar."""
    from followthrough.calendar import add_business_days, add_calendar_days

    if limit.calendar_days is not None:
        return add_calendar_days(instants, limit.calendar_days).astype("datetime64[ns, UTC]")
    return add_business_days(instants, int(limit.business_days or 0), team_timezones(frames, team_ids, policy),
                             team_regions(frames, team_ids, policy), calendars(policy))


def describe_limit(limit: Limit) -> str:
    if limit.calendar_days is not None:
        return f"{limit.calendar_days} calendar days"
    return f"{limit.business_days} business days"


def with_confidentiality(frames: Mapping[str, pd.DataFrame], policy: Policy) -> dict[str, pd.DataFrame]:
    """The frames with each incident's `confidential` flag set by the policy as well as the source.

    An incident is confidential when its source says so, or when it carries one of
    `incidents.confidential_labels` (case-insensitive, labels separated by `;` or `,`), or has
    one of `incidents.confidential_severities` or `.confidential_categories` (root cause).
    """
    import pandas as pd

    incidents = frames.get("incidents")
    if incidents is None or incidents.empty:
        return dict(frames)
    rules = policy.incidents
    flag = incidents["confidential"].astype("boolean").fillna(False) if "confidential" in incidents else (
        pd.Series(False, index=incidents.index, dtype="boolean"))
    if rules.confidential_labels and "labels" in incidents:
        wanted = {label.casefold() for label in rules.confidential_labels}
        labels = incidents["labels"].astype("string").fillna("").str.casefold().str.split(r"\s*[;,]\s*", regex=True)
        flag = flag | labels.map(lambda items: bool(wanted.intersection(items))).astype("boolean")
    if rules.confidential_severities and "severity" in incidents:
        flag = flag | incidents["severity"].isin(list(rules.confidential_severities)).astype("boolean")
    if rules.confidential_categories and "root_cause_category" in incidents:
        wanted_categories = [c.casefold() for c in rules.confidential_categories]
        flag = flag | incidents["root_cause_category"].astype("string").str.casefold().isin(
            wanted_categories).fillna(False).astype("boolean")
    return {**frames, "incidents": incidents.assign(confidential=flag.astype(bool))}


def incident_attributes(frames: Mapping[str, pd.DataFrame], incident_ids: pd.Series, column: str) -> pd.Series:
    incidents = frames["incidents"].drop_duplicates("incident_id").set_index("incident_id")[column]
    return incident_ids.map(incidents)


def rows_where(frame: pd.DataFrame | pd.Series, mask: list[bool] | pd.Series) -> pd.DataFrame | pd.Series:
    """Rows of `frame` where a positional boolean mask is true (an empty list selects no rows)."""
    import numpy as np

    return frame[np.asarray(mask, dtype=bool)]


def existing_at(created: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """Rows that existed at the as-of instant (no creation time counts as existing)."""
    return created.isna() | (created <= as_of)


def finding_frame(rule: str, subject_type: str, rows: pd.DataFrame, **columns: object) -> pd.DataFrame:
    """Assemble a findings frame for `rows` from per-row columns (Series, lists or scalars)."""
    import pandas as pd

    frame = pd.DataFrame(index=rows.index)
    frame["rule"] = rule
    frame["subject_type"] = subject_type
    for name in FINDING_COLUMNS[2:]:
        frame[name] = columns.get(name)
    frame["level"] = frame["level"].fillna("violation")
    for flag in ("critical", "confidential", "private"):
        frame[flag] = frame[flag].astype("boolean").fillna(False).astype(bool)
    return frame.reset_index(drop=True)[FINDING_COLUMNS]
