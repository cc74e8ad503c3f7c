"""Command line: `python -m followthrough <command>` (see --help).

Commands read the store named by --db, else FOLLOWTHROUGH_DB_URL, else the embedded SQLite
store in FOLLOWTHROUGH_HOME. The lint commands let teams check material before it reaches
the pipeline; their findings are data (exit 0). Exit codes: 0 done, 1 a check failed (audit
chain broken), 2 bad input (unreadable or malformed file, invalid policy, unknown run).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from followthrough import config
from followthrough.exceptions import FollowthroughError

if TYPE_CHECKING:
    from followthrough.policy import Policy
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


class BadInput(FollowthroughError):
    """A file given on the command line cannot be used."""


def _policy(path: str | None) -> Policy:
    from followthrough.policy import load_policy, policy_for_tests

    return load_policy(path).policy if path else policy_for_tests()


def cmd_lint_actions(args: argparse.Namespace) -> int:
    import json

    import pandas as pd

    from followthrough.rules.action_items import owner_problem
    from followthrough.rules.common import is_blank
    from followthrough.rules.vague import assess_summaries

    try:
        items = pd.read_csv(args.file, dtype="string", keep_default_na=False, na_filter=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise BadInput(f"cannot read {args.file}: {str(exc).splitlines()[0] if str(exc) else exc}") from None
    missing = [c for c in ("id", "summary") if c not in items.columns]
    if missing:
        raise BadInput(f"{args.file} lacks column(s) {', '.join(missing)}; needs at least id,summary")
    policy = _policy(args.policy)
    verdicts = assess_summaries(items["summary"])
    problems = owner_problem(items["owner"], set(), policy) if "owner" in items else None
    no_due = is_blank(items["due"]) if "due" in items else None
    for index, row in items.iterrows():
        findings = [{"rule": "AI-VAGUE", "reason": r["detail"], "code": r["code"]}
                    for r in verdicts.at[index, "reasons"]]
        if problems is not None and problems[index]:
            findings.append({"rule": "AI-NO-OWNER", "reason": str(problems[index])})
        if no_due is not None and no_due[index]:
            findings.append({"rule": "AI-NO-DUE", "reason": "no due date"})
        print(json.dumps({"id": row["id"], "vague": bool(verdicts.at[index, "vague"]), "findings": findings}))
    return 0


def cmd_lint_postmortem(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from followthrough.rules.postmortem_text import SECTIONS, detect_sections, find_blame

    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {args.file}: {exc}") from None
    if "\x00" in text:
        raise BadInput(f"{args.file} is not a text document")
    policy = _policy(args.policy)
    status = detect_sections(text)
    blame = find_blame(text)
    findings = []
    for section in policy.postmortem.required_sections:
        if status[section].empty:
            findings.append({"rule": "PM-INCOMPLETE", "reason": f"section {section} is empty or a placeholder"})
        elif not status[section].present:
            findings.append({"rule": "PM-INCOMPLETE", "reason": f"section {section} is missing"})
    findings += [{"rule": "PM-BLAME", "reason": f"blame-first language ({b.phrase}): {b.quote}"} for b in blame]
    print(json.dumps({"sections": {s: status[s].present for s in SECTIONS}, "blame": [b.quote for b in blame],
                      "findings": findings}))
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
    lint_actions = sub.add_parser("lint-actions", help="check action items in a CSV (columns id,summary[,owner,due,...])")
    lint_actions.add_argument("file")
    lint_actions.add_argument("--policy", help="policy file for owner rules (default: built-in defaults)")
    lint_actions.set_defaults(func=cmd_lint_actions)
    lint_pm = sub.add_parser("lint-postmortem", help="check a postmortem document (Markdown, HTML or text)")
    lint_pm.add_argument("file")
    lint_pm.add_argument("--policy", help="policy file for the required sections (default: built-in defaults)")
    lint_pm.set_defaults(func=cmd_lint_postmortem)
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
