from __future__ import annotations

import pandas as pd
import pytest

from followthrough.policy import Policy, policy_for_tests
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
from tests.unit.frames import AS_OF, frames, item

POLICY = policy_for_tests()


@pytest.mark.parametrize(
    ("owner", "problem"),
    [
        ("", "no owner set"),
        ("  ", "no owner set"),
        ("TBD", "owner is a placeholder"),
        ("unassigned", "owner is a placeholder"),
        ("?", "owner is a placeholder"),
        ("payments", "owner is a team, not a person"),
        ("Search Relevance", "owner is a team, not a person"),
        ("payments-oncall", "owner is a group alias"),
        ("SRE", "owner is a group alias"),
        ("platform team", "owner is a group alias"),
    ],
)
def test_no_owner_fires_for_non_person_owners(owner: str, problem: str) -> None:
    result = find_unowned_action_items(frames(action_items=[item("AI-1", owner=owner)]), POLICY, AS_OF)
    assert list(result["subject_id"]) == ["AI-1"]
    assert result.loc[0, "evidence"]["problem"] == problem
    assert result.loc[0, "responsible"] == "lena.lead"  # nobody owns it, so the team lead hears first


@pytest.mark.parametrize("owner", ["omar.owner", "teamwork.lee", "departed.person"])
def test_no_owner_does_not_fire_for_a_named_person(owner: str) -> None:
    # a handle that is not in the roster is AI-OWNER-GONE's business, not this rule's
    assert find_unowned_action_items(frames(action_items=[item("AI-1", owner=owner)]), POLICY, AS_OF).empty


@pytest.mark.parametrize("status", ["done", "wont_do"])
def test_no_owner_ignores_closed_items(status: str) -> None:
    data = frames(action_items=[item("AI-1", owner="", status=status, closed_at="2026-07-01T00:00:00+00:00",
                                     created_at="2026-06-01T00:00:00+00:00")])
    assert find_unowned_action_items(data, POLICY, AS_OF).empty


def test_no_owner_ignores_items_created_after_as_of() -> None:
    data = frames(action_items=[item("AI-1", owner="", created_at="2026-07-15T10:00:01+00:00")])
    assert find_unowned_action_items(data, POLICY, AS_OF).empty


def _updates(*rows: tuple[str, str]) -> list[dict[str, str]]:
    return [{"update_id": f"U{i}", "action_item_id": a, "author": "omar.owner", "posted_at": t}
            for i, (a, t) in enumerate(rows)]


def test_stale_fires_past_seven_days_since_last_update() -> None:
    data = frames(
        action_items=[item("AI-1", created_at="2026-06-01T00:00:00+00:00")],
        status_updates=_updates(("AI-1", "2026-06-20T10:00:00+00:00"), ("AI-1", "2026-07-01T09:00:00+00:00")),
    )
    result = find_stale_action_items(data, POLICY, AS_OF)
    assert list(result["subject_id"]) == ["AI-1"]
    assert result.loc[0, "evidence"]["observed"] == 14
    assert result.loc[0, "due_at"] == pd.Timestamp("2026-07-08T09:00:00Z")


def test_stale_exactly_at_the_threshold_does_not_fire() -> None:
    data = frames(action_items=[item("AI-1", created_at="2026-06-01T00:00:00+00:00")],
                  status_updates=_updates(("AI-1", "2026-07-08T10:00:00+00:00")))
    assert find_stale_action_items(data, POLICY, AS_OF).empty


def test_stale_one_second_past_the_threshold_fires() -> None:
    data = frames(action_items=[item("AI-1", created_at="2026-06-01T00:00:00+00:00")],
                  status_updates=_updates(("AI-1", "2026-07-08T09:59:59+00:00")))
    assert list(find_stale_action_items(data, POLICY, AS_OF)["subject_id"]) == ["AI-1"]


def test_stale_uses_creation_time_when_there_is_no_update() -> None:
    data = frames(action_items=[item("AI-1", created_at="2026-07-01T00:00:00+00:00"),
                                item("AI-2", created_at="2026-07-10T00:00:00+00:00")])
    assert list(find_stale_action_items(data, POLICY, AS_OF)["subject_id"]) == ["AI-1"]


def test_stale_ignores_updates_after_as_of_and_closed_items() -> None:
    data = frames(
        action_items=[item("AI-1", created_at="2026-06-01T00:00:00+00:00"),
                      item("AI-2", created_at="2026-03-01T00:00:00+00:00", status="done",
                           closed_at="2026-03-02T00:00:00+00:00")],
        status_updates=_updates(("AI-1", "2026-07-20T00:00:00+00:00")),
    )
    assert list(find_stale_action_items(data, POLICY, AS_OF)["subject_id"]) == ["AI-1"]


def test_stale_interval_comes_from_the_policy() -> None:
    policy = Policy(sources=[{"name": "demo", "path": "x"}], action_items={"update_interval_days": 30})
    data = frames(action_items=[item("AI-1", created_at="2026-06-20T00:00:00+00:00")])
    assert find_stale_action_items(data, policy, AS_OF).empty


@pytest.mark.parametrize(("owner", "responsible"), [("omar.owner", "omar.owner"), ("payments-oncall", "lena.lead"),
                                                    ("", "lena.lead")])
def test_stale_item_goes_to_its_owner_or_else_the_team_lead(owner: str, responsible: str) -> None:
    data = frames(action_items=[item("AI-1", owner=owner, created_at="2026-06-01T00:00:00+00:00")])
    assert find_stale_action_items(data, POLICY, AS_OF)["responsible"].tolist() == [responsible]


# --- AI-OWNER-GONE -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("owner", "problem"), [("gone.person", "inactive in the roster"),
                                                ("li.wei", "not in the roster")])
def test_owner_gone_fires_for_inactive_or_unknown_people(owner: str, problem: str) -> None:
    result = find_departed_owners(frames(action_items=[item("AI-1", owner=owner)]), POLICY, AS_OF)
    assert result.loc[0, "evidence"]["problem"] == problem
    assert result.loc[0, "responsible"] == "lena.lead"


@pytest.mark.parametrize("owner", ["omar.owner", "OMAR.OWNER ", "TBD", ""])
def test_owner_gone_ignores_active_people_and_non_person_owners(owner: str) -> None:
    assert find_departed_owners(frames(action_items=[item("AI-1", owner=owner)]), POLICY, AS_OF).empty


# --- AI-VAGUE -------------------------------------------------------------------------------------------------------
def test_vague_fires_with_reasons_and_spares_concrete_items() -> None:
    data = frames(action_items=[item("AI-1", summary="Look into the outage"),
                                item("AI-2", summary="Add alert on p99 latency > 800ms for checkout-api")])
    result = find_vague_action_items(data, POLICY, AS_OF)
    assert list(result["subject_id"]) == ["AI-1"]
    assert result.loc[0, "evidence"]["reasons"]


# --- AI-NO-DUE / AI-DUE-BEYOND-SLA / AI-OVERDUE ---------------------------------------------------------------------
def test_no_due_fires_only_without_a_due_date() -> None:
    data = frames(action_items=[item("AI-1"), item("AI-2", due_date="2026-08-01")])
    assert list(find_items_without_due_date(data, POLICY, AS_OF)["subject_id"]) == ["AI-1"]


def _with_incident(severity: str, *items: dict) -> dict:
    return frames(incidents=[{"incident_id": "INC-1", "severity": severity, "status": "resolved", "team_id": "payments",
                              "started_at": "2026-07-01T00:00:00+00:00"}], action_items=list(items))


@pytest.mark.parametrize(
    ("severity", "priority", "due", "fires"),
    [
        ("SEV3", "P1", "2026-08-11", False),  # created 14 July + 28 days (P1) = 11 August: exactly at the limit
        ("SEV3", "P1", "2026-08-12", True),
        ("SEV1", "P1", "2026-07-29", False),  # SEV1 allows 15 days, stricter than P1's 28
        ("SEV1", "P1", "2026-07-30", True),
        ("SEV2", "P2", "2026-08-13", False),  # SEV2 30 days
        ("SEV2", "P2", "2026-08-14", True),
        ("SEV3", "P3", "2027-07-01", False),  # no limit for P3 on a SEV3
    ],
)
def test_due_beyond_sla_takes_the_stricter_limit(severity: str, priority: str, due: str, fires: bool) -> None:
    data = _with_incident(severity, item("AI-1", priority=priority, due_date=due))
    assert (not find_due_dates_beyond_sla(data, POLICY, AS_OF).empty) is fires


@pytest.mark.parametrize(
    ("team", "due", "as_of", "fires"),
    [
        ("payments", "2026-07-14", "2026-07-15T00:00:00Z", True),  # UTC: late from midnight after the due date
        ("payments", "2026-07-14", "2026-07-14T23:59:59Z", False),
        ("payments", "2026-07-15", "2026-07-15T10:00:00Z", False),  # due today
        ("identity", "2026-07-14", "2026-07-15T06:59:59Z", False),  # Los Angeles: 14 July ends at 07:00Z
        ("identity", "2026-07-14", "2026-07-15T07:00:00Z", True),
        ("search", "2026-07-14", "2026-07-14T18:30:00Z", True),  # Kolkata: 15 July starts at 14 July 18:30Z
    ],
)
def test_overdue_counts_from_the_end_of_the_due_day_in_the_team_zone(team: str, due: str, as_of: str,
                                                                    fires: bool) -> None:
    data = frames(action_items=[item("AI-1", team_id=team, due_date=due)])
    assert (not find_overdue_action_items(data, POLICY, pd.Timestamp(as_of)).empty) is fires


def test_overdue_ignores_closed_items() -> None:
    data = frames(action_items=[item("AI-1", due_date="2026-07-01", status="done", closed_at="2026-07-10T00:00:00Z")])
    assert find_overdue_action_items(data, POLICY, AS_OF).empty


# --- AI-DRIFT -------------------------------------------------------------------------------------------------------
def _history(*changes: tuple[str, str, str, str]) -> list[dict]:
    return [{"change_id": f"C{i}", "action_item_id": "AI-1", "changed_at": at, "field": f, "old_value": o,
             "new_value": n} for i, (at, f, o, n) in enumerate(changes)]


def test_drift_fires_on_repeated_pushes_or_a_lowered_priority() -> None:
    pushes = _history(("2026-06-01T00:00:00Z", "due_date", "2026-06-10", "2026-06-20"),
                      ("2026-06-15T00:00:00Z", "due_date", "2026-06-20", "2026-07-20"))
    assert list(find_drifting_action_items(frames(action_items=[item("AI-1")], action_item_history=pushes),
                                           POLICY, AS_OF)["subject_id"]) == ["AI-1"]
    lowered = _history(("2026-06-01T00:00:00Z", "priority", "P1", "P3"))
    result = find_drifting_action_items(frames(action_items=[item("AI-1")], action_item_history=lowered), POLICY, AS_OF)
    assert result.loc[0, "evidence"]["priority_lowered"] == 1


def test_drift_does_not_fire_on_one_push_a_pull_in_a_raise_or_future_history() -> None:
    history = _history(("2026-06-01T00:00:00Z", "due_date", "2026-06-10", "2026-06-20"),
                       ("2026-06-02T00:00:00Z", "due_date", "2026-06-20", "2026-06-15"),
                       ("2026-06-03T00:00:00Z", "priority", "P3", "P1"),
                       ("2026-07-16T00:00:00Z", "due_date", "2026-06-15", "2026-08-15"))
    data = frames(action_items=[item("AI-1")], action_item_history=history)
    assert find_drifting_action_items(data, POLICY, AS_OF).empty


# --- AI-WONTDO-UNJUSTIFIED ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("note", "approver", "fires"),
    [("Superseded by the 2026 storage migration (INC-9)", "lena.lead", False), ("", "lena.lead", True),
     ("TBD", "lena.lead", True), ("Superseded by the migration", "", True),
     ("Superseded by the migration", "omar.owner", True)],
)
def test_wont_do_needs_a_reason_and_an_approver_other_than_the_owner(note: str, approver: str, fires: bool) -> None:
    data = frames(action_items=[item("AI-1", status="wont_do", closed_at="2026-07-01T00:00:00Z",
                                     created_at="2026-06-01T00:00:00Z", resolution_note=note, approver=approver)])
    assert (not find_unjustified_wont_do(data, POLICY, AS_OF).empty) is fires


def test_overdue_on_the_day_daylight_saving_time_ends() -> None:
    # Berlin leaves summer time on 25 October 2026: that day ends at 26 October 00:00 CET = 25 October 23:00Z
    data = frames(action_items=[item("AI-1", team_id="checkout", due_date="2026-10-25",
                                     created_at="2026-10-01T00:00:00Z")])
    assert find_overdue_action_items(data, POLICY, pd.Timestamp("2026-10-25T22:59:59Z")).empty
    assert not find_overdue_action_items(data, POLICY, pd.Timestamp("2026-10-25T23:00:00Z")).empty


def test_stale_interval_can_be_overridden_per_team() -> None:
    policy = policy_for_tests(teams={"payments": {"update_interval_days": 30}})
    data = frames(action_items=[item("AI-1", created_at="2026-06-20T00:00:00+00:00"),
                                item("AI-2", team_id="search", created_at="2026-06-20T00:00:00+00:00")])
    assert list(find_stale_action_items(data, policy, AS_OF)["subject_id"]) == ["AI-2"]
