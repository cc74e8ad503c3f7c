"""Finding identity and reconciliation across runs.

A finding's identity is a fingerprint of (rule, subject type, subject id): stable across
runs and policy edits, so the same problem keeps one ticket. Reconciling today's findings
with the stored ones says what is new, still open, reopened (a resolved finding returned:
its episode number goes up) and resolved (stored open, not found today).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def fingerprint(rule: str, subject_type: str, subject_id: str) -> str:
    return hashlib.sha256(f"{rule}|{subject_type}|{subject_id}".encode()).hexdigest()[:32]


def with_fingerprints(current: pd.DataFrame) -> pd.DataFrame:
    frame = current.copy()
    frame["fingerprint"] = [
        fingerprint(r, t, s) for r, t, s in zip(frame["rule"], frame["subject_type"], frame["subject_id"], strict=True)
    ]
    return frame


def reconcile(current: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """Today's findings against the stored ones -> rows with `change` and `episode`.

    `current` holds today's findings with fingerprints; `stored` the store's findings
    (fingerprint, status, episode). Stored findings that are already resolved and absent
    today produce no row.
    """
    import pandas as pd

    previous = stored.set_index("fingerprint")[["status", "episode"]] if not stored.empty else pd.DataFrame(
        columns=["status", "episode"])
    today = current.set_index("fingerprint", drop=False)
    known_status = today["fingerprint"].map(previous["status"])
    known_episode = today["fingerprint"].map(previous["episode"])
    changes = today.reset_index(drop=True).copy()
    changes["change"] = "new"
    changes.loc[(known_status == "open").to_numpy(), "change"] = "ongoing"
    changes.loc[(known_status == "resolved").to_numpy(), "change"] = "reopened"
    episode = pd.Series(known_episode.to_numpy(), dtype="Int64").fillna(1)
    changes["episode"] = (episode + (changes["change"] == "reopened").astype("int64")).astype("int64")

    open_before = previous[previous["status"] == "open"]
    gone = open_before.index.difference(today.index)
    resolved = stored[stored["fingerprint"].isin(gone)].copy()
    resolved["change"] = "resolved"
    frames = [f for f in (changes, resolved) if not f.empty]
    if not frames:
        return changes
    return pd.concat(frames, ignore_index=True)
