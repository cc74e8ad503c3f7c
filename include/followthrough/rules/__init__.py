"""Follow-up rules: pure, vectorised functions over canonical frames -> findings.

A rule takes the typed canonical frames, the policy and the run's "as of" instant and
returns a findings frame (`FINDING_COLUMNS`). Rules know nothing of Airflow, Jira or
Slack, never read the clock, and ignore rows that did not exist yet at the as-of instant,
so re-running a past day reproduces its findings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from followthrough.rules.action_items import find_stale_action_items, find_unowned_action_items
from followthrough.rules.common import FINDING_COLUMNS, empty_findings
from followthrough.rules.postmortems import find_overdue_postmortems

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.policy import Policy

Rule = Callable[["Mapping[str, pd.DataFrame]", "Policy", "pd.Timestamp"], "pd.DataFrame"]

RULES: dict[str, Rule] = {
    "AI-NO-OWNER": find_unowned_action_items,
    "AI-STALE": find_stale_action_items,
    "PM-OVERDUE": find_overdue_postmortems,
}


def evaluate_rules(frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """Every rule over the frames, as one findings frame sorted by rule and subject."""
    import pandas as pd

    results = [rule(frames, policy, as_of) for rule in RULES.values()]
    non_empty = [r for r in results if not r.empty]
    if not non_empty:
        return empty_findings()
    findings = pd.concat(non_empty, ignore_index=True)[FINDING_COLUMNS]
    return findings.sort_values(["rule", "subject_id"], ignore_index=True)
