"""Fault switches shared by the Jira and Slack fakes.

Each switch fires for the next ``n`` matching requests; ``fired`` counts firings. ``only``
restricts a fault to one endpoint or method ("POST /rest/api/3/issue", "POST",
"chat.postMessage"). Request faults (rate_limit, unavailable, timeout) fire in the order
they were set; reset faults fire after a write was applied.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, ClassVar


@dataclass
class Fault:
    kind: str
    remaining: int
    only: str | None
    retry_after: str | None = None
    seconds: float = 0.0
    commit: bool = False

    def matches(self, target: str) -> bool:
        """`only` is the whole target, or its first word (a method of "METHOD /path")."""
        return self.only is None or target == self.only or target.startswith(self.only + " ")


def retry_after_header(value: str | float | datetime | None) -> str | None:
    """A Retry-After value: seconds as given, or an HTTP date for a datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return format_datetime(value.astimezone(UTC), usegmt=True)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


class FaultSwitches:
    """The switches every fake has; subclasses add their own (e.g. Jira's search lag)."""

    KINDS: ClassVar[frozenset[str]] = frozenset({"rate_limit", "unavailable", "timeout", "reset_after_commit"})

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._request_faults: list[Fault] = []
        self._reset_faults: list[Fault] = []
        self.fired: Counter[str] = Counter()

    def rate_limit(
        self, n: int = 1, retry_after: str | float | datetime | None = "1", *, only: str | None = None
    ) -> None:
        """Answer the next n requests 429, with ``Retry-After`` (seconds, "0", a datetime -> HTTP-date, or None)."""
        self._add(Fault("rate_limit", n, only, retry_after=retry_after_header(retry_after)))

    def unavailable(
        self, n: int = 1, *, retry_after: str | float | datetime | None = None, only: str | None = None
    ) -> None:
        """Answer the next n requests 503 (optionally with ``Retry-After``)."""
        self._add(Fault("unavailable", n, only, retry_after=retry_after_header(retry_after)))

    def timeout(
        self, n: int = 1, seconds: float = 5.0, *, commit: bool = False, only: str | None = None
    ) -> None:
        """Hang the next n requests for ``seconds``.

        ``commit=False``: the request is not processed; after the hang the connection is closed
        without an answer. ``commit=True``: the request is processed at once, and the client that
        gave up cannot know it went through.
        """
        self._add(Fault("timeout", n, only, seconds=seconds, commit=commit))

    def reset_after_commit(self, n: int = 1, *, only: str | None = None) -> None:
        """For the next n successful writes, apply the write, then reset the connection (TCP RST, no answer)."""
        if n < 1:
            raise ValueError("n must be >= 1")
        with self._lock:
            self._reset_faults.append(Fault("reset_after_commit", n, only))

    def set(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Set a fault by name, e.g. ``faults.set("rate_limit", 2, retry_after="0")``."""
        if name not in self.KINDS:
            raise ValueError(f"unknown fault {name!r}")
        getattr(self, name)(*args, **kwargs)

    def clear(self) -> None:
        """Remove every pending fault."""
        with self._lock:
            self._request_faults.clear()
            self._reset_faults.clear()

    def pending(self) -> dict[str, int]:
        """How many firings are still armed, per fault kind."""
        with self._lock:
            out: Counter[str] = Counter()
            for fault in [*self._request_faults, *self._reset_faults]:
                out[fault.kind] += fault.remaining
            return dict(out)

    def _add(self, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("n must be >= 1")
        with self._lock:
            self._request_faults.append(fault)

    def _take(self, faults: list[Fault], target: str) -> Fault | None:
        for fault in faults:
            if fault.matches(target):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    faults.remove(fault)
                self.fired[fault.kind] += 1
                return fault
        return None
