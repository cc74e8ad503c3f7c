"""Finding identity, waivers and reconciliation across runs.

A finding's identity is a fingerprint of (rule, subject type, subject id): stable across
runs and policy edits, so the same problem keeps one ticket. Today's findings are matched
with the policy's waivers (active until the end of their expiry day), then reconciled with
the stored ones: new, ongoing, changed (still open, with a new reason), waived, reopened
(a resolved finding returned: its episode number goes up; or its waiver expired: the same
episode and ticket continue) and
resolved (stored open or waived, not found today).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from followthrough.model import is_in

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.policy import Waiver


# why a finding's episode resolved (the store's `resolution`; in the audit trail and the report)
RESOLUTION_REASONS = {
    "fixed": "the problem is no longer found in the source",
    "gone": "subject no longer in the source",
}


def fingerprint(rule: str, subject_type: str, subject_id: str) -> str:
    return hashlib.sha256(f"{rule}|{subject_type}|{subject_id}".encode()).hexdigest()[:32]


def with_fingerprints(current: pd.DataFrame) -> pd.DataFrame:
    frame = current.copy()
    frame["fingerprint"] = [
        fingerprint(r, t, s) for r, t, s in zip(frame["rule"], frame["subject_type"], frame["subject_id"], strict=True)
    ]
    return frame


def apply_waivers(current: pd.DataFrame, waivers: Iterable[Waiver], as_of: pd.Timestamp) -> pd.DataFrame:
    """Mark findings covered by a waiver that is still in force at as_of (column `waiver`)."""
    import pandas as pd

    active: dict[tuple[str, str], dict[str, Any]] = {}
    for waiver in waivers:
        ends = pd.Timestamp(waiver.expires, tz="UTC") + pd.Timedelta(days=1)
        if as_of < ends:
            active[(waiver.rule, waiver.subject_id)] = waiver.model_dump(mode="json")
    frame = current.copy()
    frame["waiver"] = [active.get((r, s)) for r, s in zip(frame["rule"], frame["subject_id"], strict=True)]
    return frame


def reconcile(current: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """Today's findings against the stored ones -> rows with `change`, `status` and `episode`.

    `current` holds today's findings with fingerprints (and optionally `waiver`); `stored`
    the store's findings (fingerprint, status, episode). Stored findings that are resolved
    and absent today produce no row.
    """
    import numpy as np
    import pandas as pd

    previous = stored.set_index("fingerprint")[["status", "episode"]] if not stored.empty else pd.DataFrame(
        columns=["status", "episode"])
    changes = current.reset_index(drop=True).copy()
    if "waiver" not in changes:
        changes["waiver"] = None
    waived = changes["waiver"].notna().to_numpy()
    changes["status"] = np.where(waived, "waived", "open")
    # as objects first: with no stored findings the lookup is all-missing float64, which "" cannot fill
    known = changes["fingerprint"].map(previous["status"]).astype(object).fillna("").to_numpy()
    change = np.select(
        [known == "", (known == "open") & waived, (known == "waived") & ~waived, known == "resolved"],
        ["new", "waived", "reopened", np.where(waived, "waived", "reopened")],
        default="ongoing",
    )
    if "reason" in stored.columns and "reason" in changes.columns and not stored.empty:
        # still open with a new reason (the evidence moved on): its ticket gets updated
        # counters ("for 9 days") move daily; only a change beyond them is news for the ticket
        def gist(reasons: pd.Series) -> np.ndarray:
            return reasons.fillna("").astype(str).str.replace(r"\d+", "#", regex=True).to_numpy()

        before = gist(changes["fingerprint"].map(stored.set_index("fingerprint")["reason"]))
        differs = (change == "ongoing") & (known == "open") & (before != gist(changes["reason"]))
        change = np.where(differs, "changed", change)
    changes["change"] = change
    changes["previous_status"] = known
    if "responsible" in stored.columns and "responsible" in changes.columns and not stored.empty:
        before_owner = changes["fingerprint"].map(stored.set_index("fingerprint")["responsible"])
        owner_moved = (known == "open") & before_owner.notna().to_numpy() & (
            before_owner.fillna("").astype(str).to_numpy() != changes["responsible"].fillna("").astype(str).to_numpy())
        changes["previous_responsible"] = pd.Series(
            [str(b) if m else None for b, m in zip(before_owner, owner_moved, strict=True)], dtype=object)
        changes["change"] = np.where(owner_moved & (change == "ongoing"), "changed", changes["change"])
    # a waiver that expired continues the same episode (the same ticket reopens); only a finding
    # that had been resolved starts a new one
    bump = known == "resolved"
    episode = pd.Series(changes["fingerprint"].map(previous["episode"]).to_numpy(), dtype="Int64").fillna(1)
    changes["episode"] = (episode + bump.astype("int64")).astype("int64")

    still = previous[previous["status"].isin(["open", "waived"])]
    gone = still.index.difference(pd.Index(changes["fingerprint"]))
    resolved = stored[is_in(stored["fingerprint"], gone)].copy()
    resolved["change"] = "resolved"
    resolved["status"] = "resolved"
    frames = [f for f in (changes, resolved) if not f.empty]
    if not frames:
        return changes
    return pd.concat(frames, ignore_index=True)
