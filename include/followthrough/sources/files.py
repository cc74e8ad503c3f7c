"""File source: a folder of CSV exports in the canonical format (see data/demo/README.md).

Every value is read as a string, exactly as exported: typing and checking are the source
contract's job (`followthrough.quality.gx`), so a malformed row is quarantined with
its reason instead of crashing the reader. A missing folder, a missing, empty (not even a
header), truncated or unreadable file is a broken pipeline and raises SourceError naming the
path: read as "no rows" it would resolve every finding about the entity. A file with only its
header is zero rows, which is legitimate. An entity the policy declares absent for the source
(`absent_entities`) needs no file. Postmortem documents are read from the paths given in
postmortems.csv, relative to the folder.

The reader works line by line, so one bad row cannot take others with it: a row whose field
count differs from the header's (`malformed_row`) or whose bytes are not UTF-8
(`undecodable_row`, also for a NUL character) is quarantined by the reader itself, and a quote that never closes is
confined to its own line (the lines after it are read as rows again). A UTF-8 byte order mark
and CRLF line ends are accepted; blank lines are skipped. A value longer than MAX_FIELD_CHARS
quarantines its row (`value_too_long`).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from followthrough.exceptions import SourceError
from followthrough.model import ENTITIES, POSTMORTEMS, ROW_NUMBER, EntitySchema

if TYPE_CHECKING:
    import pandas as pd

# the columns of the source contract's quarantine (followthrough.quality.gx, not imported: no GE here)
QUARANTINE_COLUMNS = ["entity", "row_number", "record_id", "reason_code", "reason", "raw"]
_BOM = b"\xef\xbb\xbf"
_SHOWN = 200  # characters of a malformed line kept in its reason
# A longer value is no title, name or note but a broken export (Jira caps a summary at 255
# characters, a comment at 32,767): its row is quarantined (`value_too_long`) and the quarantined
# copy keeps the first _KEPT characters, so no megabyte reaches the store, reports or messages.
MAX_FIELD_CHARS = 65536
_KEPT = 1000
csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))  # read it whole, then judge it


@dataclass
class EntityRead:
    """One file: its well-formed rows (all strings, `_row`) and the rows the reader quarantined."""

    frame: pd.DataFrame
    quarantine: list[dict[str, Any]]


@dataclass
class ExportRead:
    frames: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame  # QUARANTINE_COLUMNS


def read_entity(folder: Path, schema: EntitySchema) -> EntityRead:
    """One CSV file as an all-string frame with a 1-based `_row` column, plus its malformed rows."""
    import pandas as pd

    path = folder / schema.file
    if not path.is_file():
        raise SourceError(f"{path} is missing: the export must provide {schema.name} "
                          f"(or the policy must list {schema.name!r} in the source's absent_entities)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc}") from None
    data = data.removeprefix(_BOM)
    lines = data.splitlines(keepends=True)
    if not any(line.strip() for line in lines):
        raise SourceError(f"{path} is empty (not even a header row): a truncated export?")
    texts, undecodable = _decode(lines)
    header_index = next(i for i, line in enumerate(lines) if line.strip())
    if header_index in undecodable:
        raise SourceError(f"cannot read {path}: its header row is not UTF-8 text")
    records = list(_records(texts, header_index))
    header = [h.strip() for h in records[0][1]]
    if len(set(header)) != len(header):
        raise SourceError(f"cannot read {path}: its header names a column twice ({', '.join(header)})")
    _check_complete(path, data, header, records[-1][1] if len(records) > 1 else None)
    missing = [c for c in schema.column_names if c not in header]
    required_missing = [c.name for c in schema.columns if c.required and c.name in missing]
    if required_missing:
        raise SourceError(f"{path} lacks required column(s) {', '.join(required_missing)}")
    has_nul = b"\x00" in data  # rows are searched for NUL only when the file holds one
    rows: list[list[str]] = []
    numbers: list[int] = []
    quarantine: list[dict[str, Any]] = []
    for number, (span, fields) in enumerate(records[1:], start=1):
        problem = _problem(span, fields, header, undecodable, texts, has_nul)
        if problem is None:
            rows.append(fields)
            numbers.append(number)
            continue
        code, reason = problem
        raw = {c: (v if len(v) <= _KEPT else v[:_KEPT] + "...").replace("\x00", "\ufffd")
               for c, v in zip(header, fields, strict=False)}
        record_id = raw.get(schema.id_column, "").strip()
        if len(fields) > len(header):
            raw["_extra_fields"] = ";".join(fields[len(header):])[:_KEPT]
        quarantine.append({"entity": schema.name, "row_number": number, "record_id": record_id,
                           "reason_code": code, "reason": reason,
                           "raw": {**{c: "" for c in schema.column_names}, **raw}})
    frame = pd.DataFrame(rows, columns=header, dtype="string") if rows else pd.DataFrame(
        {c: pd.Series(dtype="string") for c in header})
    for column in missing:
        frame[column] = pd.Series("", index=frame.index, dtype="string")
    frame = frame[schema.column_names].copy()
    frame[ROW_NUMBER] = pd.Series(numbers, index=frame.index, dtype="int64")
    return EntityRead(frame=frame, quarantine=quarantine)


def _decode(lines: list[bytes]) -> tuple[list[str], set[int]]:
    """Each physical line as text; the indexes of lines that are not UTF-8 (kept with replacement marks)."""
    texts: list[str] = []
    undecodable: set[int] = set()
    for index, line in enumerate(lines):
        try:
            texts.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            texts.append(line.decode("utf-8", errors="replace"))
            undecodable.add(index)
    return texts, undecodable


def _records(texts: list[str], start: int) -> Iterator[tuple[range, list[str]]]:
    """(physical lines, fields) of each non-blank record from line `start` on.

    A record that spans lines but has the wrong field count is a quote left open: only its
    first line is taken as the (malformed) record and reading resumes on the next line. One
    csv reader reads on from record to record (its line count gives each record's lines); a
    new one starts only after such a record or a csv error.
    """
    position = start
    width: int | None = None
    while position < len(texts):
        origin = position
        reader = csv.reader(itertools.islice(texts, origin, None))
        while True:
            first = origin + reader.line_num
            try:
                fields: list[str] | None = next(reader)
            except StopIteration:
                return
            except csv.Error:
                fields = None
            position = origin + reader.line_num
            if fields is not None and (not fields or (len(fields) == 1 and not fields[0].strip()
                                                      and position - first == 1)):
                continue  # a blank line, or one of only spaces
            restart = fields is None
            if fields is None or (width is not None and len(fields) != width and position - first > 1):
                position = first + 1
                fields = _fields_of_line(texts[first])
                restart = True
            if width is None:
                width = len(fields)
            yield range(first, position), fields
            if restart:  # the reader's state is not to be trusted past this record
                break


def _fields_of_line(text: str) -> list[str]:
    try:
        return next(csv.reader([text.rstrip("\r\n")]), [])
    except csv.Error:
        return [text.rstrip("\r\n")]


def _problem(span: range, fields: list[str], header: list[str], undecodable: set[int],
             texts: list[str], has_nul: bool = True) -> tuple[str, str] | None:
    if undecodable and undecodable.intersection(span):
        return "undecodable_row", "the row is not valid UTF-8 text (its bytes were replaced in the quarantined copy)"
    if has_nul and any("\x00" in field for field in fields):  # binary data; PostgreSQL cannot even store it as text
        return "undecodable_row", "the row holds a NUL character: binary data, not text"
    if len(fields) != len(header):
        line = texts[span.start].rstrip("\r\n")
        shown = line if len(line) <= _SHOWN else line[:_SHOWN] + "..."
        return "malformed_row", (f"the row has {len(fields)} fields, the header {len(header)} (a stray delimiter or "
                                 f"a quote that is not closed?): {shown!r}")
    if not fields or max(map(len, fields)) <= MAX_FIELD_CHARS:
        return None
    longest = max(range(len(fields)), key=lambda i: len(fields[i]))
    if len(fields[longest]) > MAX_FIELD_CHARS:
        column = header[longest] if longest < len(header) else f"field {longest + 1}"
        return "value_too_long", (f"{column} has {len(fields[longest]):,} characters, more than the "
                                  f"{MAX_FIELD_CHARS:,} a field may have (a broken export?)")
    return None


def _check_complete(path: Path, data: bytes, header: list[str], last: list[str] | None) -> None:
    """A last line cut short (no newline, fewer fields than the header) means a truncated file."""
    if data.endswith((b"\n", b"\r")) or last is None:
        return
    if len(last) < len(header):
        raise SourceError(f"{path} is truncated: its last row has {len(last)} of {len(header)} fields "
                          "and no line end")


def read_export(folder: Path, absent: Iterable[str] = ()) -> ExportRead:
    """Every canonical entity from one export folder, plus postmortem document texts, and the
    rows the reader quarantined. `absent` names entities the export does not provide: they are
    left out of the result."""
    import pandas as pd

    if not folder.is_dir():
        raise SourceError(f"source folder {folder} does not exist or is not a folder")
    skipped = set(absent)
    reads = {schema.name: read_entity(folder, schema) for schema in ENTITIES if schema.name not in skipped}
    frames = {name: read.frame for name, read in reads.items()}
    if POSTMORTEMS.name in frames:
        root, texts = folder.resolve(), {}  # each document read once, however many rows name it
        for rel in frames[POSTMORTEMS.name]["document"]:
            if rel not in texts:
                texts[rel] = _read_document(root, rel)
        frames[POSTMORTEMS.name]["document_text"] = [texts[rel] for rel in frames[POSTMORTEMS.name]["document"]]
    rows = [row for read in reads.values() for row in read.quarantine]
    quarantine = pd.DataFrame(rows, columns=QUARANTINE_COLUMNS)
    quarantine["row_number"] = quarantine["row_number"].astype("int64")
    return ExportRead(frames=frames, quarantine=quarantine)


def _read_document(root: Path, relative: str) -> str:
    """The text of a document under `root` (an absolute, resolved folder); '' when unreadable or outside it."""
    if not relative:
        return ""
    path = (root / relative).resolve()
    if root not in path.parents:
        # an export must not make us read outside its own folder
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
