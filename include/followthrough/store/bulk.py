"""Bulk writes of the store: set-based, a bounded number of statements whatever the row count.

Rows go to the database in chunks: one executemany per chunk (SQLAlchemy sends a multi-row
INSERT ... VALUES on PostgreSQL, the embedded SQLite runs the statement over the rows in
process), and updates of many rows are one UPDATE ... WHERE key IN (...) per chunk. Nothing
here makes a round trip per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from followthrough.exceptions import StoreError

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection

T = TypeVar("T")
ROWS_PER_STATEMENT = 5000  # rows per executemany
KEYS_PER_STATEMENT = 500  # keys per IN (...) list: well under every back end's bound-parameter limit


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def insert_rows(connection: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows in bulk (a duplicate key fails the transaction, as a single insert would)."""
    for chunk in chunks(rows, ROWS_PER_STATEMENT):
        connection.execute(table.insert(), list(chunk))


def upsert_rows(connection: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Iterable[str],
                update: Iterable[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET the `update` columns, in bulk.

    Each key may appear once in `rows` (PostgreSQL refuses to update a row twice in one statement).
    """
    if not rows:
        return
    name = connection.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:
        raise StoreError(f"the store supports PostgreSQL and SQLite, not {name}")
    statement = insert(table)
    statement = statement.on_conflict_do_update(index_elements=[table.c[k] for k in keys],
                                                set_={c: statement.excluded[c] for c in update})
    for chunk in chunks(rows, ROWS_PER_STATEMENT):
        connection.execute(statement, list(chunk))
