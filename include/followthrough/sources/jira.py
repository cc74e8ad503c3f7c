"""Jira source: incidents, postmortems and action items from Jira Cloud, as raw canonical frames.

Three configured JQL queries (one per entity, e.g. ``project = INC AND issuetype = Incident``)
are run through ``POST /rest/api/3/search/jql``, paging with ``nextPageToken`` at the largest
page the API gives for issues with fields, and asking only for the fields the mapping needs.
Each issue becomes one canonical row (all strings, the columns of :mod:`followthrough.model`):

- incidents: key, summary, the mapped severity/team/service/... fields, created and
  resolution date, labels; the status from the configured status map or the Jira status
  category;
- postmortems: the incident is the issue's link to an Incident issue; ``document_text`` is
  the ADF description as Markdown-like text (so the section and blame detectors can read it);
- action items: the incident likewise from a link; the owner is the assignee;
- status updates: one row per comment of an action item (``posted_at`` = created);
- action item history: from the changelog, the due date, priority, status and owner changes.

People are identified as the rest of the project does (``person_id``): the configured
``users`` map (Jira accountId -> person id) first, then the local part of the user's email
(``aisha.khan@example.com`` -> ``aisha.khan``).

Rows the mapping cannot represent faithfully are quarantined with a reason instead of being
guessed at: a mapped required field that is empty (``missing_value``), a user Jira will not
name (``unknown_user``: email hidden and not in ``users``), ADF with node types this code does
not know (``unknown_adf_node``; the text is kept in the quarantined row), and a link to an
Incident issue the incidents query does not return (``unresolved_link``). The quarantine has
the columns of the Great Expectations source contract's quarantine.

Incremental runs: with a watermark (the largest ``updated`` seen so far) each query gets
``AND updated >= "<watermark - overlap>"`` (``yyyy-MM-dd HH:mm`` in the time zone Jira reads JQL
dates in: the API user's profile time zone, read from ``/myself`` once per run, unless
``jql_timezone`` overrides it); the overlap absorbs clock skew and search lag.

Action items linked to an incident or postmortem by one of ``action_item_link_types`` (default
"Action Item") are read even when the action-items query does not match them: fetched by key in
batches of 100, and on later runs re-read when they changed (``known_linked``: the keys the
caller already holds). A sweep (``sweep=True``: once a day, and with every backfill) lists every
query's keys id-only at 5000 a page, so the caller can tell which issues were deleted or moved
out of scope (``present_keys``). Without one, everything is read
(backfill). Values inserted into JQL (team names) are quoted and escaped, so they can never
change the query's meaning. Results are ordered by creation (stable while paging) and
deduplicated by key. Incremental frames hold only the changed issues (with their full
comments and history): the caller upserts them into what it already has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from followthrough.exceptions import SourceError
from followthrough.gateways.jira import (
    JiraApiError,
    JiraClient,
    adf_to_text_with_unknown,
    jql_field,
    jql_quote,
)
from followthrough.model import (
    ACTION_ITEM_HISTORY,
    ACTION_ITEMS,
    INCIDENTS,
    POSTMORTEMS,
    ROW_NUMBER,
    STATUS_UPDATES,
    EntitySchema,
    empty_raw_frame,
)
from followthrough.source_config import DEFAULT_FIELDS, JiraSourceConfig
from followthrough.source_config import ENTITY_SCHEMAS as _SCHEMAS

# the policy's models of this source, importable from here as before
from followthrough.source_config import DEFAULT_VALUE_MAPS as DEFAULT_VALUE_MAPS  # noqa: E402  isort: skip
from followthrough.source_config import MAPPABLE_COLUMNS as MAPPABLE_COLUMNS  # isort: skip
from followthrough.source_config import REQUIRED_MAPPINGS as REQUIRED_MAPPINGS  # isort: skip
from followthrough.source_config import EntityQuery as EntityQuery  # isort: skip
from followthrough.source_config import JiraQueries as JiraQueries  # isort: skip

if TYPE_CHECKING:
    import pandas as pd

# Same columns as followthrough.quality.gx.QUARANTINE_COLUMNS (not imported: keeps GE's module out).
QUARANTINE_COLUMNS = ["entity", "row_number", "record_id", "reason_code", "reason", "raw"]
QUERIES = ("incidents", "postmortems", "action_items")

_STATUS_BY_CATEGORY = {
    "incidents": {"new": "open", "indeterminate": "open", "done": "resolved"},
    "postmortems": {"new": "draft", "indeterminate": "in_review", "done": "published"},
    "action_items": {"new": "open", "indeterminate": "in_progress", "done": "done"},
}
# status category of common workflow status names, for statuses only seen in a changelog
_COMMON_STATUS_CATEGORIES = {
    "to do": "new", "todo": "new", "open": "new", "new": "new", "backlog": "new", "selected for development": "new",
    "reopened": "new", "in progress": "indeterminate", "in review": "indeterminate", "review": "indeterminate",
    "done": "done", "closed": "done", "resolved": "done",
}
_BASE_FIELDS = ("summary", "status", "resolution", "created", "updated", "resolutiondate", "labels", "assignee",
                "issuetype")
_EXTRA_FIELDS = {
    "incidents": ("issuelinks",),
    "postmortems": ("description", "issuelinks"),
    "action_items": ("issuelinks", "comment", "priority", "duedate"),
}


def build_jql(base: str, *, since: datetime | None = None, teams: Sequence[str] = (),
              team_field: str | None = None, timezone: str = "UTC") -> str:
    """The configured JQL, narrowed to teams and to issues updated since ``since``, in creation order.

    Team names and the date are JQL string literals (quoted and escaped); the field id is
    checked to be one.
    """
    clauses = [f"({base})"]
    if teams:
        if not team_field:
            raise ValueError("a team filter needs the team_id field mapped")
        clauses.append(f"{jql_field(team_field)} in ({', '.join(jql_quote(t) for t in teams)})")
    if since is not None:
        moment = since if since.tzinfo else since.replace(tzinfo=UTC)
        local = moment.astimezone(ZoneInfo(timezone))
        clauses.append(f"updated >= {jql_quote(local.strftime('%Y-%m-%d %H:%M'))}")
    return " AND ".join(clauses) + " ORDER BY created ASC, key ASC"


# ================================================================================== extraction


@dataclass
class ExtractResult:
    """Raw canonical frames (all strings, plus ``_row``), quarantined rows, and the new watermark."""

    frames: dict[str, pd.DataFrame]  # incidents, postmortems (+ document_text), action_items, status_updates,
    # action_item_history
    quarantine: pd.DataFrame  # QUARANTINE_COLUMNS
    watermark: datetime | None  # the largest `updated` seen (the previous watermark when nothing changed)
    fetched: dict[str, int]  # issues returned per query (action_items includes the linked ones)
    timezone: str = "UTC"  # the time zone the JQL dates were written in
    linked: int = 0  # action items read through their incident's or postmortem's links
    # with a sweep: the keys of every issue in scope per entity (incidents, postmortems, action_items)
    present_keys: dict[str, set[str]] | None = None


LINKED_BATCH = 100  # keys per `key in (...)` search


def extract(client: JiraClient, config: JiraSourceConfig, watermark: datetime | None, *, sweep: bool = False,
            known_linked: Iterable[str] = ()) -> ExtractResult:
    """Read the three configured queries (all of them, or what changed since ``watermark``), the
    action items linked to their incidents and postmortems, and with ``sweep`` every key in scope."""
    return _Extraction(client, config).run(watermark, sweep=sweep, known_linked=set(known_linked))


Problems = list[tuple[str, str]]


class _Extraction:
    def __init__(self, client: JiraClient, config: JiraSourceConfig) -> None:
        self.client = client
        self.config = config
        self.people: dict[str, str | None] = dict(config.users)
        self.emails: dict[str, str] = {}
        self.status_categories: dict[str, str] = {}
        self.rows: dict[str, list[dict[str, Any]]] = {
            s.name: [] for s in (INCIDENTS, POSTMORTEMS, ACTION_ITEMS, STATUS_UPDATES, ACTION_ITEM_HISTORY)}
        self.row_numbers: dict[str, int] = dict.fromkeys(self.rows, 0)
        self.quarantine: list[dict[str, Any]] = []
        self.known_incidents: set[str] = set()
        self.incident_listing: set[str] | None = None
        self.team_field = config.field_for("incidents", "team_id")
        self.timezone = "UTC"
        self.linked_incident: dict[str, str] = {}  # linked action item -> the incident it belongs to

    # ------------------------------------------------------------------------------ run

    def run(self, watermark: datetime | None, *, sweep: bool = False, known_linked: set[str] | None = None
            ) -> ExtractResult:
        self.timezone = self._jql_timezone()
        since = None if watermark is None else watermark - timedelta(minutes=self.config.overlap_minutes)
        issues = {query: self._fetch(query, since) for query in QUERIES}
        linked = self._linked_items(issues, since, known_linked or set())
        linked_keys = {str(i["key"]) for i in linked}
        issues["action_items"] = [*issues["action_items"], *linked]
        self.known_incidents = {str(i["key"]) for i in issues["incidents"]}
        if since is None:
            self.incident_listing = self.known_incidents  # a backfill saw every incident in scope
        newest = watermark
        for batch in issues.values():
            for issue in batch:
                self._learn(issue)
                updated = _parse_time((issue.get("fields") or {}).get("updated"))
                if updated is not None and (newest is None or updated > newest):
                    newest = updated
        for issue in issues["incidents"]:
            self._incident(issue)
        for issue in issues["postmortems"]:
            self._postmortem(issue)
        for issue in issues["action_items"]:
            self._action_item(issue, via_link=str(issue["key"]) in linked_keys)
        present = self._sweep((known_linked or set()) | linked_keys) if sweep or since is None else None
        return ExtractResult(frames=self._frames(), quarantine=self._quarantine_frame(), watermark=newest,
                             fetched={q: len(v) for q, v in issues.items()}, timezone=self.timezone,
                             linked=len(linked), present_keys=present)

    def _jql_timezone(self) -> str:
        """The zone Jira reads this user's JQL dates in: the profile's, unless configured."""
        if self.config.jql_timezone:
            return self.config.jql_timezone
        profile = self.client.myself()
        name = str(profile.get("timeZone") or "")
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            who = profile.get("emailAddress") or profile.get("accountId") or "the API user"
            raise SourceError(f"Jira user {who} has the profile time zone {name!r}, which is not a known IANA time "
                              "zone, so the incremental JQL dates cannot be written in it; fix the profile or set "
                              "the source's jira.jql_timezone") from None
        return name

    def _linked_items(self, issues: Mapping[str, list[dict[str, Any]]], since: datetime | None,
                      known: set[str]) -> list[dict[str, Any]]:
        """Action items linked from the returned incidents and postmortems that no query returned,
        read in full; and the known linked items, re-read when they changed since ``since``."""
        returned = {str(i["key"]) for batch in issues.values() for i in batch}
        wanted = {t.casefold() for t in self.config.action_item_link_types}
        pm_incident = {str(i["key"]): self._linked_incident_of(i) for i in issues["postmortems"]}
        found: set[str] = set()
        for query in ("incidents", "postmortems"):
            for issue in issues[query]:
                incident = str(issue["key"]) if query == "incidents" else pm_incident[str(issue["key"])]
                for link in (issue.get("fields") or {}).get("issuelinks") or []:
                    other = link.get("inwardIssue") or link.get("outwardIssue") or {}
                    if str((link.get("type") or {}).get("name", "")).casefold() in wanted and other.get("key"):
                        found.add(str(other["key"]))
                        if incident:
                            self.linked_incident.setdefault(str(other["key"]), incident)
        new = sorted(found - returned, key=_key_order)
        changed = sorted(known - returned - set(new), key=_key_order)
        return self._by_keys(new, None) + self._by_keys(changed, since)

    def _linked_incident_of(self, issue: Mapping[str, Any]) -> str:
        wanted_type = self.config.incident_issue_type.casefold()
        for link in (issue.get("fields") or {}).get("issuelinks") or []:
            other = link.get("inwardIssue") or link.get("outwardIssue") or {}
            issue_type = ((other.get("fields") or {}).get("issuetype") or {}).get("name")
            if other.get("key") and str(issue_type or "").casefold() == wanted_type:
                return str(other["key"])
        return ""

    def _by_keys(self, keys: Sequence[str], since: datetime | None, *, ids_only: bool = False) -> list[dict[str, Any]]:
        """Issues by key, in batches; a key Jira no longer has (it answers 400 for the batch) is skipped."""
        if ids_only:
            fields: list[str] = ["id", "key"]
            expand = None
        else:
            mapped = [self.config.field_for("action_items", c) for c in DEFAULT_FIELDS["action_items"]]
            fields = sorted({*_BASE_FIELDS, *_EXTRA_FIELDS["action_items"], *(f for f in mapped if f)})
            expand = "changelog"
        out: list[dict[str, Any]] = []
        for start in range(0, len(keys), LINKED_BATCH):
            batch = list(keys[start:start + LINKED_BATCH])
            jql = build_jql(f"key in ({', '.join(jql_quote(k) for k in batch)})", since=since, timezone=self.timezone)
            try:
                out += list(self.client.search_all(jql, fields, expand=expand))
            except JiraApiError as exc:
                if exc.status != 400:
                    raise
                existing = [k for k in batch if self._exists(k)]  # one was deleted: ask for the others alone
                if existing and len(existing) < len(batch):
                    out += self._by_keys(existing, since, ids_only=ids_only)
        return out

    def _exists(self, key: str) -> bool:
        try:
            self.client.get_issue(key, fields=("id",))
        except JiraApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def _sweep(self, linked: set[str]) -> dict[str, set[str]]:
        """Every key in scope, id-only (5000 a page): what is not listed was deleted or left the scope."""
        present = {query: {str(i["key"]) for i in self.client.search_all(self._jql(query, None), ["id", "key"])}
                   for query in QUERIES}
        outside = sorted(linked - present["action_items"], key=_key_order)
        present["action_items"] |= {str(i["key"]) for i in self._by_keys(outside, None, ids_only=True)}
        return present

    def _jql(self, query: str, since: datetime | None) -> str:
        teams = self.config.teams if query in {"incidents", "action_items"} else ()
        return build_jql(getattr(self.config.jql, query), since=since, teams=teams, team_field=self.team_field,
                         timezone=self.timezone)

    def _fetch(self, query: str, since: datetime | None) -> list[dict[str, Any]]:
        mapped = [self.config.field_for(query, c) for c in DEFAULT_FIELDS[query]]
        fields = sorted({*_BASE_FIELDS, *_EXTRA_FIELDS[query], *(f for f in mapped if f)})
        expand = "changelog" if query == "action_items" else None
        seen: dict[str, dict[str, Any]] = {}
        for issue in self.client.search_all(self._jql(query, since), fields, expand=expand,
                                            page_size=self.config.page_size):
            seen[str(issue["key"])] = issue  # a key seen twice (the result set moved while paging): keep the last
        return list(seen.values())

    def _learn(self, issue: Mapping[str, Any]) -> None:
        fields = issue.get("fields") or {}
        status = fields.get("status") or {}
        if status.get("name"):
            self.status_categories[str(status["name"]).casefold()] = str(
                (status.get("statusCategory") or {}).get("key", ""))
        for user in (fields.get("assignee"), fields.get("reporter")):
            if isinstance(user, dict) and user.get("accountId") and user.get("emailAddress"):
                self.emails[str(user["accountId"])] = str(user["emailAddress"])

    # ------------------------------------------------------------------------------ entities

    def _incident(self, issue: Mapping[str, Any]) -> None:
        fields = issue.get("fields") or {}
        problems: Problems = []
        values = self._mapped("incidents", issue, problems)
        values["incident_id"] = str(issue["key"])
        values["status"] = self._status("incidents", fields)
        values["confidential"] = self._confidential(fields, values.get("confidential", ""))
        self._add(INCIDENTS, values, problems)

    def _postmortem(self, issue: Mapping[str, Any]) -> None:
        fields = issue.get("fields") or {}
        problems: Problems = []
        values = self._mapped("postmortems", issue, problems)
        values["postmortem_id"] = str(issue["key"])
        values["status"] = self._status("postmortems", fields)
        values["incident_id"] = self._incident_link(issue, problems)
        values["document"] = f"{self.client.base_url}/browse/{issue['key']}"
        text, unknown = adf_to_text_with_unknown(fields.get("description"))
        if unknown:
            problems.append(("unknown_adf_node", f"description has ADF node type(s) {', '.join(unknown)} this "
                             "extractor does not know; their text was kept"))
        self._add(POSTMORTEMS, values, problems, extra={"document_text": text})

    def _action_item(self, issue: Mapping[str, Any], via_link: bool = False) -> None:
        fields = issue.get("fields") or {}
        key = str(issue["key"])
        problems: Problems = []
        values = self._mapped("action_items", issue, problems)
        values["action_item_id"] = key
        values["status"] = self._status("action_items", fields)
        # an item linked from a postmortem belongs to the postmortem's incident
        values["incident_id"] = self._incident_link(issue, problems if key not in self.linked_incident else []) \
            or self.linked_incident.get(key, "")
        self._add(ACTION_ITEMS, values, problems, extra={"via_link": "true" if via_link else "false"})
        self._comments(key, fields.get("comment"))
        self._history(key, issue.get("changelog"))

    def _comments(self, key: str, field: Any) -> None:
        page = field if isinstance(field, dict) else {}
        comments = list(page.get("comments") or [])
        if int(page.get("total", len(comments)) or 0) > len(comments) or not isinstance(field, dict):
            comments = list(self.client.comments(key))
        for comment in comments:
            problems: Problems = []
            body, unknown = adf_to_text_with_unknown(comment.get("body"))
            if unknown:
                problems.append(("unknown_adf_node", f"comment has ADF node type(s) {', '.join(unknown)} this "
                                 "extractor does not know; their text was kept"))
            values = {
                "update_id": f"{key}:comment:{comment.get('id')}",
                "action_item_id": key,
                "author": self._text(comment.get("author"), problems, "author"),
                "posted_at": _iso(comment.get("created")),
                "body": body,
            }
            self._add(STATUS_UPDATES, values, problems)

    def _history(self, key: str, changelog: Any) -> None:
        page = changelog if isinstance(changelog, dict) else {}
        histories = list(page.get("histories") or [])
        if int(page.get("total", len(histories)) or 0) > len(histories) or not isinstance(changelog, dict):
            histories = list(self.client.changelog(key))  # search returns only the most recent entries
        histories.sort(key=lambda h: (_parse_time(h.get("created")) or datetime.min.replace(tzinfo=UTC),
                                      str(h.get("id"))))
        for history in histories:
            items = [i for i in history.get("items") or [] if isinstance(i, dict)]
            resolution = next((str(i.get("toString")) for i in items if i.get("field") == "resolution"
                               and i.get("toString")), None)
            for item in items:
                column = self._history_column(item)
                if column is None:
                    continue
                problems: Problems = []
                old, new = (self._history_value(column, item, side, resolution if side == "to" else None, problems)
                            for side in ("from", "to"))
                values = {
                    "change_id": f"{key}:{history.get('id')}:{column}",
                    "action_item_id": key,
                    "changed_at": _iso(history.get("created")),
                    "field": column,
                    "old_value": old,
                    "new_value": new,
                }
                self._add(ACTION_ITEM_HISTORY, values, problems)

    def _history_column(self, item: Mapping[str, Any]) -> str | None:
        ids = {str(item.get("fieldId") or "").casefold(), str(item.get("field") or "").casefold()} - {""}
        candidates = {
            "status": "status",
            "due_date": self.config.field_for("action_items", "due_date"),
            "priority": self.config.field_for("action_items", "priority"),
            "owner": self.config.field_for("action_items", "owner"),
        }
        for column, field_id in candidates.items():
            if field_id and field_id.casefold() in ids:
                return column
        return None

    def _history_value(self, column: str, item: Mapping[str, Any], side: str, resolution: str | None,
                       problems: Problems) -> str:
        raw = item.get(side)
        shown = item.get(f"{side}String")
        if column == "due_date":
            for value in (raw, shown):
                if value and re.match(r"\d{4}-\d{2}-\d{2}", str(value)):
                    return str(value)[:10]
            return ""
        if column == "priority":
            return self.config.value_map("priority").get(str(shown), str(shown)) if shown else ""
        if column == "status":
            return self._status_named("action_items", str(shown), None, resolution) if shown else ""
        if not raw:  # owner
            return ""
        person = self._person_for_account(str(raw))
        if person is None:
            problems.append(("unknown_user", f"owner change: Jira user {shown or raw} ({raw}) has no known person "
                             "id (email hidden and not in the users map)"))
            return str(raw)
        return person

    # ------------------------------------------------------------------------------ values

    def _mapped(self, entity: str, issue: Mapping[str, Any], problems: Problems) -> dict[str, str]:
        fields = issue.get("fields") or {}
        schema = _SCHEMAS[entity]
        kinds = {c.name: c.kind for c in schema.columns}
        values: dict[str, str] = {}
        for column in DEFAULT_FIELDS[entity]:
            field_id = self.config.field_for(entity, column)
            if field_id is None:
                continue
            text = self._text(fields.get(field_id), problems, column)
            mapping = self.config.value_map(column)
            if text and mapping:
                text = ";".join(mapping.get(part, part) for part in text.split(";"))
            kind = kinds.get(column)
            if kind == "timestamp":
                text = _iso(text)
            elif kind == "date" and re.match(r"\d{4}-\d{2}-\d{2}", text):
                text = text[:10]
            values[column] = text
        return values

    def _text(self, value: Any, problems: Problems, column: str) -> str:
        """A Jira field value as canonical text (lists joined with ';', users as person ids)."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(int(value)) if float(value).is_integer() else str(value)
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, list):
            parts = [self._text(v, problems, column) for v in value]
            return ";".join(p for p in parts if p)
        if isinstance(value, dict):
            if value.get("type") == "doc":
                text, unknown = adf_to_text_with_unknown(value)
                if unknown:
                    problems.append(("unknown_adf_node", f"{column} has ADF node type(s) {', '.join(unknown)} this "
                                     "extractor does not know; their text was kept"))
                return text
            if value.get("accountId"):
                person = self._person(value)
                if person is None:
                    problems.append(("unknown_user", f"{column}: Jira user {value.get('displayName') or ''} "
                                     f"({value['accountId']}) has no known person id (email hidden and not in the "
                                     "users map)"))
                    return str(value["accountId"])
                return person
            for name in ("value", "name", "key"):
                if value.get(name) is not None:
                    return str(value[name]).strip()
        return str(value)

    def _person(self, user: Mapping[str, Any]) -> str | None:
        account = str(user["accountId"])
        if account in self.people:
            return self.people[account]
        email = str(user.get("emailAddress") or self.emails.get(account) or "")
        person = _person_id(email) if email else None
        self.people[account] = person
        return person

    def _person_for_account(self, account: str) -> str | None:
        """A bare accountId (as in a changelog) -> person id, asking Jira once for unseen users."""
        if account in self.people:
            return self.people[account]
        if account not in self.emails:
            user = self.client.user(account)
            if user and user.get("emailAddress"):
                self.emails[account] = str(user["emailAddress"])
        return self._person({"accountId": account})

    def _status(self, entity: str, fields: Mapping[str, Any]) -> str:
        status = fields.get("status") or {}
        resolution = (fields.get("resolution") or {}).get("name") if isinstance(fields.get("resolution"), dict) else None
        category = str((status.get("statusCategory") or {}).get("key") or "") or None
        return self._status_named(entity, str(status.get("name") or ""), category, resolution)

    def _status_named(self, entity: str, name: str, category: str | None, resolution: str | None) -> str:
        configured = {str(k): v for k, v in self.config.status_map.items()}.get(entity, {})
        explicit = {k.casefold(): v for k, v in configured.items()}
        if name.casefold() in explicit:
            return explicit[name.casefold()]
        category = (category or self.status_categories.get(name.casefold())
                    or _COMMON_STATUS_CATEGORIES.get(name.strip().casefold()))
        wont_do = {r.casefold() for r in self.config.wont_do_resolutions}
        if entity == "action_items" and category == "done" and resolution and resolution.casefold() in wont_do:
            return "wont_do"
        allowed = next(c.allowed for c in _SCHEMAS[entity].columns if c.name == "status")
        normalized = re.sub(r"[\s-]+", "_", name.strip().casefold().replace("'", ""))
        if normalized in allowed:
            return normalized
        return _STATUS_BY_CATEGORY[entity].get(category or "", normalized)

    def _confidential(self, fields: Mapping[str, Any], mapped: str) -> str:
        if self.config.field_for("incidents", "confidential"):
            return "true" if mapped.casefold() in {"true", "yes", "y", "1", "confidential"} else "false"
        labels = {str(label).casefold() for label in fields.get("labels") or []}
        return "true" if self.config.confidential_label.casefold() in labels else "false"

    def _incident_link(self, issue: Mapping[str, Any], problems: Problems) -> str:
        """The Incident issue this issue links to (in scope of the incidents query), or ''."""
        wanted_type = self.config.incident_issue_type.casefold()
        candidates: list[str] = []
        for link in (issue.get("fields") or {}).get("issuelinks") or []:
            other = link.get("inwardIssue") or link.get("outwardIssue") or {}
            issue_type = ((other.get("fields") or {}).get("issuetype") or {}).get("name")
            if other.get("key") and (issue_type is None or str(issue_type).casefold() == wanted_type):
                candidates.append(str(other["key"]))
        if not candidates:
            return ""
        in_scope = sorted((k for k in set(candidates) if self._incident_in_scope(k)), key=_key_order)
        if in_scope:
            return in_scope[0]
        problems.append(("unresolved_link", f"linked {self.config.incident_issue_type} issue(s) "
                         f"{', '.join(sorted(set(candidates), key=_key_order))} not returned by the incidents query "
                         "(missing, out of its scope, or not visible)"))
        return ""

    def _incident_in_scope(self, key: str) -> bool:
        if key in self.known_incidents:
            return True
        if self.incident_listing is None:  # incremental run: list the incidents' keys once (5000 per page)
            jql = self._jql("incidents", None)
            self.incident_listing = {str(i["key"]) for i in self.client.search_all(jql, ["key"])}
        return key in self.incident_listing

    # ------------------------------------------------------------------------------ rows, frames

    def _add(self, schema: EntitySchema, values: Mapping[str, str], problems: Problems,
             extra: Mapping[str, str] | None = None) -> None:
        row: dict[str, Any] = {c: str(values.get(c, "") or "") for c in schema.column_names}
        for column in schema.columns:
            if column.required and not row[column.name].strip():
                source = self._source_of(schema.name, column.name)
                problems.append(("missing_value", f"{column.name} is empty ({source})"))
        self.row_numbers[schema.name] += 1
        row[ROW_NUMBER] = self.row_numbers[schema.name]
        if problems:
            raw = {c: row[c] for c in schema.column_names}
            for code, reason in problems:
                self.quarantine.append({"entity": schema.name, "row_number": row[ROW_NUMBER],
                                        "record_id": row[schema.id_column], "reason_code": code, "reason": reason,
                                        "raw": raw})
            return
        row.update(extra or {})
        self.rows[schema.name].append(row)

    def _source_of(self, entity: str, column: str) -> str:
        if column == "incident_id":
            return f"no link to an {self.config.incident_issue_type} issue returned by the incidents query"
        field_id = self.config.field_for(entity, column) if entity in DEFAULT_FIELDS else None
        return f"Jira field {field_id}" if field_id else "Jira"

    def _frames(self) -> dict[str, pd.DataFrame]:
        frames: dict[str, pd.DataFrame] = {}
        for schema in (INCIDENTS, POSTMORTEMS, ACTION_ITEMS, STATUS_UPDATES, ACTION_ITEM_HISTORY):
            extra = {POSTMORTEMS.name: ["document_text"], ACTION_ITEMS.name: ["via_link"]}.get(schema.name, [])
            frames[schema.name] = _frame(schema, self.rows[schema.name], extra)
        return frames

    def _quarantine_frame(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame(self.quarantine, columns=QUARANTINE_COLUMNS)
        frame["row_number"] = frame["row_number"].astype("int64")
        return frame


def _frame(schema: EntitySchema, rows: Sequence[Mapping[str, Any]], extra: Iterable[str]) -> pd.DataFrame:
    import pandas as pd

    extra = list(extra)
    frame = empty_raw_frame(schema) if not rows else pd.DataFrame(
        {c: pd.Series([r[c] for r in rows], dtype="string") for c in schema.column_names})
    if rows:
        frame[ROW_NUMBER] = pd.Series([int(r[ROW_NUMBER]) for r in rows], dtype="int64")
    for column in extra:
        frame[column] = pd.Series([str(r.get(column, "")) for r in rows], dtype="string")
    return frame


def _person_id(email: str) -> str:
    return email.strip().split("@", 1)[0].casefold()


def _key_order(key: str) -> tuple[str, int]:
    project, _, number = key.rpartition("-")
    return (project, int(number)) if number.isdigit() else (key, 0)


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value)
    for parse in (lambda t: datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%f%z"), datetime.fromisoformat):
        try:
            parsed = parse(text)
        except ValueError:
            continue
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    return None


def _iso(value: Any) -> str:
    """A Jira timestamp (``2025-03-10T12:00:00.000+0000``) as ISO 8601 UTC; other text unchanged."""
    if not value:
        return ""
    parsed = _parse_time(value) if re.match(r"\d{4}-\d{2}-\d{2}T", str(value)) else None
    return parsed.isoformat() if parsed is not None else str(value)
