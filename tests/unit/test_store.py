"""The store on SQLite and PostgreSQL: migrations, upserts, outbox idempotency, audit chain."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from followthrough.store.repository import Store
from followthrough.store.schema import metadata


def test_migrations_produce_exactly_the_declared_schema(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store.migrate()  # a second upgrade is a no-op
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_name": lambda name, kind, _parent: not (kind == "table" and name == "ft_alembic_version")})
        diff = compare_metadata(context, metadata)
    assert diff == []


def _action(key: str) -> dict:
    return {"idempotency_key": key, "fingerprint": "fp", "episode": 1, "step": 0, "channel": "jira",
            "action": "create_ticket", "recipient": "omar", "payload": {"summary": "x"}}


def test_outbox_insert_is_idempotent_by_key(store: Store) -> None:
    assert store.add_to_outbox([_action("a"), _action("b")], "run-1", pd.Timestamp("2026-07-15T10:00Z")) == 2
    assert store.add_to_outbox([_action("a"), _action("b"), _action("a")], "run-2",
                               pd.Timestamp("2026-07-15T10:00Z")) == 0
    assert len(store.pending_outbox()) == 2


def test_quarantine_row_seen_again_is_not_duplicated(store: Store) -> None:
    rows = pd.DataFrame([{"entity": "incidents", "row_number": 3, "record_id": "INC-3",
                          "reason_code": "unknown_value", "reason": "severity SEV9", "raw": {"severity": "SEV9"}}])
    store.upsert_quarantine("demo", "run-1", pd.Timestamp("2026-07-15T10:00Z"), rows)
    store.upsert_quarantine("demo", "run-2", pd.Timestamp("2026-07-16T10:00Z"), rows)
    assert [r["first_run_id"] for r in store.quarantine_seen_in("run-2")] == ["run-1"]
    assert store.quarantine_seen_in("run-1") == []


def test_audit_chain_detects_an_edited_event(store: Store) -> None:
    store.append_audit("run-1", [("run_started", None, {"as_of": "2026-07-15"}), ("finding_new", "fp", {"x": 1})])
    store.append_audit("run-2", [("run_started", None, {"as_of": "2026-07-16"})])
    ok, message = store.verify_audit_chain()
    assert ok
    assert message.startswith("audit chain intact: 3 events")
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE ft_audit_events SET payload = :p WHERE seq = 2"), {"p": '{"x": 2}'})
    ok, message = store.verify_audit_chain()
    assert not ok
    assert "event 2" in message


def test_audit_chain_detects_a_deleted_event(store: Store) -> None:
    store.append_audit("run-1", [("a", None, {}), ("b", None, {}), ("c", None, {})])
    with store.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM ft_audit_events WHERE seq = 2"))
    assert not store.verify_audit_chain()[0]


def test_unreachable_store_is_a_store_error(tmp_path: Path) -> None:
    from followthrough.exceptions import StoreError

    with pytest.raises(StoreError, match="127.0.0.1:1"):
        Store("postgresql+psycopg2://nobody:secret@127.0.0.1:1/none").migrate()


def test_store_url_password_is_masked_in_errors() -> None:
    assert "secret" not in Store("postgresql+psycopg2://nobody:secret@127.0.0.1:1/none").safe_url


def test_rows_for_the_store_have_none_where_a_frame_has_a_missing_value() -> None:
    """Reconciliation reads its frame a column at a time: the same values as none_if_missing of each."""
    import numpy as np
    import pandas as pd

    from followthrough.model import records
    from followthrough.store.repository import none_if_missing

    frame = pd.DataFrame({
        "n": [1, 2, 3], "x": [1.5, np.nan, 2.0], "s": pd.Series(["a", None, "c"], dtype="string"),
        "evidence": [{"k": 1}, None, [1, 2]], "due": pd.to_datetime(["2026-01-01", None, "2026-01-02"], utc=True),
        "flag": [True, False, True], "mixed": [None, np.nan, "s"], "i": pd.array([1, None, 3], dtype="Int64")})
    expected = [{k: none_if_missing(v) for k, v in r.items()} for r in frame.to_dict("records")]
    rows = records(frame, missing_as_none=True)
    assert rows == expected
    assert [[type(v) for v in r.values()] for r in rows] == [[type(v) for v in r.values()] for r in expected]
    assert rows[1] == {"n": 2, "x": None, "s": None, "evidence": None, "due": None, "flag": False, "mixed": None,
                       "i": None}
    assert records(frame.iloc[0:0], missing_as_none=True) == []


def test_a_column_of_timestamps_becomes_naive_utc_as_each_value_would() -> None:
    import numpy as np
    import pandas as pd

    from followthrough.store.repository import utc_naive, utc_naive_column

    columns = [
        pd.Series(pd.to_datetime(["2026-07-01T10:00:00.123456+02:00", None, "2026-01-01T00:00:00.000000+00:00"],
                                 utc=True)),
        pd.Series(pd.to_datetime(["2026-07-01T10:00:00", None])),
        pd.Series(["2026-07-01T10:00:00Z", None, np.nan], dtype=object),
        pd.Series(pd.to_datetime(["2026-07-01T10:00:00"])).dt.tz_localize("Europe/Berlin"),
        pd.Series([], dtype="datetime64[ns, UTC]"),
    ]
    for column in columns:
        assert utc_naive_column(column) == [utc_naive(v) for v in column]
    assert utc_naive_column(columns[0])[0] == datetime(2026, 7, 1, 8, 0, 0, 123456)
    assert utc_naive_column(columns[3]) == [datetime(2026, 7, 1, 8, 0)]
