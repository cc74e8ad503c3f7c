from __future__ import annotations

import pandas as pd
import pytest

from followthrough.escalation import escape_slack, ladder_steps, plan_actions
from followthrough.policy import Policy, policy_for_tests
from tests.unit.frames import AS_OF, frames

POLICY = Policy(sources=[{"name": "demo", "path": "x"}])


def _finding(due_at: str, *, critical: bool = False, confidential: bool = False, team: str = "payments",
             subject: str = "AI-1", title: str = "Add alert") -> dict:
    return {"fingerprint": f"fp-{subject}", "episode": 1, "rule": "AI-STALE", "subject_type": "action_item",
            "subject_id": subject, "team_id": team, "incident_id": "INC-1", "responsible": "omar.owner",
            "due_at": pd.Timestamp(due_at).tz_localize(None), "critical": critical, "confidential": confidential,
            "title": title, "reason": "no status update for 9 days"}


@pytest.mark.parametrize(
    ("due_at", "step"),
    [
        ("2026-07-15T09:00:00", 0),  # due today
        ("2026-07-14T09:00:00", 0),  # 1 business day
        ("2026-07-13T09:00:00", 1),  # Mon -> Wed: 2 business days
        ("2026-07-10T09:00:00", 1),  # Fri -> Wed: 3 business days (the weekend does not count)
        ("2026-07-08T09:00:00", 2),  # 5 business days
        ("2026-07-01T09:00:00", 3),  # 10 business days
    ],
)
def test_ladder_step_counts_business_days_since_due(due_at: str, step: int) -> None:
    findings = pd.DataFrame([_finding(due_at)])
    assert ladder_steps(findings, frames(), POLICY, AS_OF).tolist() == [step]


def test_critical_findings_start_at_step_two() -> None:
    findings = pd.DataFrame([_finding("2026-07-15T09:00:00", critical=True)])
    assert ladder_steps(findings, frames(), POLICY, AS_OF).tolist() == [2]


def test_plan_step_zero_is_a_ticket_and_a_dm() -> None:
    actions = plan_actions(pd.DataFrame([_finding("2026-07-15T09:00:00")]), pd.DataFrame(), frames(), POLICY, AS_OF)
    assert [(a["channel"], a["action"], a["recipient"]) for a in actions] == [
        ("jira", "create_ticket", "omar.owner"), ("slack", "dm_owner", "omar.owner")]
    ticket = actions[0]["payload"]
    for part in ("What is wrong", "Why it matters", "Deadline", "How to fix it", "How to contest it"):
        assert part in ticket["description"]
    assert "ft-fp-AI-1" in ticket["labels"]


def test_plan_step_one_posts_in_the_team_channel_and_comments() -> None:
    actions = plan_actions(pd.DataFrame([_finding("2026-07-13T09:00:00")]), pd.DataFrame(), frames(), POLICY, AS_OF)
    assert [(a["action"], a["recipient"]) for a in actions][2:] == [
        ("comment_ticket", "omar.owner"), ("post_team_channel", "#payments")]


def test_plan_keys_are_unique_and_deterministic() -> None:
    findings = pd.DataFrame([_finding("2026-07-01T09:00:00"), _finding("2026-07-15T09:00:00", subject="AI-2")])
    first = plan_actions(findings, pd.DataFrame(), frames(), POLICY, AS_OF)
    second = plan_actions(findings, pd.DataFrame(), frames(), POLICY, AS_OF)
    keys = [a["idempotency_key"] for a in first]
    assert len(keys) == len(set(keys))
    assert keys == [a["idempotency_key"] for a in second]


def test_channel_posts_never_describe_confidential_subjects() -> None:
    finding = _finding("2026-07-13T09:00:00", confidential=True, title="Breach of customer vault")
    actions = plan_actions(pd.DataFrame([finding]), pd.DataFrame(), frames(), POLICY, AS_OF)
    channel = [a for a in actions if a["action"] == "post_team_channel"][0]
    assert "Breach" not in channel["payload"]["text"]
    dm = [a for a in actions if a["action"] == "dm_owner"][0]
    assert "Breach" in dm["payload"]["text"]


def test_tracker_text_is_escaped_for_slack() -> None:
    assert escape_slack("<!channel> <@U123> <https://evil|click> & co") == (
        "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|click&gt; &amp; co")
    finding = _finding("2026-07-15T09:00:00", title="<!channel> ping")
    actions = plan_actions(pd.DataFrame([finding]), pd.DataFrame(), frames(), POLICY, AS_OF)
    assert "<!channel>" not in actions[1]["payload"]["text"]


def test_resolved_findings_get_one_resolve_action() -> None:
    resolved = pd.DataFrame([_finding("2026-07-01T09:00:00")])
    actions = plan_actions(pd.DataFrame(), resolved, frames(), POLICY, AS_OF)
    assert [(a["action"], a["idempotency_key"]) for a in actions] == [("resolve_ticket",
                                                                       "dry_run/fp-AI-1:1:jira:resolve")]


def test_live_keys_differ_from_dry_run_keys_so_switching_to_live_plans_anew() -> None:
    live = policy_for_tests(dispatch={"jira": "live"})
    finding = pd.DataFrame([_finding("2026-07-15T09:00:00")])
    keys = {a["action"]: a["idempotency_key"] for a in plan_actions(finding, pd.DataFrame(), frames(), live, AS_OF)}
    assert keys == {"create_ticket": "fp-AI-1:1:jira:create", "dm_owner": "dry_run/fp-AI-1:1:slack:step0:dm_owner"}


def test_ticket_payload_names_the_assignee_email_from_the_roster() -> None:
    actions = plan_actions(pd.DataFrame([_finding("2026-07-15T09:00:00")]), pd.DataFrame(), frames(), POLICY, AS_OF)
    assert actions[0]["payload"]["assignee_email"] == "omar.owner@example.com"


@pytest.mark.parametrize(
    ("first_seen", "step"),
    [("2026-07-15T10:00:00", 0), ("2026-07-10T10:00:00", 1), ("2026-06-01T10:00:00", 3)],
)
def test_ladder_counts_from_the_later_of_due_and_first_seen(first_seen: str, step: int) -> None:
    finding = _finding("2026-05-01T09:00:00") | {"episode_started_as_of": pd.Timestamp(first_seen)}
    assert ladder_steps(pd.DataFrame([finding]), frames(), POLICY, AS_OF).tolist() == [step]


def test_ladder_skips_public_holidays() -> None:
    # growth (New York): due Thu 2 July; Fri 3 July is Independence Day (observed), so on Mon 6 July only one
    # business day has passed (step 0), where a plain weekday count would say two (step 1)
    finding = _finding("2026-07-02T14:00:00", team="growth")
    as_of = pd.Timestamp("2026-07-06T14:00:00Z")
    assert ladder_steps(pd.DataFrame([finding]), frames(), POLICY, as_of).tolist() == [0]
    no_holidays = policy_for_tests(calendar={"public_holidays": False})
    assert ladder_steps(pd.DataFrame([finding]), frames(), no_holidays, as_of).tolist() == [1]


@pytest.mark.parametrize(
    ("team", "as_of", "send_after"),
    [
        ("payments", "2026-07-15T10:00:00Z", "2026-07-15T10:00:00+00:00"),  # inside 09-17 UTC
        ("identity", "2026-07-15T10:00:00Z", "2026-07-15T16:00:00+00:00"),  # 03:00 in LA: wait for 09:00 PDT
        ("search", "2026-07-15T12:00:00Z", "2026-07-16T03:30:00+00:00"),  # 17:30 in Kolkata: next morning
        ("payments", "2026-07-17T18:00:00Z", "2026-07-20T09:00:00+00:00"),  # Friday evening: Monday morning
        ("growth", "2026-07-02T22:00:00Z", "2026-07-06T13:00:00+00:00"),  # Thursday night, Friday is a holiday
    ],
)
def test_slack_messages_wait_for_working_hours_on_business_days(team: str, as_of: str, send_after: str) -> None:
    finding = _finding("2026-07-01T09:00:00", team=team)
    actions = plan_actions(pd.DataFrame([finding]), pd.DataFrame(), frames(), POLICY, pd.Timestamp(as_of))
    dm = [a for a in actions if a["action"] == "dm_owner"][0]
    assert dm["payload"]["send_after"] == send_after


def _returning(resolved: str, started: str) -> dict:
    return _finding("2026-07-15T09:00:00") | {"episode": 2, "last_resolved_as_of": pd.Timestamp(resolved),
                                               "episode_started_as_of": pd.Timestamp(started)}


def test_a_finding_back_within_the_window_reopens_its_ticket_later_gets_a_new_one() -> None:
    live = policy_for_tests(dispatch={"jira": "live"})
    soon = plan_actions(pd.DataFrame([_returning("2026-07-10T10:00:00", "2026-07-15T10:00:00")]), pd.DataFrame(),
                        frames(), live, AS_OF)
    assert [(a["action"], a["idempotency_key"]) for a in soon if a["channel"] == "jira"] == [
        ("reopen_ticket", "fp-AI-1:2:jira:reopen")]
    late = plan_actions(pd.DataFrame([_returning("2026-06-01T10:00:00", "2026-07-15T10:00:00")]), pd.DataFrame(),
                        frames(), live, AS_OF)
    assert [a["action"] for a in late if a["channel"] == "jira"] == ["create_ticket"]
    never = policy_for_tests(dispatch={"jira": "live", "reopen_within_days": 0})
    assert [a["action"] for a in plan_actions(pd.DataFrame([_returning("2026-07-14T10:00:00", "2026-07-15T10:00:00")]),
                                              pd.DataFrame(), frames(), never, AS_OF)
            if a["channel"] == "jira"] == ["create_ticket"]


def test_a_changed_reason_updates_the_ticket_once_per_reason() -> None:
    finding = _finding("2026-07-15T09:00:00")
    first = plan_actions(pd.DataFrame([finding]), pd.DataFrame(), frames(), POLICY, AS_OF, frozenset({"fp-AI-1"}))
    updates = [a for a in first if a["action"] == "update_ticket"]
    assert len(updates) == 1
    assert "What is wrong" in updates[0]["payload"]["description"]
    other = plan_actions(pd.DataFrame([finding | {"reason": "owner left"}]), pd.DataFrame(), frames(), POLICY, AS_OF,
                         frozenset({"fp-AI-1"}))
    assert [a for a in other if a["action"] == "update_ticket"][0]["idempotency_key"] != updates[0]["idempotency_key"]
    unchanged = plan_actions(pd.DataFrame([finding]), pd.DataFrame(), frames(), POLICY, AS_OF)
    assert not [a for a in unchanged if a["action"] == "update_ticket"]


def test_every_rule_has_guidance_for_tickets_and_messages() -> None:
    from followthrough.catalog import GUIDANCE, RULE_IDS

    assert set(GUIDANCE) == set(RULE_IDS)
    assert all(g.title and g.why and g.fix for g in GUIDANCE.values())


@pytest.mark.parametrize(("owner", "recipient"), [("omar.owner", "omar.owner"), ("", "")])
def test_a_blame_finding_is_told_to_its_owner_alone_never_to_the_lead(owner: str, recipient: str) -> None:
    finding = pd.DataFrame([_finding("2026-07-15T09:00:00") | {
        "rule": "PM-BLAME", "subject_type": "postmortem", "private": True, "responsible": owner,
        "reason": "blame-first language: \u201cBob ignored the alert\u201d"}])
    actions = plan_actions(finding, pd.DataFrame(), frames(), POLICY, AS_OF)
    assert [(a["action"], a["recipient"]) for a in actions] == [("dm_owner", recipient)]
    assert actions[0]["payload"]["fallback"] == []  # no lead: only the platform notice, without the quote
    assert actions[0]["payload"]["sensitive"] is True


def _dms(recipient: str, n: int, *, sensitive_from: int = 99) -> list[dict]:
    return [{"idempotency_key": f"fp{i}:1:slack:step0:dm_owner", "fingerprint": f"fp{i}", "episode": 1, "step": 0,
             "channel": "slack", "action": "dm_owner", "recipient": recipient, "team_id": "payments",
             "payload": {"to": recipient, "slack_id": "U1", "email": "", "fallback": [],
                         "text": f"Action item overdue: AI-{i} (quote {i}). Next step: close it.",
                         **({"sensitive": True} if i >= sensitive_from else {})}} for i in range(n)]


def test_direct_messages_beyond_the_daily_cap_fold_into_one_summary() -> None:
    from followthrough.escalation import cap_direct_messages

    ticket = {"idempotency_key": "fpx:1:jira:create", "channel": "jira", "action": "create_ticket", "recipient": "omar"}
    capped = cap_direct_messages([ticket, *_dms("omar", 8, sensitive_from=7), *_dms("lena", 2)], 5, AS_OF)
    omar = [a for a in capped if a["recipient"] == "omar" and a["channel"] == "slack"]
    assert [a["action"] for a in omar] == ["dm_owner"] * 5 + ["dm_summary"]
    summary = omar[-1]
    assert summary["idempotency_key"].startswith(f"dm_summary/omar/{AS_OF.date()}/")
    assert summary["payload"]["folded"] == [f"fp{i}:1:slack:step0:dm_owner" for i in (5, 6, 7)]
    assert "3 more Followthrough items" in summary["payload"]["text"]
    assert "AI-5" in summary["payload"]["text"]
    assert "quote 7" not in summary["payload"]["text"]  # a private item is listed only as such
    assert ticket in capped
    assert len([a for a in capped if a["recipient"] == "lena"]) == 2


def test_a_rerun_of_the_day_changes_nothing_and_earlier_messages_count() -> None:
    from followthrough.escalation import cap_direct_messages

    first = cap_direct_messages(_dms("omar", 3), 5, AS_OF)
    assert [a["action"] for a in first] == ["dm_owner"] * 3
    planned = {"omar": {a["idempotency_key"] for a in first}}
    again = cap_direct_messages(_dms("omar", 3), 5, AS_OF, planned)
    assert [a["idempotency_key"] for a in again] == [a["idempotency_key"] for a in first]  # no summary appears
    later = [{**a, "idempotency_key": a["idempotency_key"].replace("fp", "new")} for a in _dms("omar", 4)]
    capped = cap_direct_messages(later, 5, AS_OF, planned)
    assert [a["action"] for a in capped] == ["dm_owner", "dm_owner", "dm_summary"]
    # what a summary already folded is never planned again that day, neither alone nor in a new summary
    planned["omar"] |= {a["idempotency_key"] for a in capped[:2]} | {f"folded:{k}" for k in capped[2]["payload"]["folded"]}
    assert cap_direct_messages(later, 5, AS_OF, planned) == capped[:2]
