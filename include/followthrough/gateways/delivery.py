"""The gateway boundary: the ``Delivery`` protocol every gateway implements, and its error taxonomy.

A gateway delivers one outbox entry and returns a :class:`Receipt`, or raises one of four
errors. Each gateway classifies its own transport's errors into them, once, at this boundary;
the outbox acts on the category alone and never looks at a transport's exception:

- :class:`DeliveryDeferred`: nothing happened and trying later can help (429, 5xx, timeouts
  before the write was sent, the retry budget spent). The entry stays pending;
- :class:`DeliveryUncertain`: a write may have happened. The entry stays pending and the
  gateway checks the system's state (labels, comment markers, message metadata) before any
  retry, so a retry never repeats a write that landed;
- :class:`DeliveryPermanent`: retrying cannot help (a validation 4xx, an unknown assignee, an
  archived channel with no reachable fallback, a transition the workflow does not offer). The
  entry is marked failed with the reason; every other entry is still delivered;
- :class:`DeliveryConfiguration`: the credentials or the Connection are rejected. Every entry
  would fail alike, so the dispatch stops, fails the task once (no retries) and alerts.

This module sits below every gateway and the outbox and imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from followthrough.exceptions import FollowthroughError, NotRetryableError

ErrorCategory = Literal["deferred", "uncertain", "permanent", "configuration"]


@dataclass(frozen=True)
class Receipt:
    """What a gateway did with one entry: ``sent`` (with the external reference) or ``dry_run``."""

    status: str  # dry_run | sent
    external_ref: str


class Delivery(Protocol):
    """A gateway: delivers one outbox entry or raises a :class:`DeliveryError`."""

    def deliver(self, entry: dict[str, Any]) -> Receipt: ...


class DeliveryError(FollowthroughError):
    """An entry could not be delivered; ``category`` says what the outbox does with it."""

    category: ErrorCategory = "deferred"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeliveryDeferred(DeliveryError):
    """Nothing was done; try again later (rate limit, outage, timeout, retry budget spent)."""

    category: ErrorCategory = "deferred"


class DeliveryUncertain(DeliveryError):
    """The action may have happened; the gateway's checks run again before any retry."""

    category: ErrorCategory = "uncertain"


class DeliveryPermanent(DeliveryError):
    """Retrying cannot help: the entry fails with this reason."""

    category: ErrorCategory = "permanent"


class DeliveryConfiguration(DeliveryError, NotRetryableError):
    """Credentials or Connection rejected: the dispatch stops and the task fails once."""

    category: ErrorCategory = "configuration"


def category_of(exc: BaseException) -> ErrorCategory:
    """The category of an error raised by a gateway.

    A gateway raises the taxonomy's errors; anything else escaping it (a payload the gateway
    cannot build a request from: ``ValueError``, ``KeyError``, ``TypeError``) is permanent
    for that entry, and any other exception is deferred (it must not stop the other entries).
    """
    if isinstance(exc, DeliveryError):
        return exc.category
    if isinstance(exc, ValueError | KeyError | TypeError):
        return "permanent"
    return "deferred"
