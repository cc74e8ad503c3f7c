"""Task adapters: what each task of `followthrough_enforce` does, between Airflow and the domain.

Each function takes plain values (run id, DAG id, the run's as-of instant as ISO text) and
returns a small JSON-able dict for XCom. No task reads a file another task wrote to a worker's
disk: the sources' canonical rows, the run's policy and every finding live in the store, and the
frames one task hands to the next are staged under FOLLOWTHROUGH_STAGING_URL (an Airflow
ObjectStoragePath: a folder by default, object storage in a deployment); a missing staged input
fails the task. Every step can be re-run: writes are upserts and every action has an
idempotency key.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from followthrough import config, staging
from followthrough.collector import collected_once
from followthrough.model import ENTITIES
from followthrough.policy import JiraSource, LoadedPolicy, load_policy

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.store.repository import Store

log = logging.getLogger(__name__)

# subject types of findings -> the canonical entity whose rows they are about
SUBJECT_ENTITIES = {"incident": "incidents", "postmortem": "postmortems", "action_item": "action_items"}


def as_timestamp(as_of: str) -> pd.Timestamp:
    import pandas as pd

    ts = pd.Timestamp(as_of)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def store_connection() -> tuple[str, dict[str, Any]]:
    """The store's SQLAlchemy URL and driver options: the Connection `followthrough_db` when it
    exists (read through the postgres provider, so extras such as sslmode and options apply),
    else the embedded SQLite store."""
    try:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:  # outside Airflow (CLI, unit tests)
        return config.default_store_url(), {}
    try:
        connection = BaseHook.get_connection(config.STORE_CONN_ID)
    except AirflowNotFoundException:
        log.info("no Connection %s: using the embedded store %s", config.STORE_CONN_ID, config.default_store_url())
        return config.default_store_url(), {}
    return connection_url(connection)


def connection_url(connection: Any) -> tuple[str, dict[str, Any]]:
    """URL and connect_args for an Airflow Connection of type postgres (or sqlite, for tests)."""
    if connection.conn_type in ("postgres", "postgresql"):
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        hook = PostgresHook(postgres_conn_id=connection.conn_id)
        hook.connection = connection
        url = hook.sqlalchemy_url
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg2")
        extras = {k: v for k, v in connection.extra_dejson.items() if k not in hook.ignored_extra_options}
        return url.render_as_string(hide_password=False), extras
    if connection.conn_type == "sqlite":
        return f"sqlite:///{connection.host}", {}
    raise ValueError(f"Connection {config.STORE_CONN_ID} has type {connection.conn_type!r}; use postgres or sqlite")


def open_store() -> Store:
    from followthrough.store.repository import Store

    url, connect_args = store_connection()
    store = Store(url, connect_args=connect_args)
    store.migrate()
    return store


def run_policy(store: Store, run_id: str) -> LoadedPolicy:
    """The policy this run's first task stored; a run that stored none (a digest run) reads the file."""
    record = store.run_policy(run_id)
    return LoadedPolicy.from_record(record) if record else load_policy(config.policy_path())


@collected_once
def extract_sources(run_id: str, dag_id: str, as_of: str, full_extract: bool = False) -> dict[str, Any]:
    """Read every configured source and upsert its rows into the store; open the run record.

    The policy is read here, once, and stored with the run: every later task of the run uses
    that copy. `full_extract` ignores the Jira watermarks (a backfill of the whole history).
    """
    loaded = load_policy(config.policy_path())
    store = open_store()
    with run_lock(store, run_id) as first_pass:
        return _extract_sources(store, loaded, run_id, dag_id, as_of, full_extract, first_pass)


def _extract_sources(store: Store, loaded: LoadedPolicy, run_id: str, dag_id: str, as_of: str,
                     full_extract: bool, first_pass: bool) -> dict[str, Any]:
    from followthrough.sources.files import read_export
    from followthrough.store.source_rows import Completeness

    if first_pass or store.get_run(run_id) is None:
        store.start_run(run_id, dag_id, as_timestamp(as_of), loaded.content_hash)
    # else: cleared alone in a recorded run, no record_run follows to finish the run again, so its record
    # stays as record_run left it ("running" for good would also hide it from the replay check)
    store.store_run_policy(run_id, loaded.to_record())
    loaded = run_policy(store, run_id)  # a retry keeps the policy its first attempt stored
    store.append_audit(run_id, [("run_started", None, {
        "dag_id": dag_id, "as_of": as_of, "policy_path": str(loaded.path), "policy_hash": loaded.content_hash,
        "sources": [s.model_dump() for s in loaded.policy.sources]})])
    rows: dict[str, dict[str, int]] = {}
    for source in loaded.policy.sources:
        if isinstance(source, JiraSource):
            frames = _extract_jira(store, source, run_id, as_of, full_extract)
        else:
            export = read_export(loaded.source_path(source), absent=source.absent_entities)
            frames = export.frames
            # rows the reader could not split into fields (the contract checks the others)
            store.upsert_quarantine(source.name, run_id, as_timestamp(as_of), export.quarantine)
            # a file export is a complete snapshot: a row no longer in it is gone
            store.upsert_source_rows(source.name, frames, Completeness(entities=set(frames)), run_id,
                                     as_timestamp(as_of))
        rows[source.name] = {name: len(frame) for name, frame in frames.items()}
        log.info("source %s: %s", source.name, rows[source.name])
    return {"policy_hash": loaded.content_hash, "rows": rows}


# an enforcement run holds the store's run lock from extraction to its record, renewed by its tasks; a run
# that died holding it loses it after this long (one that failed for good releases it: notifiers.py)
RUN_LOCK_SECONDS = 2 * 3600

# record_run's Airflow states in which it is still to run, and so will give the run lock back
_RECORD_TO_RUN = frozenset({None, "none", "scheduled", "queued", "running", "up_for_retry", "up_for_reschedule",
                            "deferred", "restarting"})


@contextmanager
def run_lock(store: Store, run_id: str) -> Iterator[bool]:
    """Hold the store's run lock around one task of an enforcement run (``hold_run_lock`` takes or renews it).

    In the run's first pass the lock outlives the task: the run's later tasks renew it and ``record_run``
    gives it back, so no other run slips in between two tasks. A task cleared in Airflow after the run was
    recorded re-runs without a ``record_run`` after it: it gives the lock back when it ends (a failure
    included), else the next run would be refused for the whole lease. When the re-run's ``record_run`` was
    cleared too, the lock is kept from task to task again, until that record gives it back. Yields whether
    this is such a pass (a ``record_run`` follows), False for a task re-run alone.
    """
    hold_run_lock(store, run_id)  # refused: nothing is held, nothing to give back
    keep = record_run_pending(run_id)
    if keep is None:  # outside Airflow (CLI, tests): a run the store has recorded is past its first pass
        keep = (store.get_run(run_id) or {}).get("status") != "succeeded"
    try:
        yield keep
    finally:
        if not keep and store.release_run_lock(run_id):
            log.info("run %s was recorded before and its record_run does not run again: the run lock is "
                     "given back as this task ends", run_id)


def record_run_pending(run_id: str) -> bool | None:
    """Whether this run's ``record_run`` is still to run, as Airflow knows it (the first pass, or a clear that
    took the downstream tasks with it); None outside an Airflow task (the store's record decides then).

    Inside a task whose question Airflow cannot answer (its API unreachable), True: the lock is kept, as in a
    first pass. Guessing "recorded" from the store instead could give the lock away between the tasks of a
    whole re-run, letting another run interleave; kept wrongly, it ends with its lease.
    """
    try:
        from airflow.sdk import get_current_context
    except ImportError:
        return None
    try:
        ti = get_current_context()["ti"]
    except Exception:  # noqa: BLE001  no task context: the store's record decides
        return None
    try:
        states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[run_id], task_ids=["record_run"])
    except Exception as exc:  # noqa: BLE001  any failure of the lookup keeps the lock (see above)
        log.warning("record_run's state of run %s is unknown (%s: %s); the run lock is kept as in a first pass",
                    run_id, type(exc).__name__, exc)
        return True
    by_task = (states or {}).get(run_id) or {}
    if "record_run" not in by_task:
        return None
    state = by_task["record_run"]
    return getattr(state, "value", state) in _RECORD_TO_RUN


def hold_run_lock(store: Store, run_id: str) -> None:
    """Take or renew the store's enforcement run lock, or refuse: two runs at once would both reconcile
    the same findings (a scheduled and a manual run, two schedulers). The refused task fails and is
    retried, so the second run waits for the first; a run that died holding the lock loses it after
    ``RUN_LOCK_SECONDS``."""
    from followthrough.exceptions import RunLocked

    holder = store.acquire_run_lock(run_id, RUN_LOCK_SECONDS)
    if holder is not None:
        raise RunLocked(
            f"enforcement run {holder['run_id']!r} holds the store's run lock (taken {_minute(holder['acquired_at'])}, "
            f"its lease ends {_minute(holder['expires_at'])}); run {run_id!r} does not run alongside it and is "
            "retried")


def _minute(value: Any) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else "unknown"


def connection_required(conn_id: str) -> None:
    """Fail loudly (and without retries) when a live source or gateway has no Connection."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    from followthrough.exceptions import ConnectionMissing

    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise ConnectionMissing(f"Airflow Connection {conn_id!r} is not defined; the policy asks for live "
                                "access through it (see README: Configuration)") from None


def _extract_jira(store: Store, source: JiraSource, run_id: str, as_of: str,
                 full_extract: bool = False) -> dict[str, pd.DataFrame]:
    """Extract changes since the watermark and upsert them into the store with the new watermark.

    Changed issues replace their earlier rows by id; the comments and changes of a re-read issue
    that Jira no longer returns are gone. Once a day (the first run of a UTC day) and on every
    backfill, an id-only sweep lists every issue in scope: rows of issues it does not list were
    deleted or moved out of scope, and are gone. Rows the extractor could not map are quarantined.
    """
    from followthrough.gateways.jira import JiraClient
    from followthrough.sources.jira import extract
    from followthrough.store.source_rows import Completeness

    connection_required(source.conn_id)
    client = JiraClient.from_connection(source.conn_id)
    instant = as_timestamp(as_of)
    watermark = None if full_extract else store.watermark(source.name)
    sweep_mark = f"{source.name}:sweep"
    last_sweep = store.watermark(sweep_mark)
    sweep = watermark is None or last_sweep is None or last_sweep.date() < instant.date()
    known = store.source_frames(source.name).get("action_items")
    known_linked = [] if known is None or "via_link" not in known else \
        known.loc[known["via_link"] == "true", "action_item_id"].tolist()
    try:
        result = extract(client, source.jira, watermark, sweep=sweep, known_linked=known_linked)
    except Exception as exc:
        # the task fails (and Airflow retries it); the faults it met stay in the audit trail
        store.append_audit(run_id, [("source_read_failed", None, {
            "source": source.name, "error": f"{type(exc).__name__}: {client.mask(str(exc))}"[:2000],
            **_transport_observations(client)})])
        raise
    store.append_audit(run_id, [("source_read", None, {
        "source": source.name, "fetched": dict(result.fetched), "sweep": sweep, **_transport_observations(client)})])
    store.upsert_quarantine(source.name, run_id, instant, result.quarantine)
    reread = set(result.frames["action_items"]["action_item_id"].astype(str))
    complete = Completeness(parents={"status_updates": reread, "action_item_history": reread})
    if result.present_keys is not None:
        complete.entities = set(result.present_keys)
        complete.keys = result.present_keys
    counts = store.upsert_source_rows(source.name, result.frames, complete, run_id, instant, watermark=result.watermark)
    if result.present_keys is not None:
        store.set_watermark(sweep_mark, instant.to_pydatetime(), run_id)
    log.info("jira source %s: fetched %s (%s through links) since %s, JQL dates in %s; sweep: %s; gone: %s",
             source.name, result.fetched, result.linked, watermark, result.timezone, sweep,
             {entity: c.gone for entity, c in counts.items() if c.gone})
    return result.frames


def _transport_observations(client: Any) -> dict[str, Any]:
    """The faults a Jira client met (by kind), the retries and rate-limit waits it spent, its requests."""
    return {"faults": {k: n for k, n in sorted(client.faults.items()) if n}, "requests": client.stats["requests"],
            "retries": client.stats["retries"] + client.stats["rate_limited"]}


@collected_once
def validate_source_contract(run_id: str, as_of: str) -> dict[str, Any]:
    """Great Expectations source contract: quarantine bad rows (kept in the store), stage the rest."""
    import pandas as pd

    from followthrough.model import empty_raw_frame
    from followthrough.quality.gx import QUARANTINE_COLUMNS, apply_source_contract

    store = open_store()
    loaded = run_policy(store, run_id)
    extracted = {str(e["subject"]) for e in store.audit_events(run_id, kinds=["source_extracted"])}
    quarantined: dict[str, int] = {}
    for source in loaded.policy.sources:
        if source.name not in extracted:
            from followthrough.exceptions import StagingMissing

            raise StagingMissing(f"source {source.name} was not extracted in run {run_id}: run extract_sources first")
        raw = store.source_frames(source.name, renumber=isinstance(source, JiraSource))
        for schema in ENTITIES:  # entities a source does not provide (Jira has no roster; absent_entities)
            if schema.name not in raw:
                raw[schema.name] = empty_raw_frame(schema)
        with tempfile.TemporaryDirectory(prefix="ft-docs-") as docs:
            result = apply_source_contract(raw, list(ENTITIES), docs_folder=Path(docs))
            # rendered here, shown by the report that record_run writes, maybe on another worker
            staging.write_tree(run_id, f"data_docs/source_contract/{source.name}", Path(docs))
        store.upsert_quarantine(source.name, run_id, as_timestamp(as_of), result.quarantine)
        # this run's quarantine of the source: the contract's rows and those its extractor could not map
        seen = [q for q in store.quarantine_seen_in(run_id) if q["source"] == source.name]
        quarantine = pd.DataFrame(seen, columns=[*QUARANTINE_COLUMNS, "source"])[QUARANTINE_COLUMNS]
        quarantine["raw"] = quarantine["raw"].map(json.dumps)
        staging.write_frames(run_id, f"clean/{source.name}", {**result.clean, "quarantine": quarantine})
        quarantined[source.name] = len(quarantine)
        for row in seen:
            log.warning("quarantined %s row %s (%s): %s", row["entity"], row["row_number"], row["record_id"],
                        row["reason"])
    return {"quarantined_rows": quarantined}


def load_clean_frames(run_id: str, loaded: LoadedPolicy) -> dict[str, pd.DataFrame]:
    """The typed canonical frames of every source of this run, concatenated."""
    import pandas as pd

    per_source = [staging.read_frames(run_id, f"clean/{s.name}") for s in loaded.policy.sources]
    frames = {
        name: pd.concat([f[name] for f in per_source], ignore_index=True)
        for name in [e.name for e in ENTITIES] + ["quarantine"]
    }
    frames["quarantine"]["raw"] = frames["quarantine"]["raw"].map(json.loads)
    return frames


@collected_once
def evaluate_rules(run_id: str, as_of: str) -> dict[str, Any]:
    """Run the rule catalog as of the run's instant; stage the findings."""
    from followthrough.catalog import RULE_IDS
    from followthrough.quality.gx import validate_followup
    from followthrough.rules import evaluate_rules as run_rules
    from followthrough.store.bulk import json_text

    store = open_store()
    loaded = run_policy(store, run_id)
    frames = load_clean_frames(run_id, loaded)
    findings = run_rules(frames, loaded.policy, as_timestamp(as_of))
    with tempfile.TemporaryDirectory(prefix="ft-docs-") as docs:
        validate_followup(findings, list(RULE_IDS), list(frames["teams"]["team_id"]), docs_folder=Path(docs))
        staging.write_tree(run_id, "data_docs/followup", Path(docs))
    staged = findings.assign(evidence=[json_text(e) for e in findings["evidence"]])
    staging.write_frames(run_id, "findings", {"findings": staged})
    by_rule = findings.groupby("rule").size().to_dict() if not findings.empty else {}
    return {"findings": len(findings), "by_rule": {str(k): int(v) for k, v in by_rule.items()},
            "data_docs": str(config.report_dir(run_id) / "data_docs" / "followup" / "index.html")}


@collected_once
def reconcile_findings(run_id: str, as_of: str, confirm_mass_resolve: bool = False) -> dict[str, Any]:
    """Compare today's findings with the store's: new, ongoing, reopened, resolved (fixed or gone).

    The safety valves (followthrough.safety) apply here: a replay changes no finding's state,
    and a mass resolution is held, and alerted, until a run confirms it.
    """
    store = open_store()
    loaded = run_policy(store, run_id)
    with run_lock(store, run_id):
        return _reconcile_findings(store, loaded, run_id, as_of, confirm_mass_resolve)


def _reconcile_findings(store: Store, loaded: LoadedPolicy, run_id: str, as_of: str,
                        confirm_mass_resolve: bool) -> dict[str, Any]:
    from followthrough.findings import apply_waivers, reconcile, with_fingerprints
    from followthrough.safety import emptied_entities, is_replay, mass_resolution

    instant = as_timestamp(as_of)
    current = staging.read_frames(run_id, "findings")["findings"]
    current["evidence"] = current["evidence"].map(json.loads)
    current = apply_waivers(with_fingerprints(current), loaded.policy.waivers, instant)
    stored = store.findings_frame()
    changes = mark_gone_subjects(reconcile(current, stored), store)
    counts = changes["change"].value_counts().to_dict() if not changes.empty else {}
    result: dict[str, Any] = {change: int(counts.get(change, 0))
                              for change in ("new", "ongoing", "changed", "reopened", "resolved", "waived")}
    result["resolved_gone"] = int((changes.get("resolution") == "gone").sum()) if not changes.empty else 0
    latest = store.latest_run_as_of(exclude_run_id=run_id)
    if is_replay(instant, latest):
        # computed and reported, never applied: an older day cannot undo what later runs saw
        store.append_audit(run_id, [("run_replay", None, {"as_of": as_of, "latest_as_of": str(latest),
                                                          "would_change": result})])
        log.warning("replay: as of %s is earlier than the latest run's %s; no finding changes, no actions",
                    as_of, latest)
        return {**result, "replay": True}
    events = store.audit_events(run_id, kinds=["source_extracted"])
    hold = mass_resolution(changes, stored, loaded.policy.safety, emptied_entities(events))
    if hold is not None and not confirm_mass_resolve:
        changes = changes[changes["change"] != "resolved"]
        store.append_audit(run_id, [("resolutions_held", None, hold.as_dict())])
        _alert_hold(store, loaded.policy, run_id, as_of, hold.reason, hold.resolutions)
        log.warning("resolutions held: %s; trigger with {\"confirm_mass_resolve\": true} to apply them", hold.reason)
        result["held_resolutions"] = hold.resolutions
    elif hold is not None:
        store.append_audit(run_id, [("resolutions_confirmed", None, hold.as_dict())])
    store.apply_reconciliation(changes, run_id, instant)
    return result


def _alert_hold(store: Store, policy: Any, run_id: str, as_of: str, reason: str, count: int) -> None:
    from followthrough.escalation import escape_slack
    from followthrough.gateways.outbox import plan_platform_alerts

    text = (f"Followthrough held {count} resolutions in run {escape_slack(run_id)} (as of {as_of}): "
            f"{escape_slack(reason)}. Nothing was resolved and no ticket was closed. If the data is right, "
            "trigger followthrough_enforce with {\"confirm_mass_resolve\": true}; otherwise fix the source.")
    plan_platform_alerts(store, policy, run_id, as_of, [(f"alert/held/{run_id}", text)])


def is_replay_run(store: Store, run_id: str) -> bool:
    return bool(store.audit_events(run_id, kinds=["run_replay"]))


def mark_gone_subjects(changes: pd.DataFrame, store: Store) -> pd.DataFrame:
    """Resolved findings say why: `fixed`, or `gone` when their subject left every source."""
    import numpy as np

    if changes.empty:
        return changes.assign(resolution=None)
    present = store.present_ids(SUBJECT_ENTITIES.values())
    resolved = (changes["change"] == "resolved").to_numpy()
    gone = np.array([
        (entity := SUBJECT_ENTITIES.get(str(kind))) is not None and str(subject) not in present[entity]
        for kind, subject in zip(changes["subject_type"], changes["subject_id"], strict=True)
    ], dtype=bool)
    out = changes.copy()
    out["resolution"] = [("gone" if g else "fixed") if r else None for r, g in zip(resolved, gone, strict=True)]
    return out


@collected_once
def plan_actions(run_id: str, as_of: str) -> dict[str, int]:
    """Put today's ladder actions into the outbox (insert-if-absent by idempotency key)."""
    instant = as_timestamp(as_of)
    store = open_store()
    if is_replay_run(store, run_id):
        return {"planned": 0, "added": 0, "replay": 1}
    loaded = run_policy(store, run_id)
    with run_lock(store, run_id):
        return _plan_actions(store, loaded, run_id, instant)


def _plan_actions(store: Store, loaded: LoadedPolicy, run_id: str, instant: pd.Timestamp) -> dict[str, int]:
    from followthrough.escalation import DIRECT_MESSAGES, cap_direct_messages
    from followthrough.escalation import plan_actions as plan
    from followthrough.store import outbox as states
    from followthrough.store.repository import utc_naive

    stored = store.findings_frame()
    open_findings = stored[stored["status"] == "open"]
    resolved = stored[(stored["status"] == "resolved") & (stored["resolved_as_of"] == utc_naive(instant))]
    # only the kinds read below: a first run's tens of thousands of finding_new events are not parsed
    events = store.audit_events(run_id, kinds=["finding_changed", "finding_reopened", "finding_waived"])
    changed = frozenset(str(e["subject"]) for e in events if e["kind"] == "finding_changed")
    owner_moved = {str(e["subject"]): str(e["payload"]["previous_responsible"]) for e in events
                   if e["kind"] == "finding_changed" and (e["payload"] or {}).get("previous_responsible")}
    unwaived = frozenset(str(e["subject"]) for e in events
                         if e["kind"] == "finding_reopened" and (e["payload"] or {}).get("previous_status") == "waived")
    waived_now = frozenset(str(e["subject"]) for e in events if e["kind"] == "finding_waived")
    waived = stored[(stored["status"] == "waived") & stored["fingerprint"].isin(waived_now)]
    actions = plan(open_findings, resolved, load_clean_frames(run_id, loaded), loaded.policy, instant, changed,
                   waived=waived, unwaived=unwaived, owner_moved=owner_moved)
    actions = cap_direct_messages(actions, loaded.policy.dispatch.max_dms_per_person_per_day, instant,
                                  store.direct_messages_on(instant, DIRECT_MESSAGES))
    added = store.add_to_outbox(actions, run_id, instant)
    # messages still waiting for a finding that is no longer open are superseded
    cancelled = states.cancel(store, [*resolved["fingerprint"], *waived["fingerprint"]], run_id,
                              "superseded: the finding was resolved or waived before the message went out")
    return {"planned": len(actions), "added": added, "cancelled": cancelled}


@collected_once
def dispatch_outbox(run_id: str, as_of: str | None = None) -> dict[str, int]:
    """One dispatch attempt over the outbox (dry-run by default); a backlog left pending is not a failure.

    Both DAGs dispatch through the same claim (store/outbox.py). Failed and dead entries, and
    a backlog older than `dispatch.alert_backlog_after_hours`, alert the platform channel once.
    """
    from followthrough.gateways.outbox import DispatchSettings, dispatch_pending, gateway_for, plan_alerts

    store = open_store()
    loaded = run_policy(store, run_id)
    settings = DispatchSettings.from_policy(loaded.policy)
    for channel, conn_id in (("jira", config.JIRA_CONN_ID), ("slack", config.SLACK_CONN_ID)):
        if channel in settings.live_channels:
            connection_required(conn_id)
    now = as_timestamp(as_of).isoformat() if as_of else None
    gateway = gateway_for(loaded.policy, store)
    counts = dispatch_pending(store, gateway, run_id, now=now, settings=settings)
    if plan_alerts(store, loaded.policy, run_id, now):
        alerts = dispatch_pending(store, gateway, run_id, now=now, settings=settings, actions=["platform_alert"])
        counts["alerts_sent"] = alerts.get("sent", 0) + alerts.get("dry_run", 0)
    return counts


@collected_once
def record_run(run_id: str, as_of: str) -> dict[str, Any]:
    """Summarise the run, write its report files and close the run record."""
    from followthrough.report.metrics import compute_metrics
    from followthrough.report.summary import build_summary, team_timezones, write_report
    from followthrough.store.audit import CHECKPOINT_FILE

    store = open_store()
    loaded = run_policy(store, run_id)
    frames = load_clean_frames(run_id, loaded)
    stored = store.findings_frame()  # read once: the summary, the metrics and the report use it
    summary = build_summary(store, run_id, as_timestamp(as_of), stored)
    summary["metrics"] = compute_metrics(frames, stored, loaded.policy, as_timestamp(as_of))
    zones = team_timezones(frames, {t: o.timezone for t, o in loaded.policy.teams.items()})
    staging.read_tree(run_id, "data_docs", config.report_dir(run_id) / "data_docs")  # rendered by earlier tasks
    folder = write_report(store, run_id, summary, config.report_dir(run_id), zones, stored)
    summary["report"] = str(folder / "report.html")
    store.append_audit(run_id, [("run_recorded", None, {"summary": {k: v for k, v in summary.items() if k != "metrics"}})])
    store.finish_run(run_id, summary)
    store.release_run_lock(run_id)
    # the anchor outside the store: report folder, XCom and task log (see store/audit.py)
    checkpoint = store.audit_checkpoint(run_id, record=True).as_dict()
    (folder / CHECKPOINT_FILE).write_text(json.dumps(checkpoint, indent=2) + "\n")
    log.info("report written to %s", summary["report"])
    log.info("audit checkpoint: %s", json.dumps(checkpoint, sort_keys=True))
    result = {"report": summary["report"], "open_findings": summary["findings"]["open"], "audit_checkpoint": checkpoint}
    if loaded.policy.retention_days is not None:
        from followthrough.retention import apply_retention
        from followthrough.store.repository import now_utc

        retention = apply_retention(store, loaded.policy.retention_days, now_utc()).as_dict()
        log.info("retention (%s days): %s", loaded.policy.retention_days, json.dumps(retention, sort_keys=True))
        result["retention"] = retention
    return result


def list_digest_teams(run_id: str) -> list[str]:
    """Team ids of the roster, for the digest DAG's mapping."""
    return [str(t["team_id"]) for t in _roster_teams(open_store(), run_id)]


def _roster_teams(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The teams the sources last provided (the store's rows, as the last extraction left them)."""
    import pandas as pd

    loaded = run_policy(store, run_id)
    frames = [f["teams"] for s in loaded.policy.sources if "teams" in (f := store.source_frames(s.name))]
    teams = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["team_id"])
    teams = teams[teams["team_id"].astype(str).str.strip() != ""].drop_duplicates("team_id")
    return [dict(r) for r in teams.drop(columns=["_row"], errors="ignore").to_dict("records")]


@collected_once
def plan_team_digest(run_id: str, as_of: str, team_id: str | None) -> dict[str, Any]:
    """Put one team's weekly digest (team_id None: the leadership digest) into the outbox."""
    from followthrough.report.digest import digest_actions

    store = open_store()
    loaded = run_policy(store, run_id)
    instant = as_timestamp(as_of)
    teams = [t for t in _roster_teams(store, run_id) if t["team_id"] == team_id] if team_id else []
    actions = digest_actions(store.findings_frame(), teams, loaded.policy, instant)
    wanted = [a for a in actions if (a["action"] == "team_digest") == bool(team_id)]
    added = store.add_to_outbox(wanted, run_id, instant)
    return {"team_id": team_id, "planned": len(wanted), "added": added}
