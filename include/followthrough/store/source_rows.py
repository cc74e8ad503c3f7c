"""The canonical rows of every source, kept in the store so that no task depends on a worker's disk.

Each extraction upserts its rows keyed by (source, entity, row key) in bulk, within one
transaction that also moves the source's watermark, so a crash leaves either both or neither.
A row the source no longer holds is not deleted but marked gone: a file source is a complete
snapshot each run; a Jira source reports what it re-read completely (a re-extracted issue's
comments, the daily id-only sweep of every query). Reading returns the present rows as the raw,
all-string frames the source contract expects.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring_ascii as _escape
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from followthrough.model import ENTITY_BY_NAME, ROW_NUMBER
from followthrough.store import bulk
from followthrough.store.schema import source_rows

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Connection

ROW_KEY_PREFIX = "@row:"  # rows without a usable id keep their place by row number
READ_BATCH = 50_000  # rows whose JSON is parsed at once
_KEY = "__row_key__"  # the store key, while a read frame is put together
UPSERT_BATCH = 50_000  # rows made into records and written at a time
CHUNK = 500  # keys per IN (...) list: well under every back end's bound-parameter limit
# child entities and the column naming the record they belong to
PARENT_COLUMN = {"status_updates": "action_item_id", "action_item_history": "action_item_id"}


@dataclass
class Completeness:
    """What an extract read completely, so that rows it did not return are gone.

    `entities`: every row of these entities was read (a file snapshot, an id-only sweep).
    `parents`: per child entity, the parent keys whose children were all read (re-read issues).
    `keys`: per entity, ids known to exist without their rows being re-read (the sweep's ids).
    """

    entities: set[str] = field(default_factory=set)
    parents: dict[str, set[str]] = field(default_factory=dict)
    keys: dict[str, set[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int
    changed: int
    gone: int
    unchanged: int


def row_keys(ids: pd.Series, row_numbers: pd.Series) -> list[str]:
    """The id where it is non-empty and first of its kind, else "@row:<n>"."""
    stripped = ids.astype("string").fillna("").str.strip()
    usable = (stripped != "") & ~stripped.duplicated(keep="first")
    return [str(i) if ok else f"{ROW_KEY_PREFIX}{n}"
            for i, ok, n in zip(stripped, usable, row_numbers, strict=True)]


def _numbers(frame: pd.DataFrame) -> pd.Series:
    """The rows' numbers: the source's own (`_row`), else 1..n."""
    import pandas as pd

    return (frame[ROW_NUMBER].astype("int64") if ROW_NUMBER in frame
            else pd.Series(range(1, len(frame) + 1), index=frame.index))


def _texts(column: pd.Series) -> list[str]:
    """A column's values as the store keeps them: text, empty where missing."""
    values = column.astype(object).where(column.notna(), "")
    return [v if type(v) is str else str(v) for v in values]


def _records(entity: str, frame: pd.DataFrame, keys: list[str] | None = None) -> list[dict[str, Any]]:
    """One extract's rows as store records: key, number, parent, the data as JSON text and its hash.

    The hash is SHA-256 of ``json.dumps([row number, data], sort_keys=True)`` (so rows stored
    earlier compare equal); the JSON is composed column by column with the encoder's own string
    escaping rather than by a json.dumps per row, and the data's JSON is that object's text.
    """

    schema = ENTITY_BY_NAME[entity]
    numbers = _numbers(frame)
    if keys is None:
        keys = row_keys(frame[schema.id_column], numbers)
    columns = sorted(c for c in frame.columns if c != ROW_NUMBER)
    parent = PARENT_COLUMN.get(entity)
    texts = {c: _texts(frame[c]) for c in columns}
    # json.dumps's default separators (", ", ": ") and ASCII escaping, keys sorted
    body = "{" + ", ".join(f"{_escape(str(c)).replace('%', '%%')}: %s" for c in columns) + "}"
    escaped = [[_escape(v) for v in texts[c]] for c in columns]
    parents = texts[parent] if parent in texts else [None] * len(frame)
    out = []
    for key, number, parent_key, values in zip(keys, numbers.tolist(), parents, zip(*escaped, strict=True) if columns
                                               else [()] * len(frame), strict=True):
        data = body % values
        digest = hashlib.sha256(f"[{number}, {data}]".encode()).hexdigest()
        out.append({"row_key": key, "row_number": int(number), "data": data, "row_hash": digest,
                    "parent_key": parent_key if parent else None})
    return out


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def upsert(connection: Connection, source: str, frames: Mapping[str, pd.DataFrame], complete: Completeness,
           run_id: str, as_of_db: datetime | None) -> dict[str, UpsertCounts]:
    """Bulk-upsert each entity's rows and mark what a complete read did not return as gone.

    `as_of_db` is the run's instant as the store keeps it (naive UTC).
    """
    counts: dict[str, UpsertCounts] = {}
    entities = set(frames) | complete.entities | set(complete.parents) | set(complete.keys)
    for entity in sorted(entities):
        if entity not in ENTITY_BY_NAME:
            continue
        where = (source_rows.c.source == source) & (source_rows.c.entity == entity)
        existing = {r.row_key: r for r in connection.execute(
            sa.select(source_rows.c.row_key, source_rows.c.row_hash, source_rows.c.present,
                      source_rows.c.first_run_id, source_rows.c.parent_key).where(where))}
        frame = frames.get(entity)
        keys = [] if frame is None else row_keys(frame[ENTITY_BY_NAME[entity].id_column], _numbers(frame))
        inserted = changed = 0
        # a batch of rows at a time: the records of a million-row extract are never all in memory
        for start in range(0, len(keys), UPSERT_BATCH):
            assert frame is not None
            records = _records(entity, frame.iloc[start:start + UPSERT_BATCH], keys[start:start + UPSERT_BATCH])
            fresh, replaced = [], []
            for record in records:
                before = existing.get(record["row_key"])
                if before is None:
                    record["first_run_id"] = run_id
                    fresh.append(record)
                elif before.row_hash != record["row_hash"] or not before.present:
                    record["first_run_id"] = before.first_run_id
                    replaced.append(record)
            # a changed row is deleted and inserted again: bulk on every back end, unlike row-wise updates
            for chunk in _chunks([r["row_key"] for r in replaced]):
                connection.execute(source_rows.delete().where(where & source_rows.c.row_key.in_(chunk)))
            rows = fresh + replaced
            for row in rows:
                row.update(source=source, entity=entity, present=True, gone_as_of=None, changed_run_id=run_id)
            # the data is JSON text already (see _records): bound as text, not serialised again
            bulk.insert_rows(connection, source_rows, rows, json_columns=["data"])
            inserted, changed = inserted + len(fresh), changed + len(replaced)
        returned = set(keys)
        still_there = complete.keys.get(entity, set())
        parents = complete.parents.get(entity)
        gone = [key for key, row in existing.items() if row.present and key not in returned
                and key not in still_there
                and (entity in complete.entities or (parents is not None and row.parent_key in parents))]
        for chunk in _chunks(gone):
            connection.execute(source_rows.update().where(where & source_rows.c.row_key.in_(chunk)).values(
                present=False, gone_as_of=as_of_db, changed_run_id=run_id))
        counts[entity] = UpsertCounts(inserted=inserted, changed=changed, gone=len(gone),
                                      unchanged=len(keys) - inserted - changed)
    return counts


def read(connection: Connection, source: str, renumber: bool = False) -> dict[str, pd.DataFrame]:
    """The present rows of one source, per entity, as raw all-string frames with `_row`.

    Entities the source never provided are absent from the result (the caller decides whether
    that is allowed). `renumber` numbers rows 1..n by key (a Jira source has no file rows).
    """
    import pandas as pd

    # the data as JSON text, parsed and made into a frame a batch of rows at a time (one parse per
    # batch, not one per row; a million-row source is never a list of dicts all at once)
    query = (sa.select(source_rows.c.entity, source_rows.c.row_key, source_rows.c.row_number,
                       sa.cast(source_rows.c.data, sa.Text))
             .where((source_rows.c.source == source) & source_rows.c.present)
             .order_by(source_rows.c.entity, source_rows.c.row_number, source_rows.c.row_key))
    parts: dict[str, list[pd.DataFrame]] = {}
    result = connection.execute(query)
    while batch := result.fetchmany(READ_BATCH):
        parsed = json.loads("[" + ",".join(row[3] for row in batch) + "]")
        start = 0
        while start < len(batch):  # the batch's rows of one entity at a time (the rows come by entity)
            entity = batch[start][0]
            end = start
            while end < len(batch) and batch[end][0] == entity:
                end += 1
            part = pd.DataFrame.from_records(parsed[start:end])
            part = part.astype("string") if len(part.columns) else part
            part[_KEY] = [row[1] for row in batch[start:end]]
            part[ROW_NUMBER] = [row[2] for row in batch[start:end]]
            parts.setdefault(entity, []).append(part)
            start = end
    provided = {e for (e,) in connection.execute(
        sa.select(source_rows.c.entity).where(source_rows.c.source == source).distinct())}
    frames: dict[str, pd.DataFrame] = {}
    for entity in provided:
        schema = ENTITY_BY_NAME[entity]
        found = parts.get(entity, [])
        whole = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=[_KEY, ROW_NUMBER])
        if renumber:
            whole = whole.sort_values(_KEY, kind="stable", ignore_index=True)
        extra = sorted(set(whole.columns) - set(schema.column_names) - {_KEY, ROW_NUMBER})
        frame = whole.reindex(columns=schema.column_names + extra).astype("string").fillna("")
        frame[ROW_NUMBER] = range(1, len(whole) + 1) if renumber else whole[ROW_NUMBER].tolist()
        frame[ROW_NUMBER] = frame[ROW_NUMBER].astype("int64")
        frames[entity] = frame
    return frames


def present_counts(connection: Connection, source: str) -> dict[str, int]:
    """How many present rows each entity of a source has (the safety valve's "emptied entity")."""
    query = sa.select(source_rows.c.entity, sa.func.count()).where(
        (source_rows.c.source == source) & source_rows.c.present).group_by(source_rows.c.entity)
    return {str(entity): int(count) for entity, count in connection.execute(query)}


def present_ids(connection: Connection, entities: Iterable[str]) -> dict[str, set[str]]:
    """The ids of present rows per entity, across every source (for "subject gone")."""
    wanted = list(entities)
    query = sa.select(source_rows.c.entity, source_rows.c.row_key).where(
        source_rows.c.present & source_rows.c.entity.in_(wanted))
    ids: dict[str, set[str]] = {e: set() for e in wanted}
    for entity, key in connection.execute(query):
        ids[entity].add(key)
    return ids
