"""The follow-up policy: thresholds, ladder, sources and dispatch mode, loaded from YAML.

The policy is validated on load (pydantic, unknown keys rejected) so that a typo fails the
run before any action is taken, with a message naming the key, the value and what is
allowed. Its content hash is recorded with every run, so an auditor can tell which policy
produced which findings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from followthrough.exceptions import PolicyError
from followthrough.model import SEVERITIES
from followthrough.source_config import JiraSourceConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]
Priority = Literal["P1", "P2", "P3", "P4"]
SectionName = Literal["summary", "timeline", "root_cause", "impact", "actions"]


class Limit(_Strict):
    """A duration counted either in calendar days or in business days (team calendar)."""

    calendar_days: Annotated[int, Field(ge=0, le=365)] | None = None
    business_days: Annotated[int, Field(ge=0, le=260)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Limit:
        if (self.calendar_days is None) == (self.business_days is None):
            raise ValueError("give exactly one of calendar_days or business_days")
        return self


class PostmortemPolicy(_Strict):
    required_for: tuple[Severity, ...] = ("SEV1", "SEV2")
    # PM-MISSING after the target; PM-OVERDUE warns after the target, violates after the limit
    target_business_days: Annotated[int, Field(ge=0, le=60)] = 2
    limits: dict[Severity, Limit] = {
        "SEV1": Limit(calendar_days=3),
        "SEV2": Limit(business_days=5),
    }
    required_sections: tuple[SectionName, ...] = ("summary", "timeline", "root_cause", "impact", "actions")
    # false: a section counts when its content is there (prose, timestamped lines, a list of
    # commitments); true: only a heading naming the section counts (a template is enforced)
    require_headings: bool = False

    @model_validator(mode="after")
    def _every_required_severity_has_a_limit(self) -> PostmortemPolicy:
        missing = [s for s in self.required_for if s not in self.limits]
        if missing:
            raise ValueError(f"limits has no entry for {', '.join(missing)} (listed in required_for)")
        return self


class DueLimits(_Strict):
    """AI-DUE-BEYOND-SLA: calendar days from creation to due date; the stricter applies."""

    by_priority: dict[Priority, Annotated[int, Field(ge=1, le=730)]] = {"P1": 28, "P2": 56}
    by_severity: dict[Severity, Annotated[int, Field(ge=1, le=730)]] = {"SEV1": 15, "SEV2": 30}


class DriftPolicy(_Strict):
    max_due_date_pushes: Annotated[int, Field(ge=1, le=50)] = 2
    flag_priority_lowered: bool = True


class ActionItemPolicy(_Strict):
    # AI-STALE fires when the last status update is older than this
    update_interval_days: Annotated[int, Field(ge=1, le=90)] = 7
    placeholder_owners: tuple[str, ...] = (
        "tbd", "tba", "unassigned", "none", "n/a", "na", "?", "-", "unknown", "someone",
    )
    # an owner matching one of these (case-insensitive regex) is a group, not a person
    group_owner_patterns: tuple[str, ...] = (
        r"team$", r"^team[-_ ]", r"on-?call", r"^all[-_ ]", r"everyone", r"[-_ ]group$", r"squad$", r"^sre$",
    )
    due_limit_days: DueLimits = DueLimits()
    drift: DriftPolicy = DriftPolicy()

    @field_validator("group_owner_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        import re

        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
        return patterns


class RepeatPolicy(_Strict):
    lookback_days: Annotated[int, Field(ge=1, le=730)] = 90
    # incidents repeat when all of these incident columns are equal and non-empty
    signature: tuple[Literal["service", "root_cause_category", "team_id"], ...] = ("service", "root_cause_category")
    # root-cause categories too generic to call two incidents the same failure
    ignore_categories: tuple[str, ...] = ("unknown", "other")

    @field_validator("signature")
    @classmethod
    def _not_empty(cls, signature: tuple[str, ...]) -> tuple[str, ...]:
        if not signature:
            raise ValueError("the repeat signature needs at least one column")
        return signature


class IncidentPolicy(_Strict):
    major_severities: tuple[Severity, ...] = ("SEV1", "SEV2")
    root_cause_categories: tuple[str, ...] = ("root_cause",)
    detection_categories: tuple[str, ...] = ("detection",)
    repeat: RepeatPolicy = RepeatPolicy()
    # an incident carrying any of these labels (case-insensitive), or of these severities or
    # root-cause categories, is confidential: its subjects never appear in a channel, digest or report
    confidential_labels: tuple[str, ...] = ("confidential", "security")
    confidential_severities: tuple[Severity, ...] = ()
    confidential_categories: tuple[str, ...] = ()


class SafetyPolicy(_Strict):
    """Safety valves against mass resolutions from a data gap or a replay (README: Safety valves)."""

    # a run that would resolve more than this fraction of the open findings plans no resolutions
    max_resolve_fraction: Annotated[float, Field(gt=0, le=1)] = 0.2
    # ... when it would resolve at least this many (three of five open findings fixed is a good day)
    min_resolutions_to_hold: Annotated[int, Field(ge=1, le=100_000)] = 10


class WorkingHours(_Strict):
    """Local working hours: people are messaged only inside them, on business days."""

    start: time = time(9, 0)
    end: time = time(17, 0)

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


class CalendarPolicy(_Strict):
    # public holidays of each team's region (teams.csv region) come from the `holidays` library
    public_holidays: bool = True
    extra_holidays: tuple[date, ...] = ()
    default_timezone: str = "UTC"
    working_hours: WorkingHours = WorkingHours()

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        return _check_timezone(name)


class TeamOverride(_Strict):
    timezone: str | None = None
    region: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    update_interval_days: Annotated[int, Field(ge=1, le=90)] | None = None
    working_hours: WorkingHours | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        return None if name is None else _check_timezone(name)


class Waiver(_Strict):
    rule: str
    subject_id: Annotated[str, Field(min_length=1)]
    reason: Annotated[str, Field(min_length=3)]
    approver: Annotated[str, Field(min_length=1)]
    expires: date  # the waiver holds until the end of this day (UTC)

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, rule: str) -> str:
        from followthrough.catalog import RULE_IDS

        if rule not in RULE_IDS:
            raise ValueError(f"unknown rule {rule!r}; rules are {', '.join(RULE_IDS)}")
        return rule


def _check_timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
    return name


class LadderStep(_Strict):
    step: Annotated[int, Field(ge=0, le=3)]
    after_business_days: Annotated[int, Field(ge=0, le=100)]
    action: Literal["ticket_and_dm", "post_team_channel", "dm_manager", "leadership_digest"]


class EscalationPolicy(_Strict):
    ladder: tuple[LadderStep, ...] = (
        LadderStep(step=0, after_business_days=0, action="ticket_and_dm"),
        LadderStep(step=1, after_business_days=2, action="post_team_channel"),
        LadderStep(step=2, after_business_days=5, action="dm_manager"),
        LadderStep(step=3, after_business_days=10, action="leadership_digest"),
    )
    # findings of these kinds start at step 2 (design brief: INC-REPEAT, an overdue SEV1 postmortem)
    critical_start_step: Annotated[int, Field(ge=0, le=3)] = 2

    @model_validator(mode="after")
    def _ladder_is_ordered(self) -> EscalationPolicy:
        steps = [s.step for s in self.ladder]
        if steps != list(range(len(steps))) or not steps:
            raise ValueError(f"ladder steps must be 0, 1, 2, ... in order; got {steps}")
        days = [s.after_business_days for s in self.ladder]
        if days != sorted(days):
            raise ValueError(f"ladder after_business_days must not decrease; got {days}")
        return self


SourceName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]


EntityName = Literal["teams", "people", "services", "incidents", "postmortems", "action_items", "status_updates",
                     "action_item_history"]


class FileSource(_Strict):
    name: SourceName
    kind: Literal["files"] = "files"
    # a folder of CSV exports (see data/demo/README.md); relative paths are relative to the policy file
    path: str
    # entities this export does not provide: their files may be absent. Any other missing file fails
    # the run (read as "no rows", it would resolve every finding about that entity)
    absent_entities: tuple[EntityName, ...] = ()


class JiraSource(_Strict):
    """Incidents, postmortems and action items from Jira Cloud, extracted incrementally by JQL."""

    name: SourceName
    kind: Literal["jira"]
    conn_id: str = "jira_default"
    # JQL per entity, field mapping, overlap, page size: followthrough.source_config.JiraSourceConfig
    jira: JiraSourceConfig


def _source_kind(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("kind", "files"))
    return str(getattr(value, "kind", "files"))


# errors name the kind: "sources.0.files.path: Field required"
Source = Annotated[
    Annotated[FileSource, Tag("files")] | Annotated[JiraSource, Tag("jira")],
    Discriminator(_source_kind),
]

DispatchMode = Literal["dry_run", "live"]


class DispatchPolicy(_Strict):
    # dry_run records every payload in the outbox instead of sending it; live sends it through the
    # gateway, whose Connection must exist (a missing or rejected one fails the run loudly).
    jira: DispatchMode = "dry_run"
    slack: DispatchMode = "dry_run"
    jira_project: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]+$")] = "FOLLOW"
    jira_issue_type: str = "Task"
    # retries (429, 5xx, timeouts) one run may spend on Jira before leaving the rest pending
    jira_retry_budget: Annotated[int, Field(ge=0, le=1000)] = 30
    # a finding that returns within this many days of its resolution reopens its old ticket; later,
    # or with 0, it gets a new one
    reopen_within_days: Annotated[int, Field(ge=0, le=365)] = 14
    # after an ambiguous create, how long to look for the ticket by its label (Jira search lags)
    jira_search_lag_seconds: Annotated[float, Field(ge=0, le=600)] = 30
    platform_channel: str = "#incident-followup"
    # the outbox (README: Outbox states): attempts before an entry is dead; retries each entry adds
    # to the Jira retry budget; how long one dispatch attempt may run before it stops cleanly and
    # leaves the rest pending; how long a claim's lease lasts; entries claimed per round
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 8
    retries_per_entry: Annotated[int, Field(ge=0, le=100)] = 3
    attempt_time_budget_seconds: Annotated[float, Field(gt=0, le=6 * 3600)] = 600
    lease_seconds: Annotated[float, Field(ge=10, le=24 * 3600)] = 900
    claim_batch: Annotated[int, Field(ge=1, le=1000)] = 25
    # direct messages one person gets a day; the rest of the day's are folded into one summary message
    max_dms_per_person_per_day: Annotated[int, Field(ge=1, le=1000)] = 5
    # the platform channel is alerted once when the oldest undelivered entry is older than this
    alert_backlog_after_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 24
    # a Slack message waits this long for its finding's ticket to be created, so that it carries the
    # ticket's link; then it goes without the link (a Jira outage does not hold escalations back); 0: never waits
    message_waits_for_ticket_minutes: Annotated[float, Field(ge=0, le=24 * 60)] = 60
    # transitions by name; unset: chosen by status category (done; to-do or in progress to reopen)
    jira_resolve_transition: str | None = None
    jira_reopen_transition: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_legacy_mode(cls, data: Any) -> Any:
        if isinstance(data, dict) and "mode" in data:
            raise ValueError("dispatch.mode was replaced by dispatch.jira and dispatch.slack (dry_run or live)")
        return data


class Policy(_Strict):
    version: Literal[1] = 1
    sources: tuple[Source, ...]
    calendar: CalendarPolicy = CalendarPolicy()
    postmortem: PostmortemPolicy = PostmortemPolicy()
    action_items: ActionItemPolicy = ActionItemPolicy()
    incidents: IncidentPolicy = IncidentPolicy()
    escalation: EscalationPolicy = EscalationPolicy()
    dispatch: DispatchPolicy = DispatchPolicy()
    safety: SafetyPolicy = SafetyPolicy()
    # days a finished run's report folder, Data Docs and staging are kept, and after which audit
    # detail is pruned behind a signed checkpoint (followthrough/retention.py); None keeps everything
    retention_days: Annotated[int, Field(ge=30, le=3650)] | None = None
    teams: dict[str, TeamOverride] = {}
    waivers: tuple[Waiver, ...] = ()
    # further YAML files holding a `waivers:` list, relative to this file
    waiver_files: tuple[str, ...] = ()

    @field_validator("sources")
    @classmethod
    def _unique_source_names(cls, sources: tuple[FileSource | JiraSource, ...]) -> tuple[FileSource | JiraSource, ...]:
        names = [s.name for s in sources]
        if not names:
            raise ValueError("at least one source is required")
        if len(set(names)) != len(names):
            raise ValueError(f"source names must be unique; got {names}")
        return sources


class LoadedPolicy(BaseModel):
    """A validated policy together with where it came from and its content hash."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    policy: Policy
    path: Path
    content_hash: str

    def source_path(self, source: FileSource) -> Path:
        path = Path(source.path)
        return path if path.is_absolute() else (self.path.parent / path).resolve()

    def to_record(self) -> dict[str, Any]:
        """The validated policy as JSON, for the run's later tasks (see `from_record`)."""
        return {"path": str(self.path), "content_hash": self.content_hash,
                "policy": self.policy.model_dump(mode="json")}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> LoadedPolicy:
        """The policy a run stored: its waivers are already read, so no file is opened."""
        return cls(policy=Policy.model_validate(record["policy"]), path=Path(str(record["path"])),
                   content_hash=str(record["content_hash"]))

    def missing_paths(self) -> list[str]:
        """Source folders the policy names that do not exist (missing waiver files fail `load_policy`)."""
        return [f"sources.{s.name}.path: {self.source_path(s)} is not a folder"
                for s in self.policy.sources if isinstance(s, FileSource) and not self.source_path(s).is_dir()]


def _describe(error: dict[str, object]) -> str:
    location = error.get("loc", ())
    key = ".".join(str(p) for p in location) if isinstance(location, tuple) and location else "(top level)"
    value = error.get("input")
    return f"{key}: {error.get('msg')} (got {value!r})"


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load, except that a key given twice in one mapping is an error: YAML would keep the
    last one silently, so a pasted second `dispatch:` block would quietly replace the first."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, f"found the key {key!r} twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _read_yaml(content: bytes) -> Any:
    return yaml.load(content, Loader=_UniqueKeyLoader)  # noqa: S506  a SafeLoader subclass


def load_policy(path: Path | str) -> LoadedPolicy:
    """Read, validate and hash a policy file; raise PolicyError naming every bad key."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from None
    try:
        data = _read_yaml(content)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: e.g. an impossible date like 2026-13-01
        raise PolicyError(f"policy file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"policy file {path} must hold a mapping at the top level")
    digest = hashlib.sha256(content)
    data["waivers"] = list(data.get("waivers") or [])
    for relative in data.get("waiver_files") or []:
        waiver_path = (path.parent / str(relative)).resolve()
        waiver_content, waivers = _read_waiver_file(waiver_path)
        digest.update(waiver_content)  # the run's policy hash covers the waivers it applied
        data["waivers"].extend(waivers)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(dict(e)) for e in exc.errors())
        raise PolicyError(f"invalid policy file {path}: {problems}") from None
    return LoadedPolicy(policy=policy, path=path.resolve(), content_hash=digest.hexdigest())


def _read_waiver_file(path: Path) -> tuple[bytes, list[Any]]:
    try:
        content = path.read_bytes()
        data = _read_yaml(content) or {}
    except OSError as exc:
        raise PolicyError(f"cannot read waiver file {path}: {exc.strerror}") from None
    except (yaml.YAMLError, ValueError) as exc:
        raise PolicyError(f"waiver file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("waivers", []), list):
        raise PolicyError(f"waiver file {path} must hold a mapping with a `waivers:` list")
    return content, list(data.get("waivers", []))


def requires_postmortem(policy: Policy) -> frozenset[str]:
    return frozenset(policy.postmortem.required_for) & frozenset(SEVERITIES)


def policy_for_tests(**sections: Any) -> Policy:
    """A policy with defaults and one placeholder source, for unit tests and benchmarks."""
    return Policy.model_validate({"sources": [{"name": "inline", "path": "."}], **sections})
