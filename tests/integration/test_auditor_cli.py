"""What an auditor does with the CLI, on a store two demo runs wrote: runs, report, trail exports,
checkpoints and verify-audit, and the bad input each command must refuse (exit 2)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from followthrough.cli import main
from followthrough.config import safe_name
from followthrough.store.repository import Store
from tests.integration.conftest import DEMO_RUNS
from tests.pipeline import expected_findings

RUNS = DEMO_RUNS
BIN = Path(sys.executable).parent


@pytest.fixture
def home(demo_home: Path) -> Path:
    return demo_home


@pytest.fixture
def db(home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FOLLOWTHROUGH_HOME", str(home))
    return f"sqlite:///{home / 'followthrough.db'}"


def _out(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out


def test_each_run_leaves_a_signed_checkpoint_in_its_report_folder_and_xcom(home: Path) -> None:
    xcom = json.loads((home / "xcom.json").read_text())
    for run_id, result in zip(RUNS, xcom, strict=True):
        on_disk = json.loads((home / "reports" / safe_name(run_id) / "audit_checkpoint.json").read_text())
        assert on_disk == result["audit_checkpoint"]
        assert on_disk["run_id"] == run_id
    assert xcom[1]["audit_checkpoint"]["seq"] > xcom[0]["audit_checkpoint"]["seq"]
    assert Store(f"sqlite:///{home / 'followthrough.db'}").audit_events()[-1]["seq"] == xcom[1]["audit_checkpoint"]["seq"]


def test_runs_lists_history_with_policy_counts_and_checkpoint(db: str, home: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "--db", db, "--format", "json"]) == 0
    rows = json.loads(_out(capsys))
    assert [r["run_id"] for r in rows] == RUNS
    xcom = json.loads((home / "xcom.json").read_text())
    assert [r["checkpoint_seq"] for r in rows] == [x["audit_checkpoint"]["seq"] for x in xcom]
    assert all(len(r["policy_hash"]) == 64 for r in rows)
    assert rows[0]["waived"] == len(expected_findings("waived"))
    assert main(["runs", "--db", db, "--limit", "1"]) == 0
    table = _out(capsys).splitlines()
    assert table[0].split()[:3] == ["run_id", "folder", "as_of"]
    assert len(table) == 2
    assert table[1].startswith(RUNS[1])


def test_report_takes_a_run_id_or_folder_name_and_json(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--db", db, "--run", safe_name(RUNS[0]), "--format", "json"]) == 0
    summary = json.loads(_out(capsys))
    assert summary["run_id"] == RUNS[0]
    assert main(["report", "--db", db, "--run", RUNS[0]]) == 0
    assert f"Followthrough run {RUNS[0]}" in _out(capsys)


def test_summary_counts_agree_with_the_store(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(db)
    summary = store.get_run(RUNS[0])["summary"]  # type: ignore[index]
    waived = expected_findings("waived")
    assert waived, "the demo plants waived findings"
    assert summary["findings"]["changes_this_run"]["waived"] == len(waived)  # the "waived 0" bug
    assert summary["findings"]["waived"] == len(waived)
    status_by_rule = {}
    for event in store.audit_events(RUNS[0]):
        if event["kind"].startswith("finding_"):
            status_by_rule[event["subject"]] = event["payload"]["status"]
    assert summary["findings"]["changes_this_run"]["new"] == list(status_by_rule.values()).count("open")
    assert main(["report", "--db", db, "--run", RUNS[0]]) == 0
    assert f"waived {len(waived)})" in _out(capsys)


@pytest.mark.parametrize("run", ["nope", "manual__2026-07-15"])
def test_report_unknown_run_exits_2(db: str, run: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--db", db, "--run", run]) == 2
    assert "followthrough runs" in capsys.readouterr().err


def test_trail_for_a_team_answers_found_done_told(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "trail", "--db", db, "--team", "payments", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(_out(capsys))))
    assert rows
    assert {r["team_id"] for r in rows} == {"payments"}
    assert {r["category"] for r in rows} == {"found", "done", "told"}
    told = [r for r in rows if r["category"] == "told"]
    assert all(r["person"] and r["channel"] and r["status"] == "dry_run" for r in told)


def test_trail_by_person_incident_and_dates(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "trail", "--db", db, "--what", "found", "--format", "json"]) == 0
    found = json.loads(_out(capsys))
    person = next(r["person"] for r in found if r["person"])
    incident = next(r["incident_id"] for r in found if r["incident_id"])
    assert main(["audit", "trail", "--db", db, "--person", person, "--format", "json"]) == 0
    rows = json.loads(_out(capsys))
    assert rows
    assert all(person in (r["person"], r["responsible"]) for r in rows)
    assert any(r["category"] == "told" and r["person"] == person for r in rows)
    assert main(["audit", "trail", "--db", db, "--incident", incident, "--format", "json"]) == 0
    assert {r["incident_id"] for r in json.loads(_out(capsys))} == {incident}
    assert main(["audit", "trail", "--db", db, "--from", "2026-07-16", "--to", "2026-07-16", "--format", "json"]) == 0
    assert {r["run_id"] for r in json.loads(_out(capsys))} == {RUNS[1]}
    assert main(["audit", "trail", "--db", db, "--to", "2026-07-14", "--format", "json"]) == 0
    assert json.loads(_out(capsys)) == []


def test_trail_exports_to_a_file(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "trail.json"
    assert main(["audit", "trail", "--db", db, "--run", safe_name(RUNS[0]), "--format", "json",
                 "--output", str(target)]) == 0
    rows = json.loads(target.read_text())
    assert rows
    assert {r["run_id"] for r in rows} == {RUNS[0]}
    assert f"{len(rows)} rows written" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2026-13-01"], "--from '2026-13-01' is not a date"),
    (["--from", "2026-07-16", "--to", "2026-07-15"], "is after --to"),
    (["--team", "pay'; DROP TABLE ft_runs;--"], "is not a valid id"),
    (["--team", "nosuchteam"], "unknown team 'nosuchteam'; the store knows: checkout"),
    (["--person", "nobody.here"], "unknown person"),
    (["--incident", "INC-0"], "unknown incident"),
    (["--run", "missing"], "no run 'missing'"),
])
def test_trail_bad_parameters_exit_2(db: str, args: list[str], message: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "trail", "--db", db, *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_checkpoint_and_verify_audit(db: str, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "checkpoint", "--db", db]) == 0
    checkpoint = json.loads(_out(capsys))
    assert checkpoint["seq"] == Store(db).audit_events()[-1]["seq"]
    assert main(["verify-audit", "--db", db]) == 0
    out = _out(capsys)
    assert out.startswith(f"audit chain intact: {checkpoint['seq']} events")
    assert "checkpoint(s) matched" in out


def test_verify_audit_catches_a_truncated_tail_from_report_checkpoints(home: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy.db"
    shutil.copy(home / "followthrough.db", copy)
    with sqlite3.connect(copy) as connection:  # the intruder deletes the tail and the store's own checkpoints
        connection.execute("DELETE FROM ft_audit_events WHERE seq > (SELECT MAX(seq) - 11 FROM ft_audit_events)")
        connection.execute("DELETE FROM ft_audit_checkpoints")
    assert main(["verify-audit", "--db", f"sqlite:///{copy}", "--reports", str(home / "reports")]) == 1
    out = capsys.readouterr().out
    assert out.startswith("AUDIT CHAIN BROKEN: truncated tail")
    kept = tmp_path / "kept.json"
    shutil.copy(home / "reports" / safe_name(RUNS[1]) / "audit_checkpoint.json", kept)
    assert main(["verify-audit", "--db", f"sqlite:///{copy}", "--no-found", "--checkpoint", str(kept)]) == 1
    assert "truncated tail" in capsys.readouterr().out


def test_verify_audit_refuses_a_missing_or_foreign_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "typo" / "followthrough.db"
    assert main(["verify-audit", "--db", f"sqlite:///{missing}"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not missing.exists()
    assert not missing.parent.exists()
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER)")
    assert main(["verify-audit", "--db", f"sqlite:///{foreign}"]) == 2
    assert "holds no Followthrough store" in capsys.readouterr().err
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    assert main(["verify-audit", "--db", f"sqlite:///{garbage}"]) == 2
    assert "not a readable database" in capsys.readouterr().err
    for command in (["runs"], ["report"], ["audit", "trail"]):
        assert main([*command, "--db", f"sqlite:///{missing}"]) == 2
    assert not missing.exists()


def test_verify_audit_without_a_key_exits_2(db: str, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("FOLLOWTHROUGH_AUDIT_KEY", "FOLLOWTHROUGH_AUDIT_KEY_FILE", "AIRFLOW_CONN_FOLLOWTHROUGH_AUDIT"):
        monkeypatch.delenv(name, raising=False)
    assert main(["verify-audit", "--db", db]) == 2
    assert "no audit key" in capsys.readouterr().err
    assert main(["verify-audit", "--db", db, "--key-file", "/nonexistent/key"]) == 2


def test_installed_command_and_a_closed_pipe(db: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    result = subprocess.run(f"'{BIN / 'followthrough'}' audit trail --db '{db}' --format csv | head -n 2",
                            shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.startswith("recorded_at,as_of,run_id")
    assert len(result.stdout.splitlines()) == 2
    piped = subprocess.run(["bash", "-o", "pipefail", "-c",
                            f"'{BIN / 'followthrough'}' report --db '{db}' | head -n 1"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert (piped.returncode, piped.stderr) == (0, "")


def test_report_prints_the_path_of_the_report_it_wrote(db: str, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`make demo` ends with `followthrough report`: its last line names the run's report.html, which exists."""
    assert main(["report", "--db", db]) == 0
    last = _out(capsys).rstrip().splitlines()[-1]
    assert last.startswith("Report: ")
    path = Path(last.removeprefix("Report: "))
    assert path == home / "reports" / safe_name(DEMO_RUNS[-1]) / "report.html"
    assert "<svg" in path.read_text()
