"""When Python's cyclic garbage collector runs during a task: once, at its end.

A task holds hundreds of thousands of live container objects at a time (frames of dicts, findings,
audit events). CPython's collector rescans every tracked object on each full collection, and
starts one whenever the objects allocated since the last one reach a quarter of the survivors:
at 100k action items that was about 30 full collections and 10 s of an 80 s run, and after
`import great_expectations` (300k more long-lived objects) each collection costs more. The tasks
create little cyclic garbage (a collection at the end of a 100k-item task finds under 100k
objects, and peak memory stayed about the same), so they run with the collector paused and collect
once when they finish, whether they succeed or fail; that collection looks only at the objects
the task allocated.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def collect_once() -> Iterator[None]:
    """Pause the cyclic collector for the block, then collect once (nested blocks: the outermost does).

    The objects that existed before the block are frozen meanwhile (`gc.freeze`), so the collection
    at its end examines only what the block allocated: a full collection of a worker that has
    imported great_expectations and airflow.sdk costs about 0.2 s, seven times per run.
    """
    outermost = gc.isenabled()
    gc.disable()
    if outermost:
        gc.freeze()
    try:
        yield
    finally:
        if outermost:
            gc.collect()
            gc.unfreeze()
            gc.enable()


def collected_once(function: Callable[P, R]) -> Callable[P, R]:
    """A task function that runs inside `collect_once`."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with collect_once():
            return function(*args, **kwargs)

    return wrapper
