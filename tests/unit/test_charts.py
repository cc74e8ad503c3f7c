"""The report's charts stay legible with many teams (rule x team grid, compliance trend), and they render."""

from __future__ import annotations

import warnings

from followthrough.report.charts import (
    BUSIEST_TEAMS,
    TREND_TEAMS,
    age_chart,
    age_rows,
    rule_team_chart,
    rule_team_grid,
    trend_chart,
    trend_legend_title,
    trend_series,
)


def test_a_small_grid_has_every_team_in_name_order() -> None:
    rules, teams, grid = rule_team_grid({"AI-OVERDUE / payments": 3, "AI-OVERDUE / checkout": 1,
                                         "PM-MISSING / payments": 2})
    assert rules == ["AI-OVERDUE", "PM-MISSING"]
    assert teams == ["checkout", "payments"]
    assert grid == [[1, 3], [0, 2]]


def test_many_teams_keep_the_busiest_columns_and_sum_the_rest() -> None:
    counts = {f"AI-OVERDUE / team-{i:02d}": i + 1 for i in range(50)}
    counts |= {f"PM-MISSING / team-{i:02d}": 1 for i in range(0, 50, 5)}
    rules, teams, grid = rule_team_grid(counts)
    assert len(teams) == BUSIEST_TEAMS + 1
    # the busiest fifteen by total (team-35 .. team-49), in name order, then the rest in one column
    assert teams[:-1] == [f"team-{i:02d}" for i in range(35, 50)]
    assert teams[-1] == "35 other teams"
    # every finding is counted once: each rule's row sums to its total
    for rule, row in zip(rules, grid, strict=True):
        assert sum(row) == sum(v for k, v in counts.items() if k.startswith(rule + " /"))
    assert grid[rules.index("AI-OVERDUE")][-1] == sum(range(1, 36))


def test_ties_for_the_last_column_go_by_team_name() -> None:
    counts = {f"AI-OVERDUE / t{i:02d}": 1 for i in range(20)}
    _, teams, _ = rule_team_grid(counts, max_teams=3)
    assert teams == ["t00", "t01", "t02", "17 other teams"]


def test_an_empty_grid_is_empty() -> None:
    assert rule_team_grid({}) == ([], [], [])


def test_the_grid_chart_renders_fifty_teams_without_warnings() -> None:
    counts = {f"{rule} / team-{i:02d}": (i * 7 + n) % 400 + 1
              for i in range(50) for n, rule in enumerate(["AI-OVERDUE", "AI-VAGUE", "PM-MISSING"])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        svg = rule_team_chart(counts)
    assert svg.startswith('<svg role="img" aria-label="Open findings by rule and team" class="chart" ')
    assert "no open findings" not in svg


def test_no_findings_draws_the_empty_chart() -> None:
    assert 'aria-label="Open findings by rule and team"' in rule_team_chart({})


def _weeks(team: str, *compliance: float | None) -> list[dict]:
    return [{"week_end": f"2026-07-{1 + 7 * i:02d}", "team_id": team, "compliance": c} for i, c in enumerate(compliance)]


def test_a_few_teams_are_all_drawn_and_weeks_without_items_are_skipped() -> None:
    rows = _weeks("(all)", 0.5, 0.6) + _weeks("a", None, 0.2) + _weeks("b", 1.0, 1.0)
    assert trend_series(rows) == {"(all)": [("2026-07-01", 0.5), ("2026-07-08", 0.6)],
                                  "a": [("2026-07-08", 0.2)], "b": [("2026-07-01", 1.0), ("2026-07-08", 1.0)]}


def test_many_teams_keep_those_least_on_track_in_their_latest_week() -> None:
    rows = _weeks("(all)", 0.7, 0.8)
    for i in range(40):
        # an early bad week does not count: only the latest one does
        rows += _weeks(f"team-{i:02d}", 0.0, 1.0 - i / 100)
    series = trend_series(rows)
    assert sorted(series) == ["(all)", *[f"team-{i:02d}" for i in range(39, 39 - TREND_TEAMS, -1)][::-1]]
    assert len(series) == TREND_TEAMS + 1


def test_trend_ties_go_by_team_name_and_the_chart_renders_forty_teams() -> None:
    rows = [r for i in range(40) for r in _weeks(f"t{i:02d}", 0.5)]
    assert sorted(trend_series(rows, max_teams=2)) == ["t00", "t01"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        svg = trend_chart(rows + _weeks("(all)", 0.5))
    assert 'aria-label="Weekly compliance trend per team"' in svg


def test_the_age_chart_keeps_the_teams_with_most_open_items_and_sums_the_rest() -> None:
    by_team = {f"team-{i:02d}": {"0-7 days": i, "over 90 days": 1} for i in range(30)}
    rows = age_rows(by_team, limit=4)
    assert [team for team, _ in rows] == ["team-26", "team-27", "team-28", "team-29", "26 other teams"]
    assert rows[-1][1]["0-7 days"] == sum(range(26))
    assert rows[-1][1]["over 90 days"] == 26
    assert sum(sum(c.values()) for _, c in rows) == sum(i + 1 for i in range(30))  # each item once
    assert [team for team, _ in age_rows({"b": {"0-7 days": 1}, "a": {"8-30 days": 2}})] == ["a", "b"]


def test_the_age_chart_renders_fifty_teams_without_warnings() -> None:
    by_team = {f"team-{i:02d}": {"0-7 days": i % 7, "8-30 days": i % 5, "31-90 days": 3, "over 90 days": i % 2} for i in range(50)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        svg = age_chart(by_team)
    assert 'aria-label="Open action items by age bucket and team"' in svg


def test_the_trend_legend_says_when_it_shows_only_some_teams() -> None:
    many = [r for i in range(40) for r in _weeks(f"t{i:02d}", 0.5)] + _weeks("(all)", 0.5)
    assert trend_legend_title(many, trend_series(many)) == f"{TREND_TEAMS} of 40 teams:\nleast on track"
    few = _weeks("a", 0.5) + _weeks("(all)", 0.5)
    assert trend_legend_title(few, trend_series(few)) is None
