from __future__ import annotations

from pathlib import Path

import pytest

from followthrough.exceptions import SourceError
from followthrough.model import ENTITIES, INCIDENTS
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


def test_a_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    # read as "no rows", a missing export would resolve every finding about the entity
    with pytest.raises(SourceError, match=r"incidents\.csv is missing.*absent_entities"):
        read_entity(tmp_path, INCIDENTS)


def test_an_empty_file_without_header_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text("")
    with pytest.raises(SourceError, match=r"incidents\.csv is empty"):
        read_entity(tmp_path, INCIDENTS)


def test_a_file_with_only_its_header_is_zero_rows(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text("incident_id,severity,status,team_id,started_at\n")
    assert read_entity(tmp_path, INCIDENTS).empty


def test_a_truncated_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text(
        "incident_id,severity,status,team_id,started_at\nINC-1,SEV1,open,payments,2026-07-01T00:00:00Z\nINC-2,SE")
    with pytest.raises(SourceError, match=r"incidents\.csv is truncated: its last row has 2 of 5 fields"):
        read_entity(tmp_path, INCIDENTS)


def test_a_last_line_without_newline_but_complete_is_fine(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text(
        "incident_id,severity,status,team_id,started_at\nINC-1,SEV1,open,payments,2026-07-01T00:00:00Z")
    assert read_entity(tmp_path, INCIDENTS)["incident_id"].tolist() == ["INC-1"]


def test_an_undecodable_file_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_bytes(b"incident_id,severity\n\xff\xfe\x00bad\n")
    with pytest.raises(SourceError, match=r"cannot read .*incidents\.csv"):
        read_entity(tmp_path, INCIDENTS)


def test_entities_declared_absent_need_no_file(tmp_path: Path) -> None:
    (tmp_path / "teams.csv").write_text("team_id,name,timezone\npayments,Payments,UTC\n")
    (tmp_path / "people.csv").write_text("person_id,active\n")
    (tmp_path / "services.csv").write_text("service,team_id\n")
    absent = ("incidents", "postmortems", "action_items", "status_updates", "action_item_history")
    frames = read_export_folder(tmp_path, absent=absent)
    assert sorted(frames) == ["people", "services", "teams"]
    with pytest.raises(SourceError, match="incidents.csv is missing"):
        read_export_folder(tmp_path, absent=absent[1:])


def test_documents_are_read_only_inside_the_export(tmp_path: Path) -> None:
    export = tmp_path / "export"
    (export / "postmortems").mkdir(parents=True)
    (export / "postmortems" / "PM-1.md").write_text("# Summary\nok\n")
    (tmp_path / "secret.txt").write_text("secret")
    (export / "postmortems.csv").write_text(
        "postmortem_id,incident_id,status,document\nPM-1,INC-1,draft,postmortems/PM-1.md\n"
        "PM-2,INC-1,draft,../secret.txt\n")
    others = [e.name for e in ENTITIES if e.name != "postmortems"]
    texts = read_export_folder(export, absent=others)["postmortems"]["document_text"].tolist()
    assert texts == ["# Summary\nok\n", ""]
