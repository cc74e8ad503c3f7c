from __future__ import annotations

from pathlib import Path

import pytest

from followthrough.config import PROJECT_ROOT
from followthrough.exceptions import PolicyError
from followthrough.policy import load_policy


def test_bundled_policy_is_valid_and_hashed() -> None:
    loaded = load_policy(PROJECT_ROOT / "config" / "policy.yaml")
    assert loaded.policy.postmortem.limits["SEV2"].business_days == 5
    assert loaded.policy.postmortem.limits["SEV1"].calendar_days == 3
    assert loaded.policy.action_items.update_interval_days == 7
    assert len(loaded.content_hash) == 64
    assert loaded.source_path(loaded.policy.sources[0]) == (PROJECT_ROOT / "data" / "demo").resolve()


def test_hash_changes_with_content(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("sources: [{name: x, path: .}]\n")
    b.write_text("sources: [{name: x, path: .}]\naction_items: {update_interval_days: 8}\n")
    assert load_policy(a).content_hash != load_policy(b).content_hash


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("sources: [{name: x, path: .}]\naction_items: {update_interval_days: 0}\n", "action_items.update_interval_days"),
        ("sources: [{name: x, path: .}]\npostmortem: {target_business_days: -1}\n", "postmortem.target_business_days"),
        ("sources: [{name: x, path: .}]\npostmortem: {limits: {SEV1: {calendar_days: 3, business_days: 2}}}\n",
         "postmortem.limits.SEV1"),
        ("sources: [{name: x, path: .}]\npostmortem: {required_for: [SEV3], limits: {SEV1: {calendar_days: 3}}}\n",
         "postmortem"),
        ("sources: [{name: x, path: .}]\npostmortem: {required_sections: [summary, conclusion]}\n",
         "postmortem.required_sections.1"),
        ("sources: [{name: x, path: .}]\naction_items: {due_limit_days: {by_priority: {P9: 10}}}\n",
         "action_items.due_limit_days.by_priority.P9"),
        ("sources: [{name: x, path: .}]\nincidents: {repeat: {lookback_days: 0}}\n", "incidents.repeat.lookback_days"),
        ("sources: [{name: x, path: .}]\ncalendar: {default_timezone: Mars/Olympus}\n", "calendar.default_timezone"),
        ("sources: [{name: x, path: .}]\ncalendar: {extra_holidays: ['2026-13-01']}\n", "calendar.extra_holidays.0"),
        ("sources: [{name: x, path: .}]\nteams: {payments: {timezone: Nowhere}}\n", "teams.payments.timezone"),
        ("sources: [{name: x, path: .}]\ncalendar: {working_hours: {start: '17:00', end: '09:00'}}\n",
         "calendar.working_hours"),
        ("sources: [{name: x, path: .}]\nteams: {payments: {working_hours: {start: '25:00'}}}\n",
         "teams.payments.working_hours.start"),
        ("sources: [{name: x, path: .}]\nwaivers: [{rule: AI-NOPE, subject_id: a, reason: why, approver: b, "
         "expires: 2026-01-01}]\n", "waivers.0.rule"),
        ("sources: [{name: x, path: .}]\nwaivers: [{rule: AI-STALE, subject_id: a, reason: why, approver: b}]\n",
         "waivers.0.expires"),
        ("sources: [{name: x, path: .}]\npostmortem: {required_for: [SEV7]}\n", "postmortem.required_for.0"),
        ("sources: [{name: x, path: .}]\ndispatch: {mode: live}\n", "dispatch.mode was replaced"),
        ("sources: [{name: x, path: .}]\ndispatch: {jira: loud}\n", "dispatch.jira"),
        ("sources: [{name: x, kind: jira, jira: {jql: {incidents: 'project = INC'}}}]\n", "sources.0.jira.jira"),
        ("sources: [{name: x, path: .}]\ndispatch: {jira_project: 'not a key'}\n", "dispatch.jira_project"),
        ("sources: [{name: x, path: .}]\nunknown_key: 1\n", "unknown_key"),
        ("sources: [{name: x, path: .}]\nsafety: {max_resolve_fraction: 0}\n", "safety.max_resolve_fraction"),
        ("sources: [{name: x, path: .}]\nsafety: {max_resolve_fraction: 1.5}\n", "safety.max_resolve_fraction"),
        ("sources: [{name: x, path: .}]\nsafety: {max_resolve_fraction: -0.1}\n", "safety.max_resolve_fraction"),
        ("sources: [{name: x, path: .}]\nsafety: {min_resolutions_to_hold: 0}\n", "safety.min_resolutions_to_hold"),
        ("sources: []\n", "sources"),
        ("sources: [{name: x, path: .}, {name: x, path: .}]\n", "sources"),
        ("sources: [{name: 'Bad Name', path: .}]\n", "sources.0.files.name"),
        ("sources: [{name: x, kind: ftp, path: .}]\n", "sources.0"),
        ("sources: [{name: x, path: .}]\naction_items: {group_owner_patterns: ['(']}\n",
         "action_items.group_owner_patterns"),
        ("sources: [{name: x, path: .}]\nescalation: {ladder: [{step: 1, after_business_days: 0, action: dm_manager}]}\n",
         "escalation"),
    ],
)
def test_invalid_policy_is_rejected_naming_the_key(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as error:
        load_policy(path)
    assert named in str(error.value)


@pytest.mark.parametrize("text", ["- just a list\n", "a: [unclosed\n"])
def test_malformed_yaml_is_rejected(tmp_path: Path, text: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=str(path)):
        load_policy(path)


def test_missing_policy_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="nope.yaml"):
        load_policy(tmp_path / "nope.yaml")


def test_waiver_files_are_loaded_and_hashed(tmp_path: Path) -> None:
    (tmp_path / "waivers.yaml").write_text(
        "waivers:\n  - {rule: AI-STALE, subject_id: AI-1, reason: parked, approver: lena, expires: 2026-08-01}\n")
    policy = tmp_path / "policy.yaml"
    policy.write_text("sources: [{name: x, path: .}]\nwaiver_files: [waivers.yaml]\n")
    first = load_policy(policy)
    assert [w.subject_id for w in first.policy.waivers] == ["AI-1"]
    (tmp_path / "waivers.yaml").write_text(
        "waivers:\n  - {rule: AI-STALE, subject_id: AI-2, reason: parked, approver: lena, expires: 2026-08-01}\n")
    assert load_policy(policy).content_hash != first.content_hash


def test_bad_waiver_file_names_its_path(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("sources: [{name: x, path: .}]\nwaiver_files: [absent.yaml]\n")
    with pytest.raises(PolicyError, match="absent.yaml"):
        load_policy(policy)


def test_impossible_unquoted_date_is_a_policy_error(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("sources: [{name: x, path: .}]\ncalendar: {extra_holidays: [2026-13-01]}\n")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(path)


def test_the_bundled_policy_lists_every_key_with_its_default() -> None:
    """config/policy.yaml is the reference: every key of every section, set to its default."""
    import yaml
    from pydantic import BaseModel

    from followthrough.config import PROJECT_ROOT
    from followthrough.policy import FileSource, Policy

    bundled = yaml.safe_load((PROJECT_ROOT / "config" / "policy.yaml").read_text())
    defaults = Policy.model_validate({"sources": [{"name": "x", "path": "."}]}).model_dump(mode="json")
    validated = Policy.model_validate({**bundled, "waiver_files": []}).model_dump(mode="json")
    problems: list[str] = []

    def walk(model: type[BaseModel], raw: dict, written: dict, default: dict, where: str) -> None:
        for name, field in model.model_fields.items():
            key = f"{where}{name}"
            if name not in raw:
                problems.append(f"{key} is not listed")
                continue
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, raw[name], written[name], default[name], f"{key}.")
            elif key not in ("sources", "waivers", "waiver_files", "teams") and written[name] != default[name]:
                problems.append(f"{key} is {written[name]!r}, its default is {default[name]!r}")

    walk(Policy, bundled, validated, defaults, "")
    source = FileSource.model_validate(bundled["sources"][0]).model_dump(mode="json")
    source_default = {**FileSource(name="x", path=".").model_dump(mode="json"), "name": "demo", "path": "../data/demo"}
    walk(FileSource, bundled["sources"][0], source, source_default, "sources.0.")
    assert problems == []


def test_a_key_given_twice_is_a_policy_error_naming_it(tmp_path: Path) -> None:
    # plain YAML keeps the last one silently: the first dispatch block would be dropped unseen
    path = tmp_path / "policy.yaml"
    path.write_text("sources: [{name: x, path: .}]\ndispatch: {jira: live}\ndispatch: {slack: live}\n")
    with pytest.raises(PolicyError, match="found the key 'dispatch' twice"):
        load_policy(path)
    (tmp_path / "waivers.yaml").write_text("waivers: []\nwaivers: []\n")
    path.write_text("sources: [{name: x, path: .}]\nwaiver_files: [waivers.yaml]\n")
    with pytest.raises(PolicyError, match=r"(?s)waivers\.yaml is not valid YAML.*'waivers' twice"):
        load_policy(path)
