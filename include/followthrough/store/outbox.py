"""The outbox's states in the store: claims with a lease, every attempt counted and audited.

States (README: Outbox states):

- ``pending``: planned, may be claimed now;
- ``held``: waits for ``send_after`` (the recipient team's working hours); released to pending
  at that instant;
- ``claimed``: a dispatcher holds a lease on it (``lease_owner``, ``lease_expires_at``); a lease
  that expired (its dispatcher died) may be claimed again, and the entry is then delivered as
  *uncertain*: the gateway checks whether the write landed before writing;
- ``sent`` / ``dry_run``: delivered (or recorded only), with the external reference;
- ``failed``: a permanent error, with its reason;
- ``dead``: ``max_attempts`` attempts and still not delivered;
- ``cancelled``: superseded before it was sent (its finding resolved or waived).

Claims are atomic. PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` then an update, in one
transaction, so two dispatchers never see the same row. SQLite (one writer at a time): one
conditional update over the candidate rows (``WHERE status = 'pending' OR the lease expired``,
``RETURNING`` the ids it changed), so each row is won by one dispatcher only. Dry-run entries
are recorded a batch at a time (:func:`record_dry_run`), with every attempt audited. Every transition after a claim is conditional on the lease
owner, so a dispatcher whose lease was taken over cannot overwrite the new owner's outcome.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import sqlalchemy as sa

from followthrough.exceptions import StoreError
from followthrough.outbox_keys import ticket_entry_keys
from followthrough.store import bulk
from followthrough.store.repository import _append_audit, _fetch_rows, _json_as_text, now_utc, utc_naive
from followthrough.store.schema import outbox

if TYPE_CHECKING:
    from followthrough.store.repository import Store

T = TypeVar("T")
P = ParamSpec("P")
STATES = ("pending", "held", "claimed", "sent", "dry_run", "failed", "dead", "cancelled")
DELIVERED = ("sent", "dry_run")
FINAL = ("sent", "dry_run", "failed", "dead", "cancelled")
OPEN = ("pending", "held", "claimed")


def _retrying(action: Callable[[], T], attempts: int = 50) -> T:
    """Run a store write, again when SQLite reports its single writer lock as busy (two dispatchers at once).

    The failed transaction was rolled back, so running it again is safe.
    """
    for attempt in range(attempts):
        try:
            return action()
        except StoreError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


def _locked_retry(function: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        return _retrying(lambda: function(*args, **kwargs))
    return wrapper


def _claimable(now: datetime) -> Any:
    return (outbox.c.status == "pending") | ((outbox.c.status == "claimed") & (outbox.c.lease_expires_at < now))


@_locked_retry
def release_held(store: Store, now: Any, run_id: str) -> int:
    """Held entries whose ``send_after`` has passed become pending; return how many."""
    instant = utc_naive(now)
    with store.transaction() as connection:
        result = connection.execute(outbox.update().where(
            (outbox.c.status == "held") & (outbox.c.send_after <= instant)).values(status="pending"))
        return int(result.rowcount or 0)


def claim(store: Store, owner: str, *, limit: int, lease_seconds: float,
          channels: Iterable[str] | None = None, not_tried_since: datetime | None = None,
          actions: Iterable[str] | None = None, payloads: bool = True,
          after_id: int | None = None, after_tickets: bool = False,
          ticket_wait_seconds: float | None = None) -> list[dict[str, Any]]:
    """Claim up to ``limit`` entries, oldest first, for ``owner``; each gets ``reclaimed`` (an expired lease).

    A reclaimed entry's previous dispatcher may have written before it died: the caller
    delivers it as uncertain. ``not_tried_since`` skips entries attempted since that instant
    (one dispatch attempt tries each entry once). ``after_id`` continues a pass from the last
    entry claimed: without it, each batch's query walks again past every entry the pass has
    already handled, and a pass over n entries reads about n squared / (2 x limit) rows.
    ``after_tickets`` leaves a Slack message unclaimed while its finding episode's ticket is still
    to be created (its ``create_ticket`` or ``reopen_ticket`` entry is open): the message carries
    the ticket's link, which exists only once the ticket does (see :func:`ticket_entry_keys`);
    with ``ticket_wait_seconds``, only until the message is that old (then it goes without the link).
    """
    now = now_utc()
    expires = now + timedelta(seconds=lease_seconds)
    wanted = _claimable(now)
    if not_tried_since is not None:
        wanted = wanted & (outbox.c.last_attempt_at.is_(None) | (outbox.c.last_attempt_at < not_tried_since))
    if channels is not None:
        wanted = wanted & outbox.c.channel.in_(list(channels))
    if actions is not None:
        wanted = wanted & outbox.c.action.in_(list(actions))
    if after_id is not None:
        wanted = wanted & (outbox.c.id > after_id)
    if after_tickets:
        waited_enough: Any = sa.false()
        if ticket_wait_seconds is not None:
            waited_enough = outbox.c.created_at <= now - timedelta(seconds=ticket_wait_seconds)
        wanted = wanted & ((outbox.c.channel != "slack") | waited_enough | ~_ticket_open())
    # `payloads=False`: the entries without their payloads (a dry-run record does not read them)
    names = None if payloads else [c.name for c in outbox.columns if c.name != "payload"]
    query = _json_as_text(outbox, names).where(wanted).order_by(outbox.c.id).limit(limit)
    rows = _retrying(lambda: _claim(store, query, owner, now, expires))
    for row in rows:
        row["reclaimed"] = row["status"] == "claimed"
        row["status"] = "claimed"
        row["lease_owner"] = owner
    return rows


def _ticket_open() -> Any:
    """SQL: the claimed row's finding episode has a ticket entry still open (looked up by its unique key)."""
    ticket = outbox.alias("ticket")
    keys = ticket_entry_keys(outbox.c.fingerprint, sa.cast(outbox.c.episode, sa.String))
    return sa.exists().where(ticket.c.idempotency_key.in_(keys) & ticket.c.status.in_(OPEN))


def _claim(store: Store, query: Any, owner: str, now: datetime, expires: datetime) -> list[dict[str, Any]]:
    with store.transaction() as connection:
        if connection.dialect.name == "postgresql":
            rows = _fetch_rows(connection, query.with_for_update(skip_locked=True), outbox)
            for chunk in bulk.chunks([r["id"] for r in rows], bulk.KEYS_PER_STATEMENT):
                connection.execute(outbox.update().where(outbox.c.id.in_(chunk)).values(
                    status="claimed", lease_owner=owner, lease_expires_at=expires))
        else:
            # one conditional update over the candidates (SQLite has one writer at a time): only the
            # rows still claimable are won, and RETURNING says which; candidates that another
            # dispatcher won meanwhile make way for the next ones
            rows = []
            while not rows:
                candidates = _fetch_rows(connection, query, outbox)
                if not candidates:
                    break
                won: set[int] = set()
                for chunk in bulk.chunks([r["id"] for r in candidates], bulk.KEYS_PER_STATEMENT):
                    won.update(connection.execute(outbox.update().where(outbox.c.id.in_(chunk) & _claimable(now))
                                                  .values(status="claimed", lease_owner=owner, lease_expires_at=expires)
                                                  .returning(outbox.c.id)).scalars())
                rows = [r for r in candidates if r["id"] in won]
    return rows


def _owned(entry: Mapping[str, Any]) -> Any:
    return (outbox.c.id == entry["id"]) & (outbox.c.status == "claimed") & (outbox.c.lease_owner == entry["lease_owner"])


def _attempt_event(entry: Mapping[str, Any], attempt: int, outcome: str, observed: Mapping[str, Any] | None = None,
                   **details: Any) -> tuple[str, str, dict]:
    """The audit event of one attempt; ``observed``: the faults and retries its delivery met (when any)."""
    extra: dict[str, Any] = {}
    if observed and (observed.get("faults") or observed.get("retries")):
        extra = {"faults": dict(observed.get("faults") or {}), "retries": int(observed.get("retries") or 0)}
    return ("action_attempt", str(entry["fingerprint"]), {
        "idempotency_key": entry["idempotency_key"], "channel": entry["channel"], "action": entry["action"],
        "recipient": entry["recipient"], "attempt": attempt, "outcome": outcome, **details, **extra})


@_locked_retry
def record_delivered(store: Store, entry: Mapping[str, Any], run_id: str, status: str,
                     external_ref: str | None, *, observed: Mapping[str, Any] | None = None) -> bool:
    """The claimed entry was delivered (``sent``) or recorded (``dry_run``); False if the lease was lost."""
    attempt = int(entry.get("attempts") or 0) + 1
    now = now_utc()
    with store.transaction() as connection:
        won = connection.execute(outbox.update().where(_owned(entry)).values(
            status=status, external_ref=external_ref, dispatched_at=now, last_attempt_at=now, attempts=attempt,
            lease_owner=None, lease_expires_at=None, error_category=None, last_error=None))
        if won.rowcount != 1:
            return False
        _append_audit(connection, run_id, [
            _attempt_event(entry, attempt, status, observed, external_ref=external_ref),
            (f"action_{status}", str(entry["fingerprint"]), {
                "idempotency_key": entry["idempotency_key"], "channel": entry["channel"], "action": entry["action"],
                "recipient": entry["recipient"], "external_ref": external_ref, "attempts": attempt})])
    return True


@_locked_retry
def record_dry_run(store: Store, entries: Sequence[Mapping[str, Any]], run_id: str, ref_prefix: str) -> int:
    """Claimed entries recorded as ``dry_run`` in bulk, each attempt audited; return how many (lost leases skip).

    The same transition and audit events as :func:`record_delivered` with status ``dry_run``
    and the external reference ``ref_prefix + idempotency_key``, for a whole batch: one
    conditional UPDATE per chunk of entries and one bulk append of their audit events.
    """
    now = now_utc()
    won: set[int] = set()
    by_owner: dict[Any, list[int]] = {}
    for entry in entries:
        by_owner.setdefault(entry["lease_owner"], []).append(int(entry["id"]))
    with store.transaction() as connection:
        for lease_owner, ids in by_owner.items():
            for chunk in bulk.chunks(ids, bulk.KEYS_PER_STATEMENT):
                won.update(connection.execute(outbox.update().where(
                    outbox.c.id.in_(chunk) & (outbox.c.status == "claimed") & (outbox.c.lease_owner == lease_owner))
                    .values(status="dry_run", external_ref=sa.literal(ref_prefix, sa.String) + outbox.c.idempotency_key,
                            dispatched_at=now, last_attempt_at=now, attempts=outbox.c.attempts + 1,
                            lease_owner=None, lease_expires_at=None, error_category=None, last_error=None)
                    .returning(outbox.c.id)).scalars())
        events: list[tuple[str, str, dict]] = []
        for entry in entries:
            if int(entry["id"]) not in won:
                continue
            attempt = int(entry.get("attempts") or 0) + 1
            external_ref = f"{ref_prefix}{entry['idempotency_key']}"
            events += [_attempt_event(entry, attempt, "dry_run", external_ref=external_ref),
                       ("action_dry_run", str(entry["fingerprint"]), {
                           "idempotency_key": entry["idempotency_key"], "channel": entry["channel"],
                           "action": entry["action"], "recipient": entry["recipient"], "external_ref": external_ref,
                           "attempts": attempt})]
        _append_audit(connection, run_id, events)
    return len(won)


@_locked_retry
def record_error(store: Store, entry: Mapping[str, Any], run_id: str, category: str, reason: str, *,
                 max_attempts: int, observed: Mapping[str, Any] | None = None) -> str:
    """A failed attempt: permanent -> failed; otherwise pending again, or dead once attempts are spent.

    Returns the entry's new status ("" if the lease was lost meanwhile).
    """
    attempt = int(entry.get("attempts") or 0) + 1
    if category == "permanent":
        status = "failed"
    elif attempt >= max_attempts:
        status = "dead"
    else:
        status = "pending"
    now = now_utc()
    reason = reason[:2000]
    with store.transaction() as connection:
        won = connection.execute(outbox.update().where(_owned(entry)).values(
            status=status, last_attempt_at=now, attempts=attempt, lease_owner=None, lease_expires_at=None,
            error_category=category, last_error=reason))
        if won.rowcount != 1:
            return ""
        events = [_attempt_event(entry, attempt, category, observed, reason=reason)]
        if status in ("failed", "dead"):
            events.append((f"action_{status}", str(entry["fingerprint"]), {
                "idempotency_key": entry["idempotency_key"], "channel": entry["channel"], "action": entry["action"],
                "recipient": entry["recipient"], "attempts": attempt, "category": category, "reason": reason}))
        _append_audit(connection, run_id, events)
    return status


@_locked_retry
def hold(store: Store, entry: Mapping[str, Any], until: Any) -> bool:
    """Put a claimed entry back as held until ``until`` (outside its team's working hours); no attempt."""
    with store.transaction() as connection:
        won = connection.execute(outbox.update().where(_owned(entry)).values(
            status="held", send_after=utc_naive(until), lease_owner=None, lease_expires_at=None))
        return won.rowcount == 1


@_locked_retry
def unclaim(store: Store, entries: Iterable[Mapping[str, Any]]) -> int:
    """Give claimed entries back as pending without an attempt (the time budget ended first)."""
    by_owner: dict[Any, list[int]] = {}
    for entry in entries:
        by_owner.setdefault(entry["lease_owner"], []).append(int(entry["id"]))
    total = 0
    with store.transaction() as connection:
        for lease_owner, ids in by_owner.items():
            for chunk in bulk.chunks(ids, bulk.KEYS_PER_STATEMENT):
                total += int(connection.execute(outbox.update().where(
                    outbox.c.id.in_(chunk) & (outbox.c.status == "claimed") & (outbox.c.lease_owner == lease_owner))
                    .values(status="pending", lease_owner=None, lease_expires_at=None)).rowcount or 0)
    return total


@_locked_retry
def cancel(store: Store, fingerprints: Iterable[str], run_id: str, reason: str, *,
           channels: Iterable[str] = ("slack",)) -> int:
    """Cancel the pending and held entries of these findings (superseded before they were sent).

    An entry whose last attempt was uncertain is not cancelled: that attempt may have delivered
    it, and a cancelled entry is never looked at again, so the outbox would say "not sent" of
    a message people received. It stays pending; its next delivery checks first (the message's
    key in Slack's history) and records it sent, or sends it.
    """
    keys = sorted(set(fingerprints))
    if not keys:
        return 0
    may_have_landed = sa.func.coalesce(outbox.c.error_category, "") == "uncertain"
    with store.transaction() as connection:
        query = sa.select(outbox.c.id, outbox.c.fingerprint, outbox.c.idempotency_key).where(
            outbox.c.fingerprint.in_(keys) & outbox.c.status.in_(("pending", "held"))
            & outbox.c.channel.in_(list(channels)) & ~may_have_landed)
        rows = list(connection.execute(query).mappings())
        if not rows:
            return 0
        connection.execute(outbox.update().where(outbox.c.id.in_([r["id"] for r in rows])
                                                 & outbox.c.status.in_(("pending", "held")) & ~may_have_landed).values(
            status="cancelled", last_error=reason))
        _append_audit(connection, run_id, [("action_cancelled", str(r["fingerprint"]), {
            "idempotency_key": r["idempotency_key"], "reason": reason}) for r in rows])
    return len(rows)


def state_counts(store: Store) -> dict[str, int]:
    """Entries per state."""
    query = sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
    with store.transaction() as conn:
        return {str(status): int(count) for status, count in conn.execute(query)}


def oldest_open(store: Store) -> datetime | None:
    """When the oldest entry still pending, held or claimed was planned."""
    query = sa.select(sa.func.min(outbox.c.created_at)).where(outbox.c.status.in_(OPEN))
    with store.transaction() as connection:
        value = connection.execute(query).scalar()
    return value if isinstance(value, datetime) else None


def problems(store: Store) -> list[dict[str, Any]]:
    """Failed and dead entries, oldest first, with their reasons (for the report and the alert)."""
    query = sa.select(outbox.c.idempotency_key, outbox.c.channel, outbox.c.action, outbox.c.status,
                      outbox.c.attempts, outbox.c.error_category, outbox.c.last_error).where(
        outbox.c.status.in_(("failed", "dead"))).order_by(outbox.c.id)
    with store.transaction() as connection:
        return [dict(r) for r in connection.execute(query).mappings()]
