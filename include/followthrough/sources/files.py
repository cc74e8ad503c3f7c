"""File source: a folder of CSV exports in the canonical format (see data/demo/README.md).

Every value is read as a string, exactly as exported: typing and checking are the source
contract's job (`followthrough.quality.gx`), so a malformed row is quarantined with
its reason instead of crashing the reader. A missing folder, a missing, empty (not even a
header), truncated or unreadable file is a broken pipeline and raises SourceError naming the
path: read as "no rows" it would resolve every finding about the entity. A file with only its
header is zero rows, which is legitimate. An entity the policy declares absent for the source
(`absent_entities`) needs no file. Postmortem documents are read from the paths given in
postmortems.csv, relative to the folder.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from followthrough.exceptions import SourceError
from followthrough.model import ENTITIES, POSTMORTEMS, ROW_NUMBER, EntitySchema

if TYPE_CHECKING:
    import pandas as pd


def read_entity(folder: Path, schema: EntitySchema) -> pd.DataFrame:
    """One CSV file as an all-string frame with a 1-based `_row` column."""
    import pandas as pd

    path = folder / schema.file
    if not path.is_file():
        raise SourceError(f"{path} is missing: the export must provide {schema.name} "
                          f"(or the policy must list {schema.name!r} in the source's absent_entities)")
    try:
        _check_complete(path)
        frame = pd.read_csv(path, dtype="string", keep_default_na=False, na_filter=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, csv.Error) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from None
    except pd.errors.EmptyDataError:
        raise SourceError(f"{path} is empty (not even a header row): a truncated export?") from None
    missing = [c for c in schema.column_names if c not in frame.columns]
    required_missing = [c.name for c in schema.columns if c.required and c.name in missing]
    if required_missing:
        raise SourceError(f"{path} lacks required column(s) {', '.join(required_missing)}")
    for column in missing:
        frame[column] = pd.Series("", index=frame.index, dtype="string")
    frame = frame[schema.column_names].copy()
    frame[ROW_NUMBER] = range(1, len(frame) + 1)
    return frame


def _check_complete(path: Path) -> None:
    """A last line cut short (no newline, fewer fields than the header) means a truncated file."""
    with path.open("rb") as handle:
        handle.seek(0, 2)
        if handle.tell() == 0:
            return
        handle.seek(max(0, handle.tell() - 65536))
        tail = handle.read()
    if tail.endswith((b"\n", b"\r")):
        return
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if len(rows) > 1 and len(rows[-1]) < len(rows[0]):
        raise SourceError(f"{path} is truncated: its last row has {len(rows[-1])} of {len(rows[0])} fields "
                          "and no line end")


def read_export_folder(folder: Path, absent: Iterable[str] = ()) -> dict[str, pd.DataFrame]:
    """Every canonical entity from one export folder, plus postmortem document texts.

    `absent` names entities the export does not provide: they are left out of the result.
    """
    if not folder.is_dir():
        raise SourceError(f"source folder {folder} does not exist or is not a folder")
    skipped = set(absent)
    frames = {schema.name: read_entity(folder, schema) for schema in ENTITIES if schema.name not in skipped}
    if POSTMORTEMS.name in frames:
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
