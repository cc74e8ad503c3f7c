"""Reconciliation, outbox, quarantine and audit writes are bulk: the statements they send do not grow with the rows.

Each test runs the same write over a few rows and over many, counts the statements the store
sends (SQLAlchemy's before_cursor_execute event, on SQLite and PostgreSQL), and checks both the
count and the outcome. A count test, not a timing test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

import pandas as pd
import sqlalchemy as sa

from followthrough.findings import reconcile, with_fingerprints
from followthrough.gateways.outbox import DispatchSettings, DryRunGateway, RoutingGateway, dispatch_pending
from followthrough.store.repository import Store
from followthrough.store.schema import metadata

AS_OF = pd.Timestamp("2026-07-15T07:00Z")
NEXT_DAY = pd.Timestamp("2026-07-16T07:00Z")
FEW, MANY = 10, 400  # MANY: still within one chunk of store/bulk.py, so the counts are equal


def fresh(store: Store) -> Store:
    """The fixture's store, emptied (one test measures two sizes on the same back end)."""
    with store.transaction() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
    return store


@contextmanager
def counting(store: Store) -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", seen)


def findings(n: int, reason: str = "overdue by 3 days") -> pd.DataFrame:
    return with_fingerprints(pd.DataFrame({
        "rule": "AI-OVERDUE", "subject_type": "action_item", "subject_id": [f"AI-{i}" for i in range(n)],
        "level": "violation", "team_id": "payments", "incident_id": "INC-1", "responsible": "omar",
        "due_at": pd.Timestamp("2026-07-01T00:00Z"), "critical": False, "confidential": False, "private": False,
        "title": [f"item {i}" for i in range(n)], "reason": reason,
        "evidence": [{"days_overdue": 3, "item": i} for i in range(n)]}))


def reconcile_twice(store: Store, n: int) -> tuple[int, int]:
    """Day 1: n new findings. Day 2: half resolve, a quarter change their reason, the rest go on."""
    with counting(store) as day_one:
        store.apply_reconciliation(reconcile(findings(n), store.findings_frame()), "day-1", AS_OF)
    today = findings(n).iloc[n // 2:].copy()
    today.loc[today.index[: n // 4], "reason"] = "blocked without a reason"
    changes = reconcile(today, store.findings_frame())
    assert set(changes["change"]) == {"resolved", "changed", "ongoing"}
    with counting(store) as day_two:
        store.apply_reconciliation(changes.assign(resolution=None), "day-2", NEXT_DAY)
    return len(day_one), len(day_two)


def test_reconciliation_sends_as_many_statements_for_400_findings_as_for_10(store: Store) -> None:
    few = reconcile_twice(fresh(store), FEW)
    many = reconcile_twice(fresh(store), MANY)
    assert many == few, f"statements for {FEW} findings {few}, for {MANY} {many}"
    stored = store.findings_frame().set_index("subject_id")
    assert len(stored) == MANY
    assert (stored["status"] == "resolved").sum() == MANY // 2
    changed = stored.loc["AI-200"]
    assert (changed["status"], changed["reason"], changed["last_run_id"]) == ("open", "blocked without a reason",
                                                                             "day-2")
    assert changed["first_run_id"] == "day-1"  # a known finding keeps its first sighting
    assert pd.Timestamp(changed["first_seen_as_of"]) == AS_OF.tz_localize(None)
    assert stored.loc["AI-0", "resolution"] == "fixed"
    kinds = pd.Series([e["kind"] for e in store.audit_events()]).value_counts().to_dict()
    assert kinds == {"finding_new": MANY, "finding_resolved": MANY // 2, "finding_changed": MANY // 4}
    ok, message = store.verify_audit_chain()
    assert ok, message


def test_a_reopened_finding_is_upserted_as_a_new_episode(store: Store) -> None:
    store.apply_reconciliation(reconcile(findings(3), store.findings_frame()), "day-1", AS_OF)
    store.apply_reconciliation(reconcile(findings(3).iloc[1:], store.findings_frame()).assign(resolution=None),
                               "day-2", NEXT_DAY)
    later = pd.Timestamp("2026-07-20T07:00Z")
    changes = reconcile(findings(3), store.findings_frame())
    assert changes.set_index("subject_id").loc["AI-0", "change"] == "reopened"
    store.apply_reconciliation(changes.assign(resolution=None), "day-3", later)
    row = store.findings_frame().set_index("subject_id").loc["AI-0"]
    assert (row["status"], row["episode"], row["first_run_id"]) == ("open", 2, "day-1")
    assert pd.Timestamp(row["episode_started_as_of"]) == later.tz_localize(None)
    assert pd.Timestamp(row["last_resolved_as_of"]) == NEXT_DAY.tz_localize(None)


def actions(n: int, channel: str = "jira") -> list[dict[str, Any]]:
    return [{"idempotency_key": f"{channel}/{i}", "fingerprint": f"fp-{i}", "episode": 1, "step": 0,
             "channel": channel, "action": "create_ticket" if channel == "jira" else "dm_owner", "recipient": "omar",
             "payload": {"summary": f"item {i}"}} for i in range(n)]


def counted(store: Store, write: Callable[[], Any]) -> tuple[int, Any]:
    with counting(store) as statements:
        result = write()
    return len(statements), result


def test_planning_into_the_outbox_sends_as_many_statements_for_400_actions_as_for_10(store: Store) -> None:
    few, added = counted(fresh(store), lambda: store.add_to_outbox(actions(FEW), "plan", AS_OF))
    assert added == FEW
    many, added = counted(fresh(store), lambda: store.add_to_outbox(actions(MANY), "plan", AS_OF))
    assert added == MANY
    assert many == few
    again, added = counted(store, lambda: store.add_to_outbox(actions(MANY), "plan-again", AS_OF))
    assert added == 0  # idempotent by key
    frame = store.outbox_frame()
    assert list(frame["idempotency_key"]) == [f"jira/{i}" for i in range(MANY)]  # ids in planned order
    assert set(frame["status"]) == {"pending"}
    assert sum(e["kind"] == "action_planned" for e in store.audit_events()) == MANY


def test_planning_in_batches_keeps_the_planned_order_and_audits_each_action_once(
        store: Store, monkeypatch: Any) -> None:
    from followthrough.store import repository

    monkeypatch.setattr(repository, "OUTBOX_BATCH", 7)
    planned = actions(10) + actions(3)  # the last three repeat keys already planned: skipped
    planned[12] = {**planned[12], "idempotency_key": "jira/new"}
    assert fresh(store).add_to_outbox(planned, "plan", AS_OF) == 11
    frame = store.outbox_frame()
    assert list(frame["idempotency_key"]) == [f"jira/{i}" for i in range(10)] + ["jira/new"]
    events = store.audit_events(kinds=["action_planned"])
    assert [e["payload"]["idempotency_key"] for e in events] == list(frame["idempotency_key"])
    assert events[0]["payload"]["payload"] == {"summary": "item 0"}
    assert store.verify_audit_chain()[0]
    assert store.add_to_outbox(planned, "plan-again", AS_OF) == 0


def test_a_dry_run_dispatch_sends_as_many_statements_for_400_entries_as_for_10(store: Store) -> None:
    gateway = RoutingGateway({"jira": DryRunGateway(), "slack": DryRunGateway()})
    results = []
    for n in (FEW, MANY):
        fresh(store).add_to_outbox(actions(n // 2) + actions(n // 2, "slack"), "plan", AS_OF)
        results.append(counted(store, lambda: dispatch_pending(store, gateway, "dispatch", now=AS_OF.isoformat(),
                                                               settings=DispatchSettings(claim_batch=5))))
    (few, few_counts), (many, many_counts) = results
    assert many == few
    assert (few_counts["dry_run"], many_counts["dry_run"]) == (FEW, MANY)
    frame = store.outbox_frame()
    assert set(frame["status"]) == {"dry_run"}
    assert set(frame["attempts"]) == {1}
    assert frame["lease_owner"].isna().all()
    assert list(frame["external_ref"]) == [f"dry-run:{k}" for k in frame["idempotency_key"]]
    kinds = [e["kind"] for e in store.audit_events() if e["payload"].get("idempotency_key") == "slack/7"]
    assert kinds == ["action_planned", "action_attempt", "action_dry_run"]  # every attempt audited
    ok, message = store.verify_audit_chain()
    assert ok, message


def test_quarantine_and_audit_appends_send_as_many_statements_for_400_rows_as_for_10(store: Store) -> None:
    def quarantined(n: int) -> pd.DataFrame:
        return pd.DataFrame({"entity": "action_items", "row_number": range(1, n + 1),
                             "record_id": [f"AI-{i}" for i in range(n)], "reason_code": "bad_date",
                             "reason": "due_date is not a date", "raw": [{"id": f"AI-{i}"} for i in range(n)]})

    counts = []
    for n in (FEW, MANY):
        fresh(store)
        rows = quarantined(n)
        events = [("note", str(i), {"i": i}) for i in range(n)]
        first, _ = counted(store, lambda: store.upsert_quarantine("files", "run-1", AS_OF, rows))  # noqa: B023
        again, _ = counted(store, lambda: store.upsert_quarantine("files", "run-2", AS_OF, rows))  # noqa: B023
        appended, _ = counted(store, lambda: store.append_audit("run-2", events))  # noqa: B023
        counts.append((first, again, appended))
    assert counts[0] == counts[1]
    seen = store.quarantine_seen_in("run-2")
    assert len(seen) == MANY  # seen again: moved, not duplicated
    assert {r["first_run_id"] for r in seen} == {"run-1"}
    ok, message = store.verify_audit_chain()
    assert ok, message


def test_a_dry_run_entry_whose_lease_was_lost_is_not_recorded(store: Store) -> None:
    from followthrough.store import outbox as states

    n = FEW
    store.add_to_outbox(actions(n), "plan", AS_OF)
    claimed = states.claim(store, "first", limit=n, lease_seconds=60)
    lost = [{**entry, "lease_owner": "someone-else"} for entry in claimed[:3]]
    assert states.record_dry_run(store, lost + claimed[3:], "run-1", DryRunGateway.REF_PREFIX) == n - 3
    statuses = store.outbox_frame().set_index("idempotency_key")["status"]
    assert list(statuses) == ["claimed"] * 3 + ["dry_run"] * (n - 3)
    assert sum(e["kind"] == "action_dry_run" for e in store.audit_events()) == n - 3


def _sample_value(column: sa.Column, i: int) -> Any:
    """A value of the column's type, varied by row (None, naive and aware instants, JSON text)."""
    from datetime import datetime, timedelta

    if column.nullable and i % 5 == 4 and not column.primary_key:
        return None
    kind = column.type
    if isinstance(kind, sa.DateTime):
        instant = datetime(2026, 7, 15, 10, 0, 0, 123456 * (i % 2)) + timedelta(hours=i)
        if i % 7 == 5:  # a pandas timestamp with nanoseconds, and a year of three digits
            return pd.Timestamp(instant) + pd.Timedelta(nanoseconds=789)
        if i % 7 == 6:
            return instant.replace(year=999)
        return instant.replace(tzinfo=UTC) if i % 3 else instant
    if isinstance(kind, sa.Boolean):
        return bool(i % 2)
    if isinstance(kind, sa.Integer):
        return i + 1
    if isinstance(kind, sa.JSON):
        return f'{{"n":{i},"text":"caf\\u00e9"}}'
    return f"{column.name}-{i}-é"


def test_the_sqlite_driver_path_stores_exactly_what_sqlalchemy_stores() -> None:
    """Every table written in bulk: the rows the column-wise driver path stores on SQLite are the rows
    SQLAlchemy's own executemany stores, value for value and storage class for storage class."""
    from followthrough.store import bulk

    def stored(use_driver_path: bool, table: sa.Table, rows: list[dict[str, Any]], json_columns: list[str]) -> Any:
        engine = sa.create_engine("sqlite://")
        metadata.create_all(engine)
        with engine.begin() as connection:
            statement = bulk._statement(table, json_columns, "sqlite")
            if use_driver_path:
                bulk._execute_rows(connection, statement, rows)
            else:
                connection.execute(statement, rows)
            names = ", ".join(f"{c.name}, typeof({c.name})" for c in table.columns)
            return connection.exec_driver_sql(f"SELECT {names} FROM {table.name} ORDER BY rowid").all()

    for table in metadata.sorted_tables:
        columns = [c for c in table.columns if not (c.primary_key and c.autoincrement is True
                                                    and isinstance(c.type, sa.Integer))]
        rows = [{c.name: _sample_value(c, i) for c in columns} for i in range(12)]
        json_columns = [c.name for c in columns if isinstance(c.type, sa.JSON)]
        assert stored(True, table, rows, json_columns) == stored(False, table, rows, json_columns), table.name


def test_rows_without_every_parameter_take_sqlalchemys_path_and_its_error() -> None:
    """A row missing a key (or a column default to compute) is not bound as None by the driver path."""
    from datetime import datetime

    import pytest

    from followthrough.store import bulk
    from followthrough.store.schema import outbox

    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    statement = bulk._statement(outbox, ["payload"], "sqlite")
    row = {"run_id": "r", "as_of": datetime(2026, 7, 15), "created_at": datetime(2026, 7, 15), "idempotency_key": "k1", "fingerprint": "f", "episode": 1, "step": 0, "channel": "jira",
           "action": "create_ticket", "recipient": "omar", "status": "pending", "payload": "{}"}
    with engine.begin() as connection:
        assert bulk._driver_parameters(connection, statement, [row]) is None  # attempts has a Python default
        bulk._execute_rows(connection, statement, [row])
        assert connection.execute(sa.select(outbox.c.attempts)).scalar_one() == 0
    with_attempts = {**row, "attempts": 0}
    with engine.begin() as connection, pytest.raises(sa.exc.StatementError):
        bulk._execute_rows(connection, statement, [{**with_attempts, "idempotency_key": "k2"},
                                                   {k: v for k, v in with_attempts.items() if k != "recipient"}])


def test_a_dry_run_pass_goes_forward_through_the_outbox(store: Store, monkeypatch: Any) -> None:
    """Each batch's claim starts after the last entry claimed (a pass reads the outbox about once, not
    once per batch); every entry is still recorded once, and a second dispatch finds nothing left."""
    from followthrough.gateways import outbox as dispatch
    from followthrough.store import outbox as states

    monkeypatch.setattr(dispatch, "DRY_RUN_BATCH", 3)
    fresh(store).add_to_outbox(actions(5) + actions(5, "slack"), "plan", AS_OF)
    ids = list(store.outbox_frame()["id"])
    starts: list[int | None] = []
    claim = states.claim

    def recording(*args: Any, **kwargs: Any) -> Any:
        starts.append(kwargs.get("after_id"))
        return claim(*args, **kwargs)

    monkeypatch.setattr(states, "claim", recording)
    gateway = RoutingGateway({"jira": DryRunGateway(), "slack": DryRunGateway()})
    counts = dispatch_pending(store, gateway, "dispatch", now=AS_OF.isoformat(), settings=DispatchSettings())
    assert counts["dry_run"] == 10
    assert starts[:5] == [None, ids[2], ids[5], ids[8], ids[9]]  # the fifth finds nothing after the last
    assert set(store.outbox_frame()["status"]) == {"dry_run"}
    assert dispatch_pending(store, gateway, "again", now=AS_OF.isoformat(), settings=DispatchSettings()).get("dry_run", 0) == 0


def test_a_claim_after_an_id_skips_the_entries_before_it(store: Store) -> None:
    from followthrough.store import outbox as states

    fresh(store).add_to_outbox(actions(6), "plan", AS_OF)
    ids = list(store.outbox_frame()["id"])
    claimed = states.claim(store, "me", limit=10, lease_seconds=60, after_id=ids[3])
    assert [e["id"] for e in claimed] == ids[4:]
    assert [e["id"] for e in states.claim(store, "me", limit=10, lease_seconds=60)] == ids[:4]
