"""Safety valves: a replay or a data gap must never resolve findings and close tickets en masse.

Pure decisions over the reconciliation's changes (tasks.py applies them):

- a run whose as-of instant is earlier than the latest recorded run's is a *replay*: it
  computes and reports its findings, but changes no finding's state and plans no action;
- a run that would resolve more than ``safety.max_resolve_fraction`` of the open findings (and
  at least ``safety.min_resolutions_to_hold`` of them), or in which an entity that had rows
  now has none, is *held*: its resolutions are not applied, the platform channel is alerted
  once, and a run triggered with ``{"confirm_mass_resolve": true}`` applies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.policy import SafetyPolicy


@dataclass(frozen=True)
class Hold:
    """Why a run's resolutions are held: how many, out of how many open, and emptied entities."""

    resolutions: int
    open_before: int
    emptied: tuple[str, ...]

    @property
    def reason(self) -> str:
        parts = []
        if self.open_before:
            parts.append(f"it would resolve {self.resolutions} of {self.open_before} open findings "
                         f"({self.resolutions / self.open_before:.0%})")
        if self.emptied:
            parts.append(f"{', '.join(self.emptied)} had rows and now has none")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"resolutions": self.resolutions, "open_before": self.open_before, "emptied": list(self.emptied),
                "reason": self.reason}


def is_replay(as_of: pd.Timestamp, latest_as_of: pd.Timestamp | None) -> bool:
    """An as-of instant earlier than the latest recorded run's (the same instant is a re-run, not a replay)."""
    import pandas as pd

    if latest_as_of is None or pd.isna(latest_as_of):
        return False
    return bool(_utc(as_of) < _utc(latest_as_of))


def _utc(instant: Any) -> pd.Timestamp:
    import pandas as pd

    stamp = pd.Timestamp(instant)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def emptied_entities(extract_events: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """Entities (``source/entity``) that had present rows and now have none, from `source_extracted` events.

    Each event's payload maps an entity to its upsert counts, with the source's present rows
    before and after the upsert; an entity is emptied when it had rows and has none left.
    """
    emptied = set()
    for event in extract_events:
        for entity, counts in (event.get("payload") or {}).items():
            if not isinstance(counts, Mapping):
                continue
            if int(counts.get("present_before", 0)) > 0 and int(counts.get("present_after", 0)) == 0:
                emptied.add(f"{event.get('subject')}/{entity}")
    return tuple(sorted(emptied))


def mass_resolution(changes: pd.DataFrame, stored: pd.DataFrame, safety: SafetyPolicy,
                    emptied: tuple[str, ...] = ()) -> Hold | None:
    """The hold for this reconciliation, or None when its resolutions may be applied."""
    resolutions = int((changes["change"] == "resolved").sum()) if not changes.empty else 0
    open_before = int(stored["status"].isin(["open", "waived"]).sum()) if not stored.empty else 0
    if resolutions == 0:
        return None
    too_many = resolutions >= safety.min_resolutions_to_hold and resolutions > safety.max_resolve_fraction * open_before
    if too_many or emptied:
        return Hold(resolutions, open_before, emptied)
    return None
