"""The enforcement run lock as the tasks hold it (tasks.run_lock), on a finished run's re-run too.

A run's first pass keeps the lock from `extract_sources` to `record_run`, which gives it back. A task
cleared in Airflow after the run was recorded re-runs alone: `record_run` does not follow, so the task
must give the lock back itself when it ends, or the next scheduled run is refused for the lock's whole
lease (two hours).
"""

from __future__ import annotations

import pytest

from followthrough import tasks
from followthrough.exceptions import RunLocked
from followthrough.store.repository import Store
from tests.pipeline import run_lock_holder

AS_OF = "2026-07-15T10:00:00+00:00"
ENFORCE = "followthrough_enforce"


@pytest.fixture(autouse=True)
def outside_airflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Airflow task context here: the store's record of the run decides (a test below sets it)."""
    monkeypatch.setattr(tasks, "record_run_pending", lambda run_id: None)


def recorded(store: Store, run_id: str) -> None:
    """A run through its first pass: started, recorded, its lock given back (what record_run does)."""
    store.start_run(run_id, ENFORCE, tasks.as_timestamp(AS_OF), "hash")
    store.finish_run(run_id, {})
    store.release_run_lock(run_id)


def test_a_first_pass_task_keeps_the_lock_for_the_later_tasks_of_its_run(store: Store) -> None:
    store.start_run("run-1", ENFORCE, tasks.as_timestamp(AS_OF), "hash")
    with tasks.run_lock(store, "run-1"):
        assert run_lock_holder(store) == "run-1"
    assert run_lock_holder(store) == "run-1"  # record_run, later, gives it back
    with tasks.run_lock(store, "run-1"):  # the next task renews it
        pass
    assert run_lock_holder(store) == "run-1"


def test_a_task_of_a_recorded_run_cleared_alone_holds_the_lock_only_while_it_runs(store: Store) -> None:
    recorded(store, "run-1")
    with tasks.run_lock(store, "run-1"):
        assert run_lock_holder(store) == "run-1"  # a second run is refused meanwhile
    assert run_lock_holder(store) is None  # and may start as soon as the re-run ends
    with tasks.run_lock(store, "run-1"):  # a second re-run behaves the same
        pass
    assert run_lock_holder(store) is None


def test_a_failing_re_run_gives_the_lock_back_too(store: Store) -> None:
    recorded(store, "run-1")
    with pytest.raises(ValueError, match="broken"), tasks.run_lock(store, "run-1"):
        raise ValueError("broken")
    assert run_lock_holder(store) is None


def test_a_first_pass_task_that_fails_keeps_the_lock_for_its_retry(store: Store) -> None:
    store.start_run("run-1", ENFORCE, tasks.as_timestamp(AS_OF), "hash")
    with pytest.raises(ValueError, match="broken"), tasks.run_lock(store, "run-1"):
        raise ValueError("broken")
    assert run_lock_holder(store) == "run-1"  # a failure for good gives it back (notifiers.release_run_lock)


def test_a_re_run_while_another_run_holds_the_lock_is_refused_and_leaves_that_lock_alone(store: Store) -> None:
    recorded(store, "run-1")
    store.start_run("run-2", ENFORCE, tasks.as_timestamp(AS_OF), "hash")
    with tasks.run_lock(store, "run-2"):
        pass
    entered = False
    with pytest.raises(RunLocked, match="'run-2' holds the store's run lock"), tasks.run_lock(store, "run-1"):
        entered = True
    assert not entered
    assert run_lock_holder(store) == "run-2"


def test_airflow_knows_whether_record_run_follows(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a task, Airflow's state of the run's record_run decides: cleared with its downstream tasks, the
    re-run keeps the lock from task to task until record_run gives it back; cleared alone, it does not."""
    recorded(store, "run-1")
    monkeypatch.setattr(tasks, "record_run_pending", lambda run_id: True)
    with tasks.run_lock(store, "run-1"):
        pass
    assert run_lock_holder(store) == "run-1"
    store.release_run_lock("run-1")
    store.start_run("run-2", ENFORCE, tasks.as_timestamp(AS_OF), "hash")  # the store says: first pass
    monkeypatch.setattr(tasks, "record_run_pending", lambda run_id: False)  # Airflow: record_run ran
    with tasks.run_lock(store, "run-2"):
        pass
    assert run_lock_holder(store) is None


@pytest.mark.parametrize(("states", "pending"), [
    ({"run-1": {"record_run": None}}, True),
    ({"run-1": {"record_run": "up_for_retry"}}, True),
    ({"run-1": {"record_run": "scheduled"}}, True),
    ({"run-1": {"record_run": "success"}}, False),
    ({"run-1": {"record_run": "failed"}}, False),
    ({"run-1": {"record_run": "upstream_failed"}}, False),
    ({}, None),
])
def test_record_run_pending_reads_the_task_state(monkeypatch: pytest.MonkeyPatch, states: dict[str, dict[str, str | None]],
                                                 pending: bool | None) -> None:
    import airflow.sdk

    class TaskInstance:
        dag_id = ENFORCE

        def get_task_states(self, dag_id: str, run_ids: list[str], task_ids: list[str]) -> dict[str, dict[str, str | None]]:
            assert (dag_id, run_ids, task_ids) == (ENFORCE, ["run-1"], ["record_run"])
            return states

    monkeypatch.undo()  # the real lookup
    monkeypatch.setattr(airflow.sdk, "get_current_context", lambda: {"ti": TaskInstance()})
    assert tasks.record_run_pending("run-1") is pending


def test_record_run_pending_outside_a_task_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real lookup: no task context here
    assert tasks.record_run_pending("run-1") is None


def test_record_run_pending_keeps_the_lock_when_airflow_cannot_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed lookup inside a task must not guess "recorded": a whole re-run would give the lock away between
    its tasks. It answers as in a first pass (the lock is kept; at worst it ends with its lease)."""
    import airflow.sdk

    class TaskInstance:
        dag_id = ENFORCE

        def get_task_states(self, **_: object) -> dict[str, dict[str, str | None]]:
            raise ConnectionError("the Execution API is unreachable")

    monkeypatch.undo()
    monkeypatch.setattr(airflow.sdk, "get_current_context", lambda: {"ti": TaskInstance()})
    assert tasks.record_run_pending("run-1") is True
