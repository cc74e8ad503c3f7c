"""Postmortem rules: missing, overdue, incomplete, blame-first and insular write-ups.

See docs/rules.md for the exact semantics of each rule.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from followthrough.model import is_in
from followthrough.policy import requires_postmortem
from followthrough.rules.common import (
    add_limit,
    describe_limit,
    existing_at,
    finding_frame,
    rows_where,
    team_leads,
    text_or_empty,
)

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.policy import Policy

T = TypeVar("T")

INCIDENT_COLUMNS = ["incident_id", "severity", "team_id", "resolved_at", "confidential", "title", "service",
                    "affected_services"]


def resolved_required_incidents(frames: Mapping[str, pd.DataFrame], policy: Policy,
                                as_of: pd.Timestamp) -> pd.DataFrame:
    incidents = frames["incidents"].drop_duplicates("incident_id")
    required = incidents["severity"].isin(requires_postmortem(policy))
    resolved = incidents["resolved_at"].notna() & (incidents["resolved_at"] <= as_of)
    return incidents[required & resolved]


def postmortem_deadlines(frames: Mapping[str, pd.DataFrame], policy: Policy,
                         incidents: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(target, limit) per incident: business-day target; the severity's limit."""
    import pandas as pd

    from followthrough.policy import Limit

    target = add_limit(frames, policy, incidents["resolved_at"], incidents["team_id"],
                       Limit(business_days=policy.postmortem.target_business_days))
    limit = pd.Series(pd.NaT, index=incidents.index, dtype="datetime64[ns, UTC]")
    for severity, rows in incidents.groupby("severity"):
        limits: dict[str, Limit] = {str(k): v for k, v in policy.postmortem.limits.items()}
        rule = limits.get(str(severity))
        if rule is not None:
            limit.loc[rows.index] = add_limit(frames, policy, rows["resolved_at"], rows["team_id"], rule)
    return target, limit


def _with_incidents(frames: Mapping[str, pd.DataFrame], postmortems: pd.DataFrame) -> pd.DataFrame:
    incidents = frames["incidents"].drop_duplicates("incident_id")[INCIDENT_COLUMNS]
    return postmortems.merge(incidents, on="incident_id", how="inner")


def _owner_or_lead(frames: Mapping[str, pd.DataFrame], rows: pd.DataFrame) -> pd.Series:
    owner = rows["owner"].fillna("").str.strip()
    return owner.where(owner != "", team_leads(frames, rows["team_id"])).astype("string")


def find_missing_postmortems(frames: Mapping[str, pd.DataFrame], policy: Policy,
                             as_of: pd.Timestamp) -> pd.DataFrame:
    """PM-MISSING: a required postmortem that does not exist once the target has passed."""
    incidents = resolved_required_incidents(frames, policy, as_of)
    postmortems = frames["postmortems"]
    existing = postmortems.loc[existing_at(postmortems["created_at"], as_of), "incident_id"]
    target, _ = postmortem_deadlines(frames, policy, incidents)
    fires = ~is_in(incidents["incident_id"], existing) & (as_of > target)
    hits, target = incidents[fires], target[fires]
    days = policy.postmortem.target_business_days
    return finding_frame(
        "PM-MISSING", "incident", hits,
        subject_id=hits["incident_id"], team_id=hits["team_id"], incident_id=hits["incident_id"],
        responsible=team_leads(frames, hits["team_id"]), due_at=target, confidential=hits["confidential"],
        title=hits["title"],
        reason=[f"{s} incident resolved {r.date()} has no postmortem {days} business days later"
                for s, r in zip(hits["severity"], hits["resolved_at"], strict=True)],
        evidence=[{"check": "a postmortem exists", "observed": None, "resolved_at": r.isoformat(),
                   "target": t.isoformat(), "threshold_business_days": days,
                   "policy_key": "postmortem.target_business_days"}
                  for r, t in zip(hits["resolved_at"], target, strict=True)],
    )


def find_overdue_postmortems(frames: Mapping[str, pd.DataFrame], policy: Policy,
                             as_of: pd.Timestamp) -> pd.DataFrame:
    """PM-OVERDUE: a required postmortem not published: a warning after the target, a violation after the limit."""
    import numpy as np

    incidents = resolved_required_incidents(frames, policy, as_of)
    postmortems = frames["postmortems"]
    postmortems = postmortems[existing_at(postmortems["created_at"], as_of)]
    joined = postmortems.merge(incidents[INCIDENT_COLUMNS], on="incident_id", how="inner")
    target, limit = postmortem_deadlines(frames, policy, joined)
    published = joined["published_at"].notna() & (joined["published_at"] <= as_of)
    fires = ~published & (as_of > target)
    hits, target, limit = joined[fires], target[fires], limit[fires]
    violation = as_of > limit
    level = np.where(violation, "violation", "warning")
    limits = {s: describe_limit(lim) for s, lim in policy.postmortem.limits.items()}
    return finding_frame(
        "PM-OVERDUE", "postmortem", hits,
        subject_id=hits["postmortem_id"], team_id=hits["team_id"], incident_id=hits["incident_id"],
        responsible=_owner_or_lead(frames, hits), due_at=target.where(~violation, limit), level=level,
        critical=violation & (hits["severity"] == "SEV1"), confidential=hits["confidential"],
        title="Postmortem for " + hits["incident_id"] + ": " + hits["title"].fillna(""),
        reason=[
            (f"{sev} postmortem not published {limits.get(sev)} after resolution (limit {lim.isoformat()}, "
             f"status {st})") if v else
            (f"{sev} postmortem not yet published: the target ({tg.isoformat()}) has passed; "
             f"limit {lim.isoformat()}")
            for sev, st, tg, lim, v in zip(hits["severity"], hits["status"], target, limit, violation, strict=True)
        ],
        evidence=[
            {"check": "published by the target / limit", "observed_status": st, "resolved_at": r.isoformat(),
             "target": tg.isoformat(), "limit": lim.isoformat(), "limit_rule": limits.get(sev),
             "policy_key": f"postmortem.limits.{sev} / postmortem.target_business_days"}
            for st, r, tg, lim, sev in zip(hits["status"], hits["resolved_at"], target, limit, hits["severity"],
                                           strict=True)
        ],
    )


def _reviewed_postmortems(frames: Mapping[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    """Postmortems their authors call ready: in review, or published as of as_of."""
    pm = frames["postmortems"]
    pm = pm[existing_at(pm["created_at"], as_of)]
    published = (pm["status"] == "published") & pm["published_at"].notna() & (pm["published_at"] <= as_of)
    return _with_incidents(frames, pm[published | (pm["status"] == "in_review")])


def find_incomplete_postmortems(frames: Mapping[str, pd.DataFrame], policy: Policy,
                                as_of: pd.Timestamp) -> pd.DataFrame:
    """PM-INCOMPLETE: a postmortem in review or published lacks a required section, or has it empty."""
    from followthrough.rules.postmortem_text import detect_sections

    reviewed = _reviewed_postmortems(frames, as_of)
    texts = reviewed["document_text"] if "document_text" in reviewed else reviewed["postmortem_id"].map(lambda _: "")
    missing: list[list[str]] = []
    empty: list[list[str]] = []
    require_headings = policy.postmortem.require_headings
    sections = _per_distinct_text(texts, functools.partial(detect_sections, require_headings=require_headings))
    judged: list[dict[str, str]] = []
    for status in sections:
        judged.append({s: status[s].evidence or "" for s in policy.postmortem.required_sections
                       if not status[s].present})
        missing.append([s for s in policy.postmortem.required_sections if not status[s].present and not status[s].empty])
        empty.append([s for s in policy.postmortem.required_sections if status[s].empty])
    fires = [bool(m or e) for m, e in zip(missing, empty, strict=True)]
    hits = rows_where(reviewed, fires)
    missing = [m for m, f in zip(missing, fires, strict=True) if f]
    empty = [e for e, f in zip(empty, fires, strict=True) if f]
    judged = [j for j, f in zip(judged, fires, strict=True) if f]
    return finding_frame(
        "PM-INCOMPLETE", "postmortem", hits,
        subject_id=hits["postmortem_id"], team_id=hits["team_id"], incident_id=hits["incident_id"],
        responsible=_owner_or_lead(frames, hits), due_at=hits["published_at"].fillna(hits["created_at"]),
        confidential=hits["confidential"], title="Postmortem for " + hits["incident_id"],
        reason=[_incomplete_reason(m, e, j) for m, e, j in zip(missing, empty, judged, strict=True)],
        evidence=[{"check": "required sections present and filled", "missing": m, "empty": e, "judged": j,
                   "require_headings": require_headings,
                   "policy_key": "postmortem.required_sections"} for m, e, j in zip(missing, empty, judged, strict=True)],
    )


def _incomplete_reason(missing: list[str], empty: list[str], judged: dict[str, str]) -> str:
    """"missing: impact (what was judged); empty or placeholder: timeline (the heading and its text)"."""
    def part(label: str, sections: list[str]) -> str:
        if not sections:
            return ""
        return f"{label}: " + ", ".join(f"{s} ({judged[s]})" if judged.get(s) else s for s in sections)

    return "; ".join(filter(None, [part("missing", missing), part("empty or placeholder", empty)]))


def find_blaming_postmortems(frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """PM-BLAME: blame-first language, quoted as evidence; told privately to the postmortem owner."""
    from followthrough.rules.postmortem_text import find_blame

    pm = frames["postmortems"]
    pm = _with_incidents(frames, pm[existing_at(pm["created_at"], as_of)])
    texts = pm["document_text"] if "document_text" in pm else pm["postmortem_id"].map(lambda _: "")
    quotes = _per_distinct_text(texts, find_blame)
    fires = [bool(q) for q in quotes]
    hits = rows_where(pm, fires)
    quotes = [q for q in quotes if q]
    return finding_frame(
        "PM-BLAME", "postmortem", hits,
        subject_id=hits["postmortem_id"], team_id=hits["team_id"], incident_id=hits["incident_id"],
        # the postmortem's owner alone: a blame quote never falls back to the team lead
        responsible=hits["owner"].fillna("").str.strip().astype("string"), due_at=hits["created_at"],
        confidential=hits["confidential"], private=True, title="Postmortem for " + hits["incident_id"],
        reason=[f"blame-first language: \u201c{q[0].quote}\u201d" for q in quotes],
        evidence=[{"check": "blameless language", "quotes": [{"phrase": x.phrase, "quote": x.quote} for x in q],
                   "policy_key": "rules.postmortem_text.blame"} for q in quotes],
    )


def _per_distinct_text(texts: pd.Series, check: Callable[[str], T]) -> list[T]:
    """`check` of each text, computed once per distinct text (templated write-ups repeat)."""
    import pandas as pd

    codes, uniques = pd.factorize(texts.fillna("").astype(str))
    results = [check(str(u)) for u in uniques]
    return [results[c] for c in codes]


def _split(values: pd.Series) -> pd.Series:
    return values.fillna("").map(lambda v: [p.strip() for p in str(v).split(";") if p.strip()])


def find_insular_postmortems(frames: Mapping[str, pd.DataFrame], policy: Policy,
                             as_of: pd.Timestamp) -> pd.DataFrame:
    """PM-INSULAR: a team owning an affected service took no part in the review."""
    reviewed = _reviewed_postmortems(frames, as_of)
    service_owner = frames["services"].drop_duplicates("service").set_index("service")["team_id"].to_dict()
    person_team = frames["people"].drop_duplicates("person_id").set_index("person_id")["team_id"].to_dict()
    team_ids = set(frames["teams"]["team_id"])
    absent: list[list[str]] = []
    for services, participants, own_team in zip(_split(reviewed["affected_services"]),
                                                _split(reviewed["participants"]),
                                                reviewed["team_id"], strict=True):
        owners = {service_owner[s] for s in services if s in service_owner} - {own_team}
        present = {p if p in team_ids else person_team.get(p) for p in participants}
        absent.append(sorted(t for t in owners if t not in present))
    fires = [bool(a) for a in absent]
    hits = rows_where(reviewed, fires)
    absent = [a for a in absent if a]
    return finding_frame(
        "PM-INSULAR", "postmortem", hits,
        subject_id=hits["postmortem_id"], team_id=hits["team_id"], incident_id=hits["incident_id"],
        responsible=_owner_or_lead(frames, hits), due_at=hits["published_at"].fillna(hits["created_at"]),
        confidential=hits["confidential"], title="Postmortem for " + hits["incident_id"],
        reason=[f"teams owning affected services took no part in the review: {', '.join(a)}" for a in absent],
        evidence=[{"check": "owners of affected services took part", "absent_teams": a,
                   "affected_services": text_or_empty(s), "policy_key": "services.csv / postmortems.participants"}
                  for a, s in zip(absent, hits["affected_services"].astype(object), strict=True)],
    )
