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
    "PM-MISSING": RuleGuidance(
        title="Postmortem not started",
        why="Without a written postmortem the root cause and the corrective actions are never agreed.",
        fix="Create the postmortem with one named owner and schedule the review.",
    ),
    "PM-INCOMPLETE": RuleGuidance(
        title="Postmortem is incomplete",
        why="A postmortem without its timeline, root cause, impact or actions cannot prevent the next incident.",
        fix="Fill in the missing or empty sections named in the evidence.",
    ),
    "PM-BLAME": RuleGuidance(
        title="Postmortem uses blame-first language",
        why="Blaming people hides the system causes and makes the next review less honest.",
        fix="Rephrase the quoted sentence around what in the system allowed the mistake.",
    ),
    "PM-INSULAR": RuleGuidance(
        title="Postmortem review left out affected teams",
        why="Teams owning affected services know failure modes the owning team does not.",
        fix="Invite the teams named in the evidence to the review and record them as participants.",
    ),
    "PM-NO-ACTIONS": RuleGuidance(
        title="Major incident has no corrective action",
        why="An incident with no follow-up action is likely to happen again.",
        fix="Add at least one owned, dated action item that addresses the root cause.",
    ),
    "AI-OWNER-GONE": RuleGuidance(
        title="Action item owner has left",
        why="Items owned by people who left are orphaned until someone notices.",
        fix="Reassign the item to an active member of the team.",
    ),
    "AI-VAGUE": RuleGuidance(
        title="Action item is too vague to act on",
        why="Vague items (\u201cinvestigate\u201d, \u201cimprove monitoring\u201d) cannot be finished or verified.",
        fix="Name the failure mode, the system and a measurable outcome in the summary.",
    ),
    "AI-NO-DUE": RuleGuidance(
        title="Action item has no due date",
        why="Without a due date nobody can tell when the follow-up is late.",
        fix="Set a due date within the limit for its priority and incident severity.",
    ),
    "AI-DUE-BEYOND-SLA": RuleGuidance(
        title="Action item is due later than the policy allows",
        why="High-risk follow-up that waits months leaves the failure mode open.",
        fix="Bring the due date within the limit, or lower the priority with your lead's agreement.",
    ),
    "AI-OVERDUE": RuleGuidance(
        title="Action item is overdue",
        why="Corrective actions past their due date leave the incident's failure mode open.",
        fix="Finish the item, or agree a new date with your lead and record why.",
    ),
    "AI-DRIFT": RuleGuidance(
        title="Action item keeps slipping",
        why="Repeatedly pushed dates and lowered priorities are how follow-up quietly dies.",
        fix="Agree with your lead whether the item still matters; if it does, commit to a date.",
    ),
    "AI-WONTDO-UNJUSTIFIED": RuleGuidance(
        title="Action item closed as won't do without justification",
        why="Dropping a corrective action needs a recorded reason and someone accountable for the risk.",
        fix="Add the reason and have your lead (not the owner) approve the closure.",
    ),
    "INC-CATEGORY-GAP": RuleGuidance(
        title="Incident follow-up misses a root-cause fix or detection",
        why="Without both a fix for the cause and a way to detect it, the incident can recur unnoticed.",
        fix="Add the missing kind of action item named in the evidence.",
    ),
    "INC-REPEAT": RuleGuidance(
        title="Incident repeats an earlier failure whose fixes are still open",
        why="The corrective actions of the earlier incident would have prevented this one.",
        fix="Prioritise the open actions of the earlier incident named in the evidence.",
    ),
    "SRC-INVALID": RuleGuidance(
        title="Tracker record could not be read",
        why="A record that breaks the source contract is left out of every other check.",
        fix="Correct the record in the tracker as the reason says; the next run picks it up.",
    ),
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
