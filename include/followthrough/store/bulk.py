"""Bulk writes of the store: set-based, a bounded number of statements whatever the row count.

Rows go to the database in chunks: one executemany per chunk (SQLAlchemy sends a multi-row
INSERT ... VALUES on PostgreSQL, the embedded SQLite runs the statement over the rows in
process), and updates of many rows are one UPDATE ... WHERE key IN (...) per chunk. Nothing
here makes a round trip per row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from followthrough.exceptions import StoreError

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection

T = TypeVar("T")
ROWS_PER_STATEMENT = 5000  # rows per executemany
KEYS_PER_STATEMENT = 500  # keys per IN (...) list: well under every back end's bound-parameter limit


# json.dumps(value, default=str, sort_keys=True), with the encoder built once
_SAFE = json.JSONEncoder(sort_keys=True, default=str)


def json_text(value: Any) -> str:
    """A value as the store keeps it in a JSON column, as text: ``json.dumps(json_safe(value))``.

    Non-JSON values become their str(), keys are sorted; reading the text back gives
    ``json_safe(value)``. Rows carrying such text are written with ``json_text=`` below, so
    the column's type does not serialise them a second time.
    """
    return _SAFE.encode(value)


def json_safe(value: Any) -> Any:
    """The value as the store gives it back from a JSON column (plain dicts, lists, strings, numbers)."""
    return json.loads(_SAFE.encode(value))


def _statement(table: sa.Table, json_columns: Iterable[str], dialect: str | None = None) -> Any:
    """An INSERT of `table` whose `json_columns` are bound as text (already JSON), not serialised again."""
    import sqlalchemy as sa

    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    elif dialect is None:
        insert = sa.insert  # type: ignore[assignment]
    else:
        raise StoreError(f"the store supports PostgreSQL and SQLite, not {dialect}")
    statement = insert(table)
    columns = list(json_columns)
    if columns:
        values: dict[str, Any]
        if dialect == "postgresql":
            # a driver that binds typed parameters (psycopg 3) sends the text as VARCHAR, which a json
            # column refuses without an explicit cast; SQLite must not cast (JSON has NUMERIC affinity)
            values = {c: sa.cast(sa.type_coerce(sa.bindparam(c), sa.Text), table.c[c].type) for c in columns}
        else:
            values = {c: sa.type_coerce(sa.bindparam(c), sa.Text) for c in columns}
        statement = statement.values(values)
    return statement


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def insert_rows(connection: Connection, table: sa.Table, rows: Sequence[dict[str, Any]],
                json_columns: Iterable[str] = ()) -> None:
    """Insert rows in bulk (a duplicate key fails the transaction, as a single insert would).

    `json_columns`: JSON columns whose values in `rows` are JSON text already (see json_text).
    """
    if not rows:
        return
    _execute_rows(connection, _statement(table, json_columns, connection.dialect.name), rows)


def upsert_rows(connection: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Iterable[str],
                update: Iterable[str], json_columns: Iterable[str] = ()) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET the `update` columns, in bulk.

    Each key may appear once in `rows` (PostgreSQL refuses to update a row twice in one statement).
    `json_columns` as for insert_rows.
    """
    if not rows:
        return
    statement = _statement(table, json_columns, connection.dialect.name)
    statement = statement.on_conflict_do_update(index_elements=[table.c[k] for k in keys],
                                                set_={c: statement.excluded[c] for c in update})
    _execute_rows(connection, statement, rows)


def _execute_rows(connection: Connection, statement: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Run an INSERT over `rows`, a chunk per executemany.

    On SQLite the statement is compiled once and its parameters are made column by column (each
    column's bind processor over all its values) and handed to the driver as tuples: SQLAlchemy's
    per-row parameter processing cost more than SQLite's insert itself (about 9 of 25 us a row).
    The values bound are the ones SQLAlchemy would bind. Rows that do not all carry the
    statement's parameters (a column default to compute, a missing key) take SQLAlchemy's path.
    """
    if connection.dialect.name == "sqlite":
        parameters = _driver_parameters(connection, statement, rows)
        if parameters is not None:
            sql, values = parameters
            for driver_chunk in chunks(values, ROWS_PER_STATEMENT):
                connection.exec_driver_sql(sql, list(driver_chunk))
            return
    for chunk in chunks(rows, ROWS_PER_STATEMENT):
        connection.execute(statement, list(chunk))


# SQLAlchemy's default storage format of DateTime on SQLite (its DATETIME type)
_SQLITE_DATETIME_FORMAT = ("%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d"
                           ".%(microsecond)06d")


def _sqlite_datetime(value: Any, process: Any) -> Any:
    """The text SQLite's DATETIME bind processor makes, by isoformat for a plain naive datetime.

    The same text (a space between date and time, microseconds always); that processor fills a
    format from a dict per value, which cost seconds over the hundreds of thousands of instants
    of a run. Anything else (an aware or pandas timestamp, a date) goes through the processor.
    """
    if type(value) is datetime and value.tzinfo is None:
        return value.isoformat(" ", "microseconds")
    return process(value)


def _driver_parameters(connection: Connection, statement: Any,
                       rows: Sequence[dict[str, Any]]) -> tuple[str, list[tuple[Any, ...]]] | None:
    """The statement's SQL (positional parameters) and each row's values, processed as SQLAlchemy binds them."""
    keys = list(rows[0])
    compiled = statement.compile(dialect=connection.dialect, column_keys=keys)
    names = compiled.positiontup
    if not names or any(name not in rows[0] for name in names):
        return None
    columns: list[list[Any]] = []
    try:
        for name in names:
            values = [row[name] for row in rows]
            impl = compiled.binds[name].type.dialect_impl(connection.dialect)
            process = impl.bind_processor(connection.dialect)
            if process is not None and getattr(impl, "_storage_format", None) == _SQLITE_DATETIME_FORMAT:
                columns.append([_sqlite_datetime(v, process) for v in values])
            else:
                columns.append([process(v) for v in values] if process is not None else values)
    except KeyError:  # a row without one of the statement's keys: SQLAlchemy says which
        return None
    return compiled.string, list(zip(*columns, strict=True))
