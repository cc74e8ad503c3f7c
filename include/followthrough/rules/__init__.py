"""Follow-up rules: pure, vectorised functions over canonical frames -> findings.

A rule takes the typed canonical frames, the policy and the run's "as of" instant and
returns a findings frame (`FINDING_COLUMNS`). Rules know nothing of Airflow, Jira or
Slack, never read the clock, and ignore rows that did not exist yet at the as-of instant,
so re-running a past day reproduces its findings. docs/rules.md gives their semantics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from followthrough.rules.action_items import (
    find_departed_owners,
    find_drifting_action_items,
    find_due_dates_beyond_sla,
    find_items_without_due_date,
    find_overdue_action_items,
    find_stale_action_items,
    find_unjustified_wont_do,
    find_unowned_action_items,
    find_vague_action_items,
)
from followthrough.rules.common import FINDING_COLUMNS, empty_findings, with_confidentiality
from followthrough.rules.incidents import (
    find_category_gaps,
    find_incidents_without_actions,
    find_repeat_incidents,
)
from followthrough.rules.postmortems import (
    find_blaming_postmortems,
    find_incomplete_postmortems,
    find_insular_postmortems,
    find_missing_postmortems,
    find_overdue_postmortems,
)
from followthrough.rules.source import find_invalid_source_rows

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.policy import Policy

Rule = Callable[["Mapping[str, pd.DataFrame]", "Policy", "pd.Timestamp"], "pd.DataFrame"]

RULES: dict[str, Rule] = {
    "PM-MISSING": find_missing_postmortems,
    "PM-OVERDUE": find_overdue_postmortems,
    "PM-INCOMPLETE": find_incomplete_postmortems,
    "PM-BLAME": find_blaming_postmortems,
    "PM-INSULAR": find_insular_postmortems,
    "PM-NO-ACTIONS": find_incidents_without_actions,
    "AI-NO-OWNER": find_unowned_action_items,
    "AI-OWNER-GONE": find_departed_owners,
    "AI-VAGUE": find_vague_action_items,
    "AI-NO-DUE": find_items_without_due_date,
    "AI-DUE-BEYOND-SLA": find_due_dates_beyond_sla,
    "AI-OVERDUE": find_overdue_action_items,
    "AI-STALE": find_stale_action_items,
    "AI-DRIFT": find_drifting_action_items,
    "AI-WONTDO-UNJUSTIFIED": find_unjustified_wont_do,
    "INC-CATEGORY-GAP": find_category_gaps,
    "INC-REPEAT": find_repeat_incidents,
    "SRC-INVALID": find_invalid_source_rows,
}


def evaluate_rules(frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp,
                   rules: Mapping[str, Rule] = RULES) -> pd.DataFrame:
    """Every rule over the frames, as one findings frame sorted by rule and subject."""
    import pandas as pd

    frames = with_confidentiality(frames, policy)
    results = [rule(frames, policy, as_of) for rule in rules.values()]
    non_empty = [r for r in results if not r.empty]
    if not non_empty:
        return empty_findings()
    findings = pd.concat(non_empty, ignore_index=True)[FINDING_COLUMNS]
    duplicated = findings.duplicated(["rule", "subject_type", "subject_id"])
    if duplicated.any():  # one finding per (rule, subject): its identity
        raise ValueError(f"rules produced duplicate findings: {findings[duplicated][['rule', 'subject_id']].values}")
    return findings.sort_values(["rule", "subject_id"], ignore_index=True)
