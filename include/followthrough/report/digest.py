"""Weekly digests: per team, and one for leadership across teams.

A team digest says what is open by rule and by age (days since first seen), what was
closed in the last seven days, and the trend (open now against open a week ago). It counts
confidential findings but never describes them, and it names no one (no public shaming:
subjects and rules only). Each digest becomes one outbox entry keyed by (team, ISO week),
so a re-run of the week's digest posts nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.policy import Policy

AGE_BUCKETS = ((0, 7, "under a week"), (8, 30, "1-4 weeks"), (31, 10_000, "over a month"))
LISTED = 10  # subjects listed per digest; the rest are counted


def _naive(as_of: pd.Timestamp) -> pd.Timestamp:
    return as_of.tz_convert("UTC").tz_localize(None) if as_of.tzinfo else as_of


def team_digest(findings: pd.DataFrame, team_id: str | None, as_of: pd.Timestamp) -> dict[str, Any]:
    """The digest of one team (team_id None: every team) from the store's findings frame."""
    import pandas as pd

    now = _naive(as_of)
    week_ago = now - pd.Timedelta(days=7)
    frame = findings if team_id is None else findings[findings["team_id"] == team_id]
    first_seen = pd.to_datetime(frame["first_seen_as_of"])
    resolved_at = pd.to_datetime(frame["resolved_as_of"])
    open_now = frame[frame["status"] == "open"]
    ages = (now - pd.to_datetime(open_now["first_seen_as_of"])).dt.days
    by_age = {label: int(((ages >= low) & (ages <= high)).sum()) for low, high, label in AGE_BUCKETS}
    closed = frame[(frame["status"] == "resolved") & (resolved_at > week_ago) & (resolved_at <= now)]
    open_week_ago = frame[(first_seen <= week_ago) & ((frame["status"] != "resolved") | (resolved_at > week_ago))
                          & (frame["status"] != "waived")]
    listed = open_now.sort_values(["critical", "first_seen_as_of"], ascending=[False, True]).head(LISTED)
    return {
        "team_id": team_id,
        "as_of": as_of.isoformat(),
        "open": len(open_now),
        "open_week_ago": len(open_week_ago),
        "trend": len(open_now) - len(open_week_ago),
        "closed_this_week": len(closed),
        "by_rule": {str(k): int(v) for k, v in open_now["rule"].value_counts().sort_index().items()},
        "by_age": by_age,
        "confidential_open": int(open_now["confidential"].astype(bool).sum()),
        "top": [{"rule": r.rule, "subject": "a confidential item" if r.confidential else r.subject_id,
                 "critical": bool(r.critical)} for r in listed.itertuples()],
    }


def render_digest(digest: Mapping[str, Any], team_name: str) -> str:
    """Plain text (Slack-escaped by construction: only ids, counts and rule names appear)."""
    from followthrough.escalation import escape_slack

    trend = digest["trend"]
    direction = "up" if trend > 0 else "down" if trend < 0 else "unchanged"
    lines = [
        f"Weekly follow-up digest for {escape_slack(team_name)} (as of {digest['as_of'][:10]})",
        f"Open: {digest['open']} ({direction} {abs(trend)} from {digest['open_week_ago']} a week ago); "
        f"closed this week: {digest['closed_this_week']}.",
        "By age: " + ", ".join(f"{label} {n}" for label, n in digest["by_age"].items()),
        "By rule: " + (", ".join(f"{rule} {n}" for rule, n in digest["by_rule"].items()) or "none"),
    ]
    if digest["confidential_open"]:
        lines.append(f"({digest['confidential_open']} of them confidential: owners were told directly.)")
    if digest["top"]:
        lines.append("Oldest and critical first: " + "; ".join(
            f"{escape_slack(t['subject'])} ({t['rule']}{', critical' if t['critical'] else ''})" for t in digest["top"]))
    return "\n".join(lines)


def digest_actions(findings: pd.DataFrame, teams: Iterable[Mapping[str, Any]], policy: Policy,
                   as_of: pd.Timestamp) -> list[dict[str, Any]]:
    """One outbox entry per team channel plus the leadership digest, keyed by ISO week."""
    year, week, _ = as_of.isocalendar()
    mode_prefix = "dry_run/" if policy.dispatch.slack == "dry_run" else ""
    actions = []
    for team in teams:
        team_id = str(team["team_id"])
        channel = str(team.get("slack_channel") or policy.dispatch.platform_channel)
        digest = team_digest(findings, team_id, as_of)
        actions.append(_digest_entry(f"{mode_prefix}digest/{team_id}/{year}-W{week:02d}", "team_digest", channel,
                                     render_digest(digest, str(team.get("name") or team_id)), digest, team_id))
    overall = team_digest(findings, None, as_of)
    actions.append(_digest_entry(f"{mode_prefix}digest/leadership/{year}-W{week:02d}", "leadership_digest",
                                 policy.dispatch.platform_channel, render_digest(overall, "all teams"), overall, ""))
    return actions


def _digest_entry(key: str, action: str, channel: str, text: str, digest: Mapping[str, Any],
                  team_id: str) -> dict[str, Any]:
    return {"idempotency_key": key, "fingerprint": key.removeprefix("dry_run/"), "episode": 1, "step": 0,
            "channel": "slack", "action": action, "recipient": channel, "team_id": team_id,
            "payload": {"to": channel, "text": text, "digest": dict(digest)}}
