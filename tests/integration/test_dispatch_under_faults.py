"""Throughput under faults: a first-day backlog of 500 tickets and 500 messages, both channels live.

Both fakes answer with a seeded random mix (15% 429s with each Retry-After form, 10% 503s, a
few timeouts before and after commit, a few resets after commit). The backlog must be fully
delivered within three dispatch attempts, each inside its time budget, with no duplicate
ticket or message; the per-attempt figures are printed (and quoted in the closing note).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from followthrough import tasks
from followthrough.gateways.outbox import DispatchSettings, dispatch_pending, gateway_for
from followthrough.policy import load_policy
from tests.fakes.jira import FakeJira
from tests.fakes.slack import FakeSlack
from tests.pipeline import (
    delivered_in_fakes,
    live_against_fakes,
    populate_fakes,
    synthetic_backlog,
)

pytestmark = pytest.mark.throughput  # about six minutes: `make throughput`, not `make test`

TICKETS = 500
MESSAGES = 500
AS_OF = "2026-07-15T10:00:00+00:00"
BUDGET_SECONDS = 240.0


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[FakeJira, FakeSlack]]:
    jira, slack = FakeJira(), FakeSlack()
    populate_fakes(jira, slack)
    with jira, slack:
        live_against_fakes(monkeypatch, tmp_path, jira, slack, timeout=1,
                           attempt_time_budget_seconds=BUDGET_SECONDS, jira_search_lag_seconds=1)
        yield jira, slack


def test_a_first_day_backlog_is_delivered_within_three_attempts_under_a_fault_mix(
        fakes: tuple[FakeJira, FakeSlack]) -> None:
    jira, slack = fakes
    for seed, fake in ((7, jira), (11, slack)):
        fake.faults.random_mix(seed, rate_limit=0.15, unavailable=0.10, timeout=0.004, timeout_seconds=1.5,
                               reset_after_commit=0.01)
    store = tasks.open_store()
    assert store.add_to_outbox(synthetic_backlog(TICKETS, MESSAGES), "plan", AS_OF) == TICKETS + MESSAGES
    policy = load_policy(Path(tasks.config.policy_path())).policy
    settings = DispatchSettings.from_policy(policy)
    figures = []
    for attempt in range(1, 4):
        started = time.monotonic()
        counts = dispatch_pending(store, gateway_for(policy, store), f"dispatch-{attempt}", now=AS_OF, settings=settings)
        figures.append({"attempt": attempt, "delivered": counts.get("sent", 0), "pending_after": counts["pending"],
                        "deferred": counts.get("deferred", 0), "uncertain": counts.get("uncertain", 0),
                        "failed": counts.get("failed", 0), "seconds": round(time.monotonic() - started, 1),
                        "stopped_by_time_budget": counts.get("stopped_by_time_budget", 0)})
        if counts["pending"] == 0:
            break
    faults = {"jira": dict(jira.faults.fired), "slack": dict(slack.faults.fired)}
    print(json.dumps({"attempts": figures, "faults_injected": faults}, indent=1))  # the figure this test proves

    outbox = store.outbox_frame()
    left = outbox[outbox["status"] != "sent"]
    assert left.empty, left[["idempotency_key", "status", "attempts", "error_category", "last_error"]].to_dict("records")
    assert figures[-1]["attempt"] <= 3
    assert sum(f["delivered"] for f in figures) == TICKETS + MESSAGES
    for channel in ("jira", "slack"):
        assert faults[channel].get("rate_limit", 0) > 0
        assert faults[channel].get("unavailable", 0) > 0
    # exactly once, in the fakes' own state
    tickets = [k for k in jira.issue_keys() if k.startswith("FOLLOW-")]
    labels, keys = delivered_in_fakes(jira, slack)
    assert len(tickets) == TICKETS
    assert len(labels) == TICKETS
    assert set(labels.values()) == {1}
    assert len(slack.messages()) == MESSAGES
    assert sum(keys.values()) == MESSAGES
    assert len(keys) == MESSAGES
