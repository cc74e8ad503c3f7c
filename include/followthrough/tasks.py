"""Task adapters: what each task of `followthrough_enforce` does, between Airflow and the domain.

Each function takes plain values (run id, DAG id, the run's as-of instant as ISO text) and
returns a small JSON-able dict for XCom. Frames travel between tasks as Parquet files in
the run's staging folder (FOLLOWTHROUGH_HOME/runs/<run>), never through XCom. Every step
can be re-run: writes are upserts and every action has an idempotency key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from followthrough import config
from followthrough.model import ENTITIES
from followthrough.policy import JiraSource, LoadedPolicy, load_policy

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.store.repository import Store

log = logging.getLogger(__name__)

EXTRACT_QUARANTINE = "_extract_quarantine"  # staged rows an extractor could not map


def as_timestamp(as_of: str) -> pd.Timestamp:
    import pandas as pd

    ts = pd.Timestamp(as_of)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def store_url() -> str:
    """The Connection `followthrough_db` when it exists, else the embedded SQLite store."""
    try:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:  # outside Airflow (CLI, unit tests)
        return config.default_store_url()
    try:
        connection = BaseHook.get_connection(config.STORE_CONN_ID)
    except AirflowNotFoundException:
        log.info("no Connection %s: using the embedded store %s", config.STORE_CONN_ID, config.default_store_url())
        return config.default_store_url()
    return sqlalchemy_url(connection.conn_type, connection.host, connection.login, connection.password,
                          connection.port, connection.schema)


def sqlalchemy_url(conn_type: str | None, host: str | None, login: str | None, password: str | None,
                   port: int | None, schema: str | None) -> str:
    """A SQLAlchemy URL from the fields of an Airflow Connection (postgres or sqlite)."""
    from sqlalchemy.engine import URL

    if conn_type in ("postgres", "postgresql"):
        url = URL.create("postgresql+psycopg2", username=login or None, password=password or None,
                         host=host or None, port=port or None, database=schema or None)
        return url.render_as_string(hide_password=False)
    if conn_type == "sqlite":
        return f"sqlite:///{host}"
    raise ValueError(f"Connection {config.STORE_CONN_ID} has type {conn_type!r}; use postgres or sqlite")


def open_store() -> Store:
    from followthrough.store.repository import Store

    store = Store(store_url())
    store.migrate()
    return store


def _write_frames(folder: Path, frames: Mapping[str, pd.DataFrame]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)


def _read_frames(folder: Path) -> dict[str, pd.DataFrame]:
    import pandas as pd

    return {path.stem: pd.read_parquet(path) for path in sorted(folder.glob("*.parquet"))}


def _staging(run_id: str, stage: str, source: str | None = None) -> Path:
    folder = config.run_dir(run_id) / stage
    return folder / source if source else folder


def extract_sources(run_id: str, dag_id: str, as_of: str, full_extract: bool = False) -> dict[str, Any]:
    """Read every configured source into raw frames; open the run record.

    `full_extract` ignores the Jira watermarks (a backfill of the whole history).
    """
    from followthrough.sources.files import read_export_folder

    loaded = load_policy(config.policy_path())
    store = open_store()
    store.start_run(run_id, dag_id, as_timestamp(as_of), loaded.content_hash)
    store.append_audit(run_id, [("run_started", None, {
        "dag_id": dag_id, "as_of": as_of, "policy_path": str(loaded.path), "policy_hash": loaded.content_hash,
        "sources": [s.model_dump() for s in loaded.policy.sources]})])
    rows: dict[str, dict[str, int]] = {}
    for source in loaded.policy.sources:
        if isinstance(source, JiraSource):
            frames = _extract_jira(store, source, run_id, full_extract)
        else:
            frames = read_export_folder(loaded.source_path(source))
        _write_frames(_staging(run_id, "raw", source.name), frames)
        rows[source.name] = {name: len(frame) for name, frame in frames.items()}
        log.info("source %s: %s", source.name, rows[source.name])
    return {"policy_hash": loaded.content_hash, "rows": rows}


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


def _extract_jira(store: Store, source: JiraSource, run_id: str, full_extract: bool = False) -> dict[str, pd.DataFrame]:
    """Extract changes since the watermark and upsert them into the source's canonical snapshot.

    The snapshot (FOLLOWTHROUGH_HOME/sources/<name>/) holds every row seen so far; changed
    issues replace their earlier rows by id. The watermark moves only after the snapshot is
    written, so a crash in between re-extracts the same changes (the upsert makes that safe).
    Rows the extractor could not map are passed on as `_extract_quarantine`.
    """
    import pandas as pd

    from followthrough.gateways.jira import JiraClient
    from followthrough.model import ENTITY_BY_NAME
    from followthrough.sources.jira import extract

    connection_required(source.conn_id)
    client = JiraClient.from_connection(source.conn_id)
    watermark = None if full_extract else store.watermark(source.name)
    result = extract(client, source.jira, watermark)
    folder = config.home() / "sources" / source.name
    snapshot = _read_frames(folder) if folder.exists() else {}
    merged: dict[str, pd.DataFrame] = {}
    for name, changed in result.frames.items():
        id_column = ENTITY_BY_NAME[name].id_column
        earlier = snapshot.get(name)
        if earlier is not None and not earlier.empty:
            kept = earlier[~earlier[id_column].isin(changed[id_column])]
            changed = pd.concat([kept, changed], ignore_index=True) if not changed.empty else kept
        frame = changed.reset_index(drop=True).copy()
        frame["_row"] = range(1, len(frame) + 1)  # row numbers of the snapshot, for the contract's reasons
        merged[name] = frame
    _write_frames(folder, merged)
    quarantine = result.quarantine.assign(raw=result.quarantine["raw"].map(json.dumps))
    if result.watermark is not None:
        store.set_watermark(source.name, result.watermark, run_id)
    log.info("jira source %s: fetched %s since %s", source.name, result.fetched, watermark)
    return {**merged, EXTRACT_QUARANTINE: quarantine}


def validate_source_contract(run_id: str, as_of: str) -> dict[str, Any]:
    """Great Expectations source contract: quarantine bad rows (kept in the store), keep the rest."""
    import pandas as pd

    from followthrough.model import empty_raw_frame
    from followthrough.quality.gx import apply_source_contract

    loaded = load_policy(config.policy_path())
    store = open_store()
    quarantined: dict[str, int] = {}
    for source in loaded.policy.sources:
        raw = _read_frames(_staging(run_id, "raw", source.name))
        extracted_bad = raw.pop(EXTRACT_QUARANTINE, None)
        for schema in ENTITIES:  # a source may provide only some entities (Jira has no roster)
            if schema.name not in raw:
                raw[schema.name] = empty_raw_frame(schema)
        docs = config.report_dir(run_id) / "data_docs" / "source_contract" / source.name
        result = apply_source_contract(raw, list(ENTITIES), docs_folder=docs)
        if extracted_bad is not None and not extracted_bad.empty:
            extracted_bad = extracted_bad.assign(raw=extracted_bad["raw"].map(json.loads))
            result.quarantine = pd.concat([result.quarantine, extracted_bad], ignore_index=True)
        store.upsert_quarantine(source.name, run_id, as_timestamp(as_of), result.quarantine)
        quarantine = result.quarantine.assign(raw=result.quarantine["raw"].map(json.dumps))
        _write_frames(_staging(run_id, "clean", source.name), {**result.clean, "quarantine": quarantine})
        quarantined[source.name] = len(result.quarantine)
        for row in result.quarantine.to_dict("records"):
            log.warning("quarantined %s row %s (%s): %s", row["entity"], row["row_number"], row["record_id"],
                        row["reason"])
    return {"quarantined_rows": quarantined}


def load_clean_frames(run_id: str, loaded: LoadedPolicy) -> dict[str, pd.DataFrame]:
    """The typed canonical frames of every source of this run, concatenated."""
    import pandas as pd

    per_source = [_read_frames(_staging(run_id, "clean", s.name)) for s in loaded.policy.sources]
    frames = {
        name: pd.concat([f[name] for f in per_source], ignore_index=True)
        for name in [e.name for e in ENTITIES] + ["quarantine"]
    }
    frames["quarantine"]["raw"] = frames["quarantine"]["raw"].map(json.loads)
    return frames


def evaluate_rules(run_id: str, as_of: str) -> dict[str, Any]:
    """Run the rule catalog as of the run's instant; stage the findings."""
    from followthrough.catalog import RULE_IDS
    from followthrough.quality.gx import validate_followup
    from followthrough.rules import evaluate_rules as run_rules

    loaded = load_policy(config.policy_path())
    frames = load_clean_frames(run_id, loaded)
    findings = run_rules(frames, loaded.policy, as_timestamp(as_of))
    validate_followup(findings, list(RULE_IDS), list(frames["teams"]["team_id"]),
                      docs_folder=config.report_dir(run_id) / "data_docs" / "followup")
    staged = findings.assign(evidence=findings["evidence"].map(lambda e: json.dumps(e, sort_keys=True, default=str)))
    _staging(run_id, "findings").mkdir(parents=True, exist_ok=True)
    staged.to_parquet(_staging(run_id, "findings") / "findings.parquet", index=False)
    by_rule = findings.groupby("rule").size().to_dict() if not findings.empty else {}
    return {"findings": len(findings), "by_rule": {str(k): int(v) for k, v in by_rule.items()},
            "data_docs": str(config.report_dir(run_id) / "data_docs" / "followup" / "index.html")}


def reconcile_findings(run_id: str, as_of: str) -> dict[str, int]:
    """Compare today's findings with the store's: new, ongoing, reopened, resolved."""
    import pandas as pd

    from followthrough.findings import apply_waivers, reconcile, with_fingerprints

    loaded = load_policy(config.policy_path())
    current = pd.read_parquet(_staging(run_id, "findings") / "findings.parquet")
    current["evidence"] = current["evidence"].map(json.loads)
    current = apply_waivers(with_fingerprints(current), loaded.policy.waivers, as_timestamp(as_of))
    store = open_store()
    changes = reconcile(current, store.findings_frame())
    store.apply_reconciliation(changes, run_id, as_timestamp(as_of))
    counts = changes["change"].value_counts().to_dict() if not changes.empty else {}
    return {change: int(counts.get(change, 0))
            for change in ("new", "ongoing", "changed", "reopened", "resolved", "waived")}


def plan_actions(run_id: str, as_of: str) -> dict[str, int]:
    """Put today's ladder actions into the outbox (insert-if-absent by idempotency key)."""
    from followthrough.escalation import plan_actions as plan
    from followthrough.store.repository import utc_naive

    loaded = load_policy(config.policy_path())
    instant = as_timestamp(as_of)
    store = open_store()
    stored = store.findings_frame()
    open_findings = stored[stored["status"] == "open"]
    resolved = stored[(stored["status"] == "resolved") & (stored["resolved_as_of"] == utc_naive(instant))]
    changed = frozenset(str(e["subject"]) for e in store.audit_events(run_id) if e["kind"] == "finding_changed")
    actions = plan(open_findings, resolved, load_clean_frames(run_id, loaded), loaded.policy, instant, changed)
    added = store.add_to_outbox(actions, run_id, instant)
    return {"planned": len(actions), "added": added}


def dispatch_outbox(run_id: str, as_of: str | None = None) -> dict[str, int]:
    """One dispatch attempt over the outbox (dry-run by default); a backlog left pending is not a failure.

    Both DAGs dispatch through the same claim (store/outbox.py). Failed and dead entries, and
    a backlog older than `dispatch.alert_backlog_after_hours`, alert the platform channel once.
    """
    from followthrough.gateways.outbox import DispatchSettings, dispatch_pending, gateway_for, plan_alerts

    loaded = load_policy(config.policy_path())
    settings = DispatchSettings.from_policy(loaded.policy)
    for channel, conn_id in (("jira", config.JIRA_CONN_ID), ("slack", config.SLACK_CONN_ID)):
        if channel in settings.live_channels:
            connection_required(conn_id)
    store = open_store()
    now = as_timestamp(as_of).isoformat() if as_of else None
    gateway = gateway_for(loaded.policy, store)
    counts = dispatch_pending(store, gateway, run_id, now=now, settings=settings)
    if plan_alerts(store, loaded.policy, run_id, now):
        alerts = dispatch_pending(store, gateway, run_id, now=now, settings=settings, actions=["platform_alert"])
        counts["alerts_sent"] = alerts.get("sent", 0) + alerts.get("dry_run", 0)
    return counts


def record_run(run_id: str, as_of: str) -> dict[str, Any]:
    """Summarise the run, write its report files and close the run record."""
    from followthrough.report.summary import build_summary, write_report

    store = open_store()
    summary = build_summary(store, run_id, as_timestamp(as_of))
    folder = write_report(store, run_id, summary, config.report_dir(run_id))
    summary["report"] = str(folder / "report.html")
    store.append_audit(run_id, [("run_recorded", None, {"summary": summary})])
    store.finish_run(run_id, summary)
    log.info("report written to %s", summary["report"])
    return {"report": summary["report"], "open_findings": summary["findings"]["open"]}


def list_digest_teams(run_id: str) -> list[str]:
    """Team ids of the roster (files sources), for the digest DAG's mapping."""
    return [str(t["team_id"]) for t in _roster_teams()]


def _roster_teams() -> list[dict[str, Any]]:
    import pandas as pd

    from followthrough.model import TEAMS
    from followthrough.sources.files import read_entity

    loaded = load_policy(config.policy_path())
    frames = [read_entity(loaded.source_path(s), TEAMS) for s in loaded.policy.sources if not isinstance(s, JiraSource)]
    teams = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["team_id"])
    teams = teams[teams["team_id"].astype(str).str.strip() != ""].drop_duplicates("team_id")
    return [dict(r) for r in teams.to_dict("records")]


def plan_team_digest(run_id: str, as_of: str, team_id: str | None) -> dict[str, Any]:
    """Put one team's weekly digest (team_id None: the leadership digest) into the outbox."""
    from followthrough.report.digest import digest_actions

    loaded = load_policy(config.policy_path())
    store = open_store()
    instant = as_timestamp(as_of)
    teams = [t for t in _roster_teams() if t["team_id"] == team_id] if team_id else []
    actions = digest_actions(store.findings_frame(), teams, loaded.policy, instant)
    wanted = [a for a in actions if (a["action"] == "team_digest") == bool(team_id)]
    added = store.add_to_outbox(wanted, run_id, instant)
    return {"team_id": team_id, "planned": len(wanted), "added": added}
