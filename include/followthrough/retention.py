"""Retention (`retention_days` in the policy): a horizon for old run files and old audit detail.

Past the horizon (now minus `retention_days`), a finished run's report folder (report.html,
CSVs, Data Docs, its checkpoint file) and its staging folder are deleted, and the audit events
recorded before the horizon are pruned, but only through the last *run checkpoint* at or before
it, behind a signed prune anchor (store/audit.py `prune_through`): the chain stays verifiable
from the anchor, and checkpoints kept outside the store still verify. Runs newer than the
horizon keep everything. Unset (`null`, the default) keeps everything forever. Re-running it
changes nothing more: what is gone is gone, and the same horizon prunes nothing twice.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from followthrough import config
from followthrough.store.repository import Store


@dataclass
class RetentionResult:
    horizon: datetime
    runs_past_horizon: list[str] = field(default_factory=list)
    report_folders_removed: int = 0
    staging_folders_removed: int = 0
    audit_events_pruned: int = 0
    pruned_through_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"horizon": self.horizon.isoformat(), "runs_past_horizon": len(self.runs_past_horizon),
                "report_folders_removed": self.report_folders_removed,
                "staging_folders_removed": self.staging_folders_removed,
                "audit_events_pruned": self.audit_events_pruned, "pruned_through_seq": self.pruned_through_seq}


def _runs_finished_before(store: Store, horizon: datetime) -> list[str]:
    from followthrough.store.schema import runs

    with store.transaction() as connection:
        rows = connection.execute(sa.select(runs.c.run_id).where(
            (runs.c.finished_at.is_not(None)) & (runs.c.finished_at < horizon)).order_by(runs.c.finished_at))
        return [str(r.run_id) for r in rows]


def _prune_seq(store: Store, horizon: datetime) -> int | None:
    """The last run checkpoint's seq whose events all precede the horizon (None: nothing to prune)."""
    from followthrough.store.audit import last_seq_before
    from followthrough.store.schema import audit_checkpoints

    with store.transaction() as connection:
        limit = last_seq_before(connection, horizon)
        if limit is None:
            return None
        value = connection.execute(sa.select(sa.func.max(audit_checkpoints.c.seq)).where(
            (audit_checkpoints.c.kind == "run") & (audit_checkpoints.c.seq <= limit))).scalar()
        anchor = connection.execute(sa.select(sa.func.max(audit_checkpoints.c.seq)).where(
            audit_checkpoints.c.kind == "prune")).scalar()
    if value is None or (anchor is not None and int(value) <= int(anchor)):
        return None
    return int(value)


def _remove_staging(run_id: str) -> bool:
    from followthrough.staging import stage_path

    folder = stage_path(run_id, "x").parent
    if not folder.exists():
        return False
    folder.fs.rm(folder.path, recursive=True)
    return True


def apply_retention(store: Store, retention_days: int, now: datetime, reports: Path | None = None,
                    staging: bool = True) -> RetentionResult:
    """Delete run files and prune audit detail older than `now - retention_days` (naive UTC)."""
    horizon = now - timedelta(days=retention_days)
    result = RetentionResult(horizon=horizon)
    reports = reports if reports is not None else config.home() / "reports"
    # the audit first: a chain that does not verify raises here, before any file is deleted
    seq = _prune_seq(store, horizon)
    if seq is not None:
        result.audit_events_pruned = store.prune_audit_through(seq)
        result.pruned_through_seq = seq
    result.runs_past_horizon = _runs_finished_before(store, horizon)
    for run_id in result.runs_past_horizon:
        folder = reports / config.safe_name(run_id)
        if folder.is_dir():
            shutil.rmtree(folder)
            result.report_folders_removed += 1
        if staging and _remove_staging(run_id):
            result.staging_folders_removed += 1
    return result
