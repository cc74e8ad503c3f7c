from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from followthrough.policy import Policy
from followthrough.rules.postmortems import find_overdue_postmortems
from tests.unit.frames import AS_OF, frames

POLICY = Policy(sources=[{"name": "demo", "path": "x"}])


def _case(resolved_at: str, *, team: str = "payments", severity: str = "SEV2", published_at: str = "",
          status: str = "draft") -> dict[str, Any]:
    return frames(
        incidents=[{"incident_id": "INC-1", "title": "Checkout 5xx", "severity": severity, "status": "resolved",
                    "team_id": team, "started_at": "2026-06-01T00:00:00+00:00", "resolved_at": resolved_at,
                    "confidential": "false"}],
        postmortems=[{"postmortem_id": "PM-1", "incident_id": "INC-1", "owner": "omar.owner", "status": status,
                      "created_at": "2026-06-02T00:00:00+00:00", "published_at": published_at}],
    )


def test_overdue_fires_after_five_business_days() -> None:
    result = find_overdue_postmortems(_case("2026-07-07T10:00:00+00:00"), POLICY, AS_OF)  # Tue -> due Tue 14th
    assert list(result["subject_id"]) == ["PM-1"]
    assert result.loc[0, "due_at"] == pd.Timestamp("2026-07-14T10:00:00Z")
    assert result.loc[0, "responsible"] == "omar.owner"
    assert not result.loc[0, "critical"]


def test_overdue_exactly_at_the_deadline_does_not_fire() -> None:
    assert find_overdue_postmortems(_case("2026-07-08T10:00:00+00:00"), POLICY, AS_OF).empty


def test_overdue_one_minute_before_the_deadline_instant_fires() -> None:
    assert not find_overdue_postmortems(_case("2026-07-08T09:59:00+00:00"), POLICY, AS_OF).empty


def test_overdue_counts_business_days_across_a_weekend() -> None:
    # resolved Friday 10 July: five business days end Friday 17 July, so not due on Wednesday 15th
    assert find_overdue_postmortems(_case("2026-07-10T10:00:00+00:00"), POLICY, AS_OF).empty
    # resolved Thursday 2 July: due Thursday 9 July
    assert not find_overdue_postmortems(_case("2026-07-02T10:00:00+00:00"), POLICY, AS_OF).empty


def test_overdue_resolved_on_a_saturday_rolls_to_monday() -> None:
    result = find_overdue_postmortems(_case("2026-07-04T08:00:00+00:00"), POLICY, AS_OF)
    assert result.loc[0, "due_at"] == pd.Timestamp("2026-07-13T08:00:00Z")


def test_overdue_uses_the_team_time_zone() -> None:
    # 2026-07-07T20:00Z is already Wednesday 8th 01:30 in Kolkata: due Wednesday 15th 01:30 IST = 14th 20:00Z
    result = find_overdue_postmortems(_case("2026-07-07T20:00:00+00:00", team="search"), POLICY, AS_OF)
    assert result.loc[0, "due_at"] == pd.Timestamp("2026-07-14T20:00:00Z")
    # the same instant counted in UTC would end on Tuesday 14th 20:00Z as well, but a
    # Friday-evening resolution in Los Angeles is still Friday locally:
    friday_la = find_overdue_postmortems(_case("2026-07-11T02:00:00+00:00", team="identity"), POLICY, AS_OF)
    assert friday_la.empty  # Friday 10th 19:00 PDT -> due Friday 17th


@pytest.mark.parametrize(
    ("published_at", "status"), [("2026-07-14T00:00:00+00:00", "published"), ("2026-07-01T00:00:00+00:00", "published")]
)
def test_overdue_does_not_fire_once_published(published_at: str, status: str) -> None:
    assert find_overdue_postmortems(_case("2026-06-01T10:00:00+00:00", published_at=published_at, status=status),
                                    POLICY, AS_OF).empty


def test_overdue_treats_a_publication_after_as_of_as_not_published() -> None:
    data = _case("2026-06-01T10:00:00+00:00", published_at="2026-07-20T00:00:00+00:00", status="published")
    assert not find_overdue_postmortems(data, POLICY, AS_OF).empty


def test_overdue_only_for_severities_that_require_a_postmortem() -> None:
    assert find_overdue_postmortems(_case("2026-05-01T10:00:00+00:00", severity="SEV3"), POLICY, AS_OF).empty


def test_overdue_sev1_is_critical() -> None:
    result = find_overdue_postmortems(_case("2026-05-01T10:00:00+00:00", severity="SEV1"), POLICY, AS_OF)
    assert bool(result.loc[0, "critical"])


def test_overdue_limit_comes_from_the_policy() -> None:
    policy = Policy(sources=[{"name": "demo", "path": "x"}], postmortem={"limit_business_days": 10})
    assert find_overdue_postmortems(_case("2026-07-07T10:00:00+00:00"), policy, AS_OF).empty
