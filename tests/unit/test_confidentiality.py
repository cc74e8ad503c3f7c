"""Confidential by policy: labels, severities and root-cause categories, not one source label."""

from __future__ import annotations

import pandas as pd
import pytest

from followthrough.escalation import plan_actions
from followthrough.findings import with_fingerprints
from followthrough.policy import policy_for_tests
from followthrough.rules import evaluate_rules
from followthrough.rules.common import with_confidentiality
from tests.unit.frames import AS_OF, frames, item


def _incident(incident_id: str, **extra: str) -> dict[str, str]:
    return {"incident_id": incident_id, "title": f"Vault breach {incident_id}", "severity": "SEV3",
            "status": "resolved", "team_id": "payments", "service": "vault", "root_cause_category": "config",
            "started_at": "2026-06-01T09:00:00Z", "resolved_at": "2026-06-01T10:00:00Z",
            "confidential": "false"} | extra


def _flags(policy_overrides: dict[str, object], **incidents: dict[str, str]) -> dict[str, bool]:
    policy = policy_for_tests(incidents=policy_overrides)
    data = frames(incidents=[_incident(i, **extra) for i, extra in incidents.items()])
    marked = with_confidentiality(data, policy)["incidents"]
    return dict(zip(marked["incident_id"], marked["confidential"], strict=True))


def test_the_default_labels_are_confidential_and_security_case_insensitive() -> None:
    flags = _flags({}, A={"labels": "outage;Security"}, B={"labels": "CONFIDENTIAL"}, C={"labels": "outage, db"},
                   D={"labels": ""}, E={"confidential": "true"})
    assert flags == {"A": True, "B": True, "C": False, "D": False, "E": True}


def test_severities_and_categories_named_by_the_policy() -> None:
    flags = _flags({"confidential_severities": ["SEV1"], "confidential_categories": ["Security"]},
                   A={"severity": "SEV1"}, B={"root_cause_category": "security"}, C={})
    assert flags == {"A": True, "B": True, "C": False}


def test_no_labels_configured_means_only_the_source_flag() -> None:
    flags = _flags({"confidential_labels": []}, A={"labels": "security"}, B={"confidential": "true"})
    assert flags == {"A": False, "B": True}


@pytest.mark.parametrize("labels", ["security", "Confidential;sev"])
def test_a_security_labelled_incident_is_never_described_in_a_channel(labels: str) -> None:
    policy = policy_for_tests()
    data = frames(incidents=[_incident("INC-1", labels=labels)],
                  action_items=[item("AI-1", incident_id="INC-1", summary="Rotate the vault root key",
                                     created_at="2026-06-01T11:00:00Z", due_date="2026-06-10",
                                     updated_at="2026-06-01T11:00:00Z")])
    findings = with_fingerprints(evaluate_rules(data, policy, AS_OF))
    assert findings["confidential"].all()
    assert not findings.empty
    findings = findings.assign(episode=1, due_at=pd.Timestamp("2026-06-10", tz="UTC"))
    actions = plan_actions(findings, findings.iloc[0:0], data, policy, AS_OF + pd.Timedelta(days=30))
    channel_posts = [a for a in actions if a["action"] in ("post_team_channel", "leadership_digest")]
    assert channel_posts
    assert not any("Vault breach" in a["payload"]["text"] for a in channel_posts)
    assert not any("INC-1" in a["payload"]["text"] for a in channel_posts)
