"""Walk the escalation ladder over simulated days: what each day adds to the outbox.

Each day plans from the same open finding; the outbox keeps one entry per idempotency key,
so what a day adds is the set of keys not seen before. Weekends and the team's public
holidays do not count, each team counts in its own time zone, a finding is messaged at most
once a day, and nothing more is sent once it is resolved.
"""

from __future__ import annotations

import pandas as pd
import pytest

from followthrough.escalation import plan_actions
from followthrough.policy import policy_for_tests
from tests.unit.frames import frames

POLICY = policy_for_tests()


def _finding(team: str, *, critical: bool = False, first_seen: str = "2026-06-29T10:00:00") -> dict:
    return {"fingerprint": f"fp-{team}", "episode": 1, "rule": "AI-STALE", "subject_type": "action_item",
            "subject_id": "AI-1", "team_id": team, "incident_id": "INC-1", "responsible": "omar.owner",
            "due_at": pd.Timestamp("2026-06-29T09:00:00"), "episode_started_as_of": pd.Timestamp(first_seen),
            "critical": critical, "confidential": False, "title": "Add alert", "reason": "no status update"}


def walk(finding: dict, days: list[str], resolved_on: str | None = None) -> dict[str, list[str]]:
    """Per simulated day (10:00 UTC), the actions it adds; after `resolved_on` the finding is resolved."""
    seen: set[str] = set()
    added: dict[str, list[str]] = {}
    for day in days:
        as_of = pd.Timestamp(f"{day}T10:00:00Z")
        if resolved_on and day >= resolved_on:
            actions = plan_actions(pd.DataFrame(), pd.DataFrame([finding]), frames(), POLICY, as_of)
        else:
            actions = plan_actions(pd.DataFrame([finding]), pd.DataFrame(), frames(), POLICY, as_of)
        new = [a for a in actions if a["idempotency_key"] not in seen]
        seen.update(a["idempotency_key"] for a in actions)
        added[day] = sorted(a["action"] for a in new)
    return added


DAYS = [f"2026-07-{d:02d}" for d in range(1, 20)] + ["2026-06-29", "2026-06-30"]
DAYS.sort()


def test_ladder_in_berlin_skips_the_weekend() -> None:
    added = walk(_finding("checkout"), DAYS)  # Berlin; DE has no public holiday in this window
    assert added["2026-06-29"] == ["create_ticket", "dm_owner"]  # Mon: step 0
    assert added["2026-07-01"] == ["comment_ticket", "post_team_channel"]  # Wed: 2 business days
    assert added["2026-07-04"] == ["comment_ticket", "dm_manager"]  # 5 business days by Saturday
    # the 10th business day (Fri 10 July) has passed by Saturday: step 3 is planned then...
    assert added["2026-07-11"] == ["comment_ticket", "leadership_digest"]
    quiet = [d for d in DAYS if d not in ("2026-06-29", "2026-07-01", "2026-07-04", "2026-07-11")]
    assert all(added[d] == [] for d in quiet)  # at most one reminder a day, none on other days


def test_messages_planned_on_a_weekend_wait_for_monday_morning() -> None:
    as_of = pd.Timestamp("2026-07-11T10:00:00Z")  # Saturday
    actions = plan_actions(pd.DataFrame([_finding("checkout")]), pd.DataFrame(), frames(), POLICY, as_of)
    digest = [a for a in actions if a["action"] == "leadership_digest"][0]
    assert digest["payload"]["send_after"] == "2026-07-13T07:00:00+00:00"  # ...and sent Mon 09:00 in Berlin


def test_ladder_in_new_york_skips_independence_day() -> None:
    added = walk(_finding("growth"), DAYS)  # New York, US: Fri 3 July is a holiday
    assert added["2026-07-01"] == ["comment_ticket", "post_team_channel"]
    assert added["2026-07-06"] == []  # only 4 business days: Tue, Wed, Thu, Mon
    assert added["2026-07-07"] == ["comment_ticket", "dm_manager"]
    assert added["2026-07-14"] == ["comment_ticket", "leadership_digest"]


def test_each_day_messages_a_finding_at_most_once() -> None:
    added = walk(_finding("growth"), DAYS)
    for actions in added.values():
        assert len([a for a in actions if a != "comment_ticket" and a != "create_ticket"]) <= 1


def test_silence_after_resolution() -> None:
    added = walk(_finding("checkout"), DAYS, resolved_on="2026-07-03")
    assert added["2026-07-03"] == ["resolve_ticket"]
    assert all(added[d] == [] for d in DAYS if d > "2026-07-03")


@pytest.mark.parametrize("team", ["checkout", "search"])
def test_critical_findings_start_at_step_two(team: str) -> None:
    added = walk(_finding(team, critical=True), DAYS)
    assert added["2026-06-29"] == ["comment_ticket", "create_ticket", "dm_manager", "dm_owner"]
    assert added["2026-07-11"] == ["comment_ticket", "leadership_digest"]
