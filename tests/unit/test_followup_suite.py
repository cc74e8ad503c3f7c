"""The Great Expectations follow-up suite: per-team rule outcomes, cross-checked, rendered as Data Docs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from followthrough.quality.gx import rule_outcomes, validate_followup

FINDINGS = pd.DataFrame({
    "rule": ["AI-STALE", "AI-STALE", "PM-OVERDUE", "SRC-INVALID"],
    "team_id": ["payments", "search", "payments", None],
    "level": ["violation", "violation", "warning", "violation"],
})


def test_outcomes_count_violations_and_warnings_per_rule_and_team() -> None:
    outcomes = rule_outcomes(FINDINGS, ["AI-STALE", "PM-OVERDUE", "SRC-INVALID"], ["payments", "search"])
    table = outcomes.set_index(["rule", "team_id"])
    assert table.loc[("AI-STALE", "search"), "violations"] == 1
    assert table.loc[("PM-OVERDUE", "payments"), "warnings"] == 1
    assert table.loc[("PM-OVERDUE", "payments"), "violations"] == 0
    assert table.loc[("SRC-INVALID", "(no team)"), "violations"] == 1
    assert len(outcomes) == 3 * 3


def test_ge_reports_the_failing_teams_and_writes_data_docs(tmp_path: Path) -> None:
    result = validate_followup(FINDINGS, ["AI-STALE", "PM-OVERDUE", "SRC-INVALID"], ["payments", "search"],
                               docs_folder=tmp_path / "docs")
    assert result.failing_teams == {"AI-STALE": ["payments", "search"], "PM-OVERDUE": [],
                                    "SRC-INVALID": ["(no team)"]}
    index = (tmp_path / "docs" / "index.html").read_text()
    assert "followup" in index


def test_no_findings_means_every_expectation_passes() -> None:
    empty = FINDINGS.iloc[0:0]
    result = validate_followup(empty, ["AI-STALE"], ["payments"])
    assert result.failing_teams == {"AI-STALE": []}
