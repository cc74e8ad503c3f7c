"""Where a dispatch attempt's time goes: the throughput test's backlog, instrumented.

Sets up what ``tests/integration/test_dispatch_under_faults.py`` sets up (500 tickets and 500
messages, both fakes live under the same seeded fault mix, a 240 s budget, 1 s search lag in the
policy) and runs dispatch attempts with timers around: every sleep of the Jira client, the Jira
ticket gateway and the Slack gateway (by why it slept: a 429's Retry-After, a 5xx/timeout
backoff, the search-lag wait before or after a create, a post's ambiguity backoff), every HTTP
request (by endpoint, including the time a faulted request hangs), the store's calls, and each
delivery (by channel and outcome). Prints one JSON document.

    PYTHONPATH=include:. python bench/dispatch_profile.py [attempts] [budget_seconds]
"""

from __future__ import annotations

import json
import linecache
import os
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]
os.environ.setdefault("FOLLOWTHROUGH_AUDIT_KEY", "followthrough-bench-audit-key-0001")  # as tests/conftest.py

from followthrough import tasks  # noqa: E402
from followthrough.gateways import outbox as gateways_outbox  # noqa: E402
from followthrough.gateways.outbox import DispatchSettings, dispatch_pending, gateway_for  # noqa: E402
from followthrough.policy import load_policy  # noqa: E402
from followthrough.store import outbox as states  # noqa: E402
from tests.fakes.jira import FakeJira  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.pipeline import live_against_fakes, populate_fakes, synthetic_backlog  # noqa: E402

AS_OF = "2026-07-15T10:00:00+00:00"


class Timers:
    """Seconds and counts by label."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.count: Counter[str] = Counter()

    def add(self, label: str, seconds: float) -> None:
        self.seconds[label] += seconds
        self.count[label] += 1

    def report(self) -> dict[str, dict[str, float]]:
        return {k: {"seconds": round(v, 1), "count": self.count[k]}
                for k, v in sorted(self.seconds.items(), key=lambda kv: -kv[1])}


def _why_sleeping(frame: Any) -> str:
    """Why a gateway sleeps, read from the caller's frame (the function and its locals)."""
    name = frame.f_code.co_name
    local = frame.f_locals
    if name == "_request":  # JiraClient
        status = local.get("status") if "response" in local else None
        method = local.get("method", "")
        path = re.sub(r"/[A-Z]+-\d+", "/{key}", str(local.get("path", "")))
        before = linecache.getline(frame.f_code.co_filename, frame.f_lineno - 1)
        if "waiting" in before:  # the 429 branch logs "waiting" just before it sleeps
            return f"jira 429 Retry-After ({method} {path})"
        return f"jira retry backoff ({status or 'no answer'}; {method} {path})"
    if name == "_await_label":
        caller = frame.f_back
        return ("jira lag wait after an ambiguous create" if caller and "exc" in caller.f_locals
                else "jira lag wait before creating an uncertain entry")
    if name == "_call":  # SlackGateway: which of its two sleeps, by the line that called
        method = local.get("method", "")
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
        return f"slack {'429 Retry-After' if 'delay' in line else 'read retry backoff'} ({method})"
    if name == "_post_once":
        return "slack backoff after an ambiguous post"
    return f"other sleep ({name})"


def instrument(gateway: Any, timers: Timers) -> None:
    def sleeper(real: Callable[[float], None]) -> Callable[[float], None]:
        def sleep(seconds: float) -> None:
            why = _why_sleeping(sys._getframe(1))
            started = time.monotonic()
            real(seconds)
            timers.add("sleep: " + why, time.monotonic() - started)
        return sleep

    jira = gateway.by_channel["jira"]
    slack = gateway.by_channel["slack"]
    jira.sleep = sleeper(jira.sleep)
    jira.client.sleep = sleeper(jira.client.sleep)
    slack.sleep = sleeper(slack.sleep)

    session = jira.client._session
    real_request = session.request

    def request(method: str, url: str, **kwargs: Any) -> Any:
        path = re.sub(r"/[A-Z]+-\d+", "/{key}", url.split("/rest/api/3", 1)[-1])
        started = time.monotonic()
        try:
            return real_request(method, url, **kwargs)
        finally:
            timers.add(f"http: jira {method} {path}", time.monotonic() - started)

    session.request = request  # type: ignore[method-assign]

    from slack_sdk import WebClient

    real_api_call = WebClient.api_call

    def api_call(self: Any, api_method: str, *args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            return real_api_call(self, api_method, *args, **kwargs)
        finally:
            timers.add(f"http: slack {api_method}", time.monotonic() - started)

    WebClient.api_call = api_call  # type: ignore[method-assign]

    real_deliver = gateway.deliver

    def deliver(entry: dict[str, Any]) -> Any:
        started = time.monotonic()
        kind = f"{entry['channel']}{' uncertain' if entry.get('uncertain') else ''}"
        try:
            receipt = real_deliver(entry)
        except Exception as exc:
            timers.add(f"deliver: {kind} -> {type(exc).__name__}", time.monotonic() - started)
            raise
        timers.add(f"deliver: {kind} -> {receipt.status}", time.monotonic() - started)
        return receipt

    gateway.deliver = deliver  # type: ignore[method-assign]


def instrument_store(timers: Timers) -> None:
    for name in ("claim", "record_delivered", "record_error", "unclaim", "state_counts", "release_held"):
        real = getattr(states, name)

        def timed(*args: Any, _real: Callable[..., Any] = real, _name: str = name, **kwargs: Any) -> Any:
            started = time.monotonic()
            try:
                return _real(*args, **kwargs)
            finally:
                timers.add(f"store: {_name}", time.monotonic() - started)

        setattr(states, name, timed)


def main(attempts: int = 3, budget: float = 240.0) -> dict[str, Any]:
    jira, slack = FakeJira(), FakeSlack()
    populate_fakes(jira, slack)
    out: dict[str, Any] = {"attempts": []}
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as monkeypatch, jira, slack:
        live_against_fakes(monkeypatch, Path(folder), jira, slack, timeout=1, attempt_time_budget_seconds=budget,
                           jira_search_lag_seconds=1)
        for seed, fake in ((7, jira), (11, slack)):
            fake.faults.random_mix(seed, rate_limit=0.15, unavailable=0.10, timeout=0.004, timeout_seconds=1.5,
                                   reset_after_commit=0.01)
        store = tasks.open_store()
        store.add_to_outbox(synthetic_backlog(500, 500), "plan", AS_OF)
        policy = load_policy(Path(tasks.config.policy_path())).policy
        settings = DispatchSettings.from_policy(policy)
        for attempt in range(1, attempts + 1):
            timers = Timers()
            instrument_store(timers)
            gateway = gateway_for(policy, store)
            instrument(gateway, timers)
            started = time.monotonic()
            counts = dispatch_pending(store, gateway, f"dispatch-{attempt}", now=AS_OF, settings=settings)
            wall = time.monotonic() - started
            out["attempts"].append({"attempt": attempt, "seconds": round(wall, 1), "counts": counts,
                                    "timers": timers.report(),
                                    "jira_stats": dict(gateway.by_channel["jira"].client.stats),
                                    "slack_stats": dict(gateway.by_channel["slack"].stats)})
            print(json.dumps(out["attempts"][-1], indent=1), flush=True)
            if counts["pending"] == 0:
                break
        out["faults"] = {"jira": dict(jira.faults.fired_forms), "slack": dict(slack.faults.fired_forms)}
    assert gateways_outbox  # imported so a reader sees which module the attempt runs through
    return out


if __name__ == "__main__":
    arguments = [float(a) for a in sys.argv[1:]]
    result = main(int(arguments[0]) if arguments else 3, arguments[1] if len(arguments) > 1 else 240.0)
    print(json.dumps({"faults": result["faults"]}, indent=1))
