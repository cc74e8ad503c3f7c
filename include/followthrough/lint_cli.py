"""The lint commands: check action items and postmortems before they reach the pipeline.

``lint-actions FILE`` reads a CSV of action items (``id,summary[,owner,due]``, a Jira CSV
export's ``Issue key,Summary,Assignee,Due date``, or any columns named with ``--column``) and
prints one JSON line per item with its findings (AI-VAGUE with its reasons, AI-NO-OWNER,
AI-NO-DUE, SRC-INVALID for an unparseable due date or a duplicate or empty id).
``lint-postmortem FILE`` reads a Markdown, HTML or text write-up and prints one JSON object:
the sections (each with what was judged), blame-first quotes, the action items it lists
(each checked for vagueness and an owner) and the findings.

Both end with a summary line on stderr ("3 items, 2 findings: AI-VAGUE 1, AI-NO-OWNER 1").
Exit codes: 0 when they ran (findings are data); 1 with ``--fail-on`` when there are
findings (of the given rules, when rules are named); 2 with one line on stderr for input
that cannot be used (unreadable, undecodable or binary, malformed, missing columns).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from followthrough.exceptions import FollowthroughError

if TYPE_CHECKING:
    import pandas as pd

    from followthrough.policy import Policy

__all__ = ["BadInput", "add_lint_commands", "cmd_lint_actions", "cmd_lint_postmortem"]

# canonical column -> header names recognised without --column (case-insensitive); the
# second of each is a Jira CSV export's
KNOWN_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "issue key", "key", "issue id"),
    "summary": ("summary", "title", "action", "action item"),
    "owner": ("owner", "assignee", "assigned to", "responsible"),
    "due": ("due", "due date", "due_date", "due at", "due_at"),
}
OTHER_DELIMITERS = (";", "\t", "|")
# a postmortem longer than this is not a write-up (a log dump, a concatenation)
LONGEST_DOCUMENT_CHARS = 2_000_000
# at most this many bytes are read from a file, so a huge file cannot exhaust memory
READ_LIMIT_BYTES = LONGEST_DOCUMENT_CHARS * 4 + 1


class BadInput(FollowthroughError):
    """A file given on the command line cannot be used."""


# --------------------------------------------------------------------------- shared


def _policy(path: str | None) -> Policy:
    from followthrough.policy import load_policy, policy_for_tests

    return load_policy(path).policy if path else policy_for_tests()


def _read_text(path: str) -> str:
    """The file's text, or BadInput (one line) for a missing, binary or undecodable file."""
    try:
        with Path(path).open("rb") as f:
            raw = f.read(READ_LIMIT_BYTES)
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None
    if b"\x00" in raw[:8192]:
        raise BadInput(f"{path} is a binary file, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path} is not UTF-8 text (undecodable byte at offset {exc.start})") from None


def _rules_to_fail_on(value: str | None) -> set[str] | None:
    """None: never fail; an empty set: fail on any finding; else fail on these rules."""
    if value is None:
        return None
    if value.strip().lower() in {"", "any", "all"}:
        return set()
    return {r.strip().upper() for r in value.split(",") if r.strip()}


def _exit_code(found: Counter[str], fail_on: set[str] | None) -> int:
    if fail_on is None:
        return 0
    relevant = sum(found.values()) if not fail_on else sum(n for rule, n in found.items() if rule in fail_on)
    return 1 if relevant else 0


def _summary_line(command: str, subject: str, found: Counter[str], fail_on: set[str] | None, code: int) -> str:
    total = sum(found.values())
    by_rule = ", ".join(f"{rule} {n}" for rule, n in sorted(found.items()))
    line = f"{command}: {subject}, {total} finding{'s' if total != 1 else ''}" + (f": {by_rule}" if by_rule else "")
    if fail_on is not None:
        line += f"; --fail-on {','.join(sorted(fail_on)) or 'any'}: {'FAIL' if code else 'pass'}"
    return line


def _vague_findings(verdicts: pd.DataFrame, index: Any) -> tuple[list[dict[str, str]], str]:
    verdict = str(verdicts.at[index, "verdict"])
    findings = [{"rule": "AI-VAGUE", "reason": r["detail"], "code": r["code"]} for r in verdicts.at[index, "reasons"]]
    return findings, verdict


# --------------------------------------------------------------------------- lint-actions


def _column_mapping(headers: Sequence[str], explicit: Iterable[str]) -> dict[str, str]:
    """canonical -> header in the file: --column first, then the names KNOWN_COLUMNS lists."""
    mapping: dict[str, str] = {}
    for item in explicit:
        canonical, sep, header = item.partition("=")
        canonical = canonical.strip().lower()
        if not sep or canonical not in KNOWN_COLUMNS or not header.strip():
            raise BadInput(f"--column {item!r}: expected CANONICAL=HEADER with CANONICAL one of {', '.join(KNOWN_COLUMNS)}")
        if header.strip() not in headers:
            raise BadInput(f"--column {item!r}: the file has no column {header.strip()!r} (it has {', '.join(headers)})")
        mapping[canonical] = header.strip()
    lowered = {h.strip().lower(): h for h in headers}
    for canonical, names in KNOWN_COLUMNS.items():
        if canonical in mapping:
            continue
        for name in names:
            if name in lowered:
                mapping[canonical] = lowered[name]
                break
    return mapping


def _read_items(path: str, delimiter: str | None) -> pd.DataFrame:
    import io

    import pandas as pd

    text = _read_text(path)
    if not text.strip():
        raise BadInput(f"cannot read {path}: the file is empty (expected a CSV header: id,summary[,owner,due])")
    try:
        items = pd.read_csv(io.StringIO(text), dtype="string", keep_default_na=False, na_filter=False,
                            sep=delimiter or ",")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadInput(f"cannot read {path} as CSV: {message}{_delimiter_hint(text, delimiter)}") from None
    items.columns = [str(c).strip() for c in items.columns]
    return items


def _delimiter_hint(text: str, delimiter: str | None) -> str:
    if delimiter:
        return ""
    header = text.splitlines()[0] if text.splitlines() else ""
    for other in OTHER_DELIMITERS:
        if other in header and header.count(other) >= header.count(","):
            shown = "\\t" if other == "\t" else other
            return f" (the header looks {shown!r}-separated: pass --delimiter '{shown}')"
    return ""


def _due_problems(values: pd.Series) -> pd.Series:
    """Per row: "" or why the due date cannot be read (blank values are AI-NO-DUE's business)."""
    import pandas as pd
    from dateutil import parser as dateparser

    from followthrough.rules.common import is_blank

    problems = pd.Series("", index=values.index, dtype=object)
    blank = is_blank(values)
    for value in values[~blank].unique():
        try:
            dateparser.parse(str(value))
        except (ValueError, OverflowError):
            problems[(values == value) & ~blank] = f"due date {str(value)!r} is not a date"
    return problems


def cmd_lint_actions(args: argparse.Namespace) -> int:
    from followthrough.rules.action_items import owner_problem
    from followthrough.rules.common import is_blank
    from followthrough.rules.vague import assess_summaries

    fail_on = _rules_to_fail_on(args.fail_on)
    raw = _read_items(args.file, args.delimiter)
    mapping = _column_mapping(list(raw.columns), args.column or [])
    missing = [c for c in ("id", "summary") if c not in mapping]
    if missing:
        hint = _delimiter_hint(_read_text(args.file), args.delimiter) if len(raw.columns) == 1 else ""
        raise BadInput(f"{args.file} lacks column(s) {', '.join(missing)}; needs at least id,summary (or a Jira export's "
                       f"Issue key,Summary, or --column {missing[0]}=HEADER); it has {', '.join(raw.columns)}{hint}")
    items = raw.rename(columns={header: canonical for canonical, header in mapping.items()})[list(mapping)]
    policy = _policy(args.policy)
    verdicts = assess_summaries(items["summary"])
    owners = owner_problem(items["owner"], set(), policy) if "owner" in items else None
    no_due = is_blank(items["due"]) if "due" in items else None
    bad_due = _due_problems(items["due"]) if "due" in items else None
    ids = items["id"].str.strip()
    duplicated = ids.duplicated(keep=False) & ids.ne("")
    found: Counter[str] = Counter()
    for index, row in items.iterrows():
        findings, verdict = _vague_findings(verdicts, index)
        if ids[index] == "":
            findings.append({"rule": "SRC-INVALID", "reason": f"row {int(index) + 2}: the id is empty"})
        elif duplicated[index]:
            findings.append({"rule": "SRC-INVALID", "reason": f"id {ids[index]!r} appears more than once"})
        if owners is not None and owners[index]:
            findings.append({"rule": "AI-NO-OWNER", "reason": str(owners[index])})
        if no_due is not None and no_due[index]:
            findings.append({"rule": "AI-NO-DUE", "reason": "no due date"})
        if bad_due is not None and bad_due[index]:
            findings.append({"rule": "SRC-INVALID", "reason": str(bad_due[index])})
        found.update(f["rule"] for f in findings)
        print(json.dumps({"id": row["id"], "vague": bool(verdicts.at[index, "vague"]), "verdict": verdict,
                          "findings": findings}))
    code = _exit_code(found, fail_on)
    noun = "item" if len(items) == 1 else "items"
    print(_summary_line("lint-actions", f"{len(items)} {noun}", found, fail_on, code), file=sys.stderr)
    return code


# --------------------------------------------------------------------------- lint-postmortem


def cmd_lint_postmortem(args: argparse.Namespace) -> int:
    import pandas as pd

    from followthrough.rules.action_items import owner_problem
    from followthrough.rules.postmortem_text import SECTIONS, detect_sections, find_blame, listed_actions
    from followthrough.rules.vague import NOT_ENGLISH, assess_summaries, judgements

    fail_on = _rules_to_fail_on(args.fail_on)
    text = _read_text(args.file)
    policy = _policy(args.policy)
    require_headings = bool(args.require_headings or policy.postmortem.require_headings)
    found: Counter[str] = Counter()
    verdict = "judged"
    if not text.strip():
        verdict = "empty"
    elif len(text) > LONGEST_DOCUMENT_CHARS:
        verdict = f"not judged: too long ({len(text)} characters)"
    elif judgements(pd.Series([text[:5000]], dtype=object)).iloc[0] == NOT_ENGLISH:
        verdict = NOT_ENGLISH
    if verdict.startswith("not judged"):
        print(json.dumps({"verdict": verdict, "sections": {}, "blame": [], "actions": [], "findings": []}))
        print(_summary_line("lint-postmortem", f"{args.file} {verdict}", found, fail_on, 0), file=sys.stderr)
        return 0
    status = detect_sections(text, require_headings=require_headings)
    findings: list[dict[str, str]] = []
    for section in policy.postmortem.required_sections:
        s = status[section]
        if s.empty:
            findings.append({"rule": "PM-INCOMPLETE", "reason": f"section {section} is empty or a placeholder: {s.evidence}"})
        elif not s.present:
            findings.append({"rule": "PM-INCOMPLETE", "reason": f"section {section} is missing: {s.evidence}"})
    blame = find_blame(text)
    findings += [{"rule": "PM-BLAME", "reason": f"blame-first language ({b.phrase}): {b.quote}"} for b in blame]
    actions = listed_actions(text)
    action_rows: list[dict[str, Any]] = []
    if actions:
        summaries = pd.Series([a.text for a in actions], dtype=object)
        verdicts = assess_summaries(summaries)
        owners = owner_problem(pd.Series([a.owner or "" for a in actions], dtype=object), set(), policy)
        for i, action in enumerate(actions):
            item_findings, item_verdict = _vague_findings(verdicts, i)
            if owners[i]:
                item_findings.append({"rule": "AI-NO-OWNER", "reason": str(owners[i])})
            for f in item_findings:
                findings.append({**f, "reason": f"action item line {action.line} ({action.text[:80]}): {f['reason']}"})
            action_rows.append({"line": action.line, "text": action.text, "owner": action.owner,
                                "vague": bool(verdicts.at[i, "vague"]), "verdict": item_verdict,
                                "findings": item_findings})
    found.update(f["rule"] for f in findings)
    print(json.dumps({
        "verdict": verdict,
        "require_headings": require_headings,
        "sections": {s: status[s].present for s in SECTIONS},
        "judged": {s: {"present": status[s].present, "empty": status[s].empty, "basis": status[s].basis,
                       "evidence": status[s].evidence} for s in SECTIONS},
        "blame": [b.quote for b in blame],
        "actions": action_rows,
        "findings": findings,
    }))
    code = _exit_code(found, fail_on)
    print(_summary_line("lint-postmortem", f"{args.file} ({len(actions)} action items)", found, fail_on, code),
          file=sys.stderr)
    return code


# --------------------------------------------------------------------------- registration


def add_lint_commands(sub: Any) -> None:
    """Register lint-actions and lint-postmortem on an argparse subparsers object."""
    fail_help = ("exit 1 when there are findings; with RULES (comma-separated, e.g. AI-VAGUE,AI-NO-OWNER) only "
                 "when there are findings of those rules")
    actions = sub.add_parser(
        "lint-actions",
        help="check action items in a CSV (id,summary[,owner,due]; a Jira CSV export's headers are recognised)",
    )
    actions.add_argument("file")
    actions.add_argument("--policy", help="policy file for owner rules (default: built-in defaults)")
    actions.add_argument("--column", action="append", metavar="CANONICAL=HEADER",
                         help="map a column: id, summary, owner or due to the file's header (repeatable)")
    actions.add_argument("--delimiter", help="the CSV delimiter (default ',')")
    actions.add_argument("--fail-on", nargs="?", const="any", default=None, metavar="RULES", help=fail_help)
    actions.set_defaults(func=cmd_lint_actions)
    postmortem = sub.add_parser("lint-postmortem", help="check a postmortem document (Markdown, HTML or text)")
    postmortem.add_argument("file")
    postmortem.add_argument("--policy", help="policy file for the required sections (default: built-in defaults)")
    postmortem.add_argument("--require-headings", action="store_true",
                            help="count a section only under a heading naming it (postmortem.require_headings)")
    postmortem.add_argument("--fail-on", nargs="?", const="any", default=None, metavar="RULES", help=fail_help)
    postmortem.set_defaults(func=cmd_lint_postmortem)
