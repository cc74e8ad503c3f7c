"""Command line: `python -m followthrough <command>` (see --help).

Commands read the store named by --db, else FOLLOWTHROUGH_DB_URL, else the embedded SQLite
store in FOLLOWTHROUGH_HOME. The lint commands let teams check material before it reaches
the pipeline (followthrough.lint_cli); their findings are data (exit 0, or 1 with --fail-on).
Exit codes: 0 done, 1 a check failed (audit chain broken, findings with --fail-on), 2 bad
input (unreadable or malformed file, invalid policy, unknown run).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from followthrough import config
from followthrough.exceptions import FollowthroughError

if TYPE_CHECKING:
    from followthrough.store.repository import Store


def _store(url: str | None) -> Store:
    from followthrough.store.repository import Store

    store = Store(url or config.default_store_url())
    store.migrate()
    return store


def cmd_report(args: argparse.Namespace) -> int:
    from followthrough.report.summary import format_summary

    store = _store(args.db)
    run = store.get_run(args.run)
    if not run or not run.get("summary"):
        print(f"followthrough: no finished run {args.run or ''} in {store.safe_url}".replace("  ", " "),
              file=sys.stderr)
        return 2
    outbox = store.outbox_frame()
    # everything planned for this as-of date, also when an earlier run of the same day planned it
    same_day = outbox[outbox["as_of"] == run["as_of"]] if not outbox.empty else outbox
    print(format_summary(run["summary"], store.findings_frame(), same_day))
    return 0


def cmd_verify_audit(args: argparse.Namespace) -> int:
    ok, message = _store(args.db).verify_audit_chain()
    print(message)
    return 0 if ok else 1


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
    report = sub.add_parser("report", help="print the summary of a finished run (default: the latest)")
    report.add_argument("--run", help="Airflow run id")
    report.add_argument("--db", help="SQLAlchemy URL of the store")
    report.set_defaults(func=cmd_report)
    verify = sub.add_parser("verify-audit", help="recompute the audit log's hash chain")
    verify.add_argument("--db", help="SQLAlchemy URL of the store")
    verify.set_defaults(func=cmd_verify_audit)
    from followthrough.lint_cli import add_lint_commands

    add_lint_commands(sub)
    check = sub.add_parser("check-policy", help="validate a policy file")
    check.add_argument("file", nargs="?", default=str(config.policy_path()))
    check.set_defaults(func=cmd_check_policy)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except FollowthroughError as exc:
        print(f"followthrough: {exc}", file=sys.stderr)
        return 2
    return code
