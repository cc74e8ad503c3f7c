from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from followthrough.policy import policy_for_tests
from followthrough.rules.postmortems import (
    find_blaming_postmortems,
    find_incomplete_postmortems,
    find_insular_postmortems,
    find_missing_postmortems,
    find_overdue_postmortems,
)
from tests.unit.frames import AS_OF, frames

POLICY = policy_for_tests()
COMPLETE = """# Summary
Checkout returned 5xx for 40 minutes after a config push.
# Timeline (UTC)
- 10:00 config pushed
- 10:40 rolled back
# Root cause
The config push removed the connection pool limit.
# Impact
12% of checkouts failed.
# Action items
- Add a schema check for the pool limit to the deploy pipeline.
"""


def _incident(resolved_at: str, *, team: str = "payments", severity: str = "SEV2", **extra: str) -> dict[str, str]:
    return {"incident_id": "INC-1", "title": "Checkout 5xx", "severity": severity, "status": "resolved",
            "team_id": team, "started_at": "2026-01-01T00:00:00+00:00", "resolved_at": resolved_at,
            "confidential": "false"} | extra


def _postmortem(**fields: str) -> dict[str, str]:
    return {"postmortem_id": "PM-1", "incident_id": "INC-1", "owner": "omar.owner", "status": "draft",
            "created_at": "2026-01-01T01:00:00+00:00"} | fields


def _case(resolved_at: str, *, team: str = "payments", severity: str = "SEV2", **pm: str) -> dict[str, Any]:
    return frames(incidents=[_incident(resolved_at, team=team, severity=severity)], postmortems=[_postmortem(**pm)])


def _overdue(data: dict[str, Any], as_of: pd.Timestamp = AS_OF) -> list[tuple[str, str]]:
    result = find_overdue_postmortems(data, POLICY, as_of)
    return list(zip(result["subject_id"], result["level"], strict=True))


# --- PM-OVERDUE: a warning after the target (2 business days), a violation after the limit ---------------------

def test_overdue_sev2_violation_after_five_business_days() -> None:
    result = find_overdue_postmortems(_case("2026-07-07T10:00:00+00:00"), POLICY, AS_OF)  # Tue -> limit Tue 14th
    assert list(result["level"]) == ["violation"]
    assert result.loc[0, "due_at"] == pd.Timestamp("2026-07-14T10:00:00Z")
    assert result.loc[0, "responsible"] == "omar.owner"
    assert not result.loc[0, "critical"]


def test_overdue_exactly_at_the_limit_is_still_a_warning() -> None:
    assert _overdue(_case("2026-07-08T10:00:00+00:00")) == [("PM-1", "warning")]


def test_overdue_exactly_at_the_target_does_not_fire() -> None:
    assert _overdue(_case("2026-07-13T10:00:00+00:00")) == []  # Mon + 2 business days = Wed 10:00
    assert _overdue(_case("2026-07-13T09:59:00+00:00")) == [("PM-1", "warning")]


def test_overdue_counts_business_days_across_a_weekend() -> None:
    # resolved Friday 10 July: the limit ends Friday 17 July, the target Tuesday 14 July
    assert _overdue(_case("2026-07-10T10:00:00+00:00")) == [("PM-1", "warning")]


def test_overdue_sev1_limit_is_three_calendar_days_and_critical() -> None:
    # Mon 13th 09:00: the target (Wed 09:00) has passed, the limit (Thu 09:00) has not
    assert _overdue(_case("2026-07-13T09:00:00+00:00", severity="SEV1")) == [("PM-1", "warning")]
    # Sun 12th 10:00 + 3 calendar days is exactly as_of: still a warning; an hour earlier it is late
    assert _overdue(_case("2026-07-12T10:00:00+00:00", severity="SEV1")) == []
    result = find_overdue_postmortems(_case("2026-07-12T09:00:00+00:00", severity="SEV1"), POLICY, AS_OF)
    assert list(result["level"]) == ["violation"]
    assert bool(result.loc[0, "critical"])


def test_overdue_skips_a_public_holiday_in_the_team_region() -> None:
    # growth is in New York (US). Resolved Wed 1 July 10:00 EDT; Fri 3 July is Independence Day (observed),
    # so five business days end Thu 9 July 10:00 EDT (14:00 UTC), not Wed 8 July.
    data = _case("2026-07-01T14:00:00+00:00", team="growth")
    assert _overdue(data, pd.Timestamp("2026-07-08T15:00:00Z")) == [("PM-1", "warning")]
    assert _overdue(data, pd.Timestamp("2026-07-09T14:00:01Z")) == [("PM-1", "violation")]
    no_holidays = policy_for_tests(calendar={"public_holidays": False})
    result = find_overdue_postmortems(data, no_holidays, pd.Timestamp("2026-07-08T15:00:00Z"))
    assert list(result["level"]) == ["violation"]


def test_overdue_uses_the_team_time_zone() -> None:
    # 2026-07-07T20:00Z is Wednesday 8th 01:30 in Kolkata: the limit is Wednesday 15th 01:30 IST = 14th 20:00Z
    result = find_overdue_postmortems(_case("2026-07-07T20:00:00+00:00", team="search"), POLICY, AS_OF)
    assert result.loc[0, "due_at"] == pd.Timestamp("2026-07-14T20:00:00Z")
    # Friday 10th 19:00 in Los Angeles is Saturday 02:00 UTC: still Friday locally, limit Friday 17th
    assert _overdue(_case("2026-07-11T02:00:00+00:00", team="identity")) == [("PM-1", "warning")]


def test_overdue_keeps_local_time_across_a_dst_change() -> None:
    # Berlin leaves summer time on Sunday 25 October 2026. Thu 22 Oct 10:00 CEST (08:00Z) + 5 business days
    # is Thu 29 Oct 10:00 CET, which is 09:00Z.
    data = _case("2026-10-22T08:00:00+00:00", team="checkout")
    result = find_overdue_postmortems(data, POLICY, pd.Timestamp("2026-10-30T00:00:00Z"))
    assert result.loc[0, "due_at"] == pd.Timestamp("2026-10-29T09:00:00Z")
    assert _overdue(data, pd.Timestamp("2026-10-29T09:00:00Z")) == [("PM-1", "warning")]


@pytest.mark.parametrize("published_at", ["2026-07-14T00:00:00+00:00", "2026-07-01T00:00:00+00:00"])
def test_overdue_does_not_fire_once_published(published_at: str) -> None:
    assert _overdue(_case("2026-06-01T10:00:00+00:00", published_at=published_at, status="published")) == []


def test_overdue_treats_a_publication_after_as_of_as_not_published() -> None:
    data = _case("2026-06-01T10:00:00+00:00", published_at="2026-07-20T00:00:00+00:00", status="published")
    assert _overdue(data) == [("PM-1", "violation")]


def test_overdue_only_for_severities_that_require_a_postmortem() -> None:
    assert _overdue(_case("2026-05-01T10:00:00+00:00", severity="SEV3")) == []


def test_overdue_limit_comes_from_the_policy() -> None:
    policy = policy_for_tests(postmortem={"limits": {"SEV1": {"calendar_days": 3}, "SEV2": {"business_days": 10}}})
    result = find_overdue_postmortems(_case("2026-07-07T10:00:00+00:00"), policy, AS_OF)
    assert list(result["level"]) == ["warning"]


# --- PM-MISSING ----------------------------------------------------------------------------------------------

def test_missing_fires_after_the_target_without_a_postmortem() -> None:
    data = frames(incidents=[_incident("2026-07-10T10:00:00+00:00")])  # Fri + 2 business days = Tue 14th
    result = find_missing_postmortems(data, POLICY, AS_OF)
    assert list(result["subject_id"]) == ["INC-1"]
    assert result.loc[0, "responsible"] == "lena.lead"


def test_missing_does_not_fire_at_the_target_or_with_a_postmortem() -> None:
    assert find_missing_postmortems(frames(incidents=[_incident("2026-07-13T10:00:00+00:00")]), POLICY, AS_OF).empty
    assert find_missing_postmortems(_case("2026-06-01T10:00:00+00:00"), POLICY, AS_OF).empty
    assert find_missing_postmortems(frames(incidents=[_incident("2026-06-01T10:00:00+00:00", severity="SEV3")]),
                                    POLICY, AS_OF).empty


def test_missing_ignores_a_postmortem_created_after_as_of() -> None:
    data = _case("2026-06-01T10:00:00+00:00", created_at="2026-07-16T00:00:00+00:00")
    assert list(find_missing_postmortems(data, POLICY, AS_OF)["subject_id"]) == ["INC-1"]


# --- PM-INCOMPLETE / PM-BLAME / PM-INSULAR ---------------------------------------------------------------------

def _reviewed(text: str, status: str = "published", **extra: str) -> dict[str, Any]:
    data = _case("2026-06-01T10:00:00+00:00", status=status, published_at="2026-06-03T00:00:00+00:00", **extra)
    data["postmortems"]["document_text"] = [text]
    return data


def test_incomplete_names_missing_and_empty_sections() -> None:
    text = COMPLETE.replace("# Timeline (UTC)\n- 10:00 config pushed\n- 10:40 rolled back\n", "").replace(
        "12% of checkouts failed.", "TBD")
    result = find_incomplete_postmortems(_reviewed(text), POLICY, AS_OF)
    assert result.loc[0, "evidence"]["missing"] == ["timeline"]
    assert result.loc[0, "evidence"]["empty"] == ["impact"]


PROSE_PM = (
    "# Checkout outage\n\nCheckout returned errors for 40 minutes and 12% of orders failed, until the config "
    "push that caused it was rolled back by the on-call engineer.\n\n# What went wrong\n\nA config push dropped "
    "the pool limit because the deploy pipeline did not validate it.\n\n# Timeline\n- 10:00 config pushed\n"
    "- 10:40 rolled back\n\n# Action items\n- Add a pool-limit check to the deploy pipeline\n"
)


def test_incomplete_counts_sections_by_content_by_default() -> None:
    assert find_incomplete_postmortems(_reviewed(PROSE_PM), POLICY, AS_OF).empty


def test_incomplete_with_require_headings_quotes_what_it_judged() -> None:
    strict = POLICY.model_copy(update={"postmortem": POLICY.postmortem.model_copy(update={"require_headings": True})})
    result = find_incomplete_postmortems(_reviewed(PROSE_PM), strict, AS_OF)
    assert result.loc[0, "evidence"]["missing"] == ["summary", "impact"]
    assert result.loc[0, "evidence"]["require_headings"] is True
    reason = result.loc[0, "reason"]
    assert reason.startswith("missing: summary (no heading naming it; headings judged: ")
    assert "\u201cWhat went wrong\u201d" in reason


def test_incomplete_quotes_an_empty_section() -> None:
    text = COMPLETE.replace("12% of checkouts failed.", "TBD")
    reason = find_incomplete_postmortems(_reviewed(text), POLICY, AS_OF).loc[0, "reason"]
    assert "\u201cTBD\u201d" in reason


def test_incomplete_does_not_fire_on_a_complete_or_draft_postmortem() -> None:
    assert find_incomplete_postmortems(_reviewed(COMPLETE), POLICY, AS_OF).empty
    assert find_incomplete_postmortems(_reviewed("# Summary\nwip", status="draft"), POLICY, AS_OF).empty


def test_incomplete_required_sections_come_from_the_policy() -> None:
    text = COMPLETE.replace("# Timeline (UTC)\n- 10:00 config pushed\n- 10:40 rolled back\n", "")
    policy = policy_for_tests(postmortem={"required_sections": ["summary", "root_cause"]})
    assert find_incomplete_postmortems(_reviewed(text), policy, AS_OF).empty


def test_blame_quotes_the_sentence_and_is_private() -> None:
    text = COMPLETE + "\nThe outage happened because Mark forgot to run the migration.\n"
    result = find_blaming_postmortems(_reviewed(text), POLICY, AS_OF)
    assert "forgot" in result.loc[0, "evidence"]["quotes"][0]["quote"]
    assert bool(result.loc[0, "private"])
    assert find_blaming_postmortems(_reviewed(COMPLETE), POLICY, AS_OF).empty


def _insular(participants: str) -> pd.DataFrame:
    data = _reviewed(COMPLETE, participants=participants)
    data["incidents"]["affected_services"] = ["checkout-api;search-api"]
    data["services"] = pd.DataFrame({"service": ["checkout-api", "search-api"], "team_id": ["payments", "search"]})
    return find_insular_postmortems(data, POLICY, AS_OF)


def test_insular_fires_when_an_owning_team_took_no_part() -> None:
    result = _insular("omar.owner")
    assert result.loc[0, "evidence"]["absent_teams"] == ["search"]


@pytest.mark.parametrize("participants", ["omar.owner;search", "omar.owner;sam.lead"])
def test_insular_does_not_fire_when_owning_teams_took_part(participants: str) -> None:
    # sam.lead counts for search through the roster... only when the roster says so
    data = _reviewed(COMPLETE, participants=participants)
    data["incidents"]["affected_services"] = ["checkout-api;search-api"]
    data["services"] = pd.DataFrame({"service": ["checkout-api", "search-api"], "team_id": ["payments", "search"]})
    data["people"].loc[data["people"]["person_id"] == "sam.lead", "team_id"] = "search"
    assert find_insular_postmortems(data, POLICY, AS_OF).empty


def test_missing_target_skips_a_public_holiday() -> None:
    # growth (New York, US): resolved Thu 2 July 10:00 EDT; Fri 3 July is a holiday, so the target is Tue 7 July
    data = frames(incidents=[_incident("2026-07-02T14:00:00+00:00", team="growth")])
    assert find_missing_postmortems(data, POLICY, pd.Timestamp("2026-07-06T15:00:00Z")).empty
    assert not find_missing_postmortems(data, POLICY, pd.Timestamp("2026-07-07T14:00:01Z")).empty


def test_team_time_zone_and_region_can_be_overridden_in_the_policy() -> None:
    # resolved Fri 10 July 20:00Z: in Kolkata that is Saturday, so the count starts on Monday and the limit is
    # Mon 20th 01:30 IST (Sun 19th 20:00Z); with the team moved to UTC it is Fri 17th 20:00Z
    as_of = pd.Timestamp("2026-07-25T00:00:00Z")
    data = _case("2026-07-10T20:00:00+00:00", team="search")
    assert find_overdue_postmortems(data, POLICY, as_of).loc[0, "due_at"] == pd.Timestamp("2026-07-19T20:00:00Z")
    moved = policy_for_tests(teams={"search": {"timezone": "UTC", "region": "GB"}})
    assert find_overdue_postmortems(data, moved, as_of).loc[0, "due_at"] == pd.Timestamp("2026-07-17T20:00:00Z")
