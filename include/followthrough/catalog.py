"""What each rule means to the person who gets the ticket: why it matters and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass

RULE_IDS = (
    "PM-MISSING", "PM-OVERDUE", "PM-INCOMPLETE", "PM-BLAME", "PM-INSULAR", "PM-NO-ACTIONS",
    "AI-NO-OWNER", "AI-OWNER-GONE", "AI-VAGUE", "AI-NO-DUE", "AI-DUE-BEYOND-SLA", "AI-OVERDUE", "AI-STALE",
    "AI-DRIFT", "AI-WONTDO-UNJUSTIFIED", "INC-CATEGORY-GAP", "INC-REPEAT", "SRC-INVALID",
)


@dataclass(frozen=True)
class RuleGuidance:
    title: str
    why: str
    fix: str


CONTEST = (
    "If this finding is wrong, reply on this ticket with the reason; your team lead can waive it "
    "with a reason and an expiry date."
)

GUIDANCE: dict[str, RuleGuidance] = {
    "AI-NO-OWNER": RuleGuidance(
        title="Action item has no named owner",
        why="Action items owned by a team, a placeholder or nobody are the ones that get orphaned; "
        "the same failure then comes back.",
        fix="Assign the item to one named person who agrees to drive it.",
    ),
    "AI-STALE": RuleGuidance(
        title="Action item has no recent status update",
        why="Weekly status updates are how follow-up stays visible after the incident is closed.",
        fix="Post a status update on the item: progress, blockers, and whether the due date still holds.",
    ),
    "PM-OVERDUE": RuleGuidance(
        title="Postmortem is overdue",
        why="Postmortems written long after resolution lose the details that explain the failure, "
        "and their corrective actions start late.",
        fix="Finish and publish the postmortem, or agree a new date with your team lead.",
    ),
}


def guidance(rule: str) -> RuleGuidance:
    return GUIDANCE.get(rule, RuleGuidance(title=rule, why="", fix=""))
