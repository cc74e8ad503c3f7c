"""Canonical source rows in the store (SQLite and PostgreSQL): bulk upserts, gone rows, keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from followthrough.store.repository import Store
from followthrough.store.schema import source_rows
from followthrough.store.source_rows import Completeness

AS_OF = datetime(2026, 7, 15, 10, tzinfo=UTC)


def items(*rows: tuple[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame([{"action_item_id": i, "summary": s} for i, s in rows],
                         columns=["action_item_id", "summary"], dtype="string")
    frame["_row"] = range(1, len(frame) + 1)
    return frame


def updates(*rows: tuple[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame([{"update_id": u, "action_item_id": a, "posted_at": "2026-07-01T00:00:00Z"}
                          for u, a in rows], dtype="string")
    frame["_row"] = range(1, len(frame) + 1)
    return frame


def test_a_snapshot_inserts_changes_and_marks_what_it_lacks_gone(store: Store) -> None:
    complete = Completeness(entities={"action_items"})
    first = store.upsert_source_rows("demo", {"action_items": items(("A-1", "x"), ("A-2", "y"))}, complete,
                                     "run-1", AS_OF)
    assert first["action_items"].inserted == 2
    second = store.upsert_source_rows("demo", {"action_items": items(("A-1", "x"), ("A-3", "z"))}, complete,
                                      "run-2", AS_OF)
    # A-2 left the export; A-3 is new; A-1 is unchanged
    assert (second["action_items"].inserted, second["action_items"].changed, second["action_items"].gone,
            second["action_items"].unchanged) == (1, 0, 1, 1)
    frame = store.source_frames("demo")["action_items"]
    assert frame["action_item_id"].tolist() == ["A-1", "A-3"]
    assert frame["_row"].tolist() == [1, 2]
    assert store.present_ids(["action_items"]) == {"action_items": {"A-1", "A-3"}}
    # a row that comes back is present again
    third = store.upsert_source_rows("demo", {"action_items": items(("A-1", "x"), ("A-2", "y2"), ("A-3", "z"))},
                                     complete, "run-3", AS_OF)
    assert third["action_items"].changed == 2  # A-2 returned (and changed), A-3 moved to row 3
    assert sorted(store.source_frames("demo")["action_items"]["summary"]) == ["x", "y2", "z"]


def test_an_incremental_extract_keeps_rows_it_did_not_reread(store: Store) -> None:
    store.upsert_source_rows("jira", {"action_items": items(("A-1", "x"), ("A-2", "y"))}, Completeness(),
                             "run-1", AS_OF)
    store.upsert_source_rows("jira", {"action_items": items(("A-2", "y-changed"))}, Completeness(), "run-2", AS_OF)
    frame = store.source_frames("jira", renumber=True)["action_items"]
    assert frame.set_index("action_item_id")["summary"].to_dict() == {"A-1": "x", "A-2": "y-changed"}
    assert frame["_row"].tolist() == [1, 2]


def test_comments_of_a_reread_issue_that_it_no_longer_has_are_gone(store: Store) -> None:
    store.upsert_source_rows("jira", {"status_updates": updates(("c1", "A-1"), ("c2", "A-1"), ("c3", "A-2"))},
                             Completeness(), "run-1", AS_OF)
    # A-1 was read again and has only c1 now (c2 was deleted); A-2 was not read again
    counts = store.upsert_source_rows("jira", {"status_updates": updates(("c1", "A-1"))},
                                      Completeness(parents={"status_updates": {"A-1"}}), "run-2", AS_OF)
    assert counts["status_updates"].gone == 1
    assert sorted(store.source_frames("jira")["status_updates"]["update_id"]) == ["c1", "c3"]


def test_rows_without_a_usable_id_are_kept_for_the_contract(store: Store) -> None:
    frame = items(("A-1", "first"), ("A-1", "duplicate"), ("", "no id"))
    store.upsert_source_rows("demo", {"action_items": frame}, Completeness(entities={"action_items"}), "run-1", AS_OF)
    stored = store.source_frames("demo")["action_items"]
    assert stored["summary"].tolist() == ["first", "duplicate", "no id"]  # the contract quarantines two of them
    with store.engine.connect() as connection:
        keys = sorted(connection.execute(sa.select(source_rows.c.row_key)).scalars())
    assert keys == ["@row:2", "@row:3", "A-1"]


def test_the_watermark_moves_with_the_rows(store: Store) -> None:
    mark = datetime(2026, 7, 15, 9, 30, tzinfo=UTC)
    store.upsert_source_rows("jira", {"action_items": items(("A-1", "x"))}, Completeness(), "run-1", AS_OF,
                             watermark=mark)
    assert store.watermark("jira") == mark
    events = [e["kind"] for e in store.audit_events("run-1")]
    assert events == ["watermark_set", "source_extracted"]


def test_an_entity_never_provided_is_absent_and_one_emptied_is_empty(store: Store) -> None:
    complete = Completeness(entities={"action_items"})
    store.upsert_source_rows("demo", {"action_items": items(("A-1", "x"))}, complete, "run-1", AS_OF)
    store.upsert_source_rows("demo", {"action_items": items()}, complete, "run-2", AS_OF)
    frames = store.source_frames("demo")
    assert list(frames) == ["action_items"]
    assert frames["action_items"].empty


def test_the_run_keeps_the_policy_its_first_task_stored(store: Store) -> None:
    store.start_run("run-1", "followthrough_enforce", AS_OF, "h1")
    store.store_run_policy("run-1", {"content_hash": "h1"})
    store.store_run_policy("run-1", {"content_hash": "h2"})  # a retry after an edit keeps the first
    assert store.run_policy("run-1") == {"content_hash": "h1"}
    assert store.run_policy("run-unknown") is None


def test_a_row_hash_is_the_json_of_its_number_and_data_as_before() -> None:
    """Rows stored by earlier versions compare equal: the hash is still sha256(json.dumps([n, data], sort_keys))."""
    import hashlib
    import json

    from followthrough.store.source_rows import _records

    frame = pd.DataFrame({"summary": ['quote " and \\ back', "ünïcode ✓ and \U0001f600", "tab\tnew\nline", "50% done",
                                      None],
                          "action_item_id": ["A-1", "A-2", "A-3", "A-4", "A-5"],
                          "owner": ["", "x", None, "{}", "[1, 2]"]}, dtype="string")
    frame["_row"] = [3, 1, 2, 10, 7]
    records = _records("action_items", frame)
    for record, (_, row) in zip(records, frame.iterrows(), strict=True):
        body = {c: ("" if pd.isna(row[c]) else str(row[c])) for c in ("summary", "action_item_id", "owner")}
        expected = hashlib.sha256(json.dumps([int(row["_row"]), body], sort_keys=True).encode()).hexdigest()
        assert record["row_hash"] == expected
        assert json.loads(record["data"]) == body
    assert [r["row_key"] for r in records] == ["A-1", "A-2", "A-3", "A-4", "A-5"]


def test_rows_read_back_are_the_rows_written(store: Store) -> None:
    frame = updates(("c1", "A-1"), ("c2", "A-1"), ("c3", "A-2"))
    frame.loc[1, "posted_at"] = 'odd "text" ✓'
    store.upsert_source_rows("demo", {"status_updates": frame}, Completeness(), "run-1", AS_OF)
    read = store.source_frames("demo")["status_updates"]
    assert read[["update_id", "action_item_id", "posted_at"]].to_dict("records") == \
        frame[["update_id", "action_item_id", "posted_at"]].to_dict("records")
    with store.engine.connect() as connection:
        parents = sorted(connection.execute(sa.select(source_rows.c.parent_key)).scalars())
    assert parents == ["A-1", "A-1", "A-2"]


def test_a_source_read_in_batches_is_the_same_frame(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are read a batch at a time; batch edges (between and within entities) change nothing."""
    from followthrough.store import source_rows as module

    frames = {"action_items": items(*[(f"A-{i}", f"item {i}") for i in range(7)]),
              "status_updates": updates(*[(f"c{i}", f"A-{i % 3}") for i in range(5)])}
    frames["action_items"]["extra_field"] = pd.Series([f"x{i}" for i in range(7)], dtype="string")
    store.upsert_source_rows("jira", frames, Completeness(), "run-1", AS_OF)
    whole = store.source_frames("jira", renumber=True)
    monkeypatch.setattr(module, "READ_BATCH", 3)
    batched = store.source_frames("jira", renumber=True)
    assert sorted(batched) == sorted(whole) == ["action_items", "status_updates"]
    for entity in whole:
        pd.testing.assert_frame_equal(batched[entity], whole[entity])
    assert batched["action_items"]["extra_field"].tolist() == [f"x{i}" for i in range(7)]
    assert batched["action_items"]["_row"].tolist() == list(range(1, 8))
