"""The gateway boundary: one error taxonomy, no import circle, no gateway importing the outbox."""

from __future__ import annotations

import subprocess
import sys

import pytest

from followthrough.gateways.delivery import (
    DeliveryConfiguration,
    DeliveryDeferred,
    DeliveryPermanent,
    DeliveryUncertain,
    category_of,
)
from followthrough.gateways.jira import JiraAmbiguousError, JiraApiError, JiraError, JiraRetriesExhausted
from followthrough.gateways.jira.tickets import classify_jira_error
from followthrough.gateways.slack import (
    SlackConfigurationError,
    SlackDeliveryUncertain,
    SlackRejected,
    SlackUnavailable,
)


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_the_policy_imports_no_source_and_no_gateway_beyond_jql() -> None:
    loaded = _modules_after("import followthrough.policy")
    assert "followthrough.sources.jira" not in loaded
    assert "followthrough.gateways.outbox" not in loaded
    assert "followthrough.gateways.slack" not in loaded


@pytest.mark.parametrize("gateway", ["followthrough.gateways.jira", "followthrough.gateways.slack"])
def test_no_gateway_imports_the_outbox(gateway: str) -> None:
    loaded = _modules_after(f"import {gateway}")
    assert "followthrough.gateways.outbox" not in loaded
    assert "followthrough.store.repository" not in loaded


@pytest.mark.parametrize(("error", "category"), [
    (JiraApiError("401", status=401, method="GET", path="/x"), "configuration"),
    (JiraApiError("400", status=400, method="POST", path="/issue"), "permanent"),
    (JiraApiError("404", status=404, method="GET", path="/issue/X-1"), "permanent"),
    (JiraAmbiguousError("reset after send"), "uncertain"),
    (JiraRetriesExhausted("budget spent"), "deferred"),
    (JiraError("not JSON"), "deferred"),
])
def test_jira_errors_are_classified_once(error: JiraError, category: str) -> None:
    assert category_of(classify_jira_error(error)) == category


def test_slack_errors_carry_their_category() -> None:
    assert category_of(SlackRejected("invalid_blocks")) == "permanent"
    assert category_of(SlackUnavailable("503 five times")) == "deferred"
    assert category_of(SlackDeliveryUncertain("maybe posted")) == "uncertain"
    assert category_of(SlackConfigurationError("invalid_auth")) == "configuration"
    assert isinstance(SlackConfigurationError("x"), DeliveryConfiguration)


def test_anything_else_a_gateway_raises_is_classified_too() -> None:
    assert category_of(ValueError("bad due date")) == "permanent"
    assert category_of(RuntimeError("surprise")) == "deferred"
    for cls, name in ((DeliveryDeferred, "deferred"), (DeliveryUncertain, "uncertain"),
                      (DeliveryPermanent, "permanent"), (DeliveryConfiguration, "configuration")):
        assert category_of(cls("x")) == name
