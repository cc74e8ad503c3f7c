"""The command line: lint commands (findings are data: exit 0) and their bad input (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from followthrough.cli import main


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_lint_actions_reports_each_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "items.csv"
    path.write_text("id,summary,owner,due,priority\nA-1,Look into the outage,TBD,,P2\n"
                    "A-2,Add alert on p99 latency > 800ms for checkout-api,omar.owner,2026-08-01,P1\n")
    assert main(["lint-actions", str(path)]) == 0
    first, second = _lines(capsys)
    assert first["id"] == "A-1"
    assert first["vague"] is True
    assert {f["rule"] for f in first["findings"]} == {"AI-VAGUE", "AI-NO-OWNER", "AI-NO-DUE"}
    assert second == {"id": "A-2", "vague": False, "verdict": "judged", "findings": []}


def test_lint_actions_needs_only_id_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "items.csv"
    path.write_text('id,summary\n7,"Set max connections to 400 in payments-db pgbouncer config"\n')
    assert main(["lint-actions", str(path)]) == 0
    assert _lines(capsys) == [{"id": "7", "vague": False, "verdict": "judged", "findings": []}]


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read"),
    ("", "cannot read"),
    ("name,text\nx,y\n", "lacks column(s) id, summary"),
    ('id,summary\n1,"unterminated\n', "cannot read"),
])
def test_lint_actions_bad_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      content: str | None, message: str) -> None:
    path = tmp_path / "items.csv"
    if content is not None:
        path.write_text(content)
    assert main(["lint-actions", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_lint_postmortem_reports_sections_blame_and_findings(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pm.md"
    path.write_text("# Summary\nCheckout failed for 40 minutes.\n# Root cause\nA config push dropped the pool "
                    "limit. Mark forgot to run the canary.\n# Impact\nTBD\n# Action items\n- Add a pool-limit check "
                    "to the deploy pipeline.\n")
    assert main(["lint-postmortem", str(path)]) == 0
    report = _lines(capsys)[0]
    assert report["sections"] == {"summary": True, "timeline": False, "root_cause": True, "impact": False,
                                  "actions": True}
    assert any("forgot" in quote for quote in report["blame"])
    reasons = [f["reason"] for f in report["findings"] if f["rule"] == "PM-INCOMPLETE"]
    assert [r.split(":")[0] for r in reasons] == ["section timeline is missing",
                                                  "section impact is empty or a placeholder"]
    assert "\u201cTBD\u201d" in reasons[1]  # the finding quotes what it judged


def test_lint_postmortem_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pm.html"
    path.write_text("<html><body><h2>Summary</h2><p>API errors for 5 minutes after a deploy.</p>"
                    "<h2>Timeline</h2><ul><li>10:00 deploy</li><li>10:05 rollback</li></ul>"
                    "<h2>Root cause</h2><p>A missing index on orders.created_at.</p><h2>Impact</h2><p>3% of "
                    "requests failed.</p><h2>Action items</h2><ul><li>Add the index in migration 42</li></ul>"
                    "</body></html>")
    assert main(["lint-postmortem", str(path)]) == 0
    assert all(_lines(capsys)[0]["sections"].values())


@pytest.mark.parametrize("content", [None, b"\xff\xfe\x00binary"])
def test_lint_postmortem_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           content: bytes | None) -> None:
    path = tmp_path / "pm.md"
    if content is not None:
        path.write_bytes(content)
    assert main(["lint-postmortem", str(path)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_check_policy_reports_an_invalid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("sources: [{name: x, path: .}]\naction_items: {update_interval_days: 0}\n")
    assert main(["check-policy", str(path)]) == 2
    assert "action_items.update_interval_days" in capsys.readouterr().err


def test_check_policy_reports_a_source_folder_that_does_not_exist(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("sources:\n  - {name: demo, path: no-such-folder}\n")
    assert main(["check-policy", str(path)]) == 2
    assert f"sources.demo.path: {tmp_path / 'no-such-folder'} is not a folder" in capsys.readouterr().err
    (tmp_path / "no-such-folder").mkdir()
    assert main(["check-policy", str(path)]) == 0
