"""What the dashboard shows, read from the store: latest metrics, open findings, runs, audit trail.

Read-only: the store is opened without migrating it, and only SELECTs run. Filters are
validated against the values the store holds before they reach a (parameterised) query.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from followthrough import config
from followthrough.report.trail import NAME

if TYPE_CHECKING:
    from followthrough.store.repository import Store


class DashboardInputError(ValueError):
    """A filter names something the store does not know, or is malformed."""


def store_url() -> str:
    """FOLLOWTHROUGH_DB_URL, else the Connection followthrough_db (read by the api-server), else the embedded store."""
    if url := os.environ.get("FOLLOWTHROUGH_DB_URL"):
        return url
    try:
        from airflow.exceptions import AirflowNotFoundException
        from airflow.models.connection import Connection
    except ImportError:
        return config.default_store_url()
    try:
        connection = Connection.get_connection_from_secrets(config.STORE_CONN_ID)
    except AirflowNotFoundException:
        return config.default_store_url()
    from followthrough.tasks import connection_url

    return connection_url(connection)[0]


def open_store() -> Store | None:
    """The store, or None when there is none yet (no run has written it)."""
    import sqlalchemy as sa

    from followthrough.store.audit import has_followthrough_schema
    from followthrough.store.repository import Store

    url = store_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None
    store = Store(url)
    try:
        with store.transaction() as connection:
            return store if has_followthrough_schema(connection) else None
    except sa.exc.DatabaseError:
        return None


@dataclass(frozen=True)
class Filters:
    team: str | None = None
    rule: str | None = None
    limit: int = 200


def validated(store: Store, team: str | None, rule: str | None, limit: int) -> Filters:
    """Filters checked against the store's teams and rules (an empty value means no filter)."""
    import sqlalchemy as sa

    from followthrough.store.schema import findings

    team, rule = (team or None), (rule or None)
    for name, value in (("team", team), ("rule", rule)):
        if value is not None and not NAME.fullmatch(value):
            raise DashboardInputError(f"{name} {value!r} is not a valid id")
    with store.transaction() as connection:
        teams = {str(t) for t in connection.execute(sa.select(findings.c.team_id).distinct()).scalars() if t}
        rules = {str(r) for r in connection.execute(sa.select(findings.c.rule).distinct()).scalars() if r}
    if team is not None and team not in teams:
        raise DashboardInputError(f"unknown team {team!r}")
    if rule is not None and rule not in rules:
        raise DashboardInputError(f"unknown rule {rule!r}")
    if not 1 <= limit <= 1000:
        raise DashboardInputError("limit must be between 1 and 1000")
    return Filters(team, rule, limit)


def overview(store: Store, filters: Filters) -> dict[str, Any]:
    """The page's data: metrics and charts of the latest run, filtered open findings, runs, recent audit events."""
    from markupsafe import Markup

    from followthrough.report import charts
    from followthrough.report.summary import finding_rows, jira_browse_base
    from followthrough.report.trail import TrailQuery, audit_trail, run_history

    latest = store.get_run()
    summary = dict(latest["summary"]) if latest and latest.get("summary") else None
    stored = store.findings_frame()
    teams = sorted({str(t) for t in stored["team_id"].dropna()})
    rules = sorted({str(r) for r in stored["rule"].dropna()})
    selected = stored[stored["status"] == "open"]
    if filters.team:
        selected = selected[selected["team_id"] == filters.team]
    if filters.rule:
        selected = selected[selected["rule"] == filters.rule]
    metrics = (summary or {}).get("metrics")
    chart_list = []
    if summary:
        if metrics:
            chart_list += [
                {"caption": "Weekly compliance (share of open action items on track)",
                 "svg": Markup(charts.trend_chart(metrics["weekly_trend"]))},
                {"caption": "Open action items by age", "svg": Markup(charts.age_chart(metrics["open_by_age"]))}]
        chart_list.append({"caption": "Open findings by rule and team",
                           "svg": Markup(charts.rule_team_chart(summary["findings"]["by_rule_and_team"]))})
    rows = finding_rows(store, selected, summary["as_of"] if summary else _now(), {}, jira_browse_base(),
                        limit=filters.limit)
    trail = audit_trail(store, TrailQuery.validated(team=filters.team))
    return {
        "summary": summary, "m": metrics, "charts": chart_list, "findings": rows,
        "findings_total": len(selected), "teams": teams, "rules": rules, "filters": filters,
        "runs": list(reversed(run_history(store)))[:20], "trail": list(reversed(trail))[:50],
    }


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat()
