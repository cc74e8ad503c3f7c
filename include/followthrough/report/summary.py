"""Run summary and report files: what was found, what would be done, what was quarantined.

The report folder of a run holds `summary.json`, `findings.csv` (open findings with their
evidence), `actions.csv` (the outbox entries this run planned), `quarantine.csv` and a
self-contained `report.html` for people.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.store.repository import Store

FINDING_REPORT_COLUMNS = ["rule", "subject_type", "subject_id", "team_id", "incident_id", "responsible", "due_at",
                          "first_seen_as_of", "episode", "reason", "evidence"]
ACTION_REPORT_COLUMNS = ["idempotency_key", "channel", "action", "step", "recipient", "status", "payload"]


def build_summary(store: Store, run_id: str, as_of: pd.Timestamp) -> dict[str, Any]:
    run = store.get_run(run_id) or {}
    stored = store.findings_frame()
    open_findings = stored[stored["status"] == "open"]
    changes = Counter(_change(e) for e in store.audit_events(run_id) if e["kind"].startswith("finding_"))
    actions = store.outbox_frame(run_id)
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
            "changes_this_run": {k: changes.get(k, 0) for k in ("new", "reopened", "resolved", "waived")},
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


def write_report(store: Store, run_id: str, summary: dict[str, Any], folder: Path) -> Path:
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    findings = store.findings_frame("open")[FINDING_REPORT_COLUMNS]
    actions = store.outbox_frame(run_id)[ACTION_REPORT_COLUMNS]
    quarantine = pd.DataFrame(store.quarantine_seen_in(run_id),
                              columns=["source", "entity", "row_number", "record_id", "reason_code", "reason"])
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    findings.assign(evidence=findings["evidence"].map(lambda e: json.dumps(e, sort_keys=True))).to_csv(
        folder / "findings.csv", index=False)
    actions.assign(payload=actions["payload"].map(lambda p: json.dumps(p, sort_keys=True))).to_csv(
        folder / "actions.csv", index=False)
    quarantine[["source", "entity", "row_number", "record_id", "reason_code", "reason"]].to_csv(
        folder / "quarantine.csv", index=False)
    (folder / "report.html").write_text(render_html(summary, findings, actions, quarantine), encoding="utf-8")
    return folder


def _table(frame: pd.DataFrame, columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
        for row in frame[columns].itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _bars(counts: dict[str, int]) -> str:
    top = max(counts.values(), default=1)
    return "".join(
        f"<div class='bar'><span>{html.escape(k)}</span><i style='width:{int(300 * v / top)}px'></i><b>{v}</b></div>"
        for k, v in counts.items()
    )


def render_html(summary: dict[str, Any], findings: pd.DataFrame, actions: pd.DataFrame,
                quarantine: pd.DataFrame) -> str:
    f = summary["findings"]
    changes = ", ".join(f"{k}: {v}" for k, v in f["changes_this_run"].items())
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Followthrough run {html.escape(summary['run_id'])}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}}th{{background:#f0f0f0}}
.bar{{display:flex;align-items:center;gap:8px;font-size:13px}}.bar span{{width:220px}}.bar i{{display:inline-block;height:12px;background:#3b7dd8}}</style>
</head><body>
<h1>Followthrough enforcement run</h1>
<p>Run <code>{html.escape(summary['run_id'])}</code>, as of <b>{html.escape(summary['as_of'])}</b>,
policy <code>{html.escape(str(summary['policy_hash'])[:12])}</code>.
Open findings: <b>{f['open']}</b> ({html.escape(changes)}).
Quarantined rows: <b>{summary['quarantine']['rows']}</b>.
Actions planned this run: <b>{summary['actions_planned_this_run']['total']}</b>.</p>
<p>Great Expectations Data Docs: <a href="data_docs/followup/index.html">follow-up rules</a>,
<a href="data_docs/source_contract/">source contract</a> (one site per source).</p>
<h2>Open findings by rule</h2>{_bars(f['by_rule'])}
<h2>Open findings by team</h2>{_bars(f['by_team'])}
<h2>Open findings</h2>{_table(findings, ['rule', 'subject_id', 'team_id', 'responsible', 'due_at', 'reason'])}
<h2>Actions planned this run</h2>{_table(actions, ['channel', 'action', 'step', 'recipient', 'status', 'idempotency_key'])}
<h2>Quarantined source rows</h2>{_table(quarantine, ['source', 'entity', 'row_number', 'record_id', 'reason'])}
</body></html>
"""


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
                text = str((row.payload or {}).get("text", "")).replace("\n", " ")
                lines.append(f"  to {row.recipient}: {text[:220]}{'...' if len(text) > 220 else ''}")
    if "report" in summary:
        lines += ["", f"Report: {summary['report']}"]
    return "\n".join(lines)
