"""Reconciliation, outbox, quarantine and audit writes are bulk: the statements they send do not grow with the rows.

Each test runs the same write over a few rows and over many, counts the statements the store
sends (SQLAlchemy's before_cursor_execute event, on SQLite and PostgreSQL), and checks both the
count and the outcome. A count test, not a timing test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
