"""Canonical model: the tables every source is mapped to, as documented frame schemas.

Each entity is described once here (columns, kinds, allowed values, time order) and that
description drives three things: the file source's format, the Great Expectations source
contract (`followthrough.quality.gx`) and the coercion of raw strings to typed frames.
Timestamps are timezone-aware UTC; dates are normalised UTC midnights; ids are strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import pandas as pd

ColumnKind = Literal["text", "timestamp", "date", "bool", "enum", "timezone"]

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
PRIORITIES = ("P1", "P2", "P3", "P4")
OPEN_ACTION_STATUSES = ("open", "in_progress", "blocked")
CLOSED_ACTION_STATUSES = ("done", "wont_do")

BOOL_VALUES = ("true", "false")


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    kind: ColumnKind = "text"
    required: bool = False
    allowed: tuple[str, ...] = ()
    doc: str = ""

    def __post_init__(self) -> None:
        if self.kind == "enum" and not self.allowed:
            raise ValueError(f"enum column {self.name!r} needs allowed values")


@dataclass(frozen=True)
class EntitySchema:
    """A canonical table: its file name in an export folder, its id and its columns."""

    name: str
    file: str
    id_column: str
    columns: tuple[Column, ...]
    # (later, earlier): rows where `later` < `earlier` break the contract
    time_order: tuple[tuple[str, str], ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def columns_of_kind(self, *kinds: ColumnKind) -> Iterator[Column]:
        return (c for c in self.columns if c.kind in kinds)


TEAMS = EntitySchema(
    name="teams",
    file="teams.csv",
    id_column="team_id",
    columns=(
        Column("team_id", required=True, doc="short identifier, e.g. payments"),
        Column("name", required=True),
        Column("lead", doc="person_id of the team lead"),
        Column("manager", doc="person_id of the manager escalations go to"),
        Column("slack_channel", doc="team channel, e.g. #payments"),
        Column("timezone", kind="timezone", required=True, doc="IANA time zone of the team"),
        Column("region", doc="ISO country code, for holidays"),
    ),
)

PEOPLE = EntitySchema(
    name="people",
    file="people.csv",
    id_column="person_id",
    columns=(
        Column("person_id", required=True, doc="handle, e.g. aisha.khan"),
        Column("name"),
        Column("email"),
        Column("team_id"),
        Column("role", kind="enum", allowed=("engineer", "lead", "manager")),
        Column("slack_id"),
        Column("active", kind="bool", required=True),
    ),
)

INCIDENTS = EntitySchema(
    name="incidents",
    file="incidents.csv",
    id_column="incident_id",
    columns=(
        Column("incident_id", required=True),
        Column("title"),
        Column("severity", kind="enum", required=True, allowed=SEVERITIES),
        Column("status", kind="enum", required=True, allowed=("open", "mitigated", "resolved", "closed")),
        Column("team_id", required=True),
        Column("service"),
        Column("started_at", kind="timestamp", required=True),
        Column("resolved_at", kind="timestamp"),
        Column("confidential", kind="bool"),
        Column("root_cause_category"),
        Column("labels", doc="semicolon-separated"),
        Column("affected_services", doc="semicolon-separated service names (services.csv)"),
    ),
    time_order=(("resolved_at", "started_at"),),
)

POSTMORTEMS = EntitySchema(
    name="postmortems",
    file="postmortems.csv",
    id_column="postmortem_id",
    columns=(
        Column("postmortem_id", required=True),
        Column("incident_id", required=True),
        Column("owner"),
        Column("status", kind="enum", required=True, allowed=("draft", "in_review", "published")),
        Column("created_at", kind="timestamp"),
        Column("published_at", kind="timestamp"),
        Column("document", doc="path of the write-up, relative to the export folder"),
        Column("participants", doc="semicolon-separated person_ids and/or team_ids who took part in the review"),
    ),
    time_order=(("published_at", "created_at"),),
)

ACTION_ITEMS = EntitySchema(
    name="action_items",
    file="action_items.csv",
    id_column="action_item_id",
    columns=(
        Column("action_item_id", required=True),
        Column("incident_id"),
        Column("summary"),
        Column("owner", doc="person_id; anything else is judged by AI-NO-OWNER"),
        Column("team_id", required=True),
        Column("priority", kind="enum", allowed=PRIORITIES),
        Column("category"),
        Column(
            "status",
            kind="enum",
            required=True,
            allowed=OPEN_ACTION_STATUSES + CLOSED_ACTION_STATUSES,
        ),
        Column("created_at", kind="timestamp", required=True),
        Column("due_date", kind="date"),
        Column("closed_at", kind="timestamp"),
        Column("resolution_note"),
        Column("approver", doc="person_id who approved closing it as wont_do"),
    ),
    time_order=(("closed_at", "created_at"),),
)

STATUS_UPDATES = EntitySchema(
    name="status_updates",
    file="status_updates.csv",
    id_column="update_id",
    columns=(
        Column("update_id", required=True),
        Column("action_item_id", required=True),
        Column("author"),
        Column("posted_at", kind="timestamp", required=True),
        Column("body"),
    ),
)

ACTION_ITEM_HISTORY = EntitySchema(
    name="action_item_history",
    file="action_item_history.csv",
    id_column="change_id",
    columns=(
        Column("change_id", required=True),
        Column("action_item_id", required=True),
        Column("changed_at", kind="timestamp", required=True),
        Column("field", kind="enum", required=True, allowed=("due_date", "priority", "status", "owner")),
        Column("old_value"),
        Column("new_value"),
    ),
)

SERVICES = EntitySchema(
    name="services",
    file="services.csv",
    id_column="service",
    columns=(
        Column("service", required=True),
        Column("team_id", required=True, doc="the team that owns the service"),
    ),
)

ENTITIES: tuple[EntitySchema, ...] = (
    TEAMS, PEOPLE, SERVICES, INCIDENTS, POSTMORTEMS, ACTION_ITEMS, STATUS_UPDATES, ACTION_ITEM_HISTORY,
)
ENTITY_BY_NAME: Mapping[str, EntitySchema] = {e.name: e for e in ENTITIES}

ROW_NUMBER = "_row"  # 1-based data-row number in the source file: never null, so GE can name failing rows


def empty_raw_frame(schema: EntitySchema) -> pd.DataFrame:
    """A raw (all-string) frame with the entity's columns and no rows."""
    import pandas as pd

    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in schema.column_names})
    frame[ROW_NUMBER] = pd.Series(dtype="int64")
    return frame


# a date, a time and an explicit UTC offset: without one the instant is ambiguous (whose local time?)
_WITH_OFFSET = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"


def parse_timestamps(values: pd.Series) -> pd.Series:
    """ISO 8601 strings with a UTC offset -> UTC timestamps; missing or unparseable values, and
    values without an offset (a local time of no stated zone), become NaT."""
    import pandas as pd

    text = values.astype("string").str.strip()
    explicit = text.str.match(_WITH_OFFSET).fillna(False).astype(bool)
    return _countable(pd.to_datetime(text.where(explicit), errors="coerce", utc=True, format="ISO8601"))


@lru_cache(maxsize=1024)
def is_timezone(name: str) -> bool:
    """An IANA time zone name both the standard library and pandas resolve."""
    import pandas as pd

    try:
        ZoneInfo(name)
        pd.Timestamp(0, tz="UTC").tz_convert(name)
    except Exception:  # noqa: BLE001  zoneinfo and pandas raise several kinds for a bad name
        return False
    return True


def parse_timezones(values: pd.Series) -> pd.Series:
    """Time zone names -> the same names, or NA where missing or not a time zone."""
    import pandas as pd

    text = values.astype("string").str.strip()
    return text.where(text.map(lambda v: not pd.isna(v) and is_timezone(str(v))).astype(bool), pd.NA)


def parse_dates(values: pd.Series) -> pd.Series:
    """YYYY-MM-DD strings -> UTC midnights; missing or invalid values, and days outside
    EARLIEST..LATEST, become NaT."""
    import pandas as pd

    return _countable(pd.to_datetime(values, errors="coerce", format="%Y-%m-%d", utc=True))


# The instants the rules can count with: pandas' nanosecond range (1677-09-21 to 2262-04-11) less
# room for their arithmetic (a day after a due date, a year's limit after a start). Outside it
# pandas would parse 9999-12-31 at another resolution, and the first addition would overflow.
EARLIEST = "1700-01-01"
LATEST = "2260-12-31"


def _countable(parsed: pd.Series) -> pd.Series:
    import pandas as pd

    inside = (parsed >= pd.Timestamp(EARLIEST, tz="UTC")) & (parsed < pd.Timestamp(LATEST, tz="UTC")
                                                            + pd.Timedelta(days=1))
    return parsed.where(inside).astype("datetime64[ns, UTC]")


def coerce(schema: EntitySchema, raw: pd.DataFrame) -> pd.DataFrame:
    """Typed canonical frame from a raw string frame that passed the source contract."""
    import pandas as pd

    typed = pd.DataFrame(index=raw.index)
    for column in schema.columns:
        values = raw[column.name] if column.name in raw else pd.Series(pd.NA, index=raw.index, dtype="string")
        values = values.astype("string").str.strip().replace("", pd.NA)
        if column.kind == "timestamp":
            typed[column.name] = parse_timestamps(values)
        elif column.kind == "date":
            typed[column.name] = parse_dates(values)
        elif column.kind == "bool":
            typed[column.name] = values.str.lower().map({"true": True, "false": False}).astype("boolean")
        else:
            typed[column.name] = values
    if ROW_NUMBER in raw:
        typed[ROW_NUMBER] = raw[ROW_NUMBER].astype("int64")
    return typed.reset_index(drop=True)


def is_in(values: pd.Series, allowed: Iterable[object]) -> pd.Series:
    """``values.isin(allowed)`` for many allowed values: a hash lookup instead of a scan.

    pandas' isin on an Arrow string column converts every allowed value to a Python object
    first (3.6 s for a million ids against a third as many), which dominated a weekly trend
    and the incident rules at a million rows; Arrow's own is_in does it in 0.16 s. Missing
    values are never members (ids here are never missing).
    """
    import pandas as pd

    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        column = pa.array(values.array)
        try:
            if isinstance(allowed, (pd.Series, pd.Index)):
                allowed = allowed.array
            wanted = pa.array(allowed if isinstance(allowed, pd.api.extensions.ExtensionArray) else list(allowed))
            wanted = wanted.cast(column.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            wanted = None  # allowed values that are not all text: the general path below
        if wanted is not None:
            found = pc.is_in(column, value_set=wanted.drop_null(), skip_nulls=True)
            return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index, dtype=bool)
    if isinstance(allowed, pd.Series):
        allowed = allowed.array
    index = allowed if isinstance(allowed, pd.Index) else pd.Index(
        allowed if isinstance(allowed, pd.api.extensions.ExtensionArray) else list(allowed))
    positions = index.dropna().unique().get_indexer(values)
    return pd.Series(positions >= 0, index=values.index)


def records(frame: pd.DataFrame, missing_as_none: bool = False) -> list[dict[str, Any]]:
    """``frame.to_dict("records")``, the same values, built column by column.

    pandas boxes every cell of every row separately there (2.3 s for 47,000 findings of 26
    columns); a column's tolist() gives the same Python values (str, None, int, bool,
    Timestamp, the parsed JSON) in less than half the time. `missing_as_none`: every missing
    value (NaN, NaT, pd.NA) becomes None, as a database driver binds it.
    """
    import pandas as pd

    def values(column: pd.Series) -> list[object]:
        if missing_as_none:
            as_objects = column.astype(object)
            return as_objects.where(as_objects.notna(), None).tolist()
        listed = column.tolist()
        if getattr(column.dtype, "na_value", None) is pd.NA:  # to_dict gives None for pd.NA
            return [None if v is pd.NA else v for v in listed]
        return listed

    columns = list(frame.columns)
    if not columns:
        return [{} for _ in range(len(frame))]
    return [dict(zip(columns, row, strict=True))
            for row in zip(*(values(frame.iloc[:, i]) for i in range(len(columns))), strict=True)]
