"""Follow-up metrics on a small fixture whose every value was computed by hand (see docs/metrics.md).

As of Wed 2026-07-15 10:00 UTC; payments keeps UTC, checkout Europe/Berlin.

Items: A1 payments, created 07-01 09:00, due 07-10, done 07-08 09:00 (in time, 7 days);
A2 payments, created 07-01 10:00, due 07-05, done 07-11 10:00 (late, 10 days); A3 payments,
created 06-01, due 07-01 (pushed there from 06-20 on 07-03), open, no updates; A4 checkout,
created 07-13, due 07-20, open, updated 07-14; A5 checkout, created 04-01, no due date, open.
Incidents (SEV1: 3 calendar days): INC-1 payments resolved 07-01, published 07-03 (2 days, in
time); INC-2 checkout resolved 07-05, published 07-10 (5 days, late); INC-3 payments resolved
07-14, none yet (pending); INC-4 checkout resolved 07-01, none (late); INC-5 is SEV3.
"""

from __future__ import annotations

import pandas as pd
import pytest

from followthrough.policy import policy_for_tests
from followthrough.report import metrics
from tests.unit.frames import AS_OF, frames, item

POLICY = policy_for_tests()


def _incident(incident_id: str, team: str, resolved: str, severity: str = "SEV1") -> dict:
    return {"incident_id": incident_id, "title": "t", "severity": severity, "status": "resolved", "team_id": team,
            "service": "svc", "started_at": resolved.replace("T10", "T08"), "resolved_at": resolved,
            "confidential": "false", "root_cause_category": "config"}


def _pm(pm_id: str, incident_id: str, published: str) -> dict:
    return {"postmortem_id": pm_id, "incident_id": incident_id, "owner": "omar.owner", "status": "published",
            "created_at": "2026-07-01T12:00:00+00:00", "published_at": published}


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return frames(
        action_items=[
            item("A1", created_at="2026-07-01T09:00:00+00:00", due_date="2026-07-10", status="done",
                 closed_at="2026-07-08T09:00:00+00:00"),
            item("A2", created_at="2026-07-01T10:00:00+00:00", due_date="2026-07-05", status="done",
                 closed_at="2026-07-11T10:00:00+00:00"),
            item("A3", created_at="2026-06-01T10:00:00+00:00", due_date="2026-07-01"),
            item("A4", team_id="checkout", created_at="2026-07-13T10:00:00+00:00", due_date="2026-07-20"),
            item("A5", team_id="checkout", created_at="2026-04-01T10:00:00+00:00"),
        ],
        status_updates=[{"update_id": "U1", "action_item_id": "A4", "author": "omar.owner",
                         "posted_at": "2026-07-14T10:00:00+00:00", "body": "started"}],
        action_item_history=[
            {"change_id": "H1", "action_item_id": "A3", "changed_at": "2026-07-03T00:00:00+00:00",
             "field": "due_date", "old_value": "2026-06-20", "new_value": "2026-07-01"},
            {"change_id": "H2", "action_item_id": "A1", "changed_at": "2026-07-08T09:00:00+00:00",
             "field": "status", "old_value": "open", "new_value": "done"},
            {"change_id": "H3", "action_item_id": "A2", "changed_at": "2026-07-11T10:00:00+00:00",
             "field": "status", "old_value": "open", "new_value": "done"},
        ],
        incidents=[
            _incident("INC-1", "payments", "2026-07-01T10:00:00+00:00"),
            _incident("INC-2", "checkout", "2026-07-05T10:00:00+00:00"),
            _incident("INC-3", "payments", "2026-07-14T10:00:00+00:00"),
            _incident("INC-4", "checkout", "2026-07-01T10:00:00+00:00"),
            _incident("INC-5", "payments", "2026-07-01T10:00:00+00:00", severity="SEV3"),
        ],
        postmortems=[_pm("PM-1", "INC-1", "2026-07-03T10:00:00+00:00"),
                     _pm("PM-2", "INC-2", "2026-07-10T10:00:00+00:00")],
    )


@pytest.fixture(scope="module")
def findings() -> pd.DataFrame:
    return pd.DataFrame([
        {"rule": "INC-REPEAT", "team_id": "checkout", "status": "open", "first_seen_as_of": "2026-07-10",
         "resolved_as_of": None},
        {"rule": "AI-OVERDUE", "team_id": "payments", "status": "resolved", "first_seen_as_of": "2026-07-01",
         "resolved_as_of": "2026-07-12"},
        {"rule": "AI-STALE", "team_id": "payments", "status": "waived", "first_seen_as_of": "2026-07-01",
         "resolved_as_of": None},
    ])


def test_time_to_postmortem(data: dict) -> None:
    result = metrics.time_to_postmortem(data, POLICY, AS_OF)
    assert {k: result[k] for k in ("incidents", "published", "within_sla", "late", "pending")} == {
        "incidents": 4, "published": 2, "within_sla": 1, "late": 2, "pending": 1}
    assert result["share_within_sla"] == 0.3333
    assert result["median_days"] == 3.5
    assert result["by_team"]["payments"]["median_days"] == 2.0
    assert result["by_team"]["checkout"]["late"] == 2


def test_closed_within_sla(data: dict) -> None:
    result = metrics.closed_within_sla(data, POLICY, AS_OF)
    assert (result["items"], result["within_sla"], result["share"]) == (3, 1, 0.3333)
    assert set(result["by_team"]) == {"payments"}  # checkout's A4 is not due yet, A5 has no due date


def test_open_by_age_and_stale(data: dict) -> None:
    assert metrics.open_by_age(data, AS_OF) == {
        "checkout": {"0-7 days": 1, "8-30 days": 0, "31-90 days": 0, "over 90 days": 1},
        "payments": {"0-7 days": 0, "8-30 days": 0, "31-90 days": 1, "over 90 days": 0},
    }
    assert metrics.stale_items(data, POLICY, AS_OF) == {"checkout": 1, "payments": 1}


def test_median_days_to_close_and_repeats(data: dict, findings: pd.DataFrame) -> None:
    assert metrics.median_days_to_close(data, AS_OF) == {"all": 8.5, "items": 2, "by_team": {"payments": 8.5}}
    assert metrics.repeat_incidents(findings) == {"checkout": 1}


def test_week_over_week(data: dict, findings: pd.DataFrame) -> None:
    assert metrics.week_over_week(data, findings, POLICY, AS_OF) == {
        "open_items": {"this_week": 3, "last_week": 3, "change": 0},
        "overdue_items": {"this_week": 1, "last_week": 2, "change": -1},
        "closed_within_sla_share": {"this_week": 0.3333, "last_week": 0.3333, "change": 0.0},
        "open_findings": {"this_week": 1, "last_week": 1, "change": 0},
    }


def test_weekly_trend_is_rebuilt_from_item_history(data: dict) -> None:
    trend = metrics.weekly_trend(data, POLICY, AS_OF, weeks=3)
    table = {(r["week_end"], r["team_id"]): (r["open"], r["overdue"], r["compliance"]) for r in trend}
    assert table == {
        # on 07-01 A3 was still due 06-20 (the history says so): overdue then, although its due date now is 07-01
        ("2026-07-01", "(all)"): (4, 1, 0.5), ("2026-07-01", "payments"): (3, 1, 0.6667),
        ("2026-07-01", "checkout"): (1, 0, 0.0),
        ("2026-07-08", "(all)"): (3, 2, 0.0), ("2026-07-08", "payments"): (2, 2, 0.0),
        ("2026-07-08", "checkout"): (1, 0, 0.0),
        ("2026-07-15", "(all)"): (3, 1, 0.3333), ("2026-07-15", "payments"): (1, 1, 0.0),
        ("2026-07-15", "checkout"): (2, 0, 0.5),
    }


def test_trend_starts_at_the_first_item(data: dict) -> None:
    trend = metrics.weekly_trend(data, POLICY, AS_OF)
    assert min(r["week_end"] for r in trend) >= "2026-04-01"
    assert max(r["week_end"] for r in trend) == "2026-07-15"


def test_compute_metrics_is_json_safe(data: dict, findings: pd.DataFrame) -> None:
    import json

    result = metrics.compute_metrics(data, findings, POLICY, AS_OF, weeks=2)
    assert json.loads(json.dumps(result)) == result


def test_empty_frames_give_empty_metrics() -> None:
    empty = frames()
    result = metrics.compute_metrics(empty, pd.DataFrame(columns=["rule", "team_id", "status", "first_seen_as_of",
                                                                   "resolved_as_of"]), POLICY, AS_OF)
    assert result["closed_within_sla"]["share"] is None
    assert result["weekly_trend"] == []
    assert result["time_to_postmortem"]["incidents"] == 0
