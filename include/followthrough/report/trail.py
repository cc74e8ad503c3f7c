"""The questions auditors ask, answered from the store: the run history and the audit trail.

`run_history` lists every run with its policy hash, as-of instant, counts and audit checkpoint.
`audit_trail` answers "for this date range, team, person or incident: what was found, what
was done, who was told, and when", one row per audit event, joined with the finding it is
about. Every filter is validated (`TrailQuery.validated`) and bound as a SQL parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from followthrough.config import safe_name
from followthrough.exceptions import FollowthroughError
from followthrough.store.schema import audit_checkpoints, audit_events, findings, outbox, runs

if TYPE_CHECKING:
    from followthrough.store.repository import Store

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@:+-]{0,249}$")
CATEGORIES = ("found", "done", "told", "run")
# outbox events before (or instead of) a delivery: planned, tried, held, cancelled; the rest is a delivery outcome
NOT_YET_TOLD = frozenset({"action_planned", "action_attempt", "action_claimed", "action_held", "action_cancelled",
                          "action_released"})
TRAIL_COLUMNS = ["recorded_at", "as_of", "run_id", "seq", "category", "kind", "rule", "subject_type", "subject_id",
                 "team_id", "incident_id", "person", "responsible", "channel", "action", "status", "detail"]
RUN_COLUMNS = ["run_id", "folder", "as_of", "status", "policy_hash", "open", "waived", "new", "resolved",
               "actions_planned", "quarantined", "checkpoint_seq", "checkpoint_head", "finished_at"]


class InvalidQuery(FollowthroughError):
    """A query or export parameter is malformed or names nothing the store knows."""


def category(kind: str) -> str:
    """found: what the rules found; done: what was planned; told: what was delivered (or recorded, dry-run)."""
    if kind.startswith("finding_"):
        return "found"
    if kind in NOT_YET_TOLD:
        return "done"
    if kind.startswith("action_"):
        return "told"
    return "run"


def _day(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidQuery(f"{flag} {value!r} is not a date: use YYYY-MM-DD, e.g. 2026-07-15") from None


def _name(value: str | None, flag: str) -> str | None:
    if value is None:
        return None
    if not NAME.fullmatch(value):
        raise InvalidQuery(f"{flag} {value!r} is not a valid id: letters, digits and . _ @ : + - only, "
                           "starting with a letter or digit, at most 250 characters")
    return value


@dataclass(frozen=True)
class TrailQuery:
    since: date | None = None
    until: date | None = None
    team: str | None = None
    person: str | None = None
    incident: str | None = None
    run: str | None = None
    categories: tuple[str, ...] = CATEGORIES

    @classmethod
    def validated(cls, since: str | None = None, until: str | None = None, team: str | None = None,
                  person: str | None = None, incident: str | None = None, run: str | None = None,
                  categories: Sequence[str] | None = None) -> TrailQuery:
        first, last = _day(since, "--from"), _day(until, "--to")
        if first and last and first > last:
            raise InvalidQuery(f"--from {first} is after --to {last}")
        chosen = tuple(categories) if categories else CATEGORIES
        unknown = [c for c in chosen if c not in CATEGORIES]
        if unknown:
            raise InvalidQuery(f"unknown --what {', '.join(unknown)}: choose from {', '.join(CATEGORIES)}")
        return cls(first, last, _name(team, "--team"), _name(person, "--person"), _name(incident, "--incident"),
                   _name(run, "--run"), chosen)


def _known(store: Store, column: sa.ColumnElement[Any], *more: sa.ColumnElement[Any]) -> set[str]:
    with store.transaction() as connection:
        values: set[str] = set()
        for col in (column, *more):
            values |= {str(v) for v in connection.execute(sa.select(col).distinct()).scalars() if v is not None}
    return values


def _require_known(value: str | None, known: set[str], what: str) -> None:
    if value is not None and value not in known:
        listing = ", ".join(sorted(known)[:20]) or "none"
        raise InvalidQuery(f"unknown {what} {value!r}; the store knows: {listing}{' ...' if len(known) > 20 else ''}")


def resolve_run_id(store: Store, run: str) -> str:
    """A run id from a run id or its report folder's name."""
    with store.transaction() as connection:
        ids = list(connection.execute(sa.select(runs.c.run_id)).scalars())
    for run_id in ids:
        if run in (run_id, safe_name(run_id)):
            return str(run_id)
    raise InvalidQuery(f"no run {run!r} (give a run id or its report folder name; `followthrough runs` lists them)")


def audit_trail(store: Store, query: TrailQuery) -> list[dict[str, Any]]:
    """Audit events matching the query, oldest first, with the finding they concern."""
    _require_known(query.team, _known(store, findings.c.team_id), "team")
    _require_known(query.person, _known(store, findings.c.responsible, outbox.c.recipient), "person")
    _require_known(query.incident, _known(store, findings.c.incident_id), "incident")
    run_id = resolve_run_id(store, query.run) if query.run else None
    day = sa.func.coalesce(runs.c.as_of, audit_events.c.recorded_at)
    select = (
        sa.select(audit_events.c.seq, audit_events.c.run_id, audit_events.c.recorded_at, audit_events.c.kind,
                  audit_events.c.subject, audit_events.c.payload, runs.c.as_of,
                  findings.c.rule, findings.c.subject_type, findings.c.subject_id, findings.c.team_id,
                  findings.c.incident_id, findings.c.responsible)
        .select_from(audit_events.outerjoin(runs, runs.c.run_id == audit_events.c.run_id)
                     .outerjoin(findings, findings.c.fingerprint == audit_events.c.subject))
        .order_by(audit_events.c.seq)
    )
    if query.since:
        select = select.where(day >= datetime.combine(query.since, datetime.min.time()))
    if query.until:
        select = select.where(day < datetime.combine(query.until + timedelta(days=1), datetime.min.time()))
    if query.team:
        select = select.where(findings.c.team_id == query.team)
    if query.incident:
        select = select.where(findings.c.incident_id == query.incident)
    if run_id:
        select = select.where(audit_events.c.run_id == run_id)
    with store.transaction() as connection:
        rows = [dict(r) for r in connection.execute(select).mappings()]
    out = []
    for row in rows:
        cat = category(str(row["kind"]))
        if cat not in query.categories:
            continue
        payload = row["payload"] if isinstance(row["payload"], Mapping) else {}
        person = payload.get("recipient") if cat in ("done", "told") else row["responsible"]
        if query.person and query.person not in (person, row["responsible"]):
            continue
        out.append({
            "recorded_at": _iso(row["recorded_at"]), "as_of": _iso(row["as_of"]), "run_id": row["run_id"],
            "seq": row["seq"], "category": cat, "kind": row["kind"],
            "rule": row["rule"] or payload.get("rule"), "subject_type": row["subject_type"],
            "subject_id": row["subject_id"] or payload.get("subject_id"),
            "team_id": row["team_id"], "incident_id": row["incident_id"], "person": person,
            "responsible": row["responsible"],
            "channel": payload.get("channel"), "action": payload.get("action"),
            "status": payload.get("status") or (str(row["kind"]).removeprefix("action_") if cat == "told" else None),
            "detail": _detail(cat, row["kind"], payload),
        })
    return out


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else (None if value is None else str(value))


def _detail(cat: str, kind: str, payload: Mapping[str, Any]) -> str | None:
    if cat == "found":
        return payload.get("reason")
    if cat == "told":
        return payload.get("external_ref") or payload.get("reason")
    if cat == "run" and kind == "run_started":
        return f"policy {str(payload.get('policy_hash', ''))[:12]}"
    return None


def run_history(store: Store, limit: int | None = None) -> list[dict[str, Any]]:
    """Every run, oldest first: policy, as-of, counts from its summary, its audit checkpoint."""
    with store.transaction() as connection:
        rows = [dict(r) for r in connection.execute(sa.select(runs).order_by(runs.c.as_of, runs.c.started_at))
                .mappings()]
        checkpoints = {r["run_id"]: r for r in connection.execute(
            sa.select(audit_checkpoints).where(audit_checkpoints.c.kind == "run")
            .order_by(audit_checkpoints.c.id)).mappings()}
    out = []
    for row in rows:
        summary = row["summary"] or {}
        found = summary.get("findings", {})
        changes = found.get("changes_this_run", {})
        checkpoint = checkpoints.get(row["run_id"])
        out.append({
            "run_id": row["run_id"], "folder": safe_name(str(row["run_id"])), "as_of": _iso(row["as_of"]),
            "status": row["status"], "policy_hash": row["policy_hash"], "open": found.get("open"),
            "waived": found.get("waived"), "new": changes.get("new"), "resolved": changes.get("resolved"),
            "actions_planned": summary.get("actions_planned_this_run", {}).get("total"),
            "quarantined": summary.get("quarantine", {}).get("rows"),
            "checkpoint_seq": checkpoint["seq"] if checkpoint else None,
            "checkpoint_head": checkpoint["head"] if checkpoint else None,
            "finished_at": _iso(row["finished_at"]),
        })
    return out[-limit:] if limit else out
