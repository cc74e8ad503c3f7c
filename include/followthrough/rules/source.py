"""SRC-INVALID: every source row the contract quarantined becomes a finding, so it is followed up too."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from followthrough.rules.common import empty_findings, finding_frame, team_leads, text_or_empty

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.policy import Policy


def source_row_subject(entity: str, record_id: str, row_number: int, reason_code: str) -> str:
    """A quarantined row's subject: entity/record id/reason, or entity/row-N/reason when the
    row has no id or shares it with another row (a duplicated id names no single row)."""
    usable_id = record_id if record_id and reason_code != "duplicate_id" else f"row-{row_number}"
    return f"{entity}/{usable_id}/{reason_code}"


def find_invalid_source_rows(frames: Mapping[str, pd.DataFrame], policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """SRC-INVALID: one finding per quarantined (row, reason); frames["quarantine"] holds them."""
    quarantine = frames.get("quarantine")
    if quarantine is None or quarantine.empty:
        return empty_findings()
    raw = quarantine["raw"]
    team_ids = raw.map(lambda r: text_or_empty(r.get("team_id")) if isinstance(r, dict) else "")
    known_teams = set(frames["teams"]["team_id"])
    team_ids = team_ids.where(team_ids.isin(known_teams), None)
    return finding_frame(
        "SRC-INVALID", "source_row", quarantine,
        subject_id=[source_row_subject(e, text_or_empty(i), int(n), c) for e, i, n, c in
                    zip(quarantine["entity"], quarantine["record_id"], quarantine["row_number"],
                        quarantine["reason_code"], strict=True)],
        team_id=team_ids, responsible=team_leads(frames, team_ids), due_at=as_of,
        title=[f"{e} row {n} of the export" for e, n in zip(quarantine["entity"], quarantine["row_number"],
                                                            strict=True)],
        reason=quarantine["reason"],
        evidence=[{"check": "source contract", "reason_code": c, "row_number": int(n), "raw": r,
                   "policy_key": "model (source contract)"}
                  for c, n, r in zip(quarantine["reason_code"], quarantine["row_number"], raw, strict=True)],
    )
