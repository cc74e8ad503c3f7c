from __future__ import annotations

from typing import Any

import pandas as pd

from followthrough.policy import policy_for_tests
from followthrough.rules.incidents import (
    find_category_gaps,
    find_incidents_without_actions,
    find_repeat_incidents,
)
from followthrough.rules.source import find_invalid_source_rows
from tests.unit.frames import AS_OF, frames, item

POLICY = policy_for_tests()


def _incident(incident_id: str, started: str, resolved: str = "", **extra: str) -> dict[str, str]:
    return {"incident_id": incident_id, "title": f"{incident_id} outage", "severity": "SEV2", "status": "resolved",
            "team_id": "payments", "service": "checkout-api", "root_cause_category": "config",
            "started_at": started, "resolved_at": resolved, "confidential": "false"} | extra


# --- PM-NO-ACTIONS ------------------------------------------------------------------------------------------------
def test_no_actions_fires_for_a_major_incident_past_its_limit() -> None:
    data = frames(incidents=[_incident("INC-1", "2026-07-01T09:00:00Z", "2026-07-01T10:00:00Z")])
    assert list(find_incidents_without_actions(data, POLICY, AS_OF)["subject_id"]) == ["INC-1"]


def test_no_actions_does_not_fire_with_an_item_before_the_limit_or_for_minor_incidents() -> None:
    with_item = frames(incidents=[_incident("INC-1", "2026-07-01T09:00:00Z", "2026-07-01T10:00:00Z")],
                       action_items=[item("AI-1", status="done", closed_at="2026-07-05T00:00:00Z")])
    assert find_incidents_without_actions(with_item, POLICY, AS_OF).empty
    recent = frames(incidents=[_incident("INC-1", "2026-07-08T09:00:00Z", "2026-07-08T10:00:00Z")])  # limit: exactly now
    assert find_incidents_without_actions(recent, POLICY, AS_OF).empty
    minor = frames(incidents=[_incident("INC-1", "2026-06-01T09:00:00Z", "2026-06-01T10:00:00Z", severity="SEV3")])
    assert find_incidents_without_actions(minor, POLICY, AS_OF).empty


# --- INC-CATEGORY-GAP ---------------------------------------------------------------------------------------------
def _gap(*categories: str) -> pd.DataFrame:
    items = [item(f"AI-{i}", category=c) for i, c in enumerate(categories)]
    data = frames(incidents=[_incident("INC-1", "2026-07-01T09:00:00Z", "2026-07-01T10:00:00Z")], action_items=items)
    return find_category_gaps(data, POLICY, AS_OF)


def test_category_gap_names_the_missing_kinds() -> None:
    assert _gap("mitigation").loc[0, "evidence"]["missing"] == ["root-cause fix", "detection/monitoring"]
    assert _gap("root_cause", "process").loc[0, "evidence"]["missing"] == ["detection/monitoring"]


def test_category_gap_does_not_fire_when_both_kinds_are_covered_or_there_are_no_items() -> None:
    assert _gap("root_cause", "detection").empty
    assert _gap().empty  # that is PM-NO-ACTIONS' business


# --- INC-REPEAT ---------------------------------------------------------------------------------------------------
def _repeat(**overrides: Any) -> pd.DataFrame:
    earlier = _incident("INC-1", "2026-05-01T09:00:00Z", "2026-05-01T12:00:00Z")
    later = _incident("INC-2", "2026-07-10T09:00:00Z", "2026-07-10T12:00:00Z") | overrides.pop("later", {})
    fix = item("AI-1", incident_id="INC-1", created_at="2026-05-02T00:00:00Z") | overrides.pop("fix", {})
    return find_repeat_incidents(frames(incidents=[earlier, later], action_items=[fix]), POLICY, AS_OF)


def test_repeat_names_the_earlier_incident_and_its_open_actions() -> None:
    result = _repeat()
    assert list(result["subject_id"]) == ["INC-2"]
    assert result.loc[0, "evidence"]["earlier"] == ["INC-1"]
    assert result.loc[0, "evidence"]["open_action_items"] == ["AI-1"]
    assert bool(result.loc[0, "critical"])


def test_repeat_does_not_fire_when_the_fix_is_done_or_the_failure_differs_or_is_too_old() -> None:
    assert _repeat(fix={"status": "done", "closed_at": "2026-06-01T00:00:00Z"}).empty
    assert _repeat(later={"root_cause_category": "capacity"}).empty
    assert _repeat(later={"service": "search-api"}).empty
    assert _repeat(later={"started_at": "2026-07-31T09:00:00Z"}).empty  # after as_of
    assert _repeat(later={"started_at": "2026-07-30T09:00:00Z", "resolved_at": ""}).empty
    assert _repeat(later={"root_cause_category": "unknown"}).empty


def test_repeat_window_boundary() -> None:
    # 90 days after 1 May 09:00 is 30 July 09:00; as of then the later incident must exist
    as_of = pd.Timestamp("2026-08-01T00:00:00Z")
    earlier = _incident("INC-1", "2026-05-01T09:00:00Z", "2026-05-01T12:00:00Z")
    fix = item("AI-1", incident_id="INC-1", created_at="2026-05-02T00:00:00Z")
    at_limit = _incident("INC-2", "2026-07-30T09:00:00Z")
    past_limit = _incident("INC-3", "2026-07-30T09:00:01Z")
    result = find_repeat_incidents(frames(incidents=[earlier, at_limit, past_limit], action_items=[fix]), POLICY,
                                   as_of)
    assert list(result["subject_id"]) == ["INC-2"]


# --- SRC-INVALID --------------------------------------------------------------------------------------------------
def test_invalid_source_rows_become_findings_with_stable_subjects() -> None:
    data = frames()
    data["quarantine"] = pd.DataFrame([
        {"entity": "incidents", "row_number": 4, "record_id": "INC-4", "reason_code": "unknown_value",
         "reason": "severity is not one of ...", "raw": {"team_id": "payments"}},
        {"entity": "action_items", "row_number": 9, "record_id": "", "reason_code": "missing_id",
         "reason": "required field action_item_id is empty", "raw": {"team_id": "nowhere"}},
    ])
    result = find_invalid_source_rows(data, POLICY, AS_OF)
    assert list(result["subject_id"]) == ["incidents/INC-4/unknown_value", "action_items/row-9/missing_id"]
    assert list(result["responsible"].fillna("")) == ["lena.lead", ""]
