"""The store becomes unavailable in the middle of a task (PostgreSQL drops its connections).

The outage is real: the test database stops accepting connections and the server terminates
the task's backends (``pg_terminate_backend``), at a chosen point: in the middle of the
reconciliation's transaction, or during a live dispatch after some messages were sent. The
task fails with a StoreError (a clear message, the password masked), nothing is half-written
(the audit chain verifies, no finding or outbox row without its audit trail, the run not
finished), and once the store is back the task's retry and the next run complete: the final
state equals a clean run's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from followthrough import tasks
from followthrough.exceptions import StoreError
from followthrough.store import bulk
from followthrough.store import outbox as outbox_states
from followthrough.store.repository import now_utc
from tests.conftest import PG_ADMIN_URL
from tests.fakes.jira import FakeJira
from tests.fakes.slack import FakeSlack
from tests.pipeline import (
    DEMO,
    DEMO_AS_OF,
    delivered_in_fakes,
    live_against_fakes,
    populate_fakes,
    synthetic_backlog,
    use_embedded_store,
    write_policy,
)

pytestmark = pytest.mark.postgres

PASSWORD = "s3cret-store-pw"  # the local server trusts its clients: the password is only there to be masked
STEPS = ("validate_source_contract", "evaluate_rules", "reconcile_findings", "plan_actions", "dispatch_outbox",
         "record_run")


class Outage:
    """The test database refuses new connections and its open ones are terminated, until `end`."""

    def __init__(self, url: str) -> None:
        self.name = sa.engine.make_url(url).database
        self.admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.terminated = 0

    def start(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false'))
            self.terminated += len(connection.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"
                " AND pid <> pg_backend_pid()"), {"name": self.name}).all())

    def end(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true'))


@pytest.fixture
def store_url(fresh_postgres: Callable[[], str]) -> Iterator[str]:
    url = sa.engine.make_url(fresh_postgres()).set(password=PASSWORD)
    yield url.render_as_string(hide_password=False)
    Outage(str(url)).end()


@contextmanager
def outage_at_first_call(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, outage: Outage) -> Iterator[None]:
    """The outage begins when `owner.name` is first called (inside the caller's open transaction)."""
    original = getattr(owner, name)

    def dropping(*args: Any, **kwargs: Any) -> Any:
        if not outage.terminated:
            outage.start()
        return original(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(owner, name, dropping)
        yield


def consistent(store: Any) -> None:
    """Nothing half-written: the chain verifies, and every finding and delivered entry has its audit event."""
    ok, reason = store.verify_audit_chain()
    assert ok, reason
    events = store.audit_events()
    changed = {e["subject"] for e in events if e["kind"].startswith("finding_")}
    assert set(store.findings_frame()["fingerprint"]) <= changed
    audited = {(e["payload"] or {}).get("idempotency_key") for e in events if e["kind"] in ("action_sent",
                                                                                             "action_dry_run")}
    outbox = store.outbox_frame()
    assert set(outbox[outbox["status"].isin(["sent", "dry_run"])]["idempotency_key"]) <= audited


def state(store: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    findings = store.findings_frame()
    outbox = store.outbox_frame()
    return (sorted(zip(findings["fingerprint"], findings["status"], findings["episode"], strict=True)),
            sorted(zip(outbox["idempotency_key"], outbox["status"], strict=True)))


def test_the_store_dropped_in_the_middle_of_reconciliation_leaves_nothing_half_written(
        fresh_postgres: Callable[[], str], store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        report_figure: Callable[[str], None]) -> None:
    use_embedded_store(monkeypatch, tmp_path / "home", write_policy(tmp_path, DEMO))
    monkeypatch.setenv("FOLLOWTHROUGH_DB_URL", store_url)
    tasks.extract_sources("run-1", "followthrough_enforce", DEMO_AS_OF)
    for step in STEPS[:2]:
        getattr(tasks, step)("run-1", DEMO_AS_OF)
    # the clean run: the same run over the same staged findings, in a store of its own, without an outage
    monkeypatch.setenv("FOLLOWTHROUGH_DB_URL", fresh_postgres())
    tasks.extract_sources("run-1", "followthrough_enforce", DEMO_AS_OF)
    for step in STEPS[2:]:
        getattr(tasks, step)("run-1", DEMO_AS_OF)
    clean = state(tasks.open_store())

    monkeypatch.setenv("FOLLOWTHROUGH_DB_URL", store_url)
    outage = Outage(store_url)
    with outage_at_first_call(monkeypatch, bulk, "upsert_rows", outage), \
            pytest.raises(StoreError) as failure:
        tasks.reconcile_findings("run-1", DEMO_AS_OF)  # its new findings are inserted, the transaction not committed
    message = str(failure.value)
    assert outage.terminated >= 1
    assert "store postgresql+psycopg2://postgres:***@" in message
    assert PASSWORD not in message
    assert "terminat" in message or "closed" in message or "not currently accepting connections" in message
    with pytest.raises(StoreError, match="not currently accepting connections"):
        tasks.reconcile_findings("run-1", DEMO_AS_OF)  # a retry while the store is still down fails the same way
    outage.end()

    store = tasks.open_store()
    assert store.findings_frame().empty
    assert store.outbox_frame().empty
    assert store.get_run("run-1")["status"] == "running"
    consistent(store)
    for step in STEPS[2:]:  # the task's retry, then the rest of the run
        getattr(tasks, step)("run-1", DEMO_AS_OF)
    assert store.get_run("run-1")["status"] == "succeeded"
    consistent(store)
    assert state(store) == clean
    report_figure(f"store outage: dropped mid-reconciliation ({outage.terminated} backends terminated): StoreError, "
                  f"0 findings half-written, retry completed; final state equals a clean run's "
                  f"({len(clean[0])} findings, {len(clean[1])} outbox entries)")


def test_the_store_dropped_during_a_live_dispatch_loses_and_repeats_nothing(
        store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        report_figure: Callable[[str], None]) -> None:
    tickets, messages, after = 6, 12, 5
    jira, slack = FakeJira(), FakeSlack()
    populate_fakes(jira, slack)
    with jira, slack:
        live_against_fakes(monkeypatch, tmp_path, jira, slack, store_url=store_url, claim_batch=4, lease_seconds=60)
        store = tasks.open_store()
        planned = synthetic_backlog(tickets, messages)
        store.add_to_outbox(planned, "plan", DEMO_AS_OF)
        outage = Outage(store_url)
        posted = []

        def observer(target: str, phase: str) -> None:
            if phase == "committed" and target == "chat.postMessage":  # applied, not answered yet
                posted.append(target)
                if len(posted) == after:
                    outage.start()

        slack.write_observer = observer
        with pytest.raises(StoreError) as failure:
            tasks.dispatch_outbox("dispatch-1", DEMO_AS_OF)
        slack.write_observer = None
        assert PASSWORD not in str(failure.value)
        outage.end()
        consistent(store)
        sent = set(store.outbox_frame("plan").query("status == 'sent'")["idempotency_key"])
        assert len(sent) == tickets + after - 1  # the last message went out; recording it failed
        tasks.dispatch_outbox("dispatch-1", DEMO_AS_OF)  # the task's retry: its claimed entry waits for its lease
        assert set(store.outbox_frame()["status"]) == {"sent", "claimed"}
        with monkeypatch.context() as later:
            later.setattr(outbox_states, "now_utc", lambda: now_utc() + timedelta(seconds=61))
            tasks.dispatch_outbox("dispatch-2", DEMO_AS_OF)  # the next run: checked as uncertain, found
        assert set(store.outbox_frame()["status"]) == {"sent"}
        consistent(store)
        labels, keys = delivered_in_fakes(jira, slack)
        assert sorted(labels.values()) == [1] * tickets
        assert sorted(keys.values()) == [1] * messages
    report_figure(f"store outage: dropped during a live dispatch, in the middle of message {after}: StoreError, "
                  f"the retry and the next run delivered the rest; 0 duplicates, 0 lost of {tickets + messages}")
