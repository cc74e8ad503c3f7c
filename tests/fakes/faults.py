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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    status: int = 503  # the answer of a server_error (unavailable: always 503)

    @property
    def form(self) -> str:
        """The fault's kind and form, e.g. ``rate_limit:seconds`` or ``server_error:504``."""
        if self.kind == "rate_limit":
            return f"rate_limit:{retry_after_form(self.retry_after)}"
        if self.kind == "server_error":
            return f"server_error:{self.status}"
        if self.kind == "timeout":
            return f"timeout:{'after' if self.commit else 'before'}_commit"
        return self.kind

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


def retry_after_form(value: str | None) -> str:
    """Which Retry-After form a header value is: none, zero, seconds, fraction or http-date."""
    if value is None:
        return "none"
    try:
        seconds = float(value)
    except ValueError:
        return "http-date"
    if seconds == 0:
        return "zero"
    return "seconds" if seconds.is_integer() else "fraction"


SERVER_ERRORS = (500, 502, 503, 504)


class FaultSwitches:
    """The switches every fake has; subclasses add their own (e.g. Jira's search lag)."""

    KINDS: ClassVar[frozenset[str]] = frozenset({"rate_limit", "unavailable", "server_error", "timeout",
                                                   "reset_before_commit", "reset_after_commit"})

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._request_faults: list[Fault] = []
        self._reset_faults: list[Fault] = []
        self.fired: Counter[str] = Counter()
        self.fired_forms: Counter[str] = Counter()
        self._mix: dict[str, Any] | None = None
        self._paused = 0

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

    def server_error(self, n: int = 1, status: int = 500, *, only: str | None = None) -> None:
        """Answer the next n requests with a 5xx (500, 502, 503 or 504), without processing them."""
        if status not in SERVER_ERRORS:
            raise ValueError(f"status must be one of {SERVER_ERRORS}")
        self._add(Fault("server_error", n, only, status=status))

    def reset_before_commit(self, n: int = 1, *, only: str | None = None) -> None:
        """Reset the connection (TCP RST, no answer) of the next n requests without processing them."""
        self._add(Fault("reset_before_commit", n, only))

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
                   server_error: float = 0.0, timeout: float = 0.0, timeout_seconds: float = 2.0,
                   reset_before_commit: float = 0.0, reset_after_commit: float = 0.0,
                   only: str | None = None) -> None:
        """A seeded random fault for every request no armed switch claims (a realistic mix, e.g. 15% 429s
        and 10% 503s plus a few timeouts and resets). 429s carry each Retry-After form (zero, a
        fraction, an HTTP date, none, whole seconds: a fifth each); ``server_error`` answers 500, 502,
        503 or 504 (a quarter each); timeouts are before or after commit (half each);
        ``reset_before_commit`` resets a request unprocessed, ``reset_after_commit`` a write that was
        applied."""
        with self._lock:
            self._mix = {"random": random.Random(seed), "rate_limit": rate_limit, "unavailable": unavailable,
                         "server_error": server_error, "timeout": timeout, "timeout_seconds": timeout_seconds,
                         "reset_before_commit": reset_before_commit, "reset_after_commit": reset_after_commit,
                         "only": only, "n": 0}

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No fault fires inside (armed switches and the random mix wait): e.g. while a test edits data."""
        with self._lock:
            self._paused += 1
        try:
            yield
        finally:
            with self._lock:
                self._paused -= 1

    def _draw(self, target: str, *, reset: bool) -> Fault | None:
        mix = getattr(self, "_mix", None)
        if not mix or (mix["only"] and not Fault("x", 1, mix["only"]).matches(target)):
            return None
        roll = mix["random"].random()
        if reset:
            return Fault("reset_after_commit", 1, None) if roll < mix["reset_after_commit"] else None
        mix["n"] += 1
        if roll < mix["rate_limit"]:
            forms = ["0", "0.2", datetime.now(UTC), None, "1"]
            form = forms[int(roll / mix["rate_limit"] * len(forms))]  # the roll's place within the band: even
            return Fault("rate_limit", 1, None, retry_after=retry_after_header(form))
        roll -= mix["rate_limit"]
        if roll < mix["unavailable"]:
            return Fault("unavailable", 1, None)
        roll -= mix["unavailable"]
        if roll < mix["server_error"]:
            status = SERVER_ERRORS[int(roll / mix["server_error"] * len(SERVER_ERRORS))]
            return Fault("server_error", 1, None, status=status)
        roll -= mix["server_error"]
        if roll < mix["timeout"]:
            return Fault("timeout", 1, None, seconds=mix["timeout_seconds"], commit=roll < mix["timeout"] / 2)
        roll -= mix["timeout"]
        if roll < mix["reset_before_commit"]:
            return Fault("reset_before_commit", 1, None)
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
        if self._paused:
            return None
        for fault in faults:
            if fault.matches(target):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    faults.remove(fault)
                self._count(fault)
                return fault
        drawn = self._draw(target, reset=faults is self._reset_faults)
        if drawn is not None:
            self._count(drawn)
        return drawn

    def _count(self, fault: Fault) -> None:
        self.fired[fault.kind] += 1
        self.fired_forms[fault.form] += 1
