"""The README's configuration reference names every policy key, environment variable and Connection
the code reads: a key added without documentation fails here."""

from __future__ import annotations

import re
import typing

from pydantic import BaseModel

from followthrough import config
from tests.pipeline import ROOT

README = (ROOT / "README.md").read_text()
REFERENCE = README.split("### Configuration reference", 1)[1].split("\n## ", 1)[0]


def models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in models_in(arg)]


def policy_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        keys.add(f"{prefix}{name}")
        for nested in models_in(field.annotation):
            keys |= policy_keys(nested, f"{prefix}{name}.")
    return keys


def test_every_policy_key_is_in_the_reference() -> None:
    from followthrough.policy import Policy

    keys = policy_keys(Policy)
    assert len(keys) > 60
    missing = sorted(k for k in keys if k.rsplit(".", 1)[-1] not in REFERENCE)
    assert missing == []
    for section in ("calendar", "postmortem", "action_items", "incidents", "escalation", "dispatch", "teams"):
        assert f"`{section}." in REFERENCE, section


def test_every_environment_variable_the_code_reads_is_in_the_reference() -> None:
    names = set()
    for folder in ("include", "dags", "plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r"\b(FOLLOWTHROUGH_[A-Z_]+)\b", path.read_text()))
    assert {"FOLLOWTHROUGH_POLICY", "FOLLOWTHROUGH_HOME", "FOLLOWTHROUGH_WORKER_NAME"} <= names
    assert sorted(n for n in names if f"`{n}`" not in REFERENCE) == []


def test_every_connection_is_in_the_reference() -> None:
    for conn_id in (config.STORE_CONN_ID, config.JIRA_CONN_ID, config.SLACK_CONN_ID):
        assert f"`{conn_id}`" in REFERENCE


def test_readme_images_exist() -> None:
    """The screenshots the README shows (docs/images, saved by tests/integration/test_browser.py) are committed."""
    import re

    from followthrough.config import PROJECT_ROOT

    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (PROJECT_ROOT / "README.md").read_text())
    assert {"docs/images/dashboard.png", "docs/images/report.png"} <= set(images)
    for image in images:
        assert (PROJECT_ROOT / image).stat().st_size > 10_000, image
