from __future__ import annotations

import pandas as pd
import pytest

from followthrough.policy import Policy
from followthrough.rules.action_items import find_stale_action_items, find_unowned_action_items
from tests.unit.frames import AS_OF, frames, item

POLICY = Policy(sources=[{"name": "demo", "path": "x"}])


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
