"""The Great Expectations source contract: each kind of malformed row is quarantined with its reason."""

from __future__ import annotations

import pandas as pd
import pytest

from followthrough.model import (
    ACTION_ITEMS,
    INCIDENTS,
    ROW_NUMBER,
    TEAMS,
    is_timezone,
    parse_dates,
    parse_timestamps,
)
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


def test_timestamps_without_offset_time_zones_that_do_not_exist_and_invisible_ids_are_quarantined() -> None:
    incidents = _raw(INCIDENTS, [
        GOOD,
        GOOD | {"incident_id": "INC-2", "started_at": "2026-03-01T10:00:00"},  # whose 10:00?
        GOOD | {"incident_id": "INC-3", "started_at": "2026-03-01"},
        GOOD | {"incident_id": "INC-4", "started_at": "2026-03-01T10:00:00+25:00"},
        GOOD | {"incident_id": "INC-1\u200b"},  # looks like INC-1
        GOOD | {"incident_id": "INC-6", "started_at": "2026-03-01 10:00+0100"},
    ])
    teams = _raw(TEAMS, [
        {"team_id": "payments", "name": "Payments", "timezone": "Europe/Berlin"},
        {"team_id": "mars", "name": "Mars", "timezone": "Mars/Olympus_Mons"},
        {"team_id": "offset", "name": "Offset", "timezone": "UTC+02:00"},
        {"team_id": "utc", "name": "UTC", "timezone": "UTC"},
    ])
    result = apply_source_contract({"incidents": incidents, "teams": teams}, [INCIDENTS, TEAMS])
    got = sorted(zip(result.quarantine["entity"], result.quarantine["record_id"], result.quarantine["reason_code"],
                     strict=True))
    assert got == [
        ("incidents", "INC-1\u200b", "invisible_character"),
        ("incidents", "INC-2", "unparseable_timestamp"),
        ("incidents", "INC-3", "unparseable_timestamp"),
        ("incidents", "INC-4", "unparseable_timestamp"),
        ("teams", "mars", "unknown_timezone"),
        ("teams", "offset", "unknown_timezone"),
    ]
    assert result.clean["incidents"]["incident_id"].tolist() == ["INC-1", "INC-6"]
    assert result.clean["teams"]["team_id"].tolist() == ["payments", "utc"]
    reason = result.quarantine.set_index("record_id").loc["INC-2", "reason"]
    assert reason == ("started_at is not an ISO 8601 timestamp with a UTC offset, from 1700-01-01 to 2260-12-31: "
                      "'2026-03-01T10:00:00'")


def test_timestamp_parsing_needs_the_offset() -> None:
    parsed = parse_timestamps(pd.Series(["2026-03-29T02:30:00+01:00", "2026-03-29T02:30:00", "2025-03-10T12:00:00.000+0000",
                                         "2026-07-01T10:00Z", None], dtype="string"))
    assert parsed.tolist()[:4] == [pd.Timestamp("2026-03-29T01:30Z"), pd.NaT, pd.Timestamp("2025-03-10T12:00Z"),
                                   pd.Timestamp("2026-07-01T10:00Z")]
    assert pd.isna(parsed.iloc[4])
    dates = parse_dates(pd.Series(["9999-12-31", "2260-12-31", "2261-01-01", "1699-12-31"], dtype="string"))
    assert str(dates.dtype) == "datetime64[ns, UTC]"  # not another resolution that overflows later
    assert dates.notna().tolist() == [False, True, False, False]
    assert is_timezone("America/Santiago")
    assert not is_timezone("Europe/Atlantis")
    assert not is_timezone("")
