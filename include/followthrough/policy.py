"""The follow-up policy: thresholds, ladder, sources and dispatch mode, loaded from YAML.

The policy is validated on load (pydantic, unknown keys rejected) so that a typo fails the
run before any action is taken, with a message naming the key, the value and what is
allowed. Its content hash is recorded with every run, so an auditor can tell which policy
produced which findings.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from followthrough.exceptions import PolicyError
from followthrough.model import SEVERITIES


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PostmortemPolicy(_Strict):
    required_for: tuple[Literal["SEV1", "SEV2", "SEV3", "SEV4"], ...] = ("SEV1", "SEV2")
    # PM-OVERDUE: business days after resolution by which the postmortem must be published
    limit_business_days: Annotated[int, Field(ge=0, le=60)] = 5


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


class FileSource(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
    kind: Literal["files"] = "files"
    # a folder of CSV exports (see data/demo/README.md); relative paths are relative to the policy file
    path: str


class DispatchPolicy(_Strict):
    # dry_run records every payload in the outbox instead of sending it. Live Jira and Slack
    # gateways are not part of this version, so live is refused at load time rather than
    # silently sending nothing.
    mode: Literal["dry_run"] = "dry_run"
    jira_project: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]+$")] = "FOLLOW"
    platform_channel: str = "#incident-followup"


class Policy(_Strict):
    version: Literal[1] = 1
    sources: tuple[FileSource, ...]
    postmortem: PostmortemPolicy = PostmortemPolicy()
    action_items: ActionItemPolicy = ActionItemPolicy()
    escalation: EscalationPolicy = EscalationPolicy()
    dispatch: DispatchPolicy = DispatchPolicy()

    @field_validator("sources")
    @classmethod
    def _unique_source_names(cls, sources: tuple[FileSource, ...]) -> tuple[FileSource, ...]:
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


def _describe(error: dict[str, object]) -> str:
    location = error.get("loc", ())
    key = ".".join(str(p) for p in location) if isinstance(location, tuple) and location else "(top level)"
    value = error.get("input")
    return f"{key}: {error.get('msg')} (got {value!r})"


def load_policy(path: Path | str) -> LoadedPolicy:
    """Read, validate and hash a policy file; raise PolicyError naming every bad key."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"policy file {path} must hold a mapping at the top level")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(dict(e)) for e in exc.errors())
        raise PolicyError(f"invalid policy file {path}: {problems}") from None
    return LoadedPolicy(policy=policy, path=path.resolve(), content_hash=hashlib.sha256(content).hexdigest())


def requires_postmortem(policy: Policy) -> frozenset[str]:
    return frozenset(policy.postmortem.required_for) & frozenset(SEVERITIES)
