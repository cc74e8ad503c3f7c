"""Command line: `followthrough <command>` (installed in the venv; also `python -m followthrough`).

Commands read the store named by --db, else FOLLOWTHROUGH_DB_URL, else the embedded SQLite
store in FOLLOWTHROUGH_HOME; they never create one. `runs`, `report` and `audit trail` answer
auditors' questions (exports as CSV or JSON); `verify-audit` and `audit checkpoint` need the
audit key. The lint commands let teams check material before it reaches the pipeline; their
findings are data (exit 0, or 1 with --fail-on; followthrough.lint_cli).
Exit codes: 0 done, 1 a check failed (audit chain broken, findings with --fail-on), 2 bad input (unreadable or malformed file, invalid policy, unknown run, no store, bad parameter).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from followthrough import config
from followthrough.exceptions import FollowthroughError
from followthrough.lint_cli import BadInput

if TYPE_CHECKING:
    from followthrough.store.audit import AuditKey
    from followthrough.store.repository import Store


def _store(url: str | None) -> Store:
    """An existing store, upgraded to the newest schema; never a new one (exit 2 instead)."""
    store = _existing_store(url)
    store.migrate()
    return store


def _existing_store(url: str | None) -> Store:
    """The store at `url` if it exists and holds Followthrough's schema; it is neither created nor changed."""
    import sqlalchemy as sa

    from followthrough.store.audit import has_followthrough_schema
    from followthrough.store.repository import Store

    url = url or config.default_store_url()
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            raise BadInput(f"no store at {path}: the file does not exist (check --db or FOLLOWTHROUGH_DB_URL)")
    store = Store(url)
    try:
        with store.transaction() as connection:
            present = has_followthrough_schema(connection)
    except sa.exc.DatabaseError as exc:
        raise BadInput(f"{store.safe_url} is not a readable database: {str(exc.orig).splitlines()[0]}") from None
    if not present:
        raise BadInput(f"{store.safe_url} holds no Followthrough store (no ft_runs / ft_audit_events tables)")
    return store


def _audit_key(key_file: str | None) -> AuditKey:
    from followthrough.store.audit import AuditKey, AuditKeyMissing, key_from_environment

    if key_file:
        try:
            return AuditKey(Path(key_file).read_text(encoding="utf-8").strip().encode())
        except OSError as exc:
            raise BadInput(f"cannot read the audit key file {key_file}: {exc.strerror}") from None
    key = key_from_environment()
    if key is None:
        raise AuditKeyMissing("no audit key: give --key-file, or set FOLLOWTHROUGH_AUDIT_KEY, "
                              "FOLLOWTHROUGH_AUDIT_KEY_FILE or AIRFLOW_CONN_FOLLOWTHROUGH_AUDIT")
    return key


def _emit(rows: list[dict[str, Any]], columns: list[str], fmt: str, output: str | None) -> None:
    """Rows as an aligned table, CSV or JSON, to stdout or a file."""
    import csv
    import io
    import json

    buffer = io.StringIO()
    if fmt == "json":
        buffer.write(json.dumps(rows, indent=2, default=str) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        cells = [[("" if r.get(c) is None else str(r.get(c)))[:60] for c in columns] for r in rows]
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
        buffer.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
        for row in cells:
            buffer.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")
        if not rows:
            buffer.write("(none)\n")
    if output:
        try:
            Path(output).write_text(buffer.getvalue(), encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"cannot write {output}: {exc.strerror}") from None
        print(f"{len(rows)} rows written to {output}", file=sys.stderr)
    else:
        sys.stdout.write(buffer.getvalue())


def cmd_report(args: argparse.Namespace) -> int:
    import json

    from followthrough.report.summary import format_summary
    from followthrough.report.trail import resolve_run_id

    store = _store(args.db)
    run = store.get_run(resolve_run_id(store, args.run) if args.run else None)
    if not run or not run.get("summary"):
        what = f"run {args.run} has not finished" if run else "no finished run"
        raise BadInput(f"{what} in {store.safe_url}")
    if args.format == "json":
        print(json.dumps(run["summary"], indent=2, sort_keys=True, default=str))
        return 0
    outbox = store.outbox_frame()
    # everything planned for this as-of date, also when an earlier run of the same day planned it
    same_day = outbox[outbox["as_of"] == run["as_of"]] if not outbox.empty else outbox
    print(format_summary(run["summary"], store.findings_frame(), same_day))
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from followthrough.report.trail import RUN_COLUMNS, run_history

    rows = run_history(_store(args.db), args.limit)
    columns = RUN_COLUMNS if args.format != "table" else [c for c in RUN_COLUMNS if c != "finished_at"]
    if args.format == "table":
        rows = [{**r, "policy_hash": (r["policy_hash"] or "")[:12],
                 "checkpoint_head": (r["checkpoint_head"] or "")[:12]} for r in rows]
    _emit(rows, columns, args.format, args.output)
    return 0


def cmd_trail(args: argparse.Namespace) -> int:
    from followthrough.report.trail import TRAIL_COLUMNS, TrailQuery, audit_trail

    query = TrailQuery.validated(args.since, args.until, args.team, args.person, args.incident, args.run, args.what)
    rows = audit_trail(_store(args.db), query)
    columns = TRAIL_COLUMNS if args.format != "table" else [
        "as_of", "category", "kind", "rule", "subject_id", "team_id", "person", "channel", "action", "status"]
    _emit(rows, columns, args.format, args.output)
    return 0


def cmd_verify_audit(args: argparse.Namespace) -> int:
    from followthrough.store import audit

    key = _audit_key(args.key_file)
    checkpoints = []
    for path in args.checkpoint or []:
        try:
            checkpoints.append(audit.read_checkpoint_file(Path(path)))
        except ValueError as exc:
            raise BadInput(str(exc)) from None
    given = len(checkpoints)
    found = [] if args.no_found else audit.find_checkpoint_files(Path(args.reports or config.home() / "reports"))
    for path in found:
        try:
            checkpoints.append(audit.read_checkpoint_file(path))
        except ValueError as exc:
            print(f"followthrough: skipping {exc}", file=sys.stderr)
    store = _existing_store(args.db)  # verification never creates or upgrades a schema
    with store.transaction() as connection:
        verdict = audit.verify_chain(connection, key, checkpoints, use_stored_checkpoints=not args.no_found)
    print(verdict.message())
    print(f"({given} checkpoint file(s) given, {len(found)} found in report folders)", file=sys.stderr)
    return 0 if verdict.ok else 1


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    import json

    key = _audit_key(args.key_file)
    checkpoint = _store(args.db).audit_checkpoint(record=args.record, key=key)
    print(json.dumps(checkpoint.as_dict(), indent=2))
    return 0


def cmd_check_policy(args: argparse.Namespace) -> int:
    from followthrough.policy import load_policy

    loaded = load_policy(args.file)
    missing = loaded.missing_paths()
    if missing:
        print(f"followthrough: policy {loaded.path} names paths that do not exist: {'; '.join(missing)}",
              file=sys.stderr)
        return 2
    print(f"policy {loaded.path} is valid (sha256 {loaded.content_hash[:12]})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="followthrough", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    db_help = "SQLAlchemy URL of the store (default: FOLLOWTHROUGH_DB_URL, else the embedded store)"
    report = sub.add_parser("report", help="print the summary of a finished run (default: the latest)")
    report.add_argument("--run", help="run id or report folder name (see `followthrough runs`)")
    report.add_argument("--format", choices=("text", "json"), default="text")
    report.add_argument("--db", help=db_help)
    report.set_defaults(func=cmd_report)
    runs = sub.add_parser("runs", help="the run history: policy hash, as-of, counts, audit checkpoint")
    runs.add_argument("--limit", type=_positive, help="only the last N runs")
    runs.add_argument("--format", choices=("table", "csv", "json"), default="table")
    runs.add_argument("--output", help="write to this file instead of stdout")
    runs.add_argument("--db", help=db_help)
    runs.set_defaults(func=cmd_runs)
    verify = sub.add_parser("verify-audit", help="verify the keyed audit chain and every checkpoint")
    verify.add_argument("--checkpoint", action="append", metavar="FILE",
                        help="a checkpoint kept by an auditor (repeatable); report folders' checkpoints count too")
    verify.add_argument("--reports", help="report folders to find checkpoints in (default FOLLOWTHROUGH_HOME/reports)")
    verify.add_argument("--no-found", action="store_true",
                        help="check only the given checkpoints, not those in report folders or the store")
    verify.add_argument("--key-file", help="file holding the audit key (default: FOLLOWTHROUGH_AUDIT_KEY...)")
    verify.add_argument("--db", help=db_help)
    verify.set_defaults(func=cmd_verify_audit)
    audit_cmd = sub.add_parser("audit", help="the audit trail: checkpoints and exports for auditors")
    audit_sub = audit_cmd.add_subparsers(dest="audit_command", required=True)
    checkpoint = audit_sub.add_parser("checkpoint", help="print the chain's current signed checkpoint, to keep")
    checkpoint.add_argument("--record", action="store_true", help="also record it in the store")
    checkpoint.add_argument("--key-file", help="file holding the audit key")
    checkpoint.add_argument("--db", help=db_help)
    checkpoint.set_defaults(func=cmd_audit_checkpoint)
    trail = audit_sub.add_parser("trail", help="what was found, done and told, when: filter, export CSV/JSON")
    trail.add_argument("--from", dest="since", metavar="YYYY-MM-DD", help="first as-of day (inclusive)")
    trail.add_argument("--to", dest="until", metavar="YYYY-MM-DD", help="last as-of day (inclusive)")
    trail.add_argument("--team", help="team id")
    trail.add_argument("--person", help="person id: responsible for a finding or recipient of an action")
    trail.add_argument("--incident", help="incident id")
    trail.add_argument("--run", help="run id or report folder name")
    trail.add_argument("--what", action="append", metavar="KIND", choices=("found", "done", "told", "run"),
                       help="found, done, told or run (repeatable; default all)")
    trail.add_argument("--format", choices=("table", "csv", "json"), default="table")
    trail.add_argument("--output", help="write to this file instead of stdout")
    trail.add_argument("--db", help=db_help)
    trail.set_defaults(func=cmd_trail)
    from followthrough.lint_cli import add_lint_commands

    add_lint_commands(sub)
    check = sub.add_parser("check-policy", help="validate a policy file")
    check.add_argument("file", nargs="?", default=str(config.policy_path()))
    check.set_defaults(func=cmd_check_policy)
    return parser


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader (`| head`) has gone: stop quietly; stdout to devnull so the final flush is silent too
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except FollowthroughError as exc:
        print(f"followthrough: {exc}", file=sys.stderr)
        return 2
    return code
