from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from followthrough.exceptions import SourceError
from followthrough.model import ENTITIES, INCIDENTS
from followthrough.sources.files import MAX_FIELD_CHARS, read_entity, read_export


def test_missing_folder_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=str(tmp_path / "absent")):
        read_export(tmp_path / "absent")


def test_a_file_in_place_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "export").write_text("x")
    with pytest.raises(SourceError, match="not a folder"):
        read_export(tmp_path / "export")


def test_values_are_read_as_exported_strings(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text(
        "incident_id,severity,status,team_id,started_at\nINC-007,SEV1,open,payments,yesterday\n")
    frame = read_entity(tmp_path, INCIDENTS).frame
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
    assert read_entity(tmp_path, INCIDENTS).frame.empty


def test_a_truncated_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text(
        "incident_id,severity,status,team_id,started_at\nINC-1,SEV1,open,payments,2026-07-01T00:00:00Z\nINC-2,SE")
    with pytest.raises(SourceError, match=r"incidents\.csv is truncated: its last row has 2 of 5 fields"):
        read_entity(tmp_path, INCIDENTS)


def test_a_last_line_without_newline_but_complete_is_fine(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text(
        "incident_id,severity,status,team_id,started_at\nINC-1,SEV1,open,payments,2026-07-01T00:00:00Z")
    assert read_entity(tmp_path, INCIDENTS).frame["incident_id"].tolist() == ["INC-1"]


def test_an_undecodable_header_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_bytes("incident_id,severity\n".encode("utf-16"))
    with pytest.raises(SourceError, match=r"cannot read .*incidents\.csv: its header row is not UTF-8"):
        read_entity(tmp_path, INCIDENTS)


HEADER = "incident_id,severity,status,team_id,started_at\n"
GOOD = "INC-{n},SEV1,open,payments,2026-07-01T00:00:00Z\n"


def _rows(read: Any) -> list[tuple[int, str]]:
    return list(zip(read.frame["_row"], read.frame["incident_id"], strict=True))


def _quarantined(read: Any) -> list[tuple[int, str, str]]:
    return [(q["row_number"], q["record_id"], q["reason_code"]) for q in read.quarantine]


def test_an_undecodable_row_is_quarantined_alone(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_bytes(
        (HEADER + GOOD.format(n=1)).encode() + b"INC-2,SEV1,open,caf\xe9,2026-07-01T00:00:00Z\n"
        + GOOD.format(n=3).encode() + b"INC-4,SEV1,open,pay\x00ments,2026-07-01T00:00:00Z\n")
    read = read_entity(tmp_path, INCIDENTS)
    assert _rows(read) == [(1, "INC-1"), (3, "INC-3")]
    assert _quarantined(read) == [(2, "INC-2", "undecodable_row"), (4, "INC-4", "undecodable_row")]
    assert read.quarantine[0]["raw"]["team_id"] == "caf\ufffd"
    assert read.quarantine[1]["raw"]["team_id"] == "pay\ufffdments"  # no NUL reaches the store


def test_a_row_with_too_many_or_too_few_fields_is_quarantined_alone(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text(
        HEADER + GOOD.format(n=1) + "INC-2,SEV1,open,payments,2026-07-01T00:00:00Z,surplus\n"
        + "INC-3,SEV1,open\n" + GOOD.format(n=4))
    read = read_entity(tmp_path, INCIDENTS)
    assert _rows(read) == [(1, "INC-1"), (4, "INC-4")]
    assert _quarantined(read) == [(2, "INC-2", "malformed_row"), (3, "INC-3", "malformed_row")]
    assert read.quarantine[0]["raw"]["_extra_fields"] == "surplus"
    assert "the row has 3 fields, the header 5" in read.quarantine[1]["reason"]


def test_a_quote_left_open_does_not_swallow_the_rows_after_it(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text(
        HEADER + GOOD.format(n=1) + 'INC-2,"SEV1,open,payments,2026-07-01T00:00:00Z\n'
        + GOOD.format(n=3) + GOOD.format(n=4))
    read = read_entity(tmp_path, INCIDENTS)
    assert _rows(read) == [(1, "INC-1"), (3, "INC-3"), (4, "INC-4")]
    assert _quarantined(read) == [(2, "INC-2", "malformed_row")]


def test_quoted_fields_may_span_lines(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text(HEADER + 'INC-1,SEV1,open,"pay\nments",2026-07-01T00:00:00Z\n'
                                            + GOOD.format(n=2))
    read = read_entity(tmp_path, INCIDENTS)
    assert _rows(read) == [(1, "INC-1"), (2, "INC-2")]
    assert read.frame.loc[0, "team_id"] == "pay\nments"
    assert not read.quarantine


def test_a_byte_order_mark_crlf_and_blank_lines_are_accepted(tmp_path: Path) -> None:
    text = HEADER + GOOD.format(n=1) + "\n   \n" + GOOD.format(n=2)
    (tmp_path / "incidents.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    read = read_entity(tmp_path, INCIDENTS)
    assert _rows(read) == [(1, "INC-1"), (2, "INC-2")]
    assert not read.quarantine


def test_a_value_beyond_the_limit_quarantines_its_row_and_is_cut_in_the_copy(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text(
        "incident_id,title,severity,status,team_id,started_at\n"
        f"INC-1,{'x' * (MAX_FIELD_CHARS + 1)},SEV1,open,payments,2026-07-01T00:00:00Z\n"
        f"INC-2,{'y' * MAX_FIELD_CHARS},SEV1,open,payments,2026-07-01T00:00:00Z\n")
    read = read_entity(tmp_path, INCIDENTS)
    assert _rows(read) == [(2, "INC-2")]
    assert _quarantined(read) == [(1, "INC-1", "value_too_long")]
    assert read.quarantine[0]["reason"].startswith("title has 65,537 characters")
    assert len(read.quarantine[0]["raw"]["title"]) < 2000


def test_a_header_naming_a_column_twice_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text("incident_id,severity,severity,status,team_id,started_at\n")
    with pytest.raises(SourceError, match="names a column twice"):
        read_entity(tmp_path, INCIDENTS)


def test_the_export_read_gathers_the_quarantined_rows(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text(HEADER + "INC-1,SEV1\n")
    export = read_export(tmp_path, absent=[e.name for e in ENTITIES if e.name != "incidents"])
    assert export.frames["incidents"].empty
    assert export.quarantine[["entity", "row_number", "record_id", "reason_code"]].values.tolist() == [
        ["incidents", 1, "INC-1", "malformed_row"]]


def test_entities_declared_absent_need_no_file(tmp_path: Path) -> None:
    (tmp_path / "teams.csv").write_text("team_id,name,timezone\npayments,Payments,UTC\n")
    (tmp_path / "people.csv").write_text("person_id,active\n")
    (tmp_path / "services.csv").write_text("service,team_id\n")
    absent = ("incidents", "postmortems", "action_items", "status_updates", "action_item_history")
    frames = read_export(tmp_path, absent=absent).frames
    assert sorted(frames) == ["people", "services", "teams"]
    with pytest.raises(SourceError, match="incidents.csv is missing"):
        read_export(tmp_path, absent=absent[1:])


def test_documents_are_read_only_inside_the_export(tmp_path: Path) -> None:
    export = tmp_path / "export"
    (export / "postmortems").mkdir(parents=True)
    (export / "postmortems" / "PM-1.md").write_text("# Summary\nok\n")
    (tmp_path / "secret.txt").write_text("secret")
    (export / "postmortems.csv").write_text(
        "postmortem_id,incident_id,status,document\nPM-1,INC-1,draft,postmortems/PM-1.md\n"
        "PM-2,INC-1,draft,../secret.txt\n")
    others = [e.name for e in ENTITIES if e.name != "postmortems"]
    texts = read_export(export, absent=others).frames["postmortems"]["document_text"].tolist()
    assert texts == ["# Summary\nok\n", ""]
