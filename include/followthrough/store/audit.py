"""The audit trail: an append-only chain of events, each sealed with HMAC-SHA256 under the audit key.

Each event's `hash` is HMAC-SHA256(key, canonical JSON of the previous event's hash and the
event's content). Someone who can write to the database but does not hold the key cannot
produce a chain that verifies: an edited, inserted, deleted or reordered event, or a chain
rewritten with recomputed plain hashes, breaks it. What a chain alone cannot show is a
deleted *tail*; for that each run records a checkpoint (seq, head), signed with the key,
outside the store (its report folder, its XCom, its task log), and `verify` checks the chain
against every checkpoint it is given or finds.

The key comes from the Airflow Connection `followthrough_audit` (its password) inside tasks,
and from `FOLLOWTHROUGH_AUDIT_KEY`, `FOLLOWTHROUGH_AUDIT_KEY_FILE` or the environment form of
the Connection (`AIRFLOW_CONN_FOLLOWTHROUGH_AUDIT`) on the command line.

Chains written before the key existed used plain SHA-256. The first keyed append seals them:
it writes an `audit_chain_keyed` event (keyed) that records how many legacy events there are
and their head; the legacy events stay verifiable with plain SHA-256, and the keyed seal makes
a later change to them detectable. Retention prunes old events only behind a signed prune
anchor (seq, head), from which verification then starts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa

from followthrough.exceptions import NotRetryableError, StoreError
from followthrough.store import bulk
from followthrough.store.schema import audit_checkpoints, audit_events

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

AUDIT_CONN_ID = "followthrough_audit"
GENESIS_HASH = "0" * 64
SCHEME_KEYED = "hmac-sha256"
SCHEME_LEGACY = "sha256"
SEAL_KIND = "audit_chain_keyed"
CHECKPOINT_FILE = "audit_checkpoint.json"
EVENT_COLUMNS = ("seq", "run_id", "recorded_at", "kind", "subject", "payload", "prev_hash", "hash")

AuditEvent = tuple[str, "str | None", "Mapping[str, Any]"]  # kind, subject, payload


class AuditKeyMissing(NotRetryableError):
    """No audit key is configured, so events cannot be sealed or verified."""


@dataclass(frozen=True)
class AuditKey:
    """The secret that seals the chain. Its id (a hash of the secret) may be shown; the secret never."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise AuditKeyMissing("the audit key must be at least 16 bytes long")

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"followthrough-audit-key-id:" + self.secret).hexdigest()[:12]

    def mac(self, message: str) -> str:
        # the one-shot digest: the same HMAC-SHA256 as hmac.new(...).hexdigest(), without an object per call
        return hmac.digest(self.secret, message.encode(), "sha256").hex()


def _password_from_conn_env(value: str) -> str | None:
    """The password of a Connection given as AIRFLOW_CONN_* (JSON or URI form)."""
    value = value.strip()
    if value.startswith("{"):
        try:
            password = json.loads(value).get("password")
        except (json.JSONDecodeError, AttributeError):
            return None
        return str(password) if password else None
    password = urlsplit(value).password
    return unquote(password) if password else None


def key_from_environment() -> AuditKey | None:
    """The audit key for the command line: FOLLOWTHROUGH_AUDIT_KEY, ..._KEY_FILE, or the Connection's env form."""
    if secret := os.environ.get("FOLLOWTHROUGH_AUDIT_KEY"):
        return AuditKey(secret.encode())
    if path := os.environ.get("FOLLOWTHROUGH_AUDIT_KEY_FILE"):
        try:
            secret = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise AuditKeyMissing(f"cannot read the audit key file {path}: {exc.strerror}") from None
        return AuditKey(secret.encode()) if secret else None
    if conn := os.environ.get("AIRFLOW_CONN_" + AUDIT_CONN_ID.upper()):
        password = _password_from_conn_env(conn)
        return AuditKey(password.encode()) if password else None
    return None


def key_from_airflow() -> AuditKey | None:
    """The password of the Airflow Connection `followthrough_audit`, inside a task; else the environment."""
    try:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:
        return key_from_environment()
    try:
        connection = BaseHook.get_connection(AUDIT_CONN_ID)
    except AirflowNotFoundException:
        return key_from_environment()
    return AuditKey(connection.password.encode()) if connection.password else key_from_environment()


_configured: AuditKey | None = None


def configure_key(key: AuditKey | None) -> None:
    """Use this key for every append in this process (the task adapters set it from the Connection)."""
    global _configured
    _configured = key


def active_key() -> AuditKey:
    """The configured key; else, inside an Airflow task, the Connection; else the environment."""
    global _configured
    if _configured is None:
        # a task process has imported the SDK already; the CLI must not pay ~7 s to import it
        _configured = key_from_airflow() if "airflow.sdk" in sys.modules else key_from_environment()
    key = _configured
    if key is None:
        raise AuditKeyMissing(
            f"no audit key: define the Airflow Connection {AUDIT_CONN_ID} (its password is the key) or set "
            "FOLLOWTHROUGH_AUDIT_KEY / FOLLOWTHROUGH_AUDIT_KEY_FILE")
    return key


# -- hashing -----------------------------------------------------------------------------------
def canonical(prev: str, run_id: str, recorded_at: datetime, kind: str, subject: str | None, payload: Any) -> str:
    return json.dumps(
        {"prev": prev, "run_id": run_id, "recorded_at": recorded_at.isoformat(timespec="microseconds"),
         "kind": kind, "subject": subject, "payload": payload},
        sort_keys=True, separators=(",", ":"), default=str,
    )


def plain_hash(prev: str, run_id: str, recorded_at: datetime, kind: str, subject: str | None, payload: Any) -> str:
    """The legacy (unkeyed) event hash, kept to verify chains written before the key existed."""
    return hashlib.sha256(canonical(prev, run_id, recorded_at, kind, subject, payload).encode()).hexdigest()


def keyed_hash(key: AuditKey, prev: str, run_id: str, recorded_at: datetime, kind: str, subject: str | None,
               payload: Any) -> str:
    return key.mac(canonical(prev, run_id, recorded_at, kind, subject, payload))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, sort_keys=True))


# -- checkpoints -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    """A signed claim "the chain had `seq` events and ended in `head`", kept outside the store."""

    seq: int
    head: str
    key_id: str
    mac: str
    run_id: str | None = None
    recorded_at: str | None = None
    source: str = "given"

    @staticmethod
    def message(seq: int, head: str) -> str:
        return f"followthrough-audit-checkpoint:{seq}:{head}"

    @classmethod
    def sign(cls, key: AuditKey, seq: int, head: str, run_id: str | None = None, source: str = "given") -> Checkpoint:
        return cls(seq=seq, head=head, key_id=key.key_id, mac=key.mac(cls.message(seq, head)), run_id=run_id,
                   recorded_at=_now().isoformat(timespec="seconds") + "Z", source=source)

    def signed_by(self, key: AuditKey) -> bool:
        return hmac.compare_digest(self.mac, key.mac(self.message(self.seq, self.head)))

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "head": self.head, "run_id": self.run_id, "recorded_at": self.recorded_at,
                "key_id": self.key_id, "mac": self.mac}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str) -> Checkpoint:
        try:
            seq, head = int(data["seq"]), str(data["head"])
            key_id, mac = str(data["key_id"]), str(data["mac"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{source} is not an audit checkpoint (needs seq, head, key_id, mac)") from None
        if seq < 0 or len(head) != 64:
            raise ValueError(f"{source} is not an audit checkpoint (seq {seq}, head {head[:16]}...)")
        return cls(seq=seq, head=head, key_id=key_id, mac=mac, run_id=data.get("run_id"),
                   recorded_at=data.get("recorded_at"), source=source)


def read_checkpoint_file(path: Path) -> Checkpoint:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read the checkpoint {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not an audit checkpoint")
    return Checkpoint.from_dict(data, source=str(path))


def find_checkpoint_files(reports_folder: Path) -> list[Path]:
    """The checkpoints the runs left in their report folders."""
    return sorted(reports_folder.glob(f"*/{CHECKPOINT_FILE}")) if reports_folder.is_dir() else []


# -- appending ---------------------------------------------------------------------------------
def _last_event(connection: Connection) -> Any:
    return connection.execute(
        sa.select(audit_events.c.seq, audit_events.c.hash, audit_events.c.scheme)
        .order_by(audit_events.c.seq.desc()).limit(1)).first()


def _prune_anchor(connection: Connection) -> Any:
    return connection.execute(
        sa.select(audit_checkpoints).where(audit_checkpoints.c.kind == "prune")
        .order_by(audit_checkpoints.c.seq.desc()).limit(1)).mappings().first()


# canonical()'s encoder, built once
_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def _compact(value: Any) -> str:
    return encode_basestring_ascii(value) if type(value) is str else _COMPACT.encode(value)


def _keys_are_text(value: Any) -> bool:
    """True when every mapping inside `value` is a plain dict with string keys."""
    kind = type(value)
    if kind is dict:
        if not set(map(type, value)) <= _TEXT:
            return False
        items: Iterable[Any] = value.values()
    elif kind is list or kind is tuple:
        items = value
    else:
        return not isinstance(value, dict)  # a dict subclass takes the general path
    for item in items:  # scalars need no call; only containers are walked
        inner = type(item)
        if inner in _SCALARS:
            continue
        if (inner is dict or inner is list or inner is tuple or isinstance(item, dict)) and not _keys_are_text(item):
            return False
    return True


_SCALARS = frozenset({str, int, float, bool, type(None)})
_TEXT = frozenset({str})


def _sealed(key: AuditKey, prev: str, run_id: str, kind: str, subject: str | None, payload: Any,
            recorded_at: datetime) -> dict[str, Any]:
    """One event's row, chained to `prev` and sealed under the key (not yet written).

    The payload is kept as its JSON text (the insert binds it as text) and the MAC covers `canonical(prev, run_id, recorded_at, kind, subject, <that payload read back>)`,
    composed here key by key in canonical()'s sorted order rather than through one more
    json.dumps of the whole event (test_audit checks the two agree).
    """
    if _keys_are_text(payload):
        # compact sorted JSON of a value whose keys are all strings reads back to the same text,
        # so the stored text is its own canonical form (no parse and second encoding per event)
        text = canonical_payload = _COMPACT.encode(payload)
    else:  # e.g. integer keys: sorted as numbers here, as strings once read back
        text = bulk.json_text(payload)
        canonical_payload = _COMPACT.encode(json.loads(text))
    message = (f'{{"kind":{_compact(kind)},"payload":{canonical_payload},"prev":{_compact(prev)},'
               f'"recorded_at":{_compact(recorded_at.isoformat(timespec="microseconds"))},'
               f'"run_id":{_compact(run_id)},"subject":{_compact(subject)}}}')
    return {"run_id": run_id, "recorded_at": recorded_at, "kind": kind, "subject": subject, "payload": text,
            "prev_hash": prev, "hash": key.mac(message), "scheme": SCHEME_KEYED}


def append_events(connection: Connection, run_id: str, events: Iterable[AuditEvent],
                  key: AuditKey | None = None) -> int:
    """Append events to the chain inside the caller's transaction, so they commit with it.

    The chain is sequential: each event's MAC covers the previous one's. The MACs are computed
    here, in order, and every row goes to the database in one bulk insert (executemany), so
    the number of statements does not grow with the number of events.
    """
    events = list(events)
    if not events:
        return 0
    key = key or active_key()
    if connection.dialect.name == "postgresql":
        # serialise writers so that two chains can never fork from the same last hash
        connection.execute(sa.text("LOCK TABLE ft_audit_events IN EXCLUSIVE MODE"))
    last = _last_event(connection)
    recorded_at = _now()  # the events of one append commit together: one instant for all of them
    rows: list[dict[str, Any]] = []
    if last is not None:
        prev = last.hash
        if last.scheme == SCHEME_LEGACY:  # the first keyed writer seals the unkeyed chain
            legacy = connection.execute(sa.select(sa.func.count()).select_from(audit_events)).scalar_one()
            rows.append(_sealed(key, prev, run_id, SEAL_KIND, None, {
                "legacy_events": int(legacy), "legacy_head": prev, "legacy_scheme": SCHEME_LEGACY,
                "key_id": key.key_id}, recorded_at))
            prev = rows[-1]["hash"]
    else:
        anchor = _prune_anchor(connection)
        prev = anchor["head"] if anchor else GENESIS_HASH
    for kind, subject, payload in events:
        rows.append(_sealed(key, prev, run_id, kind, subject, payload, recorded_at))
        prev = rows[-1]["hash"]
    # seq is autoincrement: rows of one executemany get consecutive numbers in list order
    bulk.insert_rows(connection, audit_events, rows, json_columns=["payload"])
    return len(events)


def current_checkpoint(connection: Connection, key: AuditKey | None = None, run_id: str | None = None,
                       record: bool = False) -> Checkpoint:
    """The chain's head now, signed; with `record`, also kept in the store's checkpoint table."""
    key = key or active_key()
    last = _last_event(connection)
    if last is None:
        anchor = _prune_anchor(connection)
        seq, head = (int(anchor["seq"]), str(anchor["head"])) if anchor else (0, GENESIS_HASH)
    else:
        seq, head = int(last.seq), str(last.hash)
    checkpoint = Checkpoint.sign(key, seq, head, run_id=run_id)
    if record:
        _record_checkpoint(connection, checkpoint, "run")
    return checkpoint


def _record_checkpoint(connection: Connection, checkpoint: Checkpoint, kind: str) -> None:
    connection.execute(audit_checkpoints.insert().values(
        kind=kind, run_id=checkpoint.run_id, seq=checkpoint.seq, head=checkpoint.head, key_id=checkpoint.key_id,
        mac=checkpoint.mac, recorded_at=_now()))


def stored_checkpoints(connection: Connection) -> list[Checkpoint]:
    rows = connection.execute(sa.select(audit_checkpoints).where(audit_checkpoints.c.kind != "prune")
                              .order_by(audit_checkpoints.c.id)).mappings()
    return [Checkpoint(seq=int(r["seq"]), head=str(r["head"]), key_id=str(r["key_id"]), mac=str(r["mac"]),
                       run_id=r["run_id"], recorded_at=str(r["recorded_at"]), source=f"store checkpoint {r['id']}")
            for r in rows]


# -- verifying ---------------------------------------------------------------------------------
@dataclass
class Verdict:
    """The outcome of a verification: intact or not, and each problem in words."""

    ok: bool
    events: int
    head: str
    last_seq: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checkpoints_checked: int = 0

    def message(self) -> str:
        if self.ok:
            extra = f", {self.checkpoints_checked} checkpoint(s) matched" if self.checkpoints_checked else \
                ", no checkpoint to check the tail against"
            return "\n".join([f"audit chain intact: {self.events} events (last seq {self.last_seq}, head "
                              f"{self.head[:12]}){extra}", *self.notes])
        return "\n".join(["AUDIT CHAIN BROKEN: " + self.problems[0], *self.problems[1:], *self.notes])


def _describe(row: Mapping[str, Any]) -> str:
    return f"event {row['seq']} ({row['kind']}, run {row['run_id']}, recorded {row['recorded_at']})"


def _first_break(rows: Sequence[Mapping[str, Any]], key: AuditKey, start_seq: int, start_head: str,
                 seal_seq: int | None) -> tuple[int, str | None]:
    """Walk the chain; return (how many events verified, the first problem or None)."""

    def self_consistent(row: Mapping[str, Any]) -> bool:
        legacy = seal_seq is not None and row["seq"] < seal_seq
        compute = plain_hash if legacy else (lambda *a: keyed_hash(key, *a))
        expected = compute(row["prev_hash"], row["run_id"], row["recorded_at"], row["kind"], row["subject"],
                           row["payload"])
        return hmac.compare_digest(str(row["hash"]), expected)

    prev, last_seq = start_head, start_seq
    for index, row in enumerate(rows):
        valid = self_consistent(row)
        if row["prev_hash"] == prev and valid:
            prev, last_seq = row["hash"], row["seq"]
            continue
        later = rows[index + 1:]
        follower = next((r for r in later if r["prev_hash"] == prev), None)
        if not valid and follower is not None and follower is rows[index + 1] and self_consistent(follower):
            return index, f"{_describe(row)} was inserted: it does not verify under the key, and event " \
                          f"{follower['seq']} chains to the event before it"
        if not valid:
            if index == 0 and not any(self_consistent(r) for r in rows[: min(len(rows), 50)]):
                return index, (f"{_describe(row)} does not verify under the audit key (key id {key.key_id}), nor "
                               "do the events after it: the log was rewritten without the key (e.g. with "
                               "recomputed plain hashes), or this is the wrong key")
            return index, f"{_describe(row)} was altered: its content no longer matches its seal"
        # a genuine event in the wrong place
        if follower is not None or any(r["hash"] == row["prev_hash"] for r in later):
            return index, (f"events reordered at {_describe(row)}: it was recorded after an event that now comes "
                           f"later in the log (the event that belongs here is at seq "
                           f"{follower['seq'] if follower else '?'})")
        if row["seq"] > last_seq + 1:
            missing = f"event {last_seq + 1}" if row["seq"] == last_seq + 2 else \
                f"events {last_seq + 1}..{row['seq'] - 1}"
            return index, f"{missing} deleted: {_describe(row)} chains to an event that is no longer in the log"
        return index, f"an event before {_describe(row)} was deleted: it chains to an event that is not in the log"
    return len(rows), None


def verify_chain(connection: Connection, key: AuditKey, checkpoints: Iterable[Checkpoint] = (),
                 use_stored_checkpoints: bool = True) -> Verdict:
    """Verify the chain from its start (or its prune anchor) and against every checkpoint."""
    columns = [audit_events.c[name] for name in EVENT_COLUMNS]
    rows = [dict(r) for r in connection.execute(sa.select(*columns).order_by(audit_events.c.seq)).mappings()]
    problems: list[str] = []
    notes: list[str] = []
    start_seq, start_head = 0, GENESIS_HASH
    anchor = _prune_anchor(connection) if _has_table(connection, "ft_audit_checkpoints") else None
    if anchor is not None:
        cp = Checkpoint(seq=int(anchor["seq"]), head=str(anchor["head"]), key_id=str(anchor["key_id"]),
                        mac=str(anchor["mac"]))
        if cp.signed_by(key):
            start_seq, start_head = cp.seq, cp.head
            notes.append(f"events 1..{cp.seq} were pruned by retention behind a signed anchor; verified from "
                         f"event {cp.seq + 1}")
        else:
            problems.append(f"the prune anchor at seq {cp.seq} is not signed by this key (key id {key.key_id})")
    seals = [r for r in rows if r["kind"] == SEAL_KIND]
    seal_seq = None
    if seals:
        seal_seq = int(seals[0]["seq"])
        legacy_count = sum(1 for r in rows if r["seq"] < seal_seq)
        claimed = (seals[0]["payload"] or {}).get("legacy_events")
        if len(seals) > 1:
            problems.append(f"the chain was sealed twice (events {seal_seq} and {seals[1]['seq']}): rewritten")
        if anchor is None and claimed != legacy_count:
            problems.append(f"the seal (event {seal_seq}) vouches for {claimed} unkeyed events, the log holds "
                            f"{legacy_count} before it")
        notes.append(f"events before {seal_seq} predate the audit key (plain SHA-256); the keyed seal at event "
                     f"{seal_seq} vouches for them")
    verified, problem = _first_break(rows, key, start_seq, start_head, seal_seq)
    if problem:
        problems.insert(0, problem)
    good = rows[:verified]
    last_seq = int(good[-1]["seq"]) if good else start_seq
    head = str(good[-1]["hash"]) if good else start_head
    by_seq = {int(r["seq"]): r for r in good}
    all_checkpoints = list(checkpoints)
    if use_stored_checkpoints and _has_table(connection, "ft_audit_checkpoints"):
        all_checkpoints += stored_checkpoints(connection)
    checked = 0
    for cp in all_checkpoints:
        if cp.key_id != key.key_id or not cp.signed_by(key):
            problems.append(f"checkpoint {cp.source} is not signed by this key (its key id {cp.key_id}, "
                            f"ours {key.key_id})")
            continue
        if problem and cp.seq > last_seq:
            continue  # the chain is already broken before it
        if cp.seq <= start_seq:
            continue  # pruned behind the anchor
        if cp.seq > last_seq:
            problems.append(f"truncated tail: checkpoint {cp.source} vouches for event {cp.seq} (head "
                            f"{cp.head[:12]}), but the log ends at event {last_seq}: events {last_seq + 1}.."
                            f"{cp.seq} are missing")
        elif by_seq.get(cp.seq, {}).get("hash") != cp.head:
            found = by_seq.get(cp.seq, {}).get("hash")
            problems.append(f"rewritten: checkpoint {cp.source} vouches for head {cp.head[:12]} at event {cp.seq}, "
                            f"the log has {str(found)[:12] if found else 'no such event'} there")
        else:
            checked += 1
    if not rows and start_seq == 0 and _count_runs(connection):
        problems.append(f"the log is empty, but the store records {_count_runs(connection)} run(s): "
                        "its events were deleted")
    return Verdict(ok=not problems, events=len(rows), head=head, last_seq=last_seq, problems=problems, notes=notes,
                   checkpoints_checked=checked)


def _count_runs(connection: Connection) -> int:
    return int(connection.execute(sa.text("SELECT COUNT(*) FROM ft_runs")).scalar_one())


def _has_table(connection: Connection, name: str) -> bool:
    return sa.inspect(connection).has_table(name)


def has_followthrough_schema(connection: Connection) -> bool:
    inspector = sa.inspect(connection)
    return all(inspector.has_table(t) for t in ("ft_alembic_version", "ft_runs", "ft_audit_events"))


# -- retention ---------------------------------------------------------------------------------
def prune_through(connection: Connection, seq: int, key: AuditKey | None = None) -> int:
    """Delete events 1..seq behind a signed prune anchor, after verifying them; return how many."""
    key = key or active_key()
    verdict = verify_chain(connection, key, use_stored_checkpoints=True)
    if not verdict.ok:
        raise StoreError("refusing to prune an audit chain that does not verify: " + verdict.problems[0])
    if seq > verdict.last_seq:
        raise StoreError(f"cannot prune through event {seq}: the log ends at {verdict.last_seq}")
    row = connection.execute(sa.select(audit_events.c.hash).where(audit_events.c.seq == seq)).first()
    if row is None:
        return 0
    _record_checkpoint(connection, Checkpoint.sign(key, seq, str(row.hash), source="prune"), "prune")
    # checkpoints before the anchor vouch for events that are gone; the anchor now vouches for them
    connection.execute(audit_checkpoints.delete().where(
        (audit_checkpoints.c.kind != "prune") & (audit_checkpoints.c.seq <= seq)))
    connection.execute(audit_checkpoints.delete().where(
        (audit_checkpoints.c.kind == "prune") & (audit_checkpoints.c.seq < seq)))
    return int(connection.execute(audit_events.delete().where(audit_events.c.seq <= seq)).rowcount)


def last_seq_before(connection: Connection, instant: datetime) -> int | None:
    """The last event recorded before `instant` (naive UTC), the retention horizon of the log."""
    value = connection.execute(sa.select(sa.func.max(audit_events.c.seq))
                               .where(audit_events.c.recorded_at < instant)).scalar()
    return int(value) if value is not None else None
