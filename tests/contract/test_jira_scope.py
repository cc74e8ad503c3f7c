"""The Jira extractor's view of what is in scope, against the Jira fake: JQL dates in the API
user's time zone across DST changes, action items found through their incident's links, and the
id-only sweep that notices deleted and moved issues."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from followthrough.exceptions import SourceError
from followthrough.gateways.jira import JiraClient, text_to_adf
from followthrough.sources.jira import extract
from tests.contract.test_jira_extract import SEARCH, Clock, config, seed
from tests.fakes.jira import FakeJira

BOT_ZONE = "America/New_York"


def fake_at(now: datetime, zone: str = BOT_ZONE, **seeding: int) -> FakeJira:
    fake = FakeJira(clock=Clock(now))
    fake.add_user(fake.account_id, fake.email, "Followthrough bot", time_zone=zone)
    seed(fake, **seeding)
    return fake


def client_for(fake: FakeJira) -> JiraClient:
    return JiraClient(fake.url, fake.email, fake.api_token, timeout=5, sleep=lambda s: None)


@pytest.mark.parametrize("change", [
    datetime(2027, 3, 14, 7, 0, tzinfo=UTC),   # clocks go forward in New York (02:00 EST -> 03:00 EDT)
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),   # clocks go back (02:00 EDT -> 01:00 EST)
], ids=["spring-forward", "fall-back"])
def test_incremental_runs_across_a_dst_change_miss_nothing(change: datetime) -> None:
    start = change - timedelta(hours=12)
    fake = fake_at(start, incidents=3, action_items=30)
    with fake:
        client = client_for(fake)
        clock = fake._clock  # noqa: SLF001 (the fake's own clock)
        result = extract(client, config(), None)
        watermark = result.watermark
        seen: set[str] = set()
        # a change every 50 minutes for a day around the switch; a run every 2 hours
        for step in range(1, 30):
            clock.now = start + timedelta(minutes=50 * step)
            client.edit_issue(f"AI-{step}", {"duedate": "2026-12-01"})
            if step % 2 == 0 or step == 29:
                clock.now += timedelta(minutes=70)
                used = watermark
                result = extract(client, config(), used)
                assert result.timezone == BOT_ZONE
                seen |= set(result.frames["action_items"]["action_item_id"])
                watermark = result.watermark
        assert {f"AI-{n}" for n in range(1, 30)} <= seen
        # the dates in the JQL are New York wall-clock times
        jql = [r.body["jql"] for r in fake.requests_to(SEARCH) if "updated >=" in r.body["jql"]][-1]
        local = (used - timedelta(minutes=10)).astimezone(ZoneInfo(BOT_ZONE))
        assert f'updated >= "{local.strftime("%Y-%m-%d %H:%M")}"' in jql


def test_utc_dates_for_a_new_york_bot_would_miss_updates() -> None:
    """The check above can fail: written in UTC, the bound lands four hours late for this bot."""
    now = datetime(2026, 7, 15, 12, tzinfo=UTC)
    fake = fake_at(now, incidents=3, action_items=4)
    with fake:
        client = client_for(fake)
        extract(client, config(), None)
        fake._clock.now = now + timedelta(hours=1)  # noqa: SLF001
        client.edit_issue("AI-1", {"duedate": "2026-11-01"})
        watermark = extract(client, config(), None).watermark  # the update of AI-1, 13:00 UTC
        fake._clock.now = now + timedelta(hours=2)  # noqa: SLF001
        client.edit_issue("AI-2", {"duedate": "2026-12-01"})
        as_utc = extract(client, config(jql_timezone="UTC"), watermark)
        assert "AI-2" not in set(as_utc.frames["action_items"]["action_item_id"])
        assert "AI-2" in set(extract(client, config(), watermark).frames["action_items"]["action_item_id"])


def test_a_profile_time_zone_that_does_not_exist_is_a_clear_error() -> None:
    fake = fake_at(datetime(2026, 7, 15, tzinfo=UTC), zone="Mars/Olympus_Mons", incidents=3, action_items=1)
    with fake, pytest.raises(SourceError, match=r"profile time zone 'Mars/Olympus_Mons'.*jql_timezone"):
        extract(client_for(fake), config(), None)


@pytest.fixture
def linked() -> Iterator[FakeJira]:
    """400 action items, 72 of them only linked to their incident or postmortem (no label match)."""
    now = datetime(2026, 7, 15, 10, tzinfo=UTC)
    fake = fake_at(now, incidents=20, action_items=328)
    fake.add_project("OPS")
    fake.add_link_type("Action Item", "is action item of", "has action item")
    for n in range(1, 73):
        fake.add_issue(f"OPS-{n}", {
            "issuetype": "Task", "summary": f"Alert on pool exhaustion #{n}", "assignee": "acc-cara",
            "priority": "High", "customfield_10020": "payments", "duedate": "2026-08-01", "status": "To Do",
            "created": now - timedelta(days=3), "updated": now - timedelta(days=3)})
        parent = f"INC-{(n - 1) % 20 + 1}" if n <= 60 else f"PM-{(n - 61) % 3 + 1}"
        fake.add_link("Action Item", f"OPS-{n}", parent)
    with fake:
        yield fake


def test_action_items_linked_to_their_incident_are_read(linked: FakeJira) -> None:
    result = extract(client_for(linked), config(), None)
    items = result.frames["action_items"].set_index("action_item_id")
    assert len(items) == 400
    assert result.linked == 72
    assert (items["via_link"] == "true").sum() == 72
    assert items.loc["OPS-5", "incident_id"] == "INC-5"
    assert items.loc["OPS-61", "incident_id"] == "INC-1"  # linked from PM-1, which belongs to INC-1
    batches = [r.body["fields"] == ["id", "key"] for r in linked.requests_to(SEARCH)
               if r.body["jql"].startswith("(key in (")]
    assert batches == [False, True]  # 72 keys: one batch of up to 100, read; then listed by the backfill's sweep


def test_linked_items_that_changed_are_read_again_and_deleted_ones_are_skipped(linked: FakeJira) -> None:
    client = client_for(linked)
    first = extract(client, config(), None)
    known = [k for k, v in zip(first.frames["action_items"]["action_item_id"],
                               first.frames["action_items"]["via_link"], strict=True) if v == "true"]
    linked._clock.now += timedelta(hours=1)  # noqa: SLF001
    client.edit_issue("OPS-7", {"duedate": "2026-09-15"})
    linked.delete_issue("OPS-8")  # Jira answers 400 for a `key in` list naming a deleted issue
    again = extract(client, config(), first.watermark, known_linked=known)
    assert "OPS-7" in set(again.frames["action_items"]["action_item_id"])
    assert "OPS-8" not in set(again.frames["action_items"]["action_item_id"])


def test_the_sweep_lists_what_is_still_in_scope(linked: FakeJira) -> None:
    client = client_for(linked)
    first = extract(client, config(), None)
    assert first.present_keys is not None  # a backfill always sweeps
    assert len(first.present_keys["action_items"]) == 400
    linked._clock.now += timedelta(days=1)  # noqa: SLF001
    linked.delete_issue("AI-3")
    linked.delete_issue("OPS-9")
    client.edit_issue("INC-2", {"summary": "moved"})
    linked.delete_issue("PM-3")
    before = len(linked.requests_to(SEARCH))
    known = [f"OPS-{n}" for n in range(1, 73)]
    swept = extract(client, config(), first.watermark, sweep=True, known_linked=known)
    assert swept.present_keys is not None
    assert "AI-3" not in swept.present_keys["action_items"]
    assert "OPS-9" not in swept.present_keys["action_items"]
    assert "OPS-10" in swept.present_keys["action_items"]
    assert "PM-3" not in swept.present_keys["postmortems"]
    sweep_pages = [r for r in linked.requests_to(SEARCH)[before:] if r.body["fields"] == ["id", "key"]]
    assert sweep_pages
    assert all(r.body["maxResults"] == 5000 for r in sweep_pages)
    assert extract(client, config(), swept.watermark, known_linked=known).present_keys is None  # not every run


def test_a_deleted_comment_is_not_read_again(linked: FakeJira) -> None:
    client = client_for(linked)
    client.add_comment("AI-4", text_to_adf("Second update."))
    first = extract(client, config(), None)
    assert (first.frames["status_updates"]["action_item_id"] == "AI-4").sum() == 2
    linked._clock.now += timedelta(hours=1)  # noqa: SLF001
    linked.delete_comment("AI-4", 0)
    again = extract(client, config(), first.watermark)
    assert (again.frames["status_updates"]["action_item_id"] == "AI-4").sum() == 1
