"""Run summary and report files: what was found, what would be done, what was quarantined.

The report folder of a run holds `summary.json` (counts and metrics), `findings.csv` (open
findings with their evidence; private findings' blame quotes withheld), `actions.csv` (the
outbox entries this run planned), `quarantine.csv` and `report.html`: a self-contained page
rendered from Jinja2 templates (autoescaped) with matplotlib charts as inline SVG.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from followthrough import config
from followthrough.privacy import PRIVATE_REASON, redact_payload

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.store.repository import Store

FINDING_REPORT_COLUMNS = ["rule", "subject_type", "subject_id", "team_id", "incident_id", "responsible", "due_at",
                          "first_seen_as_of", "episode", "reason", "evidence"]
TEMPLATES = Path(__file__).parent / "templates"
UNDELIVERED = ("failed", "dead")  # outbox states that will not be delivered (see DESIGN.md, outbox states)
# rows report.html shows of the open findings and of the run's actions (the CSVs hold all of them)
REPORT_ROWS = 1000
ACTION_REPORT_COLUMNS = ["idempotency_key", "channel", "action", "step", "recipient", "status", "payload"]


def build_summary(store: Store, run_id: str, as_of: pd.Timestamp,
                  stored: pd.DataFrame | None = None) -> dict[str, Any]:
    """The run's summary; `stored`: the store's findings when the caller has read them already."""
    run = store.get_run(run_id) or {}
    stored = store.findings_frame() if stored is None else stored
    open_findings = stored[stored["status"] == "open"]
    events = store.audit_events(run_id, kind_prefix="finding_")
    changes = Counter(_change(e) for e in events)
    # resolved because the subject left the source, not because the problem was fixed
    changes["resolved_gone"] = sum(1 for e in events if e["kind"] == "finding_resolved"
                                   and (e["payload"] or {}).get("resolution") == "gone")
    actions = store.outbox_frame(run_id, columns=["action", "status"])
    quarantine = store.quarantine_seen_in(run_id)
    return {
        "run_id": run_id,
        "as_of": as_of.isoformat(),
        "policy_hash": run.get("policy_hash"),
        "findings": {
            "open": len(open_findings),
            "waived": int((stored["status"] == "waived").sum()),
            "by_rule": _counts(open_findings, "rule"),
            "by_team": _counts(open_findings, "team_id"),
            "by_rule_and_team": {
                f"{rule} / {team}": int(n)
                for (rule, team), n in open_findings.groupby(["rule", "team_id"]).size().items()
            } if not open_findings.empty else {},
            "changes_this_run": {k: changes.get(k, 0)
                                 for k in ("new", "reopened", "resolved", "resolved_gone", "waived")},
        },
        "actions_planned_this_run": {
            "total": len(actions),
            "by_action": _counts(actions, "action"),
            "by_status": _counts(actions, "status"),
        },
        "quarantine": {
            "rows": len(quarantine),
            "by_reason": dict(sorted(Counter(f"{q['entity']}: {q['reason_code']}" for q in quarantine).items())),
        },
    }


def _change(event: dict[str, Any]) -> str:
    """The change an audit event records; a finding that is new and waived at once counts as waived."""
    change = str(event["kind"]).removeprefix("finding_")
    if change in ("new", "reopened") and (event.get("payload") or {}).get("status") == "waived":
        return "waived"
    return change


def _counts(frame: pd.DataFrame, column: str) -> dict[str, int]:
    if frame.empty:
        return {}
    return {str(k): int(v) for k, v in frame[column].fillna("(none)").value_counts().sort_index().items()}


def write_report(store: Store, run_id: str, summary: dict[str, Any], folder: Path,
                 timezones: Mapping[str, str] | None = None, stored: pd.DataFrame | None = None) -> Path:
    """The report folder: summary.json, findings.csv, actions.csv, quarantine.csv and report.html.

    `stored`: the store's findings when the caller has read them already (a read costs seconds at 100k).
    """
    import pandas as pd

    from followthrough.store.bulk import json_text  # sorted keys, as the store keeps JSON

    folder.mkdir(parents=True, exist_ok=True)
    stored = store.findings_frame() if stored is None else stored
    findings = redact_private(stored[stored["status"] == "open"])[FINDING_REPORT_COLUMNS]
    actions = store.outbox_frame(run_id, columns=ACTION_REPORT_COLUMNS)
    quarantine = pd.DataFrame(store.quarantine_seen_in(run_id),
                              columns=["source", "entity", "row_number", "record_id", "reason_code", "reason"])
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    findings.assign(evidence=[json_text(e) for e in findings["evidence"]]).to_csv(folder / "findings.csv", index=False)
    actions.assign(payload=[json_text(redact_payload(p)) for p in actions["payload"]]).to_csv(
        folder / "actions.csv", index=False)
    quarantine[["source", "entity", "row_number", "record_id", "reason_code", "reason"]].to_csv(
        folder / "quarantine.csv", index=False)
    view = report_view(store, run_id, summary, timezones or {}, stored=stored)
    view["sources"] = sorted(p.name for p in (folder / "data_docs" / "source_contract").glob("*") if p.is_dir())
    (folder / "report.html").write_text(render("report.html", **view), encoding="utf-8")
    return folder




def redact_private(frame: pd.DataFrame) -> pd.DataFrame:
    """Findings as anyone may read them: a private finding's reason and evidence (blame quotes) are withheld."""
    if frame.empty or "private" not in frame:
        return frame
    private = frame["private"].fillna(False).astype(bool)
    out = frame.copy()
    out.loc[private, "reason"] = PRIVATE_REASON
    out["evidence"] = [({} if p else e) for p, e in zip(private, out["evidence"], strict=True)]
    return out


def render(template: str, **values: Any) -> str:
    """A template of report/templates, autoescaped."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["pct"] = lambda share: "–" if share is None else f"{100 * share:.0f}%"
    css = (TEMPLATES / "_style.css").read_text(encoding="utf-8")
    return env.get_template(template).render(css=css, **values)


def rule_doc_url(rule: str) -> str:
    """Where a rule is documented: FOLLOWTHROUGH_DOCS_URL (default: the project's docs/rules.md)."""
    from urllib.parse import quote

    base = os.environ.get("FOLLOWTHROUGH_DOCS_URL") or (config.PROJECT_ROOT / "docs").as_uri()
    return f"{base.rstrip('/')}/rules.md#:~:text={quote('| ' + rule + ' |')}"


def jira_browse_base() -> str | None:
    """The Jira site of the Connection jira_default, when this runs inside Airflow and it exists."""
    if "airflow.sdk" not in sys.modules:
        return os.environ.get("FOLLOWTHROUGH_JIRA_URL")
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        host = BaseHook.get_connection(config.JIRA_CONN_ID).host
    except AirflowNotFoundException:
        return os.environ.get("FOLLOWTHROUGH_JIRA_URL")
    return str(host).rstrip("/") if host else None


def _local(value: Any, timezone: str | None) -> str:
    import pandas as pd

    if value is None or pd.isna(value):
        return ""
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    try:
        return ts.tz_convert(timezone or "UTC").strftime("%Y-%m-%d %H:%M %Z")
    except (KeyError, ValueError):
        return ts.strftime("%Y-%m-%d %H:%M UTC")


def _naive(value: Any) -> Any:
    import pandas as pd

    ts = pd.Timestamp(value)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts


LEVEL_ORDER = {"critical": 0, "violation": 1, "warning": 2}


def finding_rows(store: Store, frame: pd.DataFrame, as_of: Any, timezones: Mapping[str, str],
                 jira_base: str | None, limit: int | None = None) -> list[dict[str, Any]]:
    """Open findings for people: level, title (not of confidential incidents), age, days overdue, local due.

    Most urgent first: level, then days overdue, rule and subject. `limit` keeps the first rows
    only (the order is decided over every finding, the rows are built for those shown).
    """
    import numpy as np
    import pandas as pd

    now = _naive(as_of)
    # the order, over every finding at once: level, days overdue (most first), rule, subject
    levels = np.where(frame["critical"].map(bool, na_action=None).astype(bool), "critical",
                      frame["level"].astype(str)) if not frame.empty else np.array([], dtype=str)
    due = pd.to_datetime(frame["due_at"], utc=True).dt.tz_localize(None)
    late = (now - due).dt.days.where(due < now)
    keys = list(zip([LEVEL_ORDER.get(str(v), 3) for v in levels], (-late.fillna(0).astype("int64")).tolist(),
                    frame["rule"].tolist(), frame["subject_id"].astype(str).tolist(), strict=True))
    order = sorted(range(len(frame)), key=keys.__getitem__)[:limit]
    tickets = store.ticket_keys()  # one query, not one per finding
    rows = []
    for position, f in zip(order, frame.iloc[order].to_dict("records"), strict=True):
        due_at = f.get("due_at")
        started = f.get("episode_started_as_of") or f.get("first_seen_as_of")
        overdue = late.iloc[position]
        ticket = tickets.get((str(f["fingerprint"]), int(f["episode"])))
        rows.append({
            "fingerprint": f["fingerprint"], "level": str(levels[position]),
            "rule": f["rule"], "rule_url": rule_doc_url(str(f["rule"])), "subject_id": f["subject_id"],
            "title": f.get("title") or "", "title_hidden": bool(f.get("confidential")),
            "team_id": f.get("team_id") or "", "responsible": f.get("responsible") or "",
            "due_local": _local(due_at, timezones.get(str(f.get("team_id")))),
            "age_days": int((now - pd.Timestamp(started)).days) if started is not None else None,
            "days_overdue": None if pd.isna(overdue) else int(overdue), "reason": f.get("reason") or "",
            "private": bool(f.get("private")),
            "ticket": ticket, "ticket_url": f"{jira_base}/browse/{ticket}" if ticket and jira_base else None,
        })
    return rows


def report_view(store: Store, run_id: str, summary: dict[str, Any], timezones: Mapping[str, str],
                limit: int = REPORT_ROWS, stored: pd.DataFrame | None = None) -> dict[str, Any]:
    """Everything report.html shows, from the store and the run's summary.

    The open findings (most urgent first) and the run's actions are shown up to `limit` rows
    each, with their totals; findings.csv and actions.csv list every one of them.
    """
    from followthrough.report import charts

    stored = store.findings_frame() if stored is None else stored
    as_of = summary["as_of"]
    now = _naive(as_of)
    # one lookup table, not a frame lookup per outbox entry
    by_fingerprint = {str(f): {"rule": r, "subject_id": s}
                      for f, r, s in zip(stored["fingerprint"], stored["rule"], stored["subject_id"], strict=True)}

    def about(fingerprint: str) -> dict[str, Any]:
        return by_fingerprint.get(fingerprint) or {"rule": "", "subject_id": ""}

    waived = [{"rule": f["rule"], "subject_id": f["subject_id"], "team_id": f["team_id"],
               "approver": (f["waiver"] or {}).get("approver"), "reason": (f["waiver"] or {}).get("reason"),
               "expires": (f["waiver"] or {}).get("expires")}
              for f in stored[stored["status"] == "waived"].to_dict("records")]
    resolved_now = stored[(stored["status"] == "resolved") & (stored["resolved_as_of"] == now)]
    resolved = [{"rule": f["rule"], "subject_id": f["subject_id"], "team_id": f["team_id"],
                 "responsible": f["responsible"], "open_since": str(f["episode_started_as_of"])[:10]}
                for f in resolved_now.to_dict("records")]
    outbox = store.outbox_frame(statuses=UNDELIVERED)
    undelivered = [{"status": e["status"], "channel": e["channel"], "action": e["action"],
                    "recipient": e["recipient"], **about(str(e["fingerprint"])), "attempts": e["attempts"],
                    "dispatched_at": str(e["dispatched_at"] or "")[:19],
                    "detail": e.get("last_error") or e.get("error") or e.get("external_ref") or ""}
                   for e in outbox.to_dict("records")]
    shown = store.outbox_frame(run_id, columns=["fingerprint", "channel", "action", "step", "recipient", "status"],
                               limit=limit)
    actions = [{"channel": e["channel"], "action": e["action"], "step": e["step"], "recipient": e["recipient"],
                "status": e["status"], **about(str(e["fingerprint"]))} for e in shown.to_dict("records")]
    metrics = summary.get("metrics")
    chart_list = [{"caption": "Open findings by rule and team",
                   "svg": Markup(charts.rule_team_chart(summary["findings"]["by_rule_and_team"]))}]
    if metrics:
        chart_list = [
            {"caption": "Weekly compliance: share of open action items on track (rebuilt from item history)",
             "svg": Markup(charts.trend_chart(metrics["weekly_trend"]))},
            {"caption": "Open action items by age", "svg": Markup(charts.age_chart(metrics["open_by_age"]))},
            *chart_list,
        ]
    open_frame = stored[stored["status"] == "open"]
    return {
        "s": summary, "m": metrics, "charts": chart_list,
        "open": finding_rows(store, open_frame, as_of, timezones, jira_browse_base(), limit=limit),
        "open_total": len(open_frame), "actions_total": store.outbox_count(run_id),
        "waived": waived, "resolved": resolved, "undelivered": undelivered, "actions": actions,
        "quarantine": store.quarantine_seen_in(run_id), "sources": [],
    }


def team_timezones(frames: Mapping[str, pd.DataFrame], overrides: Mapping[str, str | None]) -> dict[str, str]:
    """Each team's time zone: the policy's override, else the roster's (teams without one show UTC)."""
    import pandas as pd

    teams = frames.get("teams")
    zones = {} if teams is None else {str(t): str(z) for t, z in zip(teams["team_id"], teams["timezone"], strict=True)
                                      if not pd.isna(z) and str(z)}
    zones.update({t: z for t, z in overrides.items() if z})
    return zones


ACTION_WORDS = {
    "create_ticket": "Jira ticket for {to}",
    "dm_owner": "Slack DM to {to}",
    "warn_owner": "reminder DM to {to}",
    "comment_ticket": "ticket comment",
    "post_team_channel": "post in {to}",
    "dm_manager": "Slack DM to manager {to}",
    "leadership_digest": "leadership digest in {to}",
    "resolve_ticket": "resolve the ticket",
    "update_ticket": "update the ticket",
    "reopen_ticket": "reopen the ticket",
    "team_digest": "weekly digest in {to}",
}


def describe_actions(findings: pd.DataFrame, actions: pd.DataFrame) -> list[str]:
    """One line per finding that has actions: the finding, then what would be done about it."""
    if actions.empty:
        return []
    by_fingerprint = findings.set_index("fingerprint") if not findings.empty else None
    lines = []
    for fingerprint, group in actions.groupby("fingerprint", sort=False):
        label = str(fingerprint)[:12]
        if by_fingerprint is not None and fingerprint in by_fingerprint.index:
            f = by_fingerprint.loc[fingerprint]
            label = f"{f['rule']:<12} {f['subject_id']:<10} [{f['team_id']}]"
        steps = [ACTION_WORDS.get(a, a).format(to=r or "?") for a, r in zip(group["action"], group["recipient"],
                                                                             strict=True)]
        top = int(group["step"].max())
        lines.append(f"  {label:<40} step {max(top, 0)}: " + "; ".join(steps))
    return lines


def _as_slack_shows(text: str) -> str:
    """A message's text as Slack displays it: its three escaped characters (&amp; &lt; &gt;) read back."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def format_summary(summary: dict[str, Any], findings: pd.DataFrame | None = None,
                   actions: pd.DataFrame | None = None, limit: int = 30, messages_shown: int = 6) -> str:
    """The summary as text for a terminal; with findings and actions, what it would do about each."""
    f = summary["findings"]
    lines = [
        f"Followthrough run {summary['run_id']}",
        f"As of {summary['as_of']}, policy {str(summary['policy_hash'])[:12]}",
        f"Open findings: {f['open']}, waived: {f.get('waived', 0)}  (this run: " + ", ".join(f"{k} {v}" for k, v in f["changes_this_run"].items())
        + ")",
        "",
        "Open findings by rule and team:",
    ]
    lines += [f"  {key:<40} {n:>4}" for key, n in f["by_rule_and_team"].items()] or ["  (none)"]
    lines += ["", f"Quarantined source rows: {summary['quarantine']['rows']} (kept in the store, see quarantine.csv)"]
    lines += [f"  {key:<40} {n:>4}" for key, n in summary["quarantine"]["by_reason"].items()]
    planned = summary["actions_planned_this_run"]
    lines += ["", f"Actions planned this run: {planned['total']} ("
              + ", ".join(f"{k} {v}" for k, v in planned["by_status"].items()) + ")"]
    if planned["total"] == 0 and f["open"]:
        lines.append("  (nothing new: the actions for these findings were planned by an earlier run)")
    if findings is not None and actions is not None and not actions.empty:
        lines += ["", "What it does about each finding on this as-of date (dry-run: recorded, not sent):"]
        described = describe_actions(findings, actions)
        lines += described[:limit]
        if len(described) > limit:
            lines.append(f"  ... and {len(described) - limit} more findings (actions.csv has them all)")
    if actions is not None and not actions.empty:
        messages = actions[actions["channel"] == "slack"].head(messages_shown)
        if not messages.empty:
            lines += ["", f"Slack messages it would send (first {len(messages)}; all in actions.csv):"]
            for row in messages.itertuples(index=False):
                text = _as_slack_shows(str(redact_payload(row.payload).get("text", ""))).replace("\n", " ")
                lines.append(f"  to {row.recipient}: {text[:220]}{'...' if len(text) > 220 else ''}")
    if "report" in summary:
        lines += ["", f"Report: {summary['report']}"]
    return "\n".join(lines)
