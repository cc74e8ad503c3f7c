"""File source: a folder of CSV exports in the canonical format (see data/demo/README.md).

Every value is read as a string, exactly as exported: typing and checking are the source
contract's job (`followthrough.quality.gx`), so a malformed row is quarantined with
its reason instead of crashing the reader. A missing folder or an unreadable file is a
broken pipeline and raises SourceError naming the path. Postmortem documents are read
from the paths given in postmortems.csv, relative to the folder.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from followthrough.exceptions import SourceError
from followthrough.model import ENTITIES, POSTMORTEMS, ROW_NUMBER, EntitySchema, empty_raw_frame

if TYPE_CHECKING:
    import pandas as pd


def read_entity(folder: Path, schema: EntitySchema) -> pd.DataFrame:
    """One CSV file as an all-string frame with a 1-based `_row` column; absent file -> no rows."""
    import pandas as pd

    path = folder / schema.file
    if not path.exists():
        return empty_raw_frame(schema)
    try:
        frame = pd.read_csv(path, dtype="string", keep_default_na=False, na_filter=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, csv.Error) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from None
    except pd.errors.EmptyDataError:
        return empty_raw_frame(schema)
    missing = [c for c in schema.column_names if c not in frame.columns]
    required_missing = [c.name for c in schema.columns if c.required and c.name in missing]
    if required_missing:
        raise SourceError(f"{path} lacks required column(s) {', '.join(required_missing)}")
    for column in missing:
        frame[column] = pd.Series("", index=frame.index, dtype="string")
    frame = frame[schema.column_names].copy()
    frame[ROW_NUMBER] = range(1, len(frame) + 1)
    return frame


def read_export_folder(folder: Path) -> dict[str, pd.DataFrame]:
    """Every canonical entity from one export folder, plus postmortem document texts."""
    if not folder.is_dir():
        raise SourceError(f"source folder {folder} does not exist or is not a folder")
    frames = {schema.name: read_entity(folder, schema) for schema in ENTITIES}
    frames[POSTMORTEMS.name]["document_text"] = [
        _read_document(folder, rel) for rel in frames[POSTMORTEMS.name]["document"]
    ]
    return frames


def _read_document(folder: Path, relative: str) -> str:
    if not relative:
        return ""
    path = (folder / relative).resolve()
    if folder.resolve() not in path.parents:
        # an export must not make us read outside its own folder
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
