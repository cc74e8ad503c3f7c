"""Small canonical frames for rule tests, built through the same coercion as real sources."""

from __future__ import annotations

from typing import Any

import pandas as pd

from followthrough.model import ENTITIES, ENTITY_BY_NAME, ROW_NUMBER, coerce

AS_OF = pd.Timestamp("2026-07-15T10:00:00Z")  # a Wednesday

TEAMS = [
    {"team_id": "payments", "name": "Payments", "lead": "lena.lead", "manager": "max.manager",
     "slack_channel": "#payments", "timezone": "UTC", "region": "GB"},
    {"team_id": "search", "name": "Search Relevance", "lead": "sam.lead", "manager": "max.manager",
     "slack_channel": "#search", "timezone": "Asia/Kolkata", "region": "IN"},
    {"team_id": "identity", "name": "Identity", "lead": "ida.lead", "manager": "max.manager",
     "slack_channel": "#identity", "timezone": "America/Los_Angeles", "region": "US"},
    {"team_id": "checkout", "name": "Checkout", "lead": "cem.lead", "manager": "max.manager",
     "slack_channel": "#checkout", "timezone": "Europe/Berlin", "region": "DE"},
    {"team_id": "growth", "name": "Growth", "lead": "gus.lead", "manager": "max.manager",
     "slack_channel": "#growth", "timezone": "America/New_York", "region": "US"},
]
PEOPLE = [
    {"person_id": p, "name": p, "email": f"{p}@example.com", "team_id": "payments", "role": "engineer",
     "slack_id": "U0" + p.upper()[:6], "active": "true"}
    for p in ("lena.lead", "sam.lead", "ida.lead", "max.manager", "omar.owner", "cem.lead", "gus.lead")
] + [{"person_id": "gone.person", "name": "Gone", "email": "gone@example.com", "team_id": "payments",
      "role": "engineer", "slack_id": "", "active": "false"}]


def frames(**entities: list[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    """Typed frames; teams and people default to the fixtures above, other entities to empty."""
    rows = {"teams": TEAMS, "people": PEOPLE} | entities
    result = {}
    for schema in ENTITIES:
        records = rows.get(schema.name, [])
        raw = pd.DataFrame([{c: str(r.get(c, "")) for c in schema.column_names} for r in records],
                           columns=schema.column_names, dtype="string")
        raw[ROW_NUMBER] = range(1, len(raw) + 1)
        result[schema.name] = coerce(ENTITY_BY_NAME[schema.name], raw)
    return result


def item(action_item_id: str, **fields: Any) -> dict[str, Any]:
    base = {"action_item_id": action_item_id, "incident_id": "INC-1", "summary": "Add alert on p99 latency",
            "owner": "omar.owner", "team_id": "payments", "priority": "P2", "status": "open",
            "created_at": "2026-07-14T09:00:00+00:00"}
    return base | fields
