"""Fault switches shared by the Jira and Slack fakes.

Each switch fires for the next ``n`` matching requests; ``fired`` counts firings. ``only``
restricts a fault to one endpoint or method ("POST /rest/api/3/issue", "POST",
"chat.postMessage"). Request faults (rate_limit, unavailable, timeout) fire in the order
they were set; reset faults fire after a write was applied.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
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


# A write observer: called with (target, phase) for each write request; phase is "before" (it
# arrived, not applied yet), "committed" (applied, not answered yet: blocking here is a
# write the client cannot know landed) or "answered". It runs in the request's thread, outside
# the fake's lock; the crash tests kill a dispatcher from it.
WriteObserver = Callable[[str, str], None]


class FaultSwitches:
    """The switches every fake has; subclasses add their own (e.g. Jira's search lag)."""

    KINDS: ClassVar[frozenset[str]] = frozenset({"rate_limit", "unavailable", "timeout", "reset_after_commit"})

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._request_faults: list[Fault] = []
        self._reset_faults: list[Fault] = []
        self.fired: Counter[str] = Counter()
        self._mix: dict[str, Any] | None = None

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

    def random_mix(self, seed: int, *, rate_limit: float = 0.15, unavailable: float = 0.10,
                   timeout: float = 0.0, timeout_seconds: float = 2.0, reset_after_commit: float = 0.0,
                   only: str | None = None) -> None:
        """A seeded random fault for every request no armed switch claims (a realistic mix, e.g. 15% 429s
        and 10% 503s plus a few timeouts and resets). 429s carry each Retry-After form in turn
        (seconds, a fraction, an HTTP date, none); timeouts are before or after commit, alternately."""
        with self._lock:
            self._mix = {"random": random.Random(seed), "rate_limit": rate_limit, "unavailable": unavailable,
                         "timeout": timeout, "timeout_seconds": timeout_seconds,
                         "reset_after_commit": reset_after_commit, "only": only, "n": 0}

    def _draw(self, target: str, *, reset: bool) -> Fault | None:
        mix = getattr(self, "_mix", None)
        if not mix or (mix["only"] and not Fault("x", 1, mix["only"]).matches(target)):
            return None
        roll = mix["random"].random()
        if reset:
            return Fault("reset_after_commit", 1, None) if roll < mix["reset_after_commit"] else None
        mix["n"] += 1
        if roll < mix["rate_limit"]:
            forms = ["0", "0.2", datetime.now(UTC), None]
            return Fault("rate_limit", 1, None, retry_after=retry_after_header(forms[mix["n"] % len(forms)]))
        roll -= mix["rate_limit"]
        if roll < mix["unavailable"]:
            return Fault("unavailable", 1, None)
        roll -= mix["unavailable"]
        if roll < mix["timeout"]:
            return Fault("timeout", 1, None, seconds=mix["timeout_seconds"], commit=mix["n"] % 2 == 0)
        return None

    def set(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Set a fault by name, e.g. ``faults.set("rate_limit", 2, retry_after="0")``."""
        if name not in self.KINDS:
            raise ValueError(f"unknown fault {name!r}")
        getattr(self, name)(*args, **kwargs)

    def clear(self) -> None:
        """Remove every pending fault and the random mix."""
        with self._lock:
            self._request_faults.clear()
            self._reset_faults.clear()
            self._mix = None

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
        drawn = self._draw(target, reset=faults is self._reset_faults)
        if drawn is not None:
            self.fired[drawn.kind] += 1
        return drawn
