"""Policy models of the sources' configuration: where each entity lives in Jira and how it maps.

These are part of the policy (``sources.jira`` in policy.yaml) and live below both the policy
and the Jira source, so the policy never imports a source or a gateway.
"""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from followthrough.gateways.jira.jql import MAX_PAGE_WITH_FIELDS
from followthrough.model import ACTION_ITEMS, INCIDENTS, POSTMORTEMS

EntityQuery = Literal["incidents", "postmortems", "action_items"]

# canonical column -> default Jira field id per entity (None: filled only when configured)
DEFAULT_FIELDS: dict[str, dict[str, str | None]] = {
    "incidents": {
        "title": "summary", "severity": None, "team_id": None, "service": None, "started_at": "created",
        "resolved_at": "resolutiondate", "confidential": None, "root_cause_category": None, "labels": "labels",
        "affected_services": None,
    },
    "postmortems": {
        "owner": "assignee", "created_at": "created", "published_at": "resolutiondate", "participants": None,
    },
    "action_items": {
        "summary": "summary", "owner": "assignee", "team_id": None, "priority": "priority", "category": None,
        "created_at": "created", "due_date": "duedate", "closed_at": "resolutiondate", "resolution_note": None,
        "approver": None,
    },
}
MAPPABLE_COLUMNS = frozenset(c for columns in DEFAULT_FIELDS.values() for c in columns)
REQUIRED_MAPPINGS = ("severity", "team_id")
DEFAULT_VALUE_MAPS = {"priority": {"Highest": "P1", "High": "P2", "Medium": "P3", "Low": "P4", "Lowest": "P4"}}
ENTITY_SCHEMAS = {"incidents": INCIDENTS, "postmortems": POSTMORTEMS, "action_items": ACTION_ITEMS}
_FIELD_ID = re.compile(r"^(customfield_\d+|[A-Za-z][A-Za-z0-9_]*)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _without_strings(jql: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', jql)


class JiraQueries(_Strict):
    """The JQL selecting each entity's issues (trusted configuration, without ORDER BY)."""

    incidents: str
    postmortems: str
    action_items: str

    @field_validator("incidents", "postmortems", "action_items")
    @classmethod
    def _bounded(cls, jql: str) -> str:
        text = jql.strip()
        if not text:
            raise ValueError("must not be empty (Jira rejects unbounded queries)")
        if re.search(r"\border\s+by\b", _without_strings(text), re.IGNORECASE):
            raise ValueError("must not contain ORDER BY: the extractor orders by creation so paging is stable")
        return text


class JiraSourceConfig(_Strict):
    """Where each entity lives in Jira and how its fields map to the canonical columns."""

    jql: JiraQueries
    # canonical column -> Jira field id, e.g. {"severity": "customfield_10010", "team_id": "customfield_10020"};
    # unlisted columns use DEFAULT_FIELDS (summary, assignee, created, resolutiondate, duedate, priority, labels)
    fields: dict[str, str]
    overlap_minutes: int = Field(10, ge=0, le=24 * 60)
    page_size: int = Field(MAX_PAGE_WITH_FIELDS, ge=1, le=MAX_PAGE_WITH_FIELDS)
    incident_issue_type: str = "Incident"
    # only these teams' incidents and action items (matched against the team_id field); empty: all
    teams: tuple[str, ...] = ()
    # Jira accountId -> person_id; otherwise the person id is the local part of the user's email
    users: dict[str, str] = {}
    # per column, Jira value -> canonical value (priority defaults to Highest/High/Medium/Low -> P1..P4)
    value_maps: dict[str, dict[str, str]] = {}
    # per entity, Jira status name -> canonical status; otherwise the status category decides
    status_map: dict[EntityQuery, dict[str, str]] = {}
    wont_do_resolutions: tuple[str, ...] = ("Won't Do", "Won't Fix", "Declined")
    confidential_label: str = "confidential"
    # Jira reads JQL dates in the API user's profile time zone, read from /myself each run; set this
    # only to override a profile you cannot change
    jql_timezone: str | None = None
    # links from an incident or postmortem that make the other issue one of its action items, even
    # when the action-items query does not match it (matched against the link type's name)
    action_item_link_types: tuple[str, ...] = ("Action Item",)

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, fields: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(fields) - MAPPABLE_COLUMNS)
        if unknown:
            raise ValueError(f"unknown canonical column(s) {unknown}; mappable: {sorted(MAPPABLE_COLUMNS)}")
        bad = {k: v for k, v in fields.items() if not _FIELD_ID.match(v)}
        if bad:
            raise ValueError(f"not Jira field ids: {bad}")
        missing = [c for c in REQUIRED_MAPPINGS if c not in fields]
        if missing:
            raise ValueError(f"required column(s) {missing} need a Jira field (e.g. customfield_10010)")
        return fields

    @field_validator("value_maps")
    @classmethod
    def _known_value_maps(cls, maps: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        unknown = sorted(set(maps) - MAPPABLE_COLUMNS)
        if unknown:
            raise ValueError(f"value maps for unknown column(s) {unknown}")
        return maps

    @field_validator("jql_timezone")
    @classmethod
    def _timezone(cls, name: str | None) -> str | None:
        if name is None:
            return None
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    @model_validator(mode="after")
    def _statuses_allowed(self) -> JiraSourceConfig:
        for entity, mapping in self.status_map.items():
            allowed = next(c.allowed for c in ENTITY_SCHEMAS[entity].columns if c.name == "status")
            bad = {k: v for k, v in mapping.items() if v not in allowed}
            if bad:
                raise ValueError(f"status_map.{entity}: {bad} not in {list(allowed)}")
        return self

    def field_for(self, entity: str, column: str) -> str | None:
        """The Jira field an entity's canonical column comes from (None: not mapped)."""
        if column not in DEFAULT_FIELDS[entity]:
            return None
        return self.fields.get(column, DEFAULT_FIELDS[entity][column])

    def value_map(self, column: str) -> dict[str, str]:
        return {**DEFAULT_VALUE_MAPS.get(column, {}), **self.value_maps.get(column, {})}
