"""Frames that one task of a run hands to the next, under an Airflow ObjectStoragePath base.

The base (`FOLLOWTHROUGH_STAGING_URL`) is a `file://` folder by default and object storage in a
deployment whose workers share no disk. Each stage is a folder of Parquet files plus a manifest
naming them, written last: a reader that finds no manifest, or a manifest naming a file that is
not there, raises StagingMissing instead of seeing "no rows".
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from followthrough import config
from followthrough.exceptions import StagingMissing

if TYPE_CHECKING:
    import pandas as pd
    from airflow.sdk import ObjectStoragePath

MANIFEST = "manifest.json"


def stage_path(run_id: str, stage: str) -> ObjectStoragePath:
    from airflow.sdk import ObjectStoragePath

    base = ObjectStoragePath(config.staging_url(), conn_id=config.staging_conn_id())
    return base / "runs" / config.safe_name(run_id) / stage


def write_frames(run_id: str, stage: str, frames: Mapping[str, pd.DataFrame]) -> str:
    """Stage frames (replacing an earlier attempt's); return the stage's URL."""
    folder = stage_path(run_id, stage)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        (folder / f"{name}.parquet").write_bytes(buffer.getvalue())
    (folder / MANIFEST).write_text(json.dumps({"frames": sorted(frames)}))
    return str(folder)


def read_frames(run_id: str, stage: str) -> dict[str, pd.DataFrame]:
    """Every frame of a stage; StagingMissing when the stage or one of its frames is absent."""
    import pandas as pd

    folder = stage_path(run_id, stage)
    manifest = folder / MANIFEST
    if not manifest.exists():
        raise StagingMissing(f"staged input {folder} is missing (no {MANIFEST}): the task that writes it "
                             "has not run for this run, or the workers do not share FOLLOWTHROUGH_STAGING_URL")
    frames: dict[str, pd.DataFrame] = {}
    for name in json.loads(manifest.read_text())["frames"]:
        path = folder / f"{name}.parquet"
        if not path.exists():
            raise StagingMissing(f"staged input {path} is missing although {manifest} lists it")
        frames[name] = pd.read_parquet(io.BytesIO(path.read_bytes()))
    return frames


def write_tree(run_id: str, stage: str, folder: Path) -> int:
    """Stage a local folder's files (e.g. Data Docs a task rendered) for the task that writes the report.

    Workers share no disk: the report folder is assembled by `record_run` on its own worker from
    what earlier tasks staged. Returns how many files were staged.
    """
    target = stage_path(run_id, stage)
    count = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        destination = target / path.relative_to(folder).as_posix()
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(path.read_bytes())
        count += 1
    return count


def read_tree(run_id: str, stage: str, folder: Path) -> int:
    """Copy a staged folder's files under a local folder (nothing staged: nothing copied); how many."""
    source = stage_path(run_id, stage)
    if not source.exists():
        return 0
    count = 0
    for path in source.rglob("*"):
        if path.is_file():
            relative = str(path)[len(str(source)):].lstrip("/")
            destination = folder / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(path.read_bytes())
            count += 1
    return count
