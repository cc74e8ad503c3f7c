"""The run summary printed by `followthrough report`: the Slack messages as people will read them."""

from __future__ import annotations

import pandas as pd

from followthrough.report.summary import format_summary

SUMMARY = {"run_id": "run-1", "as_of": "2026-07-15T10:00:00+00:00", "policy_hash": "ab" * 32,
           "findings": {"open": 1, "waived": 0, "changes_this_run": {"new": 1}, "by_rule_and_team": {"AI-OVERDUE / search": 1}},
           "quarantine": {"rows": 0, "by_reason": {}},
           "actions_planned_this_run": {"total": 1, "by_status": {"dry_run": 1}}}


def _actions(text: str) -> pd.DataFrame:
    return pd.DataFrame([{"fingerprint": "f" * 64, "channel": "slack", "action": "dm", "recipient": "neha.bose",
                          "step": 0, "payload": {"text": text}}])


def test_a_message_is_shown_as_slack_displays_it_not_as_its_escaped_payload() -> None:
    text = format_summary(SUMMARY, None, _actions("p99 latency &gt; 300ms &amp; errors &lt; 1%\nNext step: fix it"))
    assert "to neha.bose: p99 latency > 300ms & errors < 1% Next step: fix it" in text
    assert "&gt;" not in text


def test_an_escaped_ampersand_sequence_is_read_back_once() -> None:
    # the payload "&amp;gt;" is the text "&gt;" typed by a person: it shows as such, not as ">"
    assert "to neha.bose: a &gt; b" in format_summary(SUMMARY, None, _actions("a &amp;gt; b"))
