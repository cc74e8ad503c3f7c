from __future__ import annotations

from pathlib import Path

import pytest

from followthrough.exceptions import SourceError
from followthrough.model import INCIDENTS
from followthrough.sources.files import read_entity, read_export_folder


def test_missing_folder_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=str(tmp_path / "absent")):
        read_export_folder(tmp_path / "absent")


def test_a_file_in_place_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "export").write_text("x")
    with pytest.raises(SourceError, match="not a folder"):
        read_export_folder(tmp_path / "export")


def test_values_are_read_as_exported_strings(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text(
        "incident_id,severity,status,team_id,started_at\nINC-007,SEV1,open,payments,yesterday\n")
    frame = read_entity(tmp_path, INCIDENTS)
    assert frame.loc[0, "incident_id"] == "INC-007"
    assert frame.loc[0, "started_at"] == "yesterday"
    assert frame.loc[0, "resolved_at"] == ""  # optional columns may be absent from an export
    assert frame.loc[0, "_row"] == 1


def test_missing_required_column_is_a_source_error(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text("incident_id,status\nINC-1,open\n")
    with pytest.raises(SourceError, match="severity"):
        read_entity(tmp_path, INCIDENTS)


def test_absent_and_empty_files_give_no_rows(tmp_path: Path) -> None:
    assert read_entity(tmp_path, INCIDENTS).empty
    (tmp_path / "incidents.csv").write_text("")
    assert read_entity(tmp_path, INCIDENTS).empty


def test_documents_are_read_only_inside_the_export(tmp_path: Path) -> None:
    export = tmp_path / "export"
    (export / "postmortems").mkdir(parents=True)
    (export / "postmortems" / "PM-1.md").write_text("# Summary\nok\n")
    (tmp_path / "secret.txt").write_text("secret")
    (export / "postmortems.csv").write_text(
        "postmortem_id,incident_id,status,document\nPM-1,INC-1,draft,postmortems/PM-1.md\n"
        "PM-2,INC-1,draft,../secret.txt\n")
    texts = read_export_folder(export)["postmortems"]["document_text"].tolist()
    assert texts == ["# Summary\nok\n", ""]
