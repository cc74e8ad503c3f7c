from __future__ import annotations

from pathlib import Path

import pytest

from followthrough.config import PROJECT_ROOT
from followthrough.exceptions import PolicyError
from followthrough.policy import load_policy


def test_bundled_policy_is_valid_and_hashed() -> None:
    loaded = load_policy(PROJECT_ROOT / "config" / "policy.yaml")
    assert loaded.policy.postmortem.limit_business_days == 5
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
        ("sources: [{name: x, path: .}]\npostmortem: {limit_business_days: -1}\n", "postmortem.limit_business_days"),
        ("sources: [{name: x, path: .}]\npostmortem: {required_for: [SEV7]}\n", "postmortem.required_for.0"),
        ("sources: [{name: x, path: .}]\ndispatch: {mode: live}\n", "dispatch.mode"),
        ("sources: [{name: x, path: .}]\ndispatch: {jira_project: 'not a key'}\n", "dispatch.jira_project"),
        ("sources: [{name: x, path: .}]\nunknown_key: 1\n", "unknown_key"),
        ("sources: []\n", "sources"),
        ("sources: [{name: x, path: .}, {name: x, path: .}]\n", "sources"),
        ("sources: [{name: 'Bad Name', path: .}]\n", "sources.0.name"),
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
