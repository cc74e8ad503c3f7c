from __future__ import annotations

import pandas as pd

from followthrough.policy import policy_for_tests
from followthrough.report.digest import digest_actions, render_digest, team_digest

AS_OF = pd.Timestamp("2026-07-20T08:00:00Z")  # Monday


def _row(subject: str, status: str, first_seen: str, resolved: str | None = None, team: str = "payments",
         rule: str = "AI-STALE", confidential: bool = False, critical: bool = False) -> dict:
    return {"fingerprint": subject, "rule": rule, "subject_id": subject, "team_id": team, "status": status,
            "first_seen_as_of": pd.Timestamp(first_seen), "resolved_as_of": pd.Timestamp(resolved) if resolved else None,
            "confidential": confidential, "critical": critical}


FINDINGS = pd.DataFrame([
    _row("AI-1", "open", "2026-07-18"),  # 2 days old
    _row("AI-2", "open", "2026-07-01", rule="AI-OVERDUE"),  # 19 days
    _row("AI-3", "open", "2026-05-01", confidential=True, critical=True, rule="INC-REPEAT"),  # 80 days
    _row("AI-4", "resolved", "2026-06-01", resolved="2026-07-16"),  # closed this week
    _row("AI-5", "resolved", "2026-06-01", resolved="2026-07-01"),  # closed earlier
    _row("AI-6", "open", "2026-07-01", team="search"),
])


def test_team_digest_counts_by_rule_age_closed_and_trend() -> None:
    digest = team_digest(FINDINGS, "payments", AS_OF)
    assert digest["open"] == 3
    assert digest["by_rule"] == {"AI-OVERDUE": 1, "AI-STALE": 1, "INC-REPEAT": 1}
    assert digest["by_age"] == {"under a week": 1, "1-4 weeks": 1, "over a month": 1}
    assert digest["closed_this_week"] == 1
    assert digest["open_week_ago"] == 3  # AI-2, AI-3 and AI-4 (resolved since)
    assert digest["trend"] == 0
    assert digest["top"][0] == {"rule": "INC-REPEAT", "subject": "a confidential item", "critical": True}


def test_rendered_digest_names_no_people_and_hides_confidential_subjects() -> None:
    text = render_digest(team_digest(FINDINGS, "payments", AS_OF), "Payments <!channel>")
    assert "AI-3" not in text
    assert "1 of them confidential" in text
    assert "<!channel>" not in text


def test_one_entry_per_team_and_week_plus_leadership() -> None:
    teams = [{"team_id": "payments", "name": "Payments", "slack_channel": "#payments"},
             {"team_id": "search", "name": "Search", "slack_channel": "#search"}]
    actions = digest_actions(FINDINGS, teams, policy_for_tests(), AS_OF)
    assert [(a["action"], a["recipient"], a["idempotency_key"]) for a in actions] == [
        ("team_digest", "#payments", "dry_run/digest/payments/2026-W30"),
        ("team_digest", "#search", "dry_run/digest/search/2026-W30"),
        ("leadership_digest", "#incident-followup", "dry_run/digest/leadership/2026-W30"),
    ]
    assert actions[2]["payload"]["digest"]["open"] == 4
