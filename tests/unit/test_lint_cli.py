"""The lint commands as CI uses them: --fail-on and exit codes, the summary line, column
mapping and Jira CSV exports, bad dates and ids, delimiters, postmortem action items, and the
verdicts for text that is not judged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from followthrough.cli import main

VAGUE_AND_CLEAN = (
    "id,summary,owner,due\n"
    "A-1,Look into search-api,alice,2026-08-01\n"
    "A-2,Add alert on p99 latency > 800ms for checkout-api,omar.owner,2026-08-01\n"
)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict], str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


def _csv(tmp_path: Path, text: str, name: str = "items.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- --fail-on and exit codes ----------------------------------------------------------------


def test_findings_are_data_without_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, rows, err = _run(capsys, "lint-actions", _csv(tmp_path, VAGUE_AND_CLEAN))
    assert code == 0
    assert [r["vague"] for r in rows] == [True, False]
    assert err.strip().splitlines()[-1] == "lint-actions: 2 items, 1 finding: AI-VAGUE 1"


def test_fail_on_any_finding_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "lint-actions", _csv(tmp_path, VAGUE_AND_CLEAN), "--fail-on")
    assert code == 1
    assert err.strip().endswith("--fail-on any: FAIL")


def test_fail_on_passes_without_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = "id,summary,owner,due\nA-2,Add alert on p99 latency > 800ms for checkout-api,omar.owner,2026-08-01\n"
    code, _, err = _run(capsys, "lint-actions", _csv(tmp_path, clean), "--fail-on")
    assert code == 0
    assert err.strip() == "lint-actions: 1 item, 0 findings; --fail-on any: pass"


def test_fail_on_named_rules_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, VAGUE_AND_CLEAN)
    assert _run(capsys, "lint-actions", path, "--fail-on", "AI-NO-OWNER")[0] == 0
    assert _run(capsys, "lint-actions", path, "--fail-on", "AI-NO-OWNER,ai-vague")[0] == 1


def test_lint_postmortem_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pm.md"
    path.write_text("# Summary\nCheckout failed for 40 minutes after a config push.\n", encoding="utf-8")
    assert _run(capsys, "lint-postmortem", str(path))[0] == 0
    code, _, err = _run(capsys, "lint-postmortem", str(path), "--fail-on", "PM-INCOMPLETE")
    assert code == 1
    assert "PM-INCOMPLETE" in err.strip().splitlines()[-1]
    assert _run(capsys, "lint-postmortem", str(path), "--fail-on", "PM-BLAME")[0] == 0


# --- columns, Jira exports, dates, ids, delimiters --------------------------------------------


def test_jira_csv_export_headers_are_recognised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = (
        "Summary,Issue key,Issue id,Issue Type,Status,Assignee,Due date\n"
        "Improve monitoring,OPS-1,10001,Task,Open,,\n"
        "Rotate the payments-db TLS certificate before it expires on 2026-09-01,OPS-2,10002,Task,Open,ana.lima,"
        "15/Jul/26 12:00 AM\n"
    )
    code, rows, err = _run(capsys, "lint-actions", _csv(tmp_path, export))
    assert code == 0
    assert [r["id"] for r in rows] == ["OPS-1", "OPS-2"]
    assert {f["rule"] for f in rows[0]["findings"]} == {"AI-VAGUE", "AI-NO-OWNER", "AI-NO-DUE"}
    assert rows[1]["findings"] == []
    assert err.startswith("lint-actions: 2 items")


def test_column_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, "Ref,What,Who\nX-1,Set max connections to 400 in payments-db pgbouncer config,TBD\n")
    code, rows, _ = _run(capsys, "lint-actions", path, "--column", "id=Ref", "--column", "summary=What",
                         "--column", "owner=Who")
    assert code == 0
    assert rows == [{"id": "X-1", "vague": False, "verdict": "judged",
                     "findings": [{"rule": "AI-NO-OWNER", "reason": "owner is a placeholder"}]}]


@pytest.mark.parametrize(("argv", "message"), [
    (["--column", "id"], "expected CANONICAL=HEADER"),
    (["--column", "colour=Ref"], "expected CANONICAL=HEADER"),
    (["--column", "id=Nope"], "has no column 'Nope'"),
])
def test_bad_column_mapping_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                    message: str) -> None:
    code, rows, err = _run(capsys, "lint-actions", _csv(tmp_path, "Ref,What\nX-1,Fix it\n"), *argv)
    assert code == 2
    assert rows == []
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_unparseable_due_dates_and_bad_ids_are_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        "id,summary,owner,due\n"
        "A-1,Add alert on p99 latency > 800ms for checkout-api,ana,next sprint\n"
        "A-1,Pin the nginx ingress chart to 4.10.1,ana,2026-08-01\n"
        ",Set max connections to 400 in payments-db pgbouncer config,ana,2026-08-01\n"
    )
    code, rows, err = _run(capsys, "lint-actions", _csv(tmp_path, text))
    assert code == 0
    reasons = [[f["reason"] for f in r["findings"] if f["rule"] == "SRC-INVALID"] for r in rows]
    assert reasons[0] == ["id 'A-1' appears more than once", "due date 'next sprint' is not a date"]
    assert reasons[1] == ["id 'A-1' appears more than once"]
    assert reasons[2] == ["row 4: the id is empty"]
    assert "SRC-INVALID 4" in err


def test_header_only_file_says_0_items(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, rows, err = _run(capsys, "lint-actions", _csv(tmp_path, "id,summary,owner,due\n"), "--fail-on")
    assert code == 0
    assert rows == []
    assert err.strip() == "lint-actions: 0 items, 0 findings; --fail-on any: pass"


def test_semicolon_file_gets_a_delimiter_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, "id;summary\nA-1;Improve monitoring\n")
    code, _, err = _run(capsys, "lint-actions", path)
    assert code == 2
    assert "pass --delimiter ';'" in err
    assert len(err.strip().splitlines()) == 1
    code, rows, _ = _run(capsys, "lint-actions", path, "--delimiter", ";")
    assert code == 0
    assert rows[0]["vague"] is True


def test_tab_separated_file_gets_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "lint-actions", _csv(tmp_path, "id\tsummary\nA-1\tImprove monitoring\n"))
    assert code == 2
    assert "--delimiter '\\t'" in err


# --- bad input: binary, undecodable, empty, long, other languages ------------------------------


@pytest.mark.parametrize("command", ["lint-actions", "lint-postmortem"])
@pytest.mark.parametrize(("content", "message"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is a binary file"),
    (b"id,summary\nA-1,caf\xe9 \xff\xfe\n", "is not UTF-8 text"),
])
def test_binary_or_undecodable_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     command: str, content: bytes, message: str) -> None:
    path = tmp_path / "input"
    path.write_bytes(content)
    code, rows, err = _run(capsys, command, str(path))
    assert code == 2
    assert rows == []
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_missing_postmortem_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "lint-postmortem", str(tmp_path / "nope.md"))
    assert code == 2
    assert "cannot read" in err


def test_non_english_and_long_items_are_not_judged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    long_item = "Add an alert for the checkout-api error rate " * 40
    text = (
        "id,summary\n"
        "A-1,Überwachung für den Datenbankserver einrichten und Alarme prüfen\n"
        "A-2,データベースの監視を改善する\n"
        f"A-3,{long_item}\n"
        "A-4,\n"
    )
    code, rows, _ = _run(capsys, "lint-actions", _csv(tmp_path, text), "--fail-on", "AI-VAGUE")
    assert [r["verdict"] for r in rows[:2]] == ["not judged: language", "not judged: language"]
    assert rows[2]["verdict"].startswith("not judged: too long (")
    assert [r["vague"] for r in rows[:3]] == [False, False, False]
    assert rows[3]["verdict"] == "empty"
    assert rows[3]["vague"] is True  # nothing to act on
    assert code == 1


def test_non_english_postmortem_is_not_judged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pm.md"
    path.write_text("# Zusammenfassung\n\nDer Datenbankserver war für zwei Stunden nicht erreichbar, und die "
                    "Benutzer konnten sich nicht anmelden. Wir werden die Überwachung verbessern.\n", encoding="utf-8")
    code, rows, err = _run(capsys, "lint-postmortem", str(path), "--fail-on")
    assert code == 0
    assert rows[0]["verdict"] == "not judged: language"
    assert rows[0]["findings"] == []
    assert "not judged: language" in err


def test_empty_postmortem_has_a_clear_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pm.md"
    path.write_text("\n\n", encoding="utf-8")
    code, rows, _ = _run(capsys, "lint-postmortem", str(path), "--fail-on", "PM-INCOMPLETE")
    assert code == 1
    assert rows[0]["verdict"] == "empty"
    assert {f["rule"] for f in rows[0]["findings"]} == {"PM-INCOMPLETE"}


# --- lint-postmortem: what was judged, the listed action items, the headings switch --------------


PM = """# Checkout outage

On 3 May the checkout-api returned errors for 42 minutes and 8% of orders failed, until the
config push that caused it was rolled back by the on-call engineer.

## What went wrong

A config push dropped the connection pool limit to 5 because the deploy pipeline did not
validate the value.

## Timeline

- 10:02 config push
- 10:05 error rate alert
- 10:44 rollback

## Action items

- [ ] Add a pool-limit check to the deploy pipeline (owner: @ana)
- [ ] Improve monitoring
- [ ] Look into checkout-api
"""


def test_lint_postmortem_checks_listed_action_items(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pm.md"
    path.write_text(PM, encoding="utf-8")
    code, rows, err = _run(capsys, "lint-postmortem", str(path))
    report = rows[0]
    assert code == 0
    assert report["sections"] == dict.fromkeys(("summary", "timeline", "root_cause", "impact", "actions"), True)
    assert report["judged"]["impact"]["basis"] == "content"
    assert "8% of orders failed" in report["judged"]["impact"]["evidence"]
    actions = report["actions"]
    assert [a["owner"] for a in actions] == ["@ana", None, None]
    assert [a["vague"] for a in actions] == [False, True, True]
    assert sum(f["rule"] == "AI-NO-OWNER" for f in report["findings"]) == 2
    assert {f["rule"] for f in report["findings"]} == {"AI-VAGUE", "AI-NO-OWNER"}
    assert all(f["reason"].startswith("action item line ") for f in report["findings"])
    assert "(3 action items)" in err


def test_require_headings_switch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pm.md"
    path.write_text(PM, encoding="utf-8")
    code, rows, _ = _run(capsys, "lint-postmortem", str(path), "--require-headings", "--fail-on", "PM-INCOMPLETE")
    report = rows[0]
    assert code == 1
    assert report["require_headings"] is True
    assert report["sections"]["impact"] is False
    assert report["sections"]["root_cause"] is True  # "What went wrong" is a heading for it
    missing = [f["reason"] for f in report["findings"] if f["rule"] == "PM-INCOMPLETE"]
    assert len(missing) == 2  # summary (the opening paragraph has no heading) and impact
    assert all("headings judged:" in r for r in missing)


def test_policy_file_turns_the_switch_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text("sources:\n  - {name: x, kind: files, path: .}\npostmortem:\n  require_headings: true\n",
                           encoding="utf-8")
    path = tmp_path / "pm.md"
    path.write_text(PM, encoding="utf-8")
    code, rows, _ = _run(capsys, "lint-postmortem", str(path), "--policy", str(policy_path))
    assert code == 0
    assert rows[0]["require_headings"] is True
    assert rows[0]["sections"]["impact"] is False
