"""The working-hours matrix: planned at enforcement time, delivered by the hourly dispatch, in six time zones.

Each team's message is planned at 07:00 UTC (when `followthrough_enforce` runs) and then the
hourly dispatch runs at every full hour. Every delivery must fall inside the team's local
working hours on a business day (weekends and the region's public holidays excluded) and at
most one hour after the team opens. The days cover a US and an EU DST change, the end of
Sydney's daylight time, and public holidays in the UK, US, Germany, India and Australia.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

import holidays
import pandas as pd
import pytest

from followthrough.calendar import Calendars, next_working_instant
from followthrough.escalation import working_hours
from followthrough.gateways.delivery import Receipt
from followthrough.gateways.outbox import DispatchSettings, dispatch_pending
from followthrough.policy import policy_for_tests
from followthrough.store.repository import Store

TEAMS = pd.DataFrame({
    "team_id": ["la", "ny", "london", "berlin", "kolkata", "sydney"],
    "timezone": ["America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Berlin", "Asia/Kolkata",
                 "Australia/Sydney"],
    "region": ["US", "US", "GB", "DE", "IN", "AU"],
})
PLAN_DAYS = [
    "2026-03-06",  # Friday before the US DST change (Sunday 8 March): LA and NY open an hour earlier in UTC
    "2026-03-27",  # Friday before the EU DST change (Sunday 29 March)
    "2026-04-02",  # Thursday before Good Friday (UK, DE, AU holiday) and Sydney's DST end (Sunday 5 April)
    "2026-04-30",  # Thursday before 1 May (Labour Day in Germany and India's Maharashtra; UK bank holiday 4 May)
    "2026-01-23",  # Friday before 26 January (Republic Day in India, Australia Day)
    "2026-05-22",  # Friday before Memorial Day (US, 25 May) and the UK spring bank holiday
]


class Clocked:
    """Records when (the dispatch's `now`) each entry was delivered."""

    def __init__(self) -> None:
        self.now = ""
        self.delivered: dict[str, str] = {}

    def deliver(self, entry: dict) -> Receipt:
        assert entry["idempotency_key"] not in self.delivered
        self.delivered[entry["idempotency_key"]] = self.now
        return Receipt("sent", "ts")


def test_every_delivery_is_inside_local_working_hours_and_within_an_hour_of_opening(tmp_path: Path) -> None:
    policy = policy_for_tests(dispatch={"slack": "live"})
    hours = working_hours({"teams": TEAMS}, policy)
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    gateway = Clocked()
    settings = DispatchSettings.from_policy(policy)
    planned: dict[str, tuple[str, pd.Timestamp]] = {}
    checked = 0
    for day in PLAN_DAYS:
        plan_at = pd.Timestamp(f"{day}T07:00Z")
        actions = []
        for team in TEAMS["team_id"]:
            key = f"{day}/{team}"
            team_hours = hours[team]
            opens = next_working_instant(plan_at, team_hours["timezone"], team_hours["region"], time(9), time(17),
                                         Calendars())
            planned[key] = (team, opens)
            actions.append({"idempotency_key": key, "fingerprint": key, "episode": 1, "step": 0, "channel": "slack",
                            "action": "dm_owner", "recipient": "someone", "send_after": opens.isoformat(),
                            "payload": {"text": "x", "working_hours": team_hours}})
        store.add_to_outbox(actions, f"enforce-{day}", plan_at)
        for hour in range(0, 24 * 6):  # the enforcement run's own dispatch, then the hourly dispatch
            now = plan_at + pd.Timedelta(hours=hour)
            gateway.now = now.isoformat()
            dispatch_pending(store, gateway, f"dispatch-{now:%Y%m%dT%H}", now=now.isoformat(), settings=settings)
    assert set(gateway.delivered) == set(planned)
    for key, delivered_at in gateway.delivered.items():
        team, opens = planned[key]
        zone, region = hours[team]["timezone"], hours[team]["region"]
        local = pd.Timestamp(delivered_at).tz_convert(zone)
        public = holidays.country_holidays(region, years=local.year)
        assert local.weekday() < 5, (key, local)
        assert local.date() not in public, (key, local, public.get(local.date()))
        assert time(9) <= local.time() < time(17), (key, local)
        assert pd.Timestamp(delivered_at) - opens <= pd.Timedelta(hours=1), (key, local, opens)
        checked += 1
    assert checked == len(PLAN_DAYS) * len(TEAMS)


@pytest.mark.parametrize(("team", "planned", "expected_local"), [
    ("london", "2026-04-03T07:00Z", "2026-04-06 09:00"),  # Good Friday (GB-wide; Easter Monday is regional)
    ("la", "2026-03-06T07:00Z", "2026-03-06 09:00"),  # Friday 09:00 PST = 17:00 UTC
    ("la", "2026-03-09T07:00Z", "2026-03-09 09:00"),  # Monday 09:00 PDT = 16:00 UTC (after the DST change)
    ("sydney", "2026-04-03T07:00Z", "2026-04-07 09:00"),  # Good Friday, the weekend, Easter Monday
    ("kolkata", "2026-01-23T07:00Z", "2026-01-23 12:30"),  # already open: delivered by this very dispatch
])
def test_the_first_delivery_instant_per_team(team: str, planned: str, expected_local: str, tmp_path: Path) -> None:
    policy = policy_for_tests(dispatch={"slack": "live"})
    hours = working_hours({"teams": TEAMS}, policy)[team]
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    gateway = Clocked()
    plan_at = pd.Timestamp(planned)
    store.add_to_outbox([{"idempotency_key": "k", "fingerprint": "k", "episode": 1, "step": 0, "channel": "slack",
                          "action": "dm_owner", "recipient": "x", "payload": {"text": "x", "working_hours": hours}}],
                        "plan", plan_at)
    for hour in range(24 * 6):
        now = plan_at + pd.Timedelta(hours=hour)
        gateway.now = now.isoformat()
        dispatch_pending(store, gateway, f"d{hour}", now=now.isoformat(), settings=DispatchSettings.from_policy(policy))
        if gateway.delivered:
            break
    delivered = pd.Timestamp(gateway.delivered["k"]).tz_convert(hours["timezone"])
    assert delivered.strftime("%Y-%m-%d %H:%M") == expected_local
