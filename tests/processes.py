"""Followthrough tasks in child OS processes, which a test can SIGKILL (the crash and concurrency tests).

Children are forked from a fork server that has already imported the task code, Airflow's SDK,
pandas and the database drivers, so each child starts in milliseconds instead of seconds. A child
gets the environment it is given (the store URL, the policy, the fakes' Connections), calls
one function of :mod:`followthrough.tasks` (or of this module) and writes its result, or its
error, to a JSON file.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([
    "followthrough.tasks", "followthrough.gateways.outbox", "followthrough.gateways.jira",
    "followthrough.gateways.slack", "followthrough.store.repository", "followthrough.store.outbox",
    "airflow.sdk", "airflow.sdk.bases.hook", "airflow.providers.slack.hooks.slack",
    "airflow.providers.atlassian.jira.hooks.jira", "alembic.command", "alembic.config", "pandas", "sqlalchemy",
    "psycopg2", "tests.processes",
])


def _child(env: Mapping[str, str], target: str, args: tuple[Any, ...], kwargs: dict[str, Any],
           result_path: str) -> None:
    os.environ.clear()
    os.environ.update(env)
    module_name, _, name = target.rpartition(".")
    import importlib

    function = getattr(importlib.import_module(module_name), name)
    try:
        result = function(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001  the parent reads the error from the file
        Path(result_path).write_text(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
        raise SystemExit(1) from None
    Path(result_path).write_text(json.dumps({"result": result}, default=str))


class TaskProcess:
    """One call of ``target`` ("module.function", default module followthrough.tasks) in a child process."""

    def __init__(self, target: str, *args: Any, env: Mapping[str, str] | None = None, folder: Path,
                 **kwargs: Any) -> None:
        self.target = target if "." in target else f"followthrough.tasks.{target}"
        self.result_path = folder / f"result-{os.getpid()}-{id(self)}.json"
        self.process = _CONTEXT.Process(target=_child, args=(dict(env if env is not None else os.environ),
                                                              self.target, args, kwargs, str(self.result_path)))

    def start(self) -> TaskProcess:
        self.process.start()
        return self

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: the child gets no chance to clean up, as when a worker's machine dies (`wait` reaps it).

        Safe from another thread than the one that waits (e.g. a fake's write observer).
        """
        os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float = 300) -> dict[str, Any]:
        """The child's outcome: ``{"result": ...}``, ``{"error": ..., "message": ...}`` or ``{"killed": True}``."""
        self.process.join(timeout)
        if self.process.exitcode is None:
            self.kill()
            self.process.join()
            raise AssertionError(f"{self.target} did not finish within {timeout}s")
        if self.process.exitcode == -signal.SIGKILL:
            return {"killed": True}
        if not self.result_path.exists():
            raise AssertionError(f"{self.target} exited with {self.process.exitcode} and left no result")
        outcome: dict[str, Any] = json.loads(self.result_path.read_text())
        return outcome
