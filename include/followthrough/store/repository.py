"""Reads and writes of the store. Every write is an upsert or an insert-if-absent.

Each public method runs in one transaction. The audit log is append-only and chained with
HMAC-SHA256 under the audit key: the chain itself lives in store/audit.py, the methods here
delegate to it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from followthrough.exceptions import StoreError
from followthrough.model import records
from followthrough.privacy import redact_finding_event, redact_payload
from followthrough.store import audit, bulk
from followthrough.store import source_rows as source_rows_store
from followthrough.store.audit import AuditEvent, AuditKey, Checkpoint, Verdict
from followthrough.store.schema import audit_events, findings, outbox, quarantine, run_lock, runs, watermarks

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Connection, Engine

    from followthrough.store.source_rows import Completeness, UpsertCounts

MIGRATIONS = Path(__file__).parent / "migrations"
# the columns a known finding's reconciliation rewrites (its first-seen columns stay)
FINDING_CURRENT = ("status", "episode", "level", "team_id", "incident_id", "responsible", "due_at", "critical",
                   "confidential", "private", "title", "reason", "evidence", "waiver", "last_seen_as_of",
                   "last_run_id", "resolved_as_of")
FINDING_JSON = ("evidence", "waiver")
OUTBOX_BATCH = 50_000  # actions made into outbox rows and audit events at a time
JSON_PARSE_BATCH = 50_000  # rows whose JSON columns are parsed in one json.loads


def utc_naive(value: Any) -> datetime | None:
    """Any timestamp-like value as a naive UTC datetime (the store's convention)."""
    if value is None:
        return None
    import pandas as pd

    if value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    result: datetime = ts.to_pydatetime()
    return result


def utc_naive_column(values: pd.Series) -> list[datetime | None]:
    """utc_naive of every value of a column; a datetime column is converted at once."""
    import pandas as pd

    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    elif values.dtype.kind != "M":
        return [utc_naive(v) for v in values]
    return [None if v is pd.NaT else v.to_pydatetime() for v in values.astype(object)]


def none_if_missing(value: Any) -> Any:
    """pd.NA, NaT and NaN as None, so the database driver can bind them; other values unchanged."""
    import pandas as pd

    if isinstance(value, (list, dict, tuple)):
        return value
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):
        return value


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, sort_keys=True))


class Store:
    """The store behind one SQLAlchemy URL (SQLite file or PostgreSQL)."""

    def __init__(self, url: str, connect_args: Mapping[str, Any] | None = None) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            # connect_args: the driver options of the Connection's extras (sslmode, options, ...)
            self.engine: Engine = sa.create_engine(url, future=True, pool_pre_ping=True,
                                                   connect_args=dict(connect_args or {}))
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot use store URL {self.safe_url}: {exc}") from None

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for logs and errors."""
        try:
            return sa.engine.make_url(self.url).render_as_string(hide_password=True)
        except sa.exc.ArgumentError:
            return "<unparseable store URL>"

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except sa.exc.OperationalError as exc:
            raise StoreError(f"store {self.safe_url} failed: {exc.orig}") from None

    # -- schema ----------------------------------------------------------------------------
    def migrate(self) -> None:
        """Create or upgrade the schema to the newest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.transaction() as connection:
            if connection.dialect.name == "postgresql":
                # two tasks starting at once must not both create the tables
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(74657301)"))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    # -- runs ------------------------------------------------------------------------------
    def start_run(self, run_id: str, dag_id: str, as_of: Any, policy_hash: str) -> None:
        values = {"dag_id": dag_id, "as_of": utc_naive(as_of), "policy_hash": policy_hash,
                  "status": "running", "started_at": now_utc(), "finished_at": None}
        with self.transaction() as connection:
            updated = connection.execute(runs.update().where(runs.c.run_id == run_id).values(**values)).rowcount
            if not updated:
                connection.execute(runs.insert().values(run_id=run_id, **values))

    def finish_run(self, run_id: str, summary: Mapping[str, Any]) -> None:
        with self.transaction() as connection:
            connection.execute(
                runs.update().where(runs.c.run_id == run_id)
                .values(status="succeeded", finished_at=now_utc(), summary=_json_safe(summary))
            )

    def acquire_run_lock(self, run_id: str, lease_seconds: float, name: str = "enforce") -> dict[str, Any] | None:
        """Take or renew the run lock ``name`` for ``run_id``: None when the run holds it now, else the holder's row.

        One atomic INSERT ... ON CONFLICT DO UPDATE on both back ends, which takes the lock only
        when it is free, already this run's (a later task, a retry: the lease is renewed), or its
        holder's lease has ended (a run that died holding it). On PostgreSQL a second run racing
        for it waits for the first one's statement and then sees the lock taken.
        """
        from datetime import timedelta

        now = now_utc()
        values = {"name": name, "run_id": run_id, "acquired_at": now,
                  "expires_at": now + timedelta(seconds=lease_seconds)}
        with self.transaction() as connection:
            if connection.dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
            statement = insert(run_lock).values(**values)
            mine = run_lock.c.run_id == statement.excluded.run_id
            upsert = statement.on_conflict_do_update(
                index_elements=["name"],
                set_={"run_id": statement.excluded.run_id, "expires_at": statement.excluded.expires_at,
                      "acquired_at": sa.case((mine, run_lock.c.acquired_at), else_=statement.excluded.acquired_at)},
                where=mine | (run_lock.c.expires_at < now)).returning(run_lock.c.run_id)
            if connection.execute(upsert).first() is not None:
                return None
            holder = connection.execute(sa.select(run_lock).where(run_lock.c.name == name)).mappings().first()
        return dict(holder) if holder else {"name": name, "run_id": "?", "acquired_at": None, "expires_at": None}

    def release_run_lock(self, run_id: str, name: str = "enforce") -> bool:
        """Give the run lock back (the run's last task); False if this run did not hold it."""
        with self.transaction() as connection:
            return bool(connection.execute(run_lock.delete().where(
                (run_lock.c.name == name) & (run_lock.c.run_id == run_id))).rowcount)

    def store_run_policy(self, run_id: str, policy: Mapping[str, Any]) -> None:
        """Keep the policy the run's tasks use (its first task stores it; a re-run keeps the first)."""
        with self.transaction() as connection:
            connection.execute(runs.update().where((runs.c.run_id == run_id) & runs.c.policy.is_(None))
                               .values(policy=_json_safe(policy)))

    def run_policy(self, run_id: str) -> dict[str, Any] | None:
        with self.transaction() as connection:
            value = connection.execute(sa.select(runs.c.policy).where(runs.c.run_id == run_id)).scalar()
        return dict(value) if value else None

    def direct_messages_on(self, instant: Any, actions: Iterable[str]) -> dict[str, set[str]]:
        """Per recipient, the keys of direct messages planned for the UTC day of `instant` (not cancelled),
        with the keys a day's `dm_summary` folded (as ``folded:<key>``)."""
        import pandas as pd

        day = pd.Timestamp(utc_naive(instant)).normalize()
        query = sa.select(outbox.c.recipient, outbox.c.idempotency_key, outbox.c.action, outbox.c.payload).where(
            (outbox.c.channel == "slack") & outbox.c.action.in_([*actions, "dm_summary"])
            & (outbox.c.status != "cancelled") & (outbox.c.as_of >= day.to_pydatetime())
            & (outbox.c.as_of < (day + pd.Timedelta(days=1)).to_pydatetime()))
        planned: dict[str, set[str]] = {}
        with self.transaction() as connection:
            for recipient, key, action, payload in connection.execute(query):
                keys = planned.setdefault(str(recipient), set())
                if action == "dm_summary":
                    keys.update(f"folded:{k}" for k in (payload or {}).get("folded", []))
                else:
                    keys.add(str(key))
        return planned

    def latest_run_as_of(self, exclude_run_id: str | None = None) -> Any:
        """The latest as-of instant among recorded enforcement runs (the replay test), or None."""
        query = sa.select(sa.func.max(runs.c.as_of)).where(runs.c.policy.is_not(None) & (runs.c.status == "succeeded"))
        if exclude_run_id:
            query = query.where(runs.c.run_id != exclude_run_id)
        with self.transaction() as connection:
            return connection.execute(query).scalar()

    def get_run(self, run_id: str | None = None) -> dict[str, Any] | None:
        """One run by id, or the latest finished one."""
        query = sa.select(runs)
        if run_id:
            query = query.where(runs.c.run_id == run_id)
        else:
            query = query.where(runs.c.status == "succeeded").order_by(runs.c.finished_at.desc()).limit(1)
        with self.transaction() as connection:
            row = connection.execute(query).mappings().first()
        return dict(row) if row else None

    # -- quarantine ------------------------------------------------------------------------
    def upsert_quarantine(self, source: str, run_id: str, as_of: Any, rows: pd.DataFrame) -> None:
        """Keep every quarantined row with its reason; a row seen again only moves its last run (bulk upsert)."""
        keyed: dict[tuple[str, str, str], dict[str, Any]] = {}
        for row in rows.to_dict("records"):
            raw = _json_safe(row["raw"])
            row_hash = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
            seen = {"last_run_id": run_id, "last_seen_as_of": utc_naive(as_of),
                    "row_number": int(row["row_number"]), "reason": row["reason"]}
            key = (row["entity"], row_hash, row["reason_code"])
            if key in keyed:  # the same row twice: the first keeps its record id, the last its whereabouts
                keyed[key].update(seen)
                continue
            keyed[key] = {"source": source, "entity": row["entity"], "row_hash": row_hash,
                          "reason_code": row["reason_code"], "record_id": row["record_id"], "raw": raw,
                          "first_run_id": run_id, **seen}
        with self.transaction() as connection:
            bulk.upsert_rows(connection, quarantine, list(keyed.values()),
                             ["source", "entity", "row_hash", "reason_code"],
                             ["last_run_id", "last_seen_as_of", "row_number", "reason"])

    def quarantine_seen_in(self, run_id: str) -> list[dict[str, Any]]:
        query = sa.select(quarantine).where(quarantine.c.last_run_id == run_id).order_by(
            quarantine.c.source, quarantine.c.entity, quarantine.c.row_number, quarantine.c.reason_code)
        with self.transaction() as connection:
            return [dict(r) for r in connection.execute(query).mappings()]

    # -- findings --------------------------------------------------------------------------
    def findings_frame(self, status: str | None = None) -> pd.DataFrame:
        import pandas as pd

        query = _json_as_text(findings).order_by(findings.c.rule, findings.c.subject_id)
        if status:
            query = query.where(findings.c.status == status)
        with self.transaction() as connection:
            rows = _fetch_rows(connection, query, findings)
        return pd.DataFrame(rows, columns=[c.name for c in findings.columns])

    def apply_reconciliation(self, changes: pd.DataFrame, run_id: str, as_of: Any) -> None:
        """Write reconciled findings (see followthrough.findings.reconcile) in one transaction.

        Bulk: new findings in one insert, ongoing, changed, waived and reopened ones in one upsert
        each, resolved ones in one UPDATE per resolution, the audit events in one append (per
        chunk of rows; see store/bulk.py), never a statement per finding.
        """
        as_of_db = utc_naive(as_of)
        events: list[AuditEvent] = []
        inserted: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
        reopened: list[dict[str, Any]] = []
        resolved: dict[str, list[str]] = {}
        # due dates as the store keeps them (naive UTC), a column at a time (utc_naive per value is slow)
        due_dates = utc_naive_column(changes["due_at"]) if "due_at" in changes else [None] * len(changes)
        for row, due_at in zip(records(changes, missing_as_none=True), due_dates, strict=True):
            change = row["change"]
            if change != "ongoing":  # "changed": still open, with a new reason (its ticket is updated)
                events.append((f"finding_{change}", row["fingerprint"], redact_finding_event({
                    "rule": row["rule"], "subject_type": row["subject_type"], "subject_id": row["subject_id"],
                    "episode": int(row["episode"]), "status": row["status"], "reason": row.get("reason"),
                    "evidence": row.get("evidence"), "waiver": row.get("waiver"),
                    "previous_status": row.get("previous_status") or None,
                    "previous_responsible": row.get("previous_responsible") or None,
                    **(_resolution(row) if change == "resolved" else {})}, bool(row.get("private")))))
            if change == "resolved":
                resolved.setdefault(row.get("resolution") or "fixed", []).append(row["fingerprint"])
                continue
            current = {
                "status": row["status"], "episode": int(row["episode"]), "level": row["level"],
                "team_id": row["team_id"], "incident_id": row["incident_id"], "responsible": row["responsible"],
                "due_at": due_at, "critical": bool(row["critical"]),
                "confidential": bool(row["confidential"]), "private": bool(row["private"]),
                "title": row["title"], "reason": row["reason"], "evidence": bulk.json_text(row["evidence"]),
                "waiver": bulk.json_text(row.get("waiver")), "last_seen_as_of": as_of_db, "last_run_id": run_id,
                "resolved_as_of": None,
            }
            # a known finding's first-seen columns are never overwritten (the upsert updates `current` only)
            full = {"fingerprint": row["fingerprint"], "rule": row["rule"], "subject_type": row["subject_type"],
                    "subject_id": row["subject_id"], "first_seen_as_of": as_of_db, "first_run_id": run_id,
                    "episode_started_as_of": as_of_db, **current}
            (inserted if change == "new" else reopened if change == "reopened" else updated).append(full)
        with self.transaction() as connection:
            as_text = FINDING_JSON  # evidence and waiver are JSON text already
            bulk.insert_rows(connection, findings, inserted, as_text)
            bulk.upsert_rows(connection, findings, updated, ["fingerprint"], FINDING_CURRENT, as_text)
            bulk.upsert_rows(connection, findings, reopened, ["fingerprint"],
                             [*FINDING_CURRENT, "episode_started_as_of"], as_text)
            for resolution, fingerprints in resolved.items():
                for chunk in bulk.chunks(fingerprints, bulk.KEYS_PER_STATEMENT):
                    connection.execute(findings.update().where(findings.c.fingerprint.in_(chunk)).values(
                        status="resolved", resolved_as_of=as_of_db, last_resolved_as_of=as_of_db,
                        last_run_id=run_id, resolution=resolution))
            _append_audit(connection, run_id, events)

    # -- outbox ----------------------------------------------------------------------------
    def add_to_outbox(self, actions: Iterable[Mapping[str, Any]], run_id: str, as_of: Any) -> int:
        """Insert actions whose idempotency key is new, in bulk; return how many were added.

        The rows and their audit events are made and written a batch at a time (OUTBOX_BATCH), in
        one transaction: a million actions are never held three times over.
        """
        as_of_db = utc_naive(as_of)
        created = now_utc()
        added = 0
        with self.transaction() as connection:
            existing = set(connection.execute(sa.select(outbox.c.idempotency_key)).scalars())
            batch: list[Mapping[str, Any]] = []
            for action in [*actions, None]:
                if action is not None:
                    if action["idempotency_key"] in existing:
                        continue
                    existing.add(action["idempotency_key"])
                    batch.append(action)
                if batch and (action is None or len(batch) >= OUTBOX_BATCH):
                    added += _insert_outbox(connection, batch, run_id, as_of_db, created)
                    batch = []
        return added

    def pending_outbox(self) -> list[dict[str, Any]]:
        query = sa.select(outbox).where(outbox.c.status == "pending").order_by(outbox.c.id)
        with self.transaction() as connection:
            return [dict(r) for r in connection.execute(query).mappings()]

    def mark_dispatched(self, entry: Mapping[str, Any], run_id: str, status: str, external_ref: str | None) -> None:
        with self.transaction() as connection:
            connection.execute(outbox.update().where(outbox.c.id == entry["id"]).values(
                status=status, external_ref=external_ref, dispatched_at=now_utc(), attempts=outbox.c.attempts + 1))
            _append_audit(connection, run_id, [(f"action_{status}", entry["fingerprint"], {
                "idempotency_key": entry["idempotency_key"], "channel": entry["channel"], "action": entry["action"],
                "recipient": entry["recipient"], "external_ref": external_ref})])

    def outbox_frame(self, run_id: str | None = None, statuses: Iterable[str] | None = None,
                     columns: Iterable[str] | None = None, limit: int | None = None) -> pd.DataFrame:
        """Outbox entries in planned order: all, or a run's, or those in some states; only `columns`
        (default: every column), the first `limit` only."""
        import pandas as pd

        names = [c.name for c in outbox.columns] if columns is None else list(columns)
        query = _json_as_text(outbox, names).order_by(outbox.c.id)
        if run_id:
            query = query.where(outbox.c.run_id == run_id)
        if statuses is not None:
            query = query.where(outbox.c.status.in_(list(statuses)))
        if limit is not None:
            query = query.limit(limit)
        with self.transaction() as connection:
            rows = _fetch_rows(connection, query, outbox)
        return pd.DataFrame(rows, columns=names)

    def outbox_count(self, run_id: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(outbox)
        if run_id:
            query = query.where(outbox.c.run_id == run_id)
        with self.transaction() as connection:
            return int(connection.execute(query).scalar_one())

    def ticket_key_for(self, fingerprint: str, episode: int) -> str | None:
        """The Jira key of the ticket sent for this finding episode, from the store's own record."""
        query = sa.select(outbox.c.external_ref).where(
            (outbox.c.fingerprint == fingerprint) & (outbox.c.episode == episode)
            & outbox.c.action.in_(("create_ticket", "reopen_ticket")) & (outbox.c.status == "sent"))
        with self.transaction() as connection:
            return connection.execute(query.limit(1)).scalar()

    def ticket_keys(self) -> dict[tuple[str, int], str]:
        """Every finding episode's Jira key (as `ticket_key_for` gives one), in one query."""
        query = sa.select(outbox.c.fingerprint, outbox.c.episode, outbox.c.external_ref).where(
            outbox.c.action.in_(("create_ticket", "reopen_ticket")) & (outbox.c.status == "sent")).order_by(outbox.c.id)
        keys: dict[tuple[str, int], str] = {}
        with self.transaction() as connection:
            for fingerprint, episode, ref in connection.execute(query):
                if ref is not None:
                    keys.setdefault((str(fingerprint), int(episode)), str(ref))
        return keys

    # -- canonical source rows ---------------------------------------------------------------
    def upsert_source_rows(self, source: str, frames: Mapping[str, pd.DataFrame], complete: Completeness,
                           run_id: str, as_of: Any, watermark: datetime | None = None) -> dict[str, UpsertCounts]:
        """Upsert one extract's rows (see store.source_rows) and move the watermark, in one transaction."""
        with self.transaction() as connection:
            before = source_rows_store.present_counts(connection, source)
            counts = source_rows_store.upsert(connection, source, frames, complete, run_id, utc_naive(as_of))
            after = source_rows_store.present_counts(connection, source)
            if watermark is not None:
                _set_watermark(connection, source, watermark, run_id)
            _append_audit(connection, run_id, [("source_extracted", source, {
                entity: {"inserted": c.inserted, "changed": c.changed, "gone": c.gone, "unchanged": c.unchanged,
                         "present_before": before.get(entity, 0), "present_after": after.get(entity, 0)}
                for entity, c in counts.items()})])
        return counts

    def source_frames(self, source: str, renumber: bool = False) -> dict[str, pd.DataFrame]:
        """The present rows of a source, per entity it has provided (raw strings, with `_row`)."""
        with self.transaction() as connection:
            return source_rows_store.read(connection, source, renumber=renumber)

    def present_ids(self, entities: Iterable[str]) -> dict[str, set[str]]:
        with self.transaction() as connection:
            return source_rows_store.present_ids(connection, entities)

    # -- watermarks ------------------------------------------------------------------------
    def watermark(self, source: str) -> datetime | None:
        with self.transaction() as connection:
            value = connection.execute(sa.select(watermarks.c.value).where(watermarks.c.source == source)).scalar()
        return value.replace(tzinfo=UTC) if value else None

    def set_watermark(self, source: str, value: datetime, run_id: str) -> None:
        """Upsert; a watermark never moves backwards (an overlapping re-run keeps the later one)."""
        with self.transaction() as connection:
            _set_watermark(connection, source, value, run_id)

    # -- audit -----------------------------------------------------------------------------
    def append_audit(self, run_id: str, events: Iterable[AuditEvent]) -> int:
        """Append (kind, subject, payload) events to the hash chain; return how many."""
        with self.transaction() as connection:
            return _append_audit(connection, run_id, events)

    def audit_events(self, run_id: str | None = None, kinds: Iterable[str] | None = None,
                     kind_prefix: str | None = None) -> list[dict[str, Any]]:
        """Events in chain order: all, or a run's; only `kinds`, or kinds starting with `kind_prefix`."""
        query = _json_as_text(audit_events).order_by(audit_events.c.seq)
        if run_id:
            query = query.where(audit_events.c.run_id == run_id)
        if kinds is not None:
            query = query.where(audit_events.c.kind.in_(list(kinds)))
        if kind_prefix is not None:
            query = query.where(audit_events.c.kind.startswith(kind_prefix, autoescape=True))
        with self.transaction() as connection:
            return _fetch_rows(connection, query, audit_events)

    def verify_audit_chain(self, key: AuditKey | None = None, checkpoints: Iterable[Checkpoint] = ()) -> tuple[bool, str]:
        """Verify the keyed chain from its start and against checkpoints (see store/audit.py)."""
        verdict = self.verify_audit(key, checkpoints)
        return verdict.ok, verdict.message()

    def verify_audit(self, key: AuditKey | None = None, checkpoints: Iterable[Checkpoint] = ()) -> Verdict:
        with self.transaction() as connection:
            return audit.verify_chain(connection, key or audit.active_key(), checkpoints)

    def audit_checkpoint(self, run_id: str | None = None, record: bool = False,
                         key: AuditKey | None = None) -> Checkpoint:
        """The chain's current (seq, head), signed; `record` keeps it in the store's checkpoint table too."""
        with self.transaction() as connection:
            return audit.current_checkpoint(connection, key, run_id=run_id, record=record)

    def prune_audit_through(self, seq: int, key: AuditKey | None = None) -> int:
        with self.transaction() as connection:
            return audit.prune_through(connection, seq, key)



def _json_as_text(table: sa.Table, names: Iterable[str] | None = None) -> sa.Select[Any]:
    """SELECT the columns of `table` (every one, or those named), its JSON columns as text (see _fetch_rows)."""
    columns = list(table.columns) if names is None else [table.c[n] for n in names]
    return sa.select(*[sa.cast(c, sa.Text).label(c.name) if isinstance(c.type, sa.JSON) else c for c in columns])


def _fetch_rows(connection: Connection, query: sa.Select[Any], table: sa.Table) -> list[dict[str, Any]]:
    """The rows of a `_json_as_text` query as dicts, their JSON parsed a batch of rows at a time.

    The same values as a plain SELECT through the JSON type gives, without a json.loads and a
    row mapping per row (which dominate reading tens of thousands of findings or events).
    """
    import json

    result = connection.execute(query)
    keys = list(result.keys())
    # fetchall: one driver call for the rows, not one per row as iterating the result does
    rows = [dict(zip(keys, row, strict=True)) for row in result.fetchall()]
    for column in (c.name for c in table.columns if isinstance(c.type, sa.JSON) and c.name in keys):
        for start in range(0, len(rows), JSON_PARSE_BATCH):
            batch = rows[start:start + JSON_PARSE_BATCH]
            texts = [row[column] for row in batch]
            values = json.loads("[" + ",".join("null" if t is None else t for t in texts) + "]")
            for row, value in zip(batch, values, strict=True):
                row[column] = value
    return rows


def _insert_outbox(connection: Connection, actions: list[Mapping[str, Any]], run_id: str, as_of_db: Any,
                   created: datetime) -> int:
    """Outbox rows for new actions, in planned order (ids follow it, so claims keep it), and their audit events."""
    rows: list[dict[str, Any]] = []
    events: list[AuditEvent] = []
    for action in actions:
        send_after = utc_naive(action.get("send_after"))  # held until the recipient's working hours
        held = send_after is not None and send_after > (as_of_db or send_after)
        rows.append({
            "run_id": run_id, "as_of": as_of_db, "status": "held" if held else "pending", "attempts": 0,
            "created_at": created, "send_after": send_after, "payload": bulk.json_text(action["payload"]),
            **{k: action[k] for k in ("idempotency_key", "fingerprint", "episode", "step", "channel",
                                      "action", "recipient")}})
        events.append(("action_planned", action["fingerprint"], {
            "idempotency_key": action["idempotency_key"], "channel": action["channel"],
            "action": action["action"], "recipient": action["recipient"],
            "payload": redact_payload(action["payload"])}))  # made JSON-safe as the event is sealed
    bulk.insert_rows(connection, outbox, rows, ["payload"])  # payloads are JSON text already
    _append_audit(connection, run_id, events)
    return len(rows)


def _resolution(row: Mapping[str, Any]) -> dict[str, str]:
    from followthrough.findings import RESOLUTION_REASONS

    resolution = str(row.get("resolution") or "fixed")
    return {"resolution": resolution, "resolution_reason": RESOLUTION_REASONS[resolution]}


def _set_watermark(connection: Connection, source: str, value: datetime, run_id: str) -> None:
    new = utc_naive(value)
    current = connection.execute(sa.select(watermarks.c.value).where(watermarks.c.source == source)).scalar()
    if current is None:
        connection.execute(watermarks.insert().values(source=source, value=new, run_id=run_id,
                                                      updated_at=now_utc()))
    elif new is not None and new > current:
        connection.execute(watermarks.update().where(watermarks.c.source == source).values(
            value=new, run_id=run_id, updated_at=now_utc()))
    _append_audit(connection, run_id, [("watermark_set", source, {"value": str(new)})])


def _append_audit(connection: Connection, run_id: str, events: Iterable[AuditEvent]) -> int:
    """Append events to the keyed chain inside the caller's transaction, so they commit with it."""
    return audit.append_events(connection, run_id, events)

