"""The Great Expectations source contract: each kind of malformed row is quarantined with its reason."""

from __future__ import annotations

import pandas as pd
import pytest

from followthrough.model import ACTION_ITEMS, INCIDENTS, ROW_NUMBER
from followthrough.quality.gx import apply_source_contract


def _raw(schema, rows: list[dict[str, str]]) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    frame = pd.DataFrame([{c: r.get(c, "") for c in schema.column_names} for r in rows],
                         columns=schema.column_names, dtype="string")
    frame[ROW_NUMBER] = range(1, len(frame) + 1)
    return frame


GOOD = {"incident_id": "INC-1", "severity": "SEV2", "status": "resolved", "team_id": "payments",
        "started_at": "2026-03-01T10:00:00+00:00", "resolved_at": "2026-03-01T12:00:00Z", "confidential": "false"}


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    incidents = _raw(INCIDENTS, [
        GOOD,
        GOOD | {"incident_id": ""},
        GOOD | {"incident_id": "INC-3", "started_at": "yesterday 14:00"},
        GOOD | {"incident_id": "INC-4", "severity": "SEV9"},
        GOOD | {"incident_id": "INC-5"},
        GOOD | {"incident_id": "INC-5", "title": "second copy"},
        GOOD | {"incident_id": "INC-6", "resolved_at": "2026-02-28T10:00:00+00:00"},
        GOOD | {"incident_id": "INC-7", "confidential": "TRUE", "resolved_at": ""},
    ])
    items = _raw(ACTION_ITEMS, [
        {"action_item_id": "AI-1", "team_id": "payments", "status": "open", "created_at": "2026-03-02T00:00:00Z",
         "due_date": "2026-04-01", "priority": "P1"},
        {"action_item_id": "AI-2", "team_id": "payments", "status": "open", "created_at": "2026-03-02T00:00:00Z",
         "due_date": "next week", "priority": "P7"},
    ])
    return apply_source_contract({"incidents": incidents, "action_items": items}, [INCIDENTS, ACTION_ITEMS])


def test_each_malformed_row_is_quarantined_with_its_reason(result) -> None:  # type: ignore[no-untyped-def]
    got = sorted(zip(result.quarantine["entity"], result.quarantine["row_number"], result.quarantine["reason_code"],
                     strict=True))
    assert got == [
        ("action_items", 2, "unknown_value"),
        ("action_items", 2, "unparseable_date"),
        ("incidents", 2, "missing_id"),
        ("incidents", 3, "unparseable_timestamp"),
        ("incidents", 4, "unknown_value"),
        ("incidents", 5, "duplicate_id"),
        ("incidents", 6, "duplicate_id"),
        ("incidents", 7, "time_order"),
    ]
    reasons = dict(zip(result.quarantine["row_number"], result.quarantine["reason"], strict=False))
    assert "yesterday 14:00" in reasons[3]


def test_good_rows_survive_typed(result) -> None:  # type: ignore[no-untyped-def]
    clean = result.clean["incidents"]
    assert clean["incident_id"].tolist() == ["INC-1", "INC-7"]
    assert str(clean["started_at"].dtype).startswith("datetime64")
    assert clean.loc[1, "confidential"]
    assert pd.isna(clean.loc[1, "resolved_at"])
    assert result.clean["action_items"]["action_item_id"].tolist() == ["AI-1"]


def test_quarantine_keeps_the_raw_row(result) -> None:  # type: ignore[no-untyped-def]
    row = result.quarantine[result.quarantine["reason_code"] == "unknown_value"].iloc[0]
    assert row["raw"]["severity"] in ("SEV9", "P7") or row["raw"].get("priority") == "P7"
