"""The escalation ladder: which actions each open finding calls for today.

The step is set by business days (team calendar) since the finding became due; critical
findings start at the policy's critical step. Only the current step's action is planned,
plus the ticket and the owner's DM (step 0) which every escalation builds on: a finding
first seen at step 3 does not replay steps 1 and 2 at once. Every action carries an
idempotency key (fingerprint, episode, step, action), so planning the same day twice adds
nothing. A resolved finding gets one "resolve ticket" action. A warning (a deadline
approaching) gets one DM reminder and no ticket; a private finding (PM-BLAME) only ever
gets a DM to the responsible person. Text that comes from trackers is escaped for Slack,
and confidential subjects are never described in channels.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from followthrough.calendar import business_days_between
from followthrough.catalog import CONTEST, guidance
from followthrough.model import records
from followthrough.outbox_keys import ticket_entry_keys
from followthrough.privacy import SENSITIVE
from followthrough.rules.common import team_timezones
from followthrough.rules.common import text_or_empty as _text

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.policy import Policy


def escape_slack(text: object) -> str:
    """Slack's three control characters, so tracker text cannot mention, ping or link."""
    return str(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def ladder_steps(open_findings: pd.DataFrame, frames: Mapping[str, pd.DataFrame], policy: Policy,
                 as_of: pd.Timestamp) -> pd.Series:
    """The ladder step each open finding has reached at as_of.

    The ladder counts from when the finding became due or, if later, from when its current
    episode was first seen: people are told at step 0 before anyone escalates, even when
    a problem is discovered long after it became due.
    """
    import numpy as np
    import pandas as pd

    due = pd.to_datetime(open_findings["due_at"], utc=True)
    if "episode_started_as_of" in open_findings:
        due = due.where(due.isna(), np.maximum(due, pd.to_datetime(open_findings["episode_started_as_of"], utc=True)))
    from followthrough.rules.common import calendars, team_regions

    team_ids = open_findings["team_id"]
    days = business_days_between(due, as_of, team_timezones(frames, team_ids, policy),
                                 team_regions(frames, team_ids, policy), calendars(policy))
    thresholds = np.array([s.after_business_days for s in policy.escalation.ladder])
    step = np.searchsorted(thresholds, days.to_numpy(), side="right") - 1
    step = np.where(open_findings["critical"].astype(bool), np.maximum(step, policy.escalation.critical_start_step), step)
    return pd.Series(np.clip(step, 0, len(thresholds) - 1), index=open_findings.index, dtype="int64")


def _directory(frames: Mapping[str, pd.DataFrame]) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    people = {p["person_id"]: p for p in frames["people"].to_dict("records")}
    teams = {t["team_id"]: t for t in frames["teams"].to_dict("records")}
    return people, teams


def plan_actions(open_findings: pd.DataFrame, resolved: pd.DataFrame, frames: Mapping[str, pd.DataFrame],
                 policy: Policy, as_of: pd.Timestamp, changed: frozenset[str] = frozenset(), *,
                 waived: pd.DataFrame | None = None, unwaived: frozenset[str] = frozenset(),
                 owner_moved: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Outbox actions for today: one list of dicts, each with its idempotency key.

    `changed` names the fingerprints whose reason changed this run: their tickets get updated.
    Tickets follow their finding: `waived` (waived this run) get a comment naming the approver,
    reason and expiry and are resolved as waived; `unwaived` (their waiver expired) reopen the
    same ticket; `owner_moved` (fingerprint -> previous owner) reassign it and tell the new owner.
    """
    owner_moved = owner_moved or {}
    people, teams = _directory(frames)
    send_after = _send_after(frames, policy, as_of)
    actions: list[dict[str, Any]] = []
    steps = ladder_steps(open_findings, frames, policy, as_of) if not open_findings.empty else None
    ladder = {s.step: s.action for s in policy.escalation.ladder}
    # rows as dicts (not iterrows' Series per row): the same values, without pandas indexing per field
    for finding, step in zip(records(open_findings), steps.tolist() if steps is not None else [],
                             strict=True):
        team = teams.get(_text(finding["team_id"]), {})
        responsible = _text(finding["responsible"]) or _text(team.get("lead"))
        base = _base(finding)
        lead = (_text(team.get("lead")),)
        if finding.get("level") == "warning":
            actions.append(base | _slack(finding, 0, "warn_owner", responsible, people, private=True, fallback=lead))
            continue
        if bool(finding.get("private", False)):
            # told to the responsible person alone: no lead stands in, and with nobody reachable the
            # platform channel gets a notice that carries no quote (the gateway's fallback)
            owner = _text(finding["responsible"])
            actions.append(base | _slack(finding, 0, "dm_owner", owner, people, private=True))
            continue
        ticket = _jira_create(finding, policy, responsible, people)
        fingerprint, episode = str(finding["fingerprint"]), int(finding["episode"])
        if fingerprint in unwaived:
            ticket |= {"idempotency_key": f"{fingerprint}:{episode}:jira:reopen:unwaived:{as_of.date()}",
                       "action": "reopen_ticket"}
            ticket["payload"] |= {"same_episode": True,
                                  "comment": f"Reopened: the waiver expired and the problem is still there "
                                             f"({finding['reason']})."}
        elif _reopens(finding, policy):
            ticket |= {"idempotency_key": ticket_entry_keys(fingerprint, str(episode))[1],
                       "action": "reopen_ticket"}
            ticket["payload"]["comment"] = f"Reopened: the problem is back ({finding['reason']})."
        actions.append(base | ticket)
        if finding["fingerprint"] in changed:
            digest = hashlib.sha256(str(finding["reason"]).encode()).hexdigest()[:8]
            actions.append(base | {
                "idempotency_key": f"{finding['fingerprint']}:{int(finding['episode'])}:jira:update:{digest}",
                "step": step, "channel": "jira", "action": "update_ticket", "recipient": responsible,
                "payload": {"description": ticket["payload"]["description"]},
            })
        actions.append(base | _slack(finding, 0, "dm_owner", responsible, people, private=True, fallback=lead))
        if fingerprint in owner_moved and _text(finding["responsible"]):
            new_owner = _text(finding["responsible"])
            actions.append(base | {
                "idempotency_key": f"{fingerprint}:{episode}:jira:reassign:{new_owner}",
                "step": step, "channel": "jira", "action": "update_ticket", "recipient": new_owner,
                "payload": {"assignee": new_owner, "assignee_email": _text(people.get(new_owner, {}).get("email")),
                            "comment": f"Reassigned from {owner_moved[fingerprint]} to {new_owner}, the item's "
                                       "owner now."}})
            told = _slack(finding, 0, "dm_owner", new_owner, people, private=True, fallback=lead)
            told["idempotency_key"] += f":{new_owner}"
            actions.append(base | told)
        if step == 0:
            continue
        action = ladder[step]
        actions.append(base | _jira_comment(finding, step, action))
        if action == "post_team_channel":
            actions.append(base | _slack(finding, step, action, _text(team.get("slack_channel")), people, private=False))
        elif action == "dm_manager":
            actions.append(base | _slack(finding, step, action, _text(team.get("manager")), people, private=True,
                                         fallback=lead))
        elif action == "leadership_digest":
            actions.append(base | _slack(finding, step, action, policy.dispatch.platform_channel, people, private=False))
    for finding in records(resolved):
        if finding.get("level") == "warning" or bool(finding.get("private", False)):
            continue  # no ticket was opened for it
        gone = finding.get("resolution") == "gone"
        comment = (f"Resolved: the subject is no longer in the source on {as_of.date()} (deleted, or moved out of "
                   "the query's scope); not a fix." if gone else
                   f"Resolved: the problem was no longer found on {as_of.date()}.")
        actions.append(_base(finding) | {
            "idempotency_key": f"{finding['fingerprint']}:{int(finding['episode'])}:jira:resolve",
            "step": -1, "channel": "jira", "action": "resolve_ticket", "recipient": _text(finding["responsible"]),
            "payload": {"comment": comment, "resolution": "gone" if gone else "fixed"},
        })
    for finding in records(waived if waived is not None else resolved.iloc[0:0]):
        if finding.get("level") == "warning" or bool(finding.get("private", False)):
            continue
        waiver = finding.get("waiver") or {}
        expires = _text(waiver.get("expires"))
        actions.append(_base(finding) | {
            "idempotency_key": f"{finding['fingerprint']}:{int(finding['episode'])}:jira:waive:{expires}",
            "step": -1, "channel": "jira", "action": "resolve_ticket", "recipient": _text(finding["responsible"]),
            "payload": {"resolution": "waived",
                        "comment": f"Waived by {_text(waiver.get('approver'))} until {expires}: "
                                   f"{_text(waiver.get('reason'))}. The ticket reopens if the problem is still "
                                   "there when the waiver expires."},
        })
    sensitive = {str(f) for frame in (open_findings, resolved, waived) if frame is not None and not frame.empty
                 for f in frame.loc[_flag(frame, "private") | _flag(frame, "confidential"), "fingerprint"]}
    for planned in actions:  # their texts are kept only in the outbox (followthrough.privacy)
        if str(planned["fingerprint"]) in sensitive:
            planned["payload"][SENSITIVE] = True
    modes = {"jira": policy.dispatch.jira, "slack": policy.dispatch.slack}
    hours = working_hours(frames, policy)
    for planned in actions:
        if planned["channel"] == "slack":
            team_key = str(planned.get("team_id") or "")
            planned["payload"]["send_after"] = send_after.get(team_key, send_after[""])
            if modes["slack"] == "live":  # held until the team's working hours; checked again at delivery
                planned["send_after"] = planned["payload"]["send_after"]
                planned["payload"]["working_hours"] = hours.get(team_key, hours[""])
        if modes[planned["channel"]] == "dry_run":
            # a dry-run record never stands in for the real action: switching to live plans it anew
            planned["idempotency_key"] = f"dry_run/{planned['idempotency_key']}"
    return actions


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column's values as truth values, as bool() reads each (False where the column is missing)."""
    import pandas as pd

    if column not in frame:
        return pd.Series(False, index=frame.index)
    return frame[column].map(bool, na_action=None).astype(bool)


def _reopens(finding: Mapping[str, Any], policy: Policy) -> bool:
    """A returning finding reopens its previous ticket when it was resolved recently enough."""
    import pandas as pd

    window = policy.dispatch.reopen_within_days
    resolved_at = finding.get("last_resolved_as_of")
    started = finding.get("episode_started_as_of")
    if window <= 0 or int(finding["episode"]) <= 1 or resolved_at is None or pd.isna(resolved_at) or started is None:
        return False
    return bool(pd.Timestamp(started) - pd.Timestamp(resolved_at) <= pd.Timedelta(days=window))


def _base(finding: Mapping[str, Any]) -> dict[str, Any]:
    return {"fingerprint": finding["fingerprint"], "episode": int(finding["episode"]),
            "team_id": _text(finding.get("team_id"))}


def working_hours(frames: Mapping[str, pd.DataFrame], policy: Policy) -> dict[str, dict[str, Any]]:
    """Per team ("" for none), where and when its people work: the dispatcher delivers inside these hours."""
    import pandas as pd

    from followthrough.rules.common import team_regions

    team_ids = pd.Series(list(frames["teams"]["team_id"]) + [""], dtype="string")
    zones = team_timezones(frames, team_ids, policy)
    regions = team_regions(frames, team_ids, policy)
    result = {}
    for team, zone, region in zip(team_ids, zones, regions, strict=True):
        override = policy.teams.get(str(team))
        hours = override.working_hours if override and override.working_hours else policy.calendar.working_hours
        result[str(team)] = {"timezone": str(zone), "region": "" if pd.isna(region) else str(region),
                             "start": hours.start.isoformat(), "end": hours.end.isoformat(),
                             "public": policy.calendar.public_holidays,
                             "extra": [d.isoformat() for d in policy.calendar.extra_holidays]}
    return result


def _send_after(frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp) -> dict[str, str]:
    """Per team, the first instant inside its working hours on a business day: Slack messages wait for it."""
    import pandas as pd

    from followthrough.calendar import next_working_instant
    from followthrough.rules.common import calendars, team_regions

    team_ids = pd.Series(list(frames["teams"]["team_id"]) + [""], dtype="string")
    zones = team_timezones(frames, team_ids, policy)
    regions = team_regions(frames, team_ids, policy)
    result = {}
    for team, zone, region in zip(team_ids, zones, regions, strict=True):
        override = policy.teams.get(str(team))
        hours = override.working_hours if override and override.working_hours else policy.calendar.working_hours
        result[str(team)] = next_working_instant(as_of, str(zone), str(region), hours.start, hours.end,
                                                 calendars(policy)).isoformat()
    return result


def _jira_create(finding: Mapping[str, Any], policy: Policy, responsible: str,
                 people: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    rule = str(finding["rule"])
    info = guidance(rule)
    description = "\n\n".join([
        f"What is wrong: {finding['reason']}.",
        f"Subject: {finding['subject_type']} {finding['subject_id']} — {_text(finding['title'])}",
        f"Why it matters: {info.why}",
        f"Deadline: this was due on {_text(finding['due_at'])} UTC; reminders follow the escalation ladder.",
        f"How to fix it: {info.fix}",
        f"How to contest it: {CONTEST}",
    ])
    return {
        "idempotency_key": ticket_entry_keys(str(finding["fingerprint"]), str(int(finding["episode"])))[0],
        "step": 0, "channel": "jira", "action": "create_ticket", "recipient": responsible,
        "payload": {
            "project": policy.dispatch.jira_project,
            "summary": f"[{rule}] {info.title}: {finding['subject_id']}",
            "description": description,
            "assignee": responsible,
            "assignee_email": _text(people.get(responsible, {}).get("email")),
            "labels": ["followthrough", f"ft-{str(finding['fingerprint'])[:16]}", rule.lower()],
            "subject": finding["subject_id"],
        },
    }


def _jira_comment(finding: Mapping[str, Any], step: int, action: str) -> dict[str, Any]:
    return {
        "idempotency_key": f"{finding['fingerprint']}:{int(finding['episode'])}:jira:step{step}",
        "step": step, "channel": "jira", "action": "comment_ticket", "recipient": _text(finding["responsible"]),
        "payload": {"comment": f"Escalation step {step} ({action.replace('_', ' ')}): still unresolved."},
    }


def _contact(person_id: str, people: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    person = people.get(person_id, {})
    return {"to": person_id, "slack_id": _text(person.get("slack_id")), "email": _text(person.get("email"))}


def _slack(finding: Mapping[str, Any], step: int, action: str, recipient: str, people: Mapping[str, Mapping[str, Any]],
           *, private: bool, fallback: tuple[str, ...] = ()) -> dict[str, Any]:
    """A Slack message; `fallback` names who hears instead when the recipient cannot be reached
    (then the platform channel, which the gateway always adds last). The ticket's link is added
    at dispatch, once the ticket exists."""
    rule = str(finding["rule"])
    info = guidance(rule)
    person = people.get(recipient, {})
    hide = bool(finding["confidential"]) and not private
    subject = "a confidential item" if hide else f"{finding['subject_id']} ({escape_slack(finding['title'])})"
    reason = "" if hide else f" {escape_slack(finding['reason'])}."
    due = _due_text(finding["due_at"]) if _text(finding.get("due_at")) else "now"
    text = (f"{info.title}: {subject}.{reason} Due since {due}. Next step: {info.fix} "
            f"The Jira ticket carries the label ft-{str(finding['fingerprint'])[:16]}-e{int(finding['episode'])}.")
    return {
        "idempotency_key": f"{finding['fingerprint']}:{int(finding['episode'])}:slack:step{step}:{action}",
        "step": step, "channel": "slack", "action": action, "recipient": recipient,
        "payload": {"to": recipient, "slack_id": _text(person.get("slack_id")), "email": _text(person.get("email")),
                    "text": text, "fallback": [_contact(p, people) for p in fallback if p and p != recipient]},
    }


@functools.lru_cache(maxsize=4096)
def _due_text(due_at: Any) -> str:
    """A due instant as messages show it (findings share few distinct due instants: each is formatted once)."""
    import pandas as pd

    return pd.Timestamp(due_at).strftime("%Y-%m-%d %H:%M UTC")


DIRECT_MESSAGES = frozenset({"dm_owner", "warn_owner", "dm_manager"})


def cap_direct_messages(actions: list[dict[str, Any]], cap: int, as_of: pd.Timestamp,
                        planned_today: Mapping[str, set[str]] | None = None) -> list[dict[str, Any]]:
    """At most `cap` direct messages per person and UTC day; the rest fold into one summary message.

    `planned_today` holds each recipient's direct messages already in the outbox for this day
    (their keys): they count against the cap, and planning them again (a re-run) changes nothing. The
    summary (`dm_summary`, one per person and day) lists the folded items by rule and subject,
    and private or confidential ones only as such, so it carries no quote and no title.
    """
    planned_today = planned_today or {}
    kept: list[dict[str, Any]] = []
    folded: dict[str, list[dict[str, Any]]] = {}
    counted: dict[str, int] = {}
    for action in actions:
        recipient = str(action.get("recipient") or "")
        already = planned_today.get(recipient, set())
        if action["channel"] != "slack" or action["action"] not in DIRECT_MESSAGES or not recipient or (
                action["idempotency_key"] in already):
            kept.append(action)
            continue
        if f"folded:{action['idempotency_key']}" in already:
            continue  # an earlier summary today already told them
        counted[recipient] = counted.get(recipient, sum(not k.startswith("folded:") for k in already)) + 1
        (kept.append(action) if counted[recipient] <= cap else folded.setdefault(recipient, []).append(action))
    day = as_of.date().isoformat()
    for recipient, items in folded.items():
        first = items[0]
        prefix = "dry_run/" if str(first["idempotency_key"]).startswith("dry_run/") else ""
        folded_keys = sorted(str(a["idempotency_key"]) for a in items)
        digest = hashlib.sha256("\n".join(folded_keys).encode()).hexdigest()[:12]
        key = f"{prefix}dm_summary/{recipient}/{day}/{digest}"
        listed = "; ".join(
            "a private or confidential item" if (a["payload"].get(SENSITIVE)) else
            str(a["payload"].get("text", "")).split(". ", 1)[0][:160] for a in items)
        payload = {k: first["payload"][k] for k in ("to", "slack_id", "email", "fallback", "send_after",
                                                     "working_hours") if k in first["payload"]}
        payload["folded"] = folded_keys
        payload["text"] = (f"You have {len(items)} more Followthrough items today (at most {cap} direct "
                           f"messages a day reach you one by one): {listed}. Each has its Jira ticket.")
        kept.append({"idempotency_key": key, "fingerprint": hashlib.sha256(key.encode()).hexdigest(),
                     "episode": 1, "step": 0, "channel": "slack", "action": "dm_summary", "recipient": recipient,
                     "team_id": first.get("team_id", ""), "payload": payload,
                     **({"send_after": first["send_after"]} if "send_after" in first else {})})
    return kept
