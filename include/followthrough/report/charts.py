"""Charts as inline SVG, drawn with matplotlib: compliance trend, open items by age, findings by rule and team.

Used by the HTML report and the dashboard. Text is drawn as paths (no fonts needed to view
it, and no text from the trackers reaches the markup), and the output is deterministic.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from followthrough.report.metrics import AGE_BUCKETS

PALETTE = ["#3b7dd8", "#e07b39", "#3aa675", "#c94f7c", "#8c6bb1", "#9c8f2b", "#4fa3b8", "#7f7f7f"]


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "followthrough", "svg.fonttype": "path", "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt.subplots(figsize=(width, height))


def _svg(fig: Any, label: str) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.tight_layout()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buffer.getvalue()
    svg = text[text.index("<svg"):]
    return svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(label)}" class="chart" ', 1)


def _attr(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def _empty(message: str, label: str) -> str:
    fig, ax = _figure(6, 1.2)
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", color="#666")
    return _svg(fig, label)


# One line per team stays legible for a handful of teams; beyond that the chart keeps those least
# on track (the ones a reader must look at) and the all-teams line
TREND_TEAMS = len(PALETTE) - 1


def trend_series(rows: Sequence[Mapping[str, Any]],
                 max_teams: int = TREND_TEAMS) -> dict[str, list[tuple[str, float]]]:
    """Each drawn team's weekly compliance points, plus "(all)"; at most `max_teams` teams.

    With more teams than that, the teams with the lowest compliance in their latest week are
    kept (ties by name); "(all)" is always kept and still covers every team.
    """
    series: dict[str, list[tuple[str, float]]] = {}
    for row in rows:
        if row.get("compliance") is not None:
            series.setdefault(str(row["team_id"]), []).append((str(row["week_end"]), float(row["compliance"])))
    teams = [t for t in series if t != "(all)"]
    if len(teams) <= max_teams:
        return series
    latest = {t: max(series[t])[1] for t in teams}  # the point of the latest week
    kept = set(sorted(teams, key=lambda t: (latest[t], t))[:max_teams]) | {"(all)"}
    return {t: points for t, points in series.items() if t in kept}


def trend_chart(rows: Sequence[Mapping[str, Any]]) -> str:
    """Weekly compliance (share of open items on track) per team, plus all teams (see trend_series)."""
    label = "Weekly compliance trend per team"
    series = trend_series(rows)
    if not series:
        return _empty("no action items yet", label)
    import matplotlib.dates as mdates
    import pandas as pd

    fig, ax = _figure(7.5, 3.0)
    for index, (team, points) in enumerate(sorted(series.items(), key=lambda kv: (kv[0] != "(all)", kv[0]))):
        days = pd.to_datetime([p[0] for p in points])
        values = [100 * p[1] for p in points]
        if team == "(all)":
            ax.plot(days, values, color="#222", linewidth=2.4, label="all teams")
        else:
            ax.plot(days, values, color=PALETTE[index % len(PALETTE)], linewidth=1.2, label=team)
    ax.set_ylim(0, 100)
    ax.set_ylabel("on track (%)")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    ax.grid(axis="y", color="#eee")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, title=trend_legend_title(rows, series),
              title_fontsize=8)
    return _svg(fig, label)


def trend_legend_title(rows: Sequence[Mapping[str, Any]], series: Mapping[str, Any]) -> str | None:
    """"7 of 40 teams: least on track" when the trend draws a subset of the teams, else None.

    A subset says so, or a reader would take the lines for every team.
    """
    teams = {str(row["team_id"]) for row in rows if row.get("compliance") is not None} - {"(all)"}
    drawn = len(series) - ("(all)" in series)
    return f"{drawn} of {len(teams)} teams:\nleast on track" if drawn < len(teams) else None


# Beyond this many teams a chart's rows or columns no longer fit its cells and labels: the busiest
# teams keep their own and the rest share one, "N other teams"
BUSIEST_TEAMS = 15


def busiest_teams(totals: Mapping[str, int], limit: int = BUSIEST_TEAMS) -> tuple[list[str], list[str]]:
    """(the teams that keep their own row or column, in name order; the others), by total, ties by name."""
    ranked = sorted(totals, key=lambda team: (-totals[team], team))
    return sorted(ranked[:limit]), sorted(ranked[limit:])


def age_rows(by_team: Mapping[str, Mapping[str, int]],
             limit: int = BUSIEST_TEAMS) -> list[tuple[str, dict[str, int]]]:
    """The age chart's bars: each team's open items by age bucket; beyond `limit` teams, the teams
    with the most open items and one bar "N other teams" summing the rest (every item counted once)."""
    buckets = [bucket for bucket, _, _ in AGE_BUCKETS]
    counts = {team: {b: int(by_team[team].get(b, 0)) for b in buckets} for team in by_team}
    shown, others = busiest_teams({team: sum(c.values()) for team, c in counts.items()}, limit)
    rows = [(team, counts[team]) for team in shown]
    if others:
        rows.append((f"{len(others)} other teams", {b: sum(counts[t][b] for t in others) for b in buckets}))
    return rows


def age_chart(by_team: Mapping[str, Mapping[str, int]]) -> str:
    """Open action items per team, stacked by age bucket (the busiest teams, see age_rows)."""
    label = "Open action items by age bucket and team"
    if not by_team or not any(sum(v.values()) for v in by_team.values()):
        return _empty("no open action items", label)
    rows = age_rows(by_team)
    teams = [team for team, _ in rows]
    fig, ax = _figure(7.5, 0.45 * len(teams) + 1.0)
    left = [0] * len(teams)
    colors = ["#9ecae1", "#4292c6", "#fd8d3c", "#d62728"]
    for (bucket, _, _), color in zip(AGE_BUCKETS, colors, strict=True):
        values = [counts[bucket] for _, counts in rows]
        ax.barh(teams, values, left=left, color=color, label=bucket)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("open action items")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    return _svg(fig, label)


def rule_team_grid(by_rule_and_team: Mapping[str, int],
                   max_teams: int = BUSIEST_TEAMS) -> tuple[list[str], list[str], list[list[int]]]:
    """Rows (rules), columns (teams) and counts of the rule x team grid.

    Keys are "RULE / team". With more than `max_teams` teams, the `max_teams` teams with the most
    open findings (ties by name) keep their columns, in name order, and the others are summed into
    a last column "N other teams", so every finding is still counted once.
    """
    cells: dict[tuple[str, str], int] = {}
    for key, count in by_rule_and_team.items():
        rule, _, team = key.partition(" / ")
        cells[(rule, team)] = cells.get((rule, team), 0) + int(count)
    rules = sorted({r for r, _ in cells})
    totals: dict[str, int] = {}
    for (_, team), count in cells.items():
        totals[team] = totals.get(team, 0) + count
    shown, others = busiest_teams(totals, max_teams)
    grid = [[cells.get((r, t), 0) for t in shown] for r in rules]
    if not others:
        return rules, shown, grid
    rest = set(others)
    for r, row in zip(rules, grid, strict=True):
        row.append(sum(c for (rr, t), c in cells.items() if rr == r and t in rest))
    return rules, [*shown, f"{len(others)} other teams"], grid


def rule_team_chart(by_rule_and_team: Mapping[str, int]) -> str:
    """Open findings as a rule x team grid (the busiest teams, see rule_team_grid), each cell with its count."""
    label = "Open findings by rule and team"
    rules, teams, grid = rule_team_grid(by_rule_and_team)
    if not rules:
        return _empty("no open findings", label)
    fig, ax = _figure(min(1.0 + 0.9 * len(teams), 9.0), 0.32 * len(rules) + 1.2)
    top = max(max(row) for row in grid) or 1
    ax.imshow(grid, cmap="Oranges", vmin=0, vmax=top * 1.3, aspect="auto")
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(teams)), teams, rotation=30, ha="right")
    ax.set_yticks(range(len(rules)), rules)
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    return _svg(fig, label)
