"""followthrough.collector: tasks run with the cyclic garbage collector paused, and collect once at their end."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from followthrough import tasks
from followthrough.collector import collect_once, collected_once


class Node:
    """An object that can sit in a reference cycle and be watched through a weak reference."""

    partner: Node | None = None


def _cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.partner, b.partner = b, a
    return weakref.ref(a)


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_the_collector_is_paused_inside_and_cycles_are_collected_at_the_end() -> None:
    with collect_once():
        assert not gc.isenabled()
        watched = _cycle()
        assert watched() is not None
    assert gc.isenabled()
    assert watched() is None  # the block's cyclic garbage is gone once it ends


def test_a_failing_block_still_restores_the_collector_and_collects() -> None:
    watched: list[weakref.ref[Node]] = []

    @collected_once
    def failing_task() -> None:
        watched.append(_cycle())
        raise RuntimeError("task failed")

    with pytest.raises(RuntimeError, match="task failed"):
        failing_task()
    assert gc.isenabled()
    assert watched[0]() is None


def test_nested_blocks_leave_the_work_to_the_outermost() -> None:
    with collect_once():
        with collect_once():
            watched = _cycle()
        assert not gc.isenabled()  # the inner block does not switch it back on
        assert watched() is not None  # nor collect: the outer block's end does
    assert gc.isenabled()
    assert watched() is None


def test_objects_from_before_are_frozen_during_the_block_and_released_after() -> None:
    gc.collect()  # the allocation counters start from zero: no automatic collection before the block
    watched = _cycle()  # garbage made before the block: frozen, so the end-of-block collection skips it
    with collect_once():
        assert gc.get_freeze_count() > 0
    assert watched() is not None
    assert gc.get_freeze_count() == 0  # back in the collector's care, not leaked
    gc.collect()
    assert watched() is None


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collect_once():
        pass
    assert not gc.isenabled()


def test_the_decorator_passes_arguments_and_results_through() -> None:
    @collected_once
    def task(a: int, *, b: int) -> tuple[int, bool]:
        """A task."""
        return a + b, gc.isenabled()

    assert task(1, b=2) == (3, False)
    assert task.__doc__ == "A task."
    assert task.__name__ == "task"
    assert gc.isenabled()


@pytest.mark.parametrize("name", ["extract_sources", "validate_source_contract", "evaluate_rules",
                                  "reconcile_findings", "plan_actions", "dispatch_outbox", "record_run",
                                  "plan_team_digest"])
def test_the_bulk_tasks_run_with_the_collector_paused(name: str) -> None:
    task = getattr(tasks, name)
    assert task.__wrapped__.__module__ == "followthrough.tasks"  # the adapter itself, wrapped once
    assert task.__code__ is collected_once(lambda: None).__code__  # the wrapper of collected_once
