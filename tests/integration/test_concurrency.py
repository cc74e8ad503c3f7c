"""Concurrency: one enforcement run at a time, and dispatchers running together send nothing twice.

- The store's run lock (store/repository.py ``acquire_run_lock``): two enforcement runs started at
  once in two OS processes on PostgreSQL: one runs, the other refuses with a clear message and
  writes nothing; its retry runs once the first has recorded its run.
- Enforcement's dispatch, the hourly dispatch DAG's task and the digest DAG's dispatch (all
  ``tasks.dispatch_outbox``) run at once in three OS processes over a shared PostgreSQL store,
  live against the Jira and Slack fakes, several rounds: each action is in the fakes once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from followthrough import tasks
from followthrough.exceptions import RunLocked
from followthrough.store import repository
from followthrough.store.repository import Store
from tests.fakes.jira import FakeJira
from tests.fakes.slack import FakeSlack
from tests.pipeline import (
    DEMO,
    DEMO_AS_OF,
    delivered_in_fakes,
    live_against_fakes,
    populate_fakes,
    run_lock_holder,
    synthetic_backlog,
    use_embedded_store,
    write_policy,
)
from tests.processes import TaskProcess

ENFORCE = "followthrough_enforce"


@pytest.fixture
def pg_url(fresh_postgres: Callable[[], str]) -> str:
    return fresh_postgres()


def test_the_run_lock_is_taken_renewed_refused_released_and_lost_with_its_lease(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    assert store.acquire_run_lock("run-a", 60) is None
    holder = store.acquire_run_lock("run-b", 60)
    assert holder is not None
    assert holder["run_id"] == "run-a"
    assert store.acquire_run_lock("run-a", 60) is None  # a later task (or a retry) of the same run renews it
    assert not store.release_run_lock("run-b")  # only the holder gives it back
    later = repository.now_utc() + timedelta(seconds=61)
    monkeypatch.setattr(repository, "now_utc", lambda: later)
    assert store.acquire_run_lock("run-b", 60) is None  # run-a died holding it: its lease ended
    assert store.acquire_run_lock("run-a", 60) is not None
    assert store.release_run_lock("run-b")
    assert store.acquire_run_lock("run-a", 60) is None


@pytest.mark.postgres
def test_two_enforcement_runs_at_once_one_runs_and_the_other_refuses_until_the_first_is_recorded(
        pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report_figure: Callable[[str], None]) -> None:
    use_embedded_store(monkeypatch, tmp_path / "home", write_policy(tmp_path, DEMO))
    monkeypatch.setenv("FOLLOWTHROUGH_DB_URL", pg_url)
    tasks.open_store()  # the schema, before two processes race for the lock
    runs = {"scheduled__2026-07-15T10:00:00+00:00": None, "manual__2026-07-15T10:00:05+00:00": None}
    children = {run_id: TaskProcess("extract_sources", run_id, ENFORCE, DEMO_AS_OF, folder=tmp_path)
                for run_id in runs}
    for child in children.values():
        child.start()
    outcomes = {run_id: child.wait() for run_id, child in children.items()}
    winners = [run_id for run_id, outcome in outcomes.items() if "result" in outcome]
    assert len(winners) == 1, outcomes
    (winner,) = winners
    (loser,) = set(runs) - {winner}
    assert outcomes[loser]["error"] == "RunLocked"
    assert f"enforcement run '{winner}' holds the store's run lock" in outcomes[loser]["message"]
    assert f"run '{loser}' does not run alongside it and is retried" in outcomes[loser]["message"]
    store = tasks.open_store()
    assert store.get_run(loser) is None  # the refused run wrote nothing
    assert store.audit_events(loser) == []
    with pytest.raises(RunLocked, match=re.escape(winner)):  # its retry, while the first run goes on
        tasks.extract_sources(loser, ENFORCE, DEMO_AS_OF)
    for step in ("validate_source_contract", "evaluate_rules", "reconcile_findings", "plan_actions",
                 "dispatch_outbox", "record_run"):
        getattr(tasks, step)(winner, DEMO_AS_OF)
    assert store.get_run(winner)["status"] == "succeeded"
    tasks.extract_sources(loser, ENFORCE, DEMO_AS_OF)  # the retry, once the first run is recorded
    assert store.get_run(loser)["status"] == "running"
    with pytest.raises(RunLocked, match=re.escape(loser)):  # now the first one could not start again
        tasks.extract_sources(winner, ENFORCE, DEMO_AS_OF)
    assert store.verify_audit_chain()[0]
    report_figure("concurrency: two enforcement runs at once on PostgreSQL: 1 ran, 1 refused (RunLocked) and "
                  "started after the first was recorded")


NEXT_RUN, NEXT_AS_OF = "scheduled__2026-07-16T07:00:00+00:00", "2026-07-16T07:00:00+00:00"


def _state(store: Store) -> tuple[object, ...]:
    findings = store.findings_frame().sort_values("fingerprint").reset_index(drop=True)
    outbox = store.outbox_frame().sort_values("idempotency_key").reset_index(drop=True)
    return (findings.to_json(), outbox[["idempotency_key", "status", "attempts"]].to_json())


def test_a_task_cleared_after_its_run_was_recorded_gives_the_lock_back_when_it_ends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator clears `extract_sources`, `reconcile_findings`, then `plan_actions`, of a finished run in
    Airflow: each re-runs alone (record_run, which gives the lock back, does not run again). Each holds the lock
    while it runs, changes nothing (the run's record stays "succeeded": no record_run would finish it again), and
    the next scheduled run starts at once instead of being refused for the lock's two-hour lease."""
    from tests.integration.conftest import run_pipeline

    use_embedded_store(monkeypatch, tmp_path / "home", write_policy(tmp_path, DEMO))
    run = "scheduled__2026-07-15T10:00:00+00:00"
    run_pipeline(run, DEMO_AS_OF)
    store = tasks.open_store()
    assert run_lock_holder(store) is None
    before = _state(store)
    seen: list[str | None] = []
    monkeypatch.setattr(store.__class__, "add_to_outbox",
                        _spy(store.__class__.add_to_outbox, lambda: seen.append(run_lock_holder(tasks.open_store()))))
    tasks.extract_sources(run, ENFORCE, DEMO_AS_OF)  # cleared alone: the run stays recorded as it was
    assert run_lock_holder(store) is None
    assert store.get_run(run)["status"] == "succeeded"
    tasks.reconcile_findings(run, DEMO_AS_OF)  # cleared alone
    assert run_lock_holder(store) is None
    result = tasks.plan_actions(run, DEMO_AS_OF)  # cleared alone
    assert seen == [run]  # it held the lock while it planned
    assert result["added"] == 0
    assert run_lock_holder(store) is None
    assert _state(store) == before  # the re-runs changed nothing
    assert store.get_run(run)["status"] == "succeeded"
    tasks.extract_sources(NEXT_RUN, ENFORCE, NEXT_AS_OF)  # the next scheduled run is not refused
    assert run_lock_holder(store) == NEXT_RUN


def test_a_task_of_a_recorded_run_cleared_while_the_next_run_goes_on_is_refused_and_leaves_its_lock(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.integration.conftest import run_pipeline

    use_embedded_store(monkeypatch, tmp_path / "home", write_policy(tmp_path, DEMO))
    run = "scheduled__2026-07-15T10:00:00+00:00"
    run_pipeline(run, DEMO_AS_OF)
    store = tasks.open_store()
    tasks.extract_sources(NEXT_RUN, ENFORCE, NEXT_AS_OF)
    before = _state(store)
    with pytest.raises(RunLocked, match=re.escape(NEXT_RUN)):
        tasks.reconcile_findings(run, DEMO_AS_OF)
    with pytest.raises(RunLocked, match=re.escape(NEXT_RUN)):
        tasks.plan_actions(run, DEMO_AS_OF)
    assert _state(store) == before
    assert run_lock_holder(store) == NEXT_RUN  # still the next run's, until its record
    for step in ("validate_source_contract", "evaluate_rules", "reconcile_findings", "plan_actions",
                 "dispatch_outbox", "record_run"):
        getattr(tasks, step)(NEXT_RUN, NEXT_AS_OF)
    assert run_lock_holder(store) is None


def _spy(method: Callable[..., object], call: Callable[[], object]) -> Callable[..., object]:
    def spied(*args: object, **kwargs: object) -> object:
        call()
        return method(*args, **kwargs)
    return spied


@pytest.mark.postgres
def test_enforcement_hourly_and_digest_dispatch_at_once_send_nothing_twice(
        pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report_figure: Callable[[str], None]) -> None:
    rounds, tickets, messages = 3, 10, 20
    jira, slack = FakeJira(), FakeSlack()
    populate_fakes(jira, slack)
    with jira, slack:
        live_against_fakes(monkeypatch, tmp_path, jira, slack, store_url=pg_url, claim_batch=3,
                           jira_search_lag_seconds=1)
        store = tasks.open_store()
        delivered_by = []
        for batch in range(1, rounds + 1):
            assert store.add_to_outbox(synthetic_backlog(tickets, messages, batch=batch), f"plan-{batch}",
                                       DEMO_AS_OF) == tickets + messages
            dispatchers = [TaskProcess("dispatch_outbox", run_id, DEMO_AS_OF, folder=tmp_path) for run_id in (
                f"scheduled__enforce-{batch}", f"scheduled__dispatch-hour-{batch}", f"scheduled__digest-{batch}")]
            for dispatcher in dispatchers:
                dispatcher.start()
            outcomes = [d.wait() for d in dispatchers]
            assert all("result" in o for o in outcomes), outcomes
            sent = [int(o["result"].get("sent", 0)) for o in outcomes]
            assert sum(sent) == tickets + messages
            delivered_by.append(sent)
            labels, keys = delivered_in_fakes(jira, slack, batch)
            assert sorted(labels.values()) == [1] * tickets
            assert sorted(keys.values()) == [1] * messages
        assert set(store.outbox_frame()["status"]) == {"sent"}
        assert len([k for k in jira.issue_keys() if k.startswith("FOLLOW-")]) == rounds * tickets
        assert len(slack.messages()) == rounds * messages
    shared = sum(1 for sent in delivered_by if sum(1 for n in sent if n) > 1)
    report_figure(f"concurrency: {rounds} rounds of 3 dispatchers at once (enforce, hourly, digest) over "
                  f"{tickets + messages} actions each on PostgreSQL: 0 sent twice; entries sent per dispatcher "
                  f"{delivered_by} ({shared} rounds shared between dispatchers)")
