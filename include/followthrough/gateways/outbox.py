"""Dispatching the outbox through a gateway; the dry-run gateway records instead of sending.

Dry-run is a choice made in the policy (`dispatch.mode`), never a fallback for a missing
Connection. Each outbox entry is delivered at most once: it leaves the `pending` state
only when its gateway returns, and a re-run finds nothing pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from followthrough.store.repository import Store


@dataclass(frozen=True)
class Delivery:
    status: str  # dry_run | sent
    external_ref: str


class Gateway(Protocol):
    def deliver(self, entry: dict[str, Any]) -> Delivery: ...


class DryRunGateway:
    """Records the payload (already in the outbox) and reports it as not sent."""

    def deliver(self, entry: dict[str, Any]) -> Delivery:
        return Delivery(status="dry_run", external_ref=f"dry-run:{entry['idempotency_key']}")


def gateway_for(mode: str) -> Gateway:
    if mode == "dry_run":
        return DryRunGateway()
    raise ValueError(f"dispatch mode {mode!r} has no gateway")


def dispatch_pending(store: Store, gateway: Gateway, run_id: str) -> dict[str, int]:
    """Deliver every pending outbox entry, oldest first; return counts by resulting status."""
    counts: dict[str, int] = {}
    for entry in store.pending_outbox():
        delivery = gateway.deliver(entry)
        store.mark_dispatched(entry, run_id, delivery.status, delivery.external_ref)
        counts[delivery.status] = counts.get(delivery.status, 0) + 1
    return counts
