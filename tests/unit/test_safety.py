"""The safety valves' pure decisions (followthrough.safety)."""

from __future__ import annotations

import pandas as pd
import pytest

from followthrough.policy import SafetyPolicy
from followthrough.safety import emptied_entities, is_replay, mass_resolution


def _changes(resolved: int, other: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"change": ["resolved"] * resolved + ["ongoing"] * other})


def _stored(open_count: int, resolved: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"status": ["open"] * open_count + ["resolved"] * resolved})


@pytest.mark.parametrize(("as_of", "latest", "replay"), [
    ("2026-07-08T10:00:00Z", "2026-07-15T10:00:00Z", True),
    ("2026-07-15T10:00:00Z", "2026-07-15T10:00:00Z", False),  # the same instant: a re-run
    ("2026-07-16T10:00:00Z", "2026-07-15T10:00:00Z", False),
    ("2026-07-15T09:59:59Z", "2026-07-15 10:00:00", True),  # the store's naive UTC
    ("2026-07-15T10:00:00Z", None, False),
])
def test_a_replay_is_an_earlier_as_of_than_the_latest_run(as_of: str, latest: str | None, replay: bool) -> None:
    assert is_replay(pd.Timestamp(as_of), pd.Timestamp(latest) if latest else None) is replay


@pytest.mark.parametrize(("resolved", "open_count", "held"), [
    (21, 100, True),   # above 20 %
    (20, 100, False),  # exactly 20 % is allowed
    (9, 10, False),    # a small store: below the minimum count
    (10, 10, True),
    (0, 100, False),
])
def test_mass_resolution_by_fraction_and_count(resolved: int, open_count: int, held: bool) -> None:
    hold = mass_resolution(_changes(resolved), _stored(open_count), SafetyPolicy())
    assert (hold is not None) is held
    if hold:
        assert f"{resolved} of {open_count} open findings" in hold.reason


def test_an_emptied_entity_holds_even_one_resolution() -> None:
    hold = mass_resolution(_changes(1), _stored(100), SafetyPolicy(), ("demo/action_items",))
    assert hold is not None
    assert "demo/action_items had rows and now has none" in hold.reason


def test_emptied_entities_from_the_extract_events() -> None:
    events = [{"subject": "demo", "payload": {
        "action_items": {"gone": 40, "present_before": 40, "present_after": 0},
        "incidents": {"unchanged": 12, "gone": 1, "present_before": 13, "present_after": 12},
        # an incremental extract that read nothing and deleted one of many: not emptied
        "status_updates": {"inserted": 0, "changed": 0, "unchanged": 0, "gone": 1, "present_before": 9,
                           "present_after": 8},
        "postmortems": {"present_before": 0, "present_after": 0}}}]
    assert emptied_entities(events) == ("demo/action_items",)
    assert emptied_entities([]) == ()
