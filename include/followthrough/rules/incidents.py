"""Incident rules: no corrective actions, category gaps, and repeats of unfixed failures.

See docs/rules.md for the exact semantics of each rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from followthrough.model import OPEN_ACTION_STATUSES, is_in
from followthrough.rules.common import existing_at, finding_frame, team_leads
from followthrough.rules.postmortems import postmortem_deadlines

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.policy import Policy


def _major_past_limit(frames: Mapping[str, pd.DataFrame], policy: Policy,
                      as_of: pd.Timestamp) -> tuple[pd.DataFrame, pd.Series]:
    """Major resolved incidents whose postmortem limit has passed, with that limit."""
    incidents = frames["incidents"].drop_duplicates("incident_id")
    major = incidents["severity"].isin(policy.incidents.major_severities)
    resolved = incidents["resolved_at"].notna() & (incidents["resolved_at"] <= as_of)
    candidates = incidents[major & resolved]
    _, limit = postmortem_deadlines(frames, policy, candidates)
    # a major severity without a postmortem limit is judged from its resolution
    limit = limit.fillna(candidates["resolved_at"])
    past = as_of > limit
    return candidates[past], limit[past]


def _items_as_of(frames: Mapping[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    items = frames["action_items"]
    return items[existing_at(items["created_at"], as_of)]


def find_incidents_without_actions(frames: Mapping[str, pd.DataFrame], policy: Policy,
                                   as_of: pd.Timestamp) -> pd.DataFrame:
    """PM-NO-ACTIONS: a major incident past its postmortem limit has no action item at all."""
    incidents, limit = _major_past_limit(frames, policy, as_of)
    fires = ~is_in(incidents["incident_id"], _items_as_of(frames, as_of)["incident_id"])
    hits, limit = incidents[fires], limit[fires]
    return finding_frame(
        "PM-NO-ACTIONS", "incident", hits,
        subject_id=hits["incident_id"], team_id=hits["team_id"], incident_id=hits["incident_id"],
        responsible=team_leads(frames, hits["team_id"]), due_at=limit, confidential=hits["confidential"],
        title=hits["title"],
        reason=[f"{s} incident has no corrective action item" for s in hits["severity"]],
        evidence=[{"check": "at least one action item", "observed": 0, "limit": lim.isoformat(),
                   "policy_key": "incidents.major_severities"} for lim in limit],
    )


def find_category_gaps(frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """INC-CATEGORY-GAP: a major incident's actions include no root-cause fix or no detection item."""
    import numpy as np

    incidents, limit = _major_past_limit(frames, policy, as_of)
    items = _items_as_of(frames, as_of)
    items = items[(items["status"] != "wont_do") & is_in(items["incident_id"], incidents["incident_id"])]
    category = items["category"].fillna("").str.lower()
    kinds = {"root-cause fix": policy.incidents.root_cause_categories,
             "detection/monitoring": policy.incidents.detection_categories}
    covered = {kind: category.isin([c.lower() for c in wanted]).groupby(items["incident_id"]).any()
               for kind, wanted in kinds.items()}
    has_items = is_in(incidents["incident_id"], items["incident_id"])
    lacking = {kind: ~incidents["incident_id"].map(flags).fillna(False).astype(bool) for kind, flags in covered.items()}
    fires = has_items & np.logical_or.reduce(list(lacking.values()))
    hits, limit = incidents[fires], limit[fires]
    gaps = [[kind for kind in kinds if lacking[kind][i]] for i in hits.index]
    return finding_frame(
        "INC-CATEGORY-GAP", "incident", hits,
        subject_id=hits["incident_id"], team_id=hits["team_id"], incident_id=hits["incident_id"],
        responsible=team_leads(frames, hits["team_id"]), due_at=limit, confidential=hits["confidential"],
        title=hits["title"],
        reason=[f"no {' and no '.join(g)} action item" for g in gaps],
        evidence=[{"check": "actions cover a root-cause fix and detection", "missing": g,
                   "policy_key": "incidents.root_cause_categories / incidents.detection_categories"} for g in gaps],
    )


def find_repeat_incidents(frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """INC-REPEAT: an incident repeats an earlier one's failure while that one's actions are still open."""
    import pandas as pd

    repeat = policy.incidents.repeat
    incidents = frames["incidents"].drop_duplicates("incident_id")
    incidents = incidents[incidents["started_at"] <= as_of]
    keys = list(repeat.signature)
    usable = incidents[keys].notna().all(axis=1) & (incidents[keys].astype("string") != "").all(axis=1)
    if "root_cause_category" in keys:
        usable &= ~incidents["root_cause_category"].str.lower().isin([c.lower() for c in repeat.ignore_categories])
    incidents = incidents[usable]
    items = _items_as_of(frames, as_of)
    open_items = items[items["status"].isin(OPEN_ACTION_STATUSES)]
    # an earlier incident can only be repeated while it has open items, and only after the first was created
    first_open = open_items.groupby("incident_id")["created_at"].min().rename("first_open")
    earlier = incidents[keys + ["incident_id", "started_at"]].merge(first_open, left_on="incident_id",
                                                                    right_index=True)
    pairs = incidents[keys + ["incident_id", "started_at"]].merge(earlier, on=keys, suffixes=("", "_earlier"))
    window = pd.Timedelta(days=repeat.lookback_days)
    pairs = pairs[(pairs["started_at_earlier"] < pairs["started_at"])
                  & (pairs["started_at"] - pairs["started_at_earlier"] <= window)
                  & (pairs["first_open"] < pairs["started_at"])]
    pending = pairs.merge(open_items[["action_item_id", "incident_id", "created_at"]],
                          left_on="incident_id_earlier", right_on="incident_id", suffixes=("", "_item"))
    pending = pending[pending["created_at"] < pending["started_at"]]
    if pending.empty:
        return finding_frame("INC-REPEAT", "incident", pending)
    earlier_ids = _sorted_sets(pending["incident_id"], pending["incident_id_earlier"])
    item_ids = _sorted_sets(pending["incident_id"], pending["action_item_id"])
    repeating = list(earlier_ids)  # incident ids in sorted order
    hits = incidents.set_index("incident_id").loc[repeating].reset_index()
    earlier, open_items = [earlier_ids[i] for i in repeating], [item_ids[i] for i in repeating]
    # the shared signature as text, column by column (not a frame lookup per row and key)
    signatures = [" / ".join(parts) for parts in zip(*(hits[k].astype(str).tolist() for k in keys), strict=True)]
    return finding_frame(
        "INC-REPEAT", "incident", hits,
        subject_id=hits["incident_id"], team_id=hits["team_id"], incident_id=hits["incident_id"],
        responsible=team_leads(frames, hits["team_id"]), due_at=hits["started_at"], critical=True,
        confidential=hits["confidential"], title=hits["title"],
        reason=[f"repeats {', '.join(e)} ({signature}) while its corrective actions {', '.join(o)} are still open"
                for e, o, signature in zip(earlier, open_items, signatures, strict=True)],
        evidence=[{"check": "earlier incidents with the same failure have closed their actions", "earlier": e,
                   "open_action_items": o, "signature": keys, "lookback_days": repeat.lookback_days,
                   "policy_key": "incidents.repeat"} for e, o in zip(earlier, open_items, strict=True)],
    )


def _sorted_sets(keys: pd.Series, values: pd.Series) -> dict[str, list[str]]:
    """For each key (in sorted order), its distinct values sorted: integer codes, one numpy sort."""
    import numpy as np
    import pandas as pd

    key_codes, key_names = pd.factorize(keys, sort=True)
    value_codes, value_names = pd.factorize(values, sort=True)
    known = (key_codes >= 0) & (value_codes >= 0)  # ids are never missing; a missing one is no member
    width = max(len(value_names), 1)
    # a sort and a neighbour comparison: numpy's unique hashes first, several times slower on int64
    pairs = np.sort(key_codes[known].astype(np.int64) * width + value_codes[known])
    if not len(pairs):
        return {}
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]
    key_of, value_of = pairs // width, pairs % width
    starts = np.flatnonzero(np.r_[True, key_of[1:] != key_of[:-1]])
    ends = np.r_[starts[1:], len(pairs)]
    names = [str(name) for name in np.asarray(key_names, dtype=object)[key_of[starts]]]
    texts = [str(text) for text in np.asarray(value_names, dtype=object)[value_of]]
    return {name: texts[s:e] for name, s, e in zip(names, starts.tolist(), ends.tolist(), strict=True)}
