"""The keyed audit chain on SQLite and PostgreSQL: every kind of tampering is caught and named.

Each tamper test writes a chain through the store, changes the database directly as an
intruder with write access but without the key would, and checks that verification fails
and names what happened.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from followthrough.store import audit
from followthrough.store.audit import AuditKey, Checkpoint, plain_hash
from followthrough.store.repository import Store
from followthrough.store.schema import metadata

KEY = AuditKey(b"followthrough-test-audit-key-0001")
OTHER_KEY = AuditKey(b"someone-elses-key-with-16-bytes")


def _empty_pg(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))
        connection.execute(sa.text("DROP TABLE IF EXISTS ft_alembic_version"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_url")
    _empty_pg(url)
    return url


@pytest.fixture
def store(store_url: str) -> Store:
    store = Store(store_url)
    store.migrate()
    return store


def _chain(store: Store, events: int = 6) -> Checkpoint:
    """`events` events over two runs; the checkpoint after the last."""
    half = events // 2
    store.append_audit("run-1", [(f"e{i}", f"s{i}", {"i": i}) for i in range(1, half + 1)])
    store.append_audit("run-2", [(f"e{i}", f"s{i}", {"i": i}) for i in range(half + 1, events + 1)])
    return store.audit_checkpoint("run-2", record=False, key=KEY)


def _sql(store: Store, statement: str, **params: object) -> None:
    with store.engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def _rows(store: Store) -> list[dict]:
    return store.audit_events()


def test_an_untouched_chain_verifies_with_its_checkpoint(store: Store) -> None:
    checkpoint = _chain(store)
    verdict = store.verify_audit(KEY, [checkpoint])
    assert verdict.ok, verdict.problems
    assert (verdict.events, verdict.last_seq, verdict.checkpoints_checked) == (6, 6, 1)
    assert "audit chain intact: 6 events" in verdict.message()


def test_altered_row(store: Store) -> None:
    _chain(store)
    _sql(store, "UPDATE ft_audit_events SET payload = :p WHERE seq = 3", p='{"i": 99}')
    verdict = store.verify_audit(KEY)
    assert not verdict.ok
    assert verdict.problems[0].startswith("event 3 (e3")
    assert "was altered" in verdict.problems[0]


def test_deleted_middle_row(store: Store) -> None:
    _chain(store)
    _sql(store, "DELETE FROM ft_audit_events WHERE seq = 4")
    verdict = store.verify_audit(KEY)
    assert not verdict.ok
    assert verdict.problems[0].startswith("event 4 deleted: event 5 (e5")


def test_inserted_row(store: Store) -> None:
    _chain(store)
    rows = _rows(store)
    _sql(store, "UPDATE ft_audit_events SET seq = seq + 100 WHERE seq >= 4")  # make room after event 3
    forged_at = datetime(2026, 7, 15, 12, 0)
    forged = plain_hash(rows[2]["hash"], "run-2", forged_at, "action_sent", "fp", {"to": "nobody"})
    _sql(store, "INSERT INTO ft_audit_events (seq, run_id, recorded_at, kind, subject, payload, prev_hash, hash, "
                "scheme) VALUES (4, 'run-2', :at, 'action_sent', 'fp', :p, :prev, :h, 'hmac-sha256')",
         at=forged_at, p='{"to": "nobody"}', prev=rows[2]["hash"], h=forged)
    verdict = store.verify_audit(KEY)
    assert not verdict.ok
    assert verdict.problems[0].startswith("event 4 (action_sent")
    assert "was inserted" in verdict.problems[0]


def test_reordered_rows(store: Store) -> None:
    _chain(store)
    _sql(store, "UPDATE ft_audit_events SET seq = -1 WHERE seq = 2")
    _sql(store, "UPDATE ft_audit_events SET seq = 2 WHERE seq = 3")
    _sql(store, "UPDATE ft_audit_events SET seq = 3 WHERE seq = -1")
    verdict = store.verify_audit(KEY)
    assert not verdict.ok
    assert verdict.problems[0].startswith("events reordered at event 2 (e3")


def test_truncated_tail_is_caught_given_the_last_checkpoint(store: Store) -> None:
    checkpoint = _chain(store)
    _sql(store, "DELETE FROM ft_audit_events WHERE seq >= 5")
    assert store.verify_audit(KEY).ok  # what remains is a consistent chain: only the checkpoint tells
    verdict = store.verify_audit(KEY, [checkpoint])
    assert not verdict.ok
    assert verdict.problems[0].startswith("truncated tail: checkpoint given vouches for event 6")
    assert "events 5..6 are missing" in verdict.problems[0]


def test_everything_deleted_is_not_intact(store: Store) -> None:
    checkpoint = _chain(store)
    store.start_run("run-2", "followthrough_enforce", "2026-07-15T10:00Z", "abc")
    _sql(store, "DELETE FROM ft_audit_events")
    verdict = store.verify_audit(KEY, [checkpoint])
    assert not verdict.ok
    assert any("events 1..6 are missing" in p for p in verdict.problems)
    assert any("the store records 1 run(s)" in p for p in store.verify_audit(KEY).problems)


def test_full_rewrite_with_recomputed_plain_hashes(store: Store) -> None:
    _chain(store)
    prev = audit.GENESIS_HASH
    for row in _rows(store):  # the intruder rewrites every event and recomputes a consistent plain chain
        payload = {"i": 0}
        digest = plain_hash(prev, row["run_id"], row["recorded_at"], row["kind"], row["subject"], payload)
        _sql(store, "UPDATE ft_audit_events SET payload = :p, prev_hash = :prev, hash = :h WHERE seq = :seq",
             p='{"i": 0}', prev=prev, h=digest, seq=row["seq"])
        prev = digest
    verdict = store.verify_audit(KEY)
    assert not verdict.ok
    assert "rewritten without the key" in verdict.problems[0]


def test_rewrite_with_the_key_is_caught_by_a_checkpoint(store: Store) -> None:
    """Someone holding the key can rebuild a chain; an earlier checkpoint kept elsewhere still disagrees."""
    checkpoint = _chain(store)
    _sql(store, "DELETE FROM ft_audit_events")
    store.append_audit("run-x", [(f"e{i}", None, {"i": -i}) for i in range(1, 7)])
    verdict = store.verify_audit(KEY, [checkpoint])
    assert not verdict.ok
    assert verdict.problems[0].startswith("rewritten: checkpoint given vouches for head")


def test_forged_checkpoint_is_rejected(store: Store) -> None:
    _chain(store)
    forged = Checkpoint.sign(OTHER_KEY, 6, _rows(store)[-1]["hash"])
    verdict = store.verify_audit(KEY, [forged])
    assert not verdict.ok
    assert "is not signed by this key" in verdict.problems[0]


def test_checkpoints_in_the_store_are_checked_too(store: Store) -> None:
    _chain(store)
    store.audit_checkpoint("run-2", record=True, key=KEY)
    _sql(store, "DELETE FROM ft_audit_events WHERE seq = 6")
    verdict = store.verify_audit(KEY)
    assert not verdict.ok
    assert verdict.problems[0].startswith("truncated tail: checkpoint store checkpoint 1 vouches for event 6")


def test_wrong_key_says_so(store: Store) -> None:
    _chain(store)
    verdict = store.verify_audit(OTHER_KEY)
    assert not verdict.ok
    assert "or this is the wrong key" in verdict.problems[0]


def test_checkpoint_round_trips_through_its_file(store: Store, tmp_path: Path) -> None:
    import json

    checkpoint = _chain(store)
    path = tmp_path / "cp.json"
    path.write_text(json.dumps(checkpoint.as_dict()))
    assert audit.read_checkpoint_file(path).signed_by(KEY)
    path.write_text('{"seq": "x"}')
    with pytest.raises(ValueError, match="is not an audit checkpoint"):
        audit.read_checkpoint_file(path)


def test_unkeyed_chain_is_migrated_and_stays_verifiable(store_url: str) -> None:
    """A store at revision 0002 with a plain SHA-256 chain: the upgrade keeps it, the first keyed append seals it."""
    from alembic import command
    from alembic.config import Config

    from followthrough.store.repository import MIGRATIONS

    store = Store(store_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    prev = audit.GENESIS_HASH
    for i in range(1, 4):  # what the pre-key code wrote
        at = datetime(2026, 7, 1, 10, i)
        digest = plain_hash(prev, "old-run", at, f"old{i}", None, {"i": i})
        _sql(store, "INSERT INTO ft_audit_events (run_id, recorded_at, kind, subject, payload, prev_hash, hash) "
                    "VALUES ('old-run', :at, :k, NULL, :p, :prev, :h)", at=at, k=f"old{i}", p=f'{{"i": {i}}}',
             prev=prev, h=digest)
        prev = digest
    store.migrate()
    store.append_audit("new-run", [("run_started", None, {})])
    rows = _rows(store)
    assert [r["kind"] for r in rows] == ["old1", "old2", "old3", "audit_chain_keyed", "run_started"]
    verdict = store.verify_audit(KEY)
    assert verdict.ok, verdict.problems
    assert "predate the audit key" in verdict.message()
    _sql(store, "UPDATE ft_audit_events SET payload = :p WHERE seq = 2", p='{"i": 7}')
    broken = store.verify_audit(KEY)
    assert not broken.ok
    assert broken.problems[0].startswith("event 2 (old2")


def test_pruning_keeps_the_chain_verifiable_behind_a_signed_anchor(store: Store) -> None:
    checkpoint = _chain(store)
    assert store.prune_audit_through(4, key=KEY) == 4
    assert [r["seq"] for r in _rows(store)] == [5, 6]
    verdict = store.verify_audit(KEY, [checkpoint])
    assert verdict.ok, verdict.problems
    assert "pruned by retention" in verdict.message()
    store.append_audit("run-3", [("e7", None, {})])
    assert store.verify_audit(KEY).ok
    _sql(store, "DELETE FROM ft_audit_checkpoints WHERE kind = 'prune'")  # hiding the pruning breaks it
    assert not store.verify_audit(KEY).ok


def test_pruning_refuses_a_broken_chain(store: Store) -> None:
    from followthrough.exceptions import StoreError

    _chain(store)
    _sql(store, "DELETE FROM ft_audit_events WHERE seq = 2")
    with pytest.raises(StoreError, match="does not verify"):
        store.prune_audit_through(4, key=KEY)


@pytest.mark.parametrize("payload", [
    {"b": 1, "a": [1.5, None, True], "ünï": "✓ \"quoted\" \\ <tag>", "nested": {"z": {}, "y": [{"k": "v"}]}},
    {"when": datetime(2026, 7, 15, 10, 0), "pair": (1, 2), "counts": {10: "ten", 2: "two"}},
    # integer keys deep inside, a dict subclass, floats whose text must survive a read back
    {"rows": [{"ok": 1}, {"days": {7: 1, 30: 2}}], "ordered": OrderedDict([("b", 2), ("a", 1)]),
     "floats": [1e16, -0.0, 0.1 + 0.2, 123456789.123456789]},
    None,
    {},
])
def test_a_sealed_event_is_the_canonical_json_of_its_payload_as_stored(payload: object) -> None:
    """The composed MAC message and payload text agree with canonical() over the payload as read back."""
    import json

    from followthrough.store.bulk import json_safe

    row = audit._sealed(KEY, "ab" * 32, "run-ü", "finding_new", None if payload is None else "fp-1", payload,
                        audit._now())
    assert json.loads(row["payload"]) == json_safe(payload)
    assert row["hash"] == audit.keyed_hash(KEY, "ab" * 32, "run-ü", row["recorded_at"], "finding_new",
                                           None if payload is None else "fp-1", json_safe(payload))
