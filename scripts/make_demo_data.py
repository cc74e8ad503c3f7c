"""Deterministic generator for the Followthrough demo data set.

Writes a realistic, fully synthetic company (6 teams, their people, the services they own,
incidents, postmortems with Markdown documents, action items with their change history and
status updates, and a waiver file) into ``data/demo/``.  The data is clean for every rule of
``docs/rules.md`` except for a list of planted problems, planted clean counterexamples (most
of them at a rule's boundary) and malformed rows that the source contract must quarantine,
all documented in ``data/demo/README.md``.  ``expected_findings.csv`` and
``quarantine_expected.csv`` are derived from that plant list; the independent checker
``scripts/check_demo_data.py`` re-derives both from the data files.

The run's "as of" instant is 2026-07-15T10:00:00Z.  Output is byte-for-byte reproducible: a
fixed seed, no wall-clock access and stable ordering.  Besides the standard library the
generator uses only the ``holidays`` package, the same public-holiday source the rules use
for business days.

Usage::

    .venv/bin/python scripts/make_demo_data.py [--out DIR] [--quiet]
"""

from __future__ import annotations

import argparse
import csv
import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays

SEED = 20260715
AS_OF = datetime(2026, 7, 15, 10, 0, tzinfo=UTC)
FIRST_DAY, LAST_DAY = date(2026, 1, 5), date(2026, 7, 10)
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "demo"
EMAIL_DOMAIN = "followthrough-demo.example"

# team_id, name, IANA time zone, region, lead, manager (managers may be shared), cloud region label
TEAMS = [
    ("payments", "Payments", "Europe/Berlin", "DE", "jonas.weber", "katrin.vogel", "eu-central-1"),
    ("checkout", "Checkout", "America/New_York", "US", "marcus.johnson", "katrin.vogel", "us-east-1"),
    ("identity", "Identity & Access", "America/Los_Angeles", "US", "kevin.nguyen", "rachel.goldberg",
     "us-west-2"),
    ("search", "Search", "Asia/Kolkata", "IN", "deepa.iyer", "anil.mehta", "ap-south-1"),
    ("platform-infra", "Platform Infrastructure", "UTC", "NL", "tomasz.nowak", "claire.dubois", "eu-west-1"),
    ("data-pipelines", "Data Pipelines", "Europe/London", "GB", "oliver.bennett", "claire.dubois", "eu-west-2"),
]
TEAM_IDS = [t[0] for t in TEAMS]
TEAM_TZ = {t[0]: t[2] for t in TEAMS}
TEAM_REGION = {t[0]: t[3] for t in TEAMS}
LEADS = {t[0]: t[4] for t in TEAMS}
MANAGERS = {t[0]: t[5] for t in TEAMS}
ROSTER = {  # team -> managers and leads first (name, role), then engineers
    "payments": [("Katrin Vogel", "manager"), ("Jonas Weber", "lead"), "Aisha Khan", "Lukas Hoffmann",
                 "Alla Petrova", "Mehmet Yilmaz", "Sofia Marino"],
    "checkout": [("Marcus Johnson", "lead"), "Emily Chen", "Diego Ramirez", "Hannah Brooks", "Tyrone Davis"],
    "identity": [("Rachel Goldberg", "manager"), ("Kevin Nguyen", "lead"), "Priya Raman",
                 "Owen Fitzgerald", "Maria Santos", "Jamal Carter"],
    "search": [("Anil Mehta", "manager"), ("Deepa Iyer", "lead"), "Sreeja Nair", "Rohan Gupta",
               "Arjun Reddy", "Kavya Menon", "Vikram Singh", "Neha Bose"],
    "platform-infra": [("Claire Dubois", "manager"), ("Tomasz Nowak", "lead"), "Fatima Okoye",
                       "Liam O'Brien", "Yuki Tanaka", "Ines Duarte", "Ahmed Hassan"],
    "data-pipelines": [("Oliver Bennett", "lead"), "Chloe Williams", "Samuel Adeyemi", "Zara Ahmed"],
}
LEFT_COMPANY = {"lukas.hoffmann": datetime(2026, 4, 30, tzinfo=UTC),
                "vikram.singh": datetime(2026, 5, 29, tzinfo=UTC)}
NO_SLACK = ("neha.bose", "zara.ahmed", "ines.duarte")
SERVICES = {
    "payments": [("payments-api", "Payments API"), ("ledger-service", "Ledger service"),
                 ("payout-worker", "Payout worker"), ("payments-db", "Payments DB"),
                 ("fraud-scoring", "Fraud scoring")],
    "checkout": [("checkout-api", "Checkout API"), ("cart-service", "Cart service"),
                 ("pricing-service", "Pricing service"), ("checkout-web", "Checkout web")],
    "identity": [("auth-service", "Auth service"), ("login-web", "Login service"), ("session-store", "Session store"),
                 ("mfa-service", "MFA service"), ("token-issuer", "Token issuer")],
    "search": [("search-api", "Search API"), ("indexer", "Search indexer"), ("query-ranker", "Query ranker"),
               ("autocomplete", "Autocomplete")],
    "platform-infra": [("k8s-prod-eu", "Kubernetes prod-eu"), ("edge-lb", "Edge load balancer"),
                       ("service-mesh", "Service mesh"), ("ci-runners", "CI runners"),
                       ("internal-dns", "Internal DNS"), ("vault", "Vault")],
    "data-pipelines": [("events-ingest", "Events ingest"), ("warehouse-loader", "Warehouse loader"),
                       ("cdc-connector", "CDC connector"), ("airflow-scheduler", "Airflow scheduler")],
}
SERVICE_TEAM = {svc: team for team, services in SERVICES.items() for svc, _ in services}
# Services of other teams that a scenario typically also hits (affected_services); own-team ones are dropped.
CROSS_TEAM = {"dns": ("internal-dns",), "cert_expiry": ("edge-lb",), "unknown_502": ("edge-lb",),
              "credential_leak": ("ci-runners", "vault"), "az_partition": ("k8s-prod-eu",),
              "retry_storm": ("service-mesh",), "kafka_lag": ("events-ingest",), "clock_skew": ("auth-service",)}
IMPACT_NOUN = {"payments": "card payment attempts", "checkout": "checkout requests",
               "identity": "login attempts", "search": "search queries",
               "platform-infra": "requests from dependent services", "data-pipelines": "scheduled warehouse loads"}

# The policy values the rules use (config/policy.yaml, docs/rules.md).
MAJOR = ("SEV1", "SEV2")
TARGET_BUSINESS_DAYS = 2
DUE_BASE = {"P1": 7, "P2": 14, "P3": 30, "P4": 60}  # typical due date: created + base + 0..7 days
DUE_LIMIT_PRIORITY = {"P1": 28, "P2": 56}
DUE_LIMIT_SEVERITY = {"SEV1": 15, "SEV2": 30}
CLEAN_DUE_FROM = date(2026, 7, 16)  # clean open items are due on or after this day (not overdue at as_of)
RULES = ("PM-MISSING", "PM-OVERDUE", "PM-INCOMPLETE", "PM-BLAME", "PM-INSULAR", "PM-NO-ACTIONS", "AI-NO-OWNER",
         "AI-OWNER-GONE", "AI-VAGUE", "AI-NO-DUE", "AI-DUE-BEYOND-SLA", "AI-OVERDUE", "AI-STALE", "AI-DRIFT",
         "AI-WONTDO-UNJUSTIFIED", "INC-CATEGORY-GAP", "INC-REPEAT", "SRC-INVALID")
INCIDENT_RULES = ("PM-MISSING", "PM-NO-ACTIONS", "INC-CATEGORY-GAP", "INC-REPEAT")
# Pinned incidents whose action items tell their story: item plants never take these.
KEEP_ITEMS = ("M2", "WD", "G1", "G2", "C1", "N1", "C5", "RA", "RC1a", "RC2a", "RC3a", "bad")
# Services a scenario fits (an empty tuple in a scenario means any service).
HTTP = ("payments-api", "ledger-service", "fraud-scoring", "checkout-api", "cart-service", "pricing-service",
        "checkout-web", "auth-service", "login-web", "mfa-service", "token-issuer", "search-api", "query-ranker",
        "autocomplete", "edge-lb", "vault")
DB = ("payments-api", "payments-db", "ledger-service", "checkout-api", "cart-service", "auth-service",
      "token-issuer", "indexer", "warehouse-loader", "cdc-connector")
WORKERS = ("payout-worker", "indexer", "events-ingest", "warehouse-loader", "cdc-connector", "fraud-scoring")


@dataclass(frozen=True)
class Scenario:
    """An incident pattern: title, cause, narrative and the follow-ups it typically produces."""

    key: str
    title: str
    cause: str
    labels: str
    services: tuple[str, ...]  # services the scenario fits; empty = any
    trigger: str
    root: str
    fix: str
    items: tuple[tuple[str, str], ...]


S = Scenario
SCENARIOS = [
    S("config_push", "{Svc} 5xx spike after config push", "config", "config-change;5xx", HTTP,
      "Config change CHG-{n} raising `max_inflight_requests` for {svc} is pushed to all regions at once",
      "The new `max_inflight_requests` value exceeded the file-descriptor limit of the {svc} containers. The config "
      "linter checks syntax only and there is no staged rollout, so every host had the change within 90 seconds.",
      "Reverted CHG-{n} through the config service and restarted the pods",
      (("root_cause", "Validate `max_inflight_requests` against the container ulimit in the {svc} config linter"),
       ("process", "Roll out {svc} config changes region by region with a 15-minute bake time"),
       ("detection", "Alert when the {svc} 5xx ratio exceeds 2% for 3 minutes"),
       ("mitigation", "Add a one-command config rollback to the {svc} runbook"))),
    S("redis_failover", "{Svc} latency degradation from Redis failover", "dependency", "latency;redis",
      HTTP[:9] + ("session-store", "search-api", "autocomplete", "query-ranker"),
      "Primary of the `{svc}-cache` Redis cluster fails over to its replica during provider maintenance",
      "After the failover every {svc} pod kept its connections to the old primary, because the client resolves DNS "
      "only when the pool is created. Each cache call waited for the 2 s socket timeout before hitting the database.",
      "Restarted {svc} pods in batches to force reconnection to the new primary",
      (("root_cause", "Enable DNS re-resolution on reconnect in the {svc} Redis client (refresh every 30s)"),
       ("root_cause", "Lower the Redis socket timeout in {svc} from 2000ms to 250ms"),
       ("detection", "Add alert on p99 latency > 800ms for {svc}"),
       ("process", "Run a Redis failover drill for `{svc}-cache` in staging every quarter"))),
    S("cert_expiry", "{Svc} outage caused by expired TLS certificate", "config", "tls;certificates", (),
      "TLS certificate for `{svc}.internal` expires",
      "The certificate was issued by hand in 2025 and never enrolled in automated renewal. Expiry warnings went to "
      "the mailing list of a team that was dissolved in the last re-org.",
      "Issued a new certificate from the internal CA and rolled it out to the load balancers",
      (("root_cause", "Move the `{svc}.internal` certificate to cert-manager with automatic renewal"),
       ("detection", "Alert 21 days before expiry for every certificate in the {svc} inventory"),
       ("process", "Inventory hand-issued certificates across all {team} services"),
       ("documentation", "Document emergency certificate re-issue in the {svc} runbook"))),
    S("bad_deploy", "Elevated error rate in {Svc} after deploy {ver}", "deploy", "deploy;regression", (),
      "Release {ver} of {svc} starts rolling out through the standard pipeline",
      "Release {ver} changed the serialization of a shared request object, and old pods still running during the "
      "rolling update could not parse responses from new pods. Integration tests only ever run one version.",
      "Rolled {svc} back to the previous release",
      (("root_cause", "Add a mixed-version (N/N-1) compatibility test stage to the {svc} pipeline"),
       ("mitigation", "Roll back {svc} automatically when the error-budget burn rate exceeds 10x during a deploy"),
       ("process", "Require a canary stage (5% of traffic for 30 minutes) for {svc} deploys"),
       ("detection", "Annotate {svc} dashboards with deploy markers"))),
    S("pool_exhaustion", "{Svc} connection pool exhaustion under peak load", "capacity", "capacity;database",
      DB, "Traffic to {svc} climbs {pct}% above the previous peak during a marketing campaign",
      "The database proxy in front of {svc} allowed 50 connections per instance, sized in 2024 for half of today's "
      "traffic. Once the pool was exhausted, requests queued in the application and hit the upstream timeout.",
      "Raised the proxy pool limit and scaled out {svc} replicas",
      (("root_cause", "Set connection pool max to 200 in the {svc} proxy config"),
       ("detection", "Alert when {svc} DB pool utilisation stays above 85% for 5 minutes"),
       ("process", "Add {svc} to the capacity checklist for marketing campaigns"),
       ("mitigation", "Shed load in {svc} when the request queue exceeds 500"))),
    S("disk_full", "Disk full on {Svc} primary database node", "capacity", "database;disk", DB,
      "WAL volume on the {svc} primary reaches 100% after a replication slot stops advancing",
      "An abandoned logical replication slot from a one-off migration retained WAL segments for 11 days. Disk "
      "usage alerts existed but were routed to a low-urgency Slack channel.",
      "Dropped the stale replication slot and expanded the volume",
      (("root_cause", "Alert daily on inactive replication slots in the {svc} database"),
       ("detection", "Page when {svc} DB disk usage exceeds 80% (today it only posts to Slack)"),
       ("mitigation", "Enable storage auto-grow on the {svc} database volumes"),
       ("documentation", "Document replication slot clean-up in the database runbook"))),
    S("provider_outage", "{Svc} degraded after upstream provider outage", "dependency", "third-party",
      ("payments-api", "fraud-scoring", "payout-worker", "checkout-api", "pricing-service", "mfa-service",
       "search-api", "autocomplete", "events-ingest", "edge-lb"),
      "A third-party provider used by {svc} starts returning 503s in one region",
      "{Svc} depends on the provider without a fallback. Its client retried every call three times without "
      "jitter, which amplified load on the degraded endpoint and exhausted our own worker pool.",
      "Switched on the cached fallback path by hand and paused retries",
      (("root_cause", "Add fallback provider routing for {svc} behind a feature flag"),
       ("mitigation", "Add a circuit breaker with a 30s open state around provider calls in {svc}"),
       ("root_cause", "Use exponential backoff with jitter for provider retries in {svc}"),
       ("detection", "Forward the provider status feed to the #{team} alerts channel"))),
    S("az_partition", "Partial outage of {Svc} from AZ network partition", "hardware", "network;multi-az",
      ("payments-db", "ledger-service", "indexer", "k8s-prod-eu", "service-mesh", "vault", "events-ingest",
       "session-store"), "Cloud provider reports packet loss between availability zones b and c",
      "{Svc} elects a leader across three zones but pinned all writes to zone b. The partition cut the leader off "
      "from the quorum while health checks from the same zone still reported it healthy.",
      "Drained zone b from the load balancer and forced a leader re-election",
      (("root_cause", "Health-check the {svc} leader from a different availability zone"),
       ("mitigation", "Automate zone drain for {svc} in the traffic-control CLI"),
       ("process", "Run an AZ failure game day for {svc} before the end of Q3"),
       ("documentation", "Update the {svc} architecture doc with the zone placement of leaders"))),
    S("credential_leak", "Credential leak in CI logs for {Svc}", "security", "security;credentials", (),
      "A debug step in the {svc} CI pipeline prints environment variables, including a database password",
      "A debug step added during a CI migration was never removed. Build logs are readable by every engineer "
      "and kept for 90 days, and masking missed the variable because of its non-standard name.",
      "Rotated the exposed credential and purged the affected build logs",
      (("root_cause", "Remove the environment dump step from the {svc} CI pipeline"),
       ("root_cause", "Mask every variable injected from Vault in CI logs, whatever its name"),
       ("detection", "Run secret scanning on CI log output for all pipelines"),
       ("process", "Rotate {svc} database credentials every 90 days via Vault dynamic secrets"),
       ("detection", "Alert on use of {svc} database credentials from outside the service network range"),
       ("process", "Restrict build-log access for {svc} to the owning team"),
       ("mitigation", "Shorten CI build-log retention from 90 to 14 days"),
       ("documentation", "Document the credential-exposure response in the security runbook"))),
    S("dns", "DNS resolution failures affecting {Svc}", "dependency", "dns;kubernetes", (),
      "A node pool upgrade in the prod cluster leaves CoreDNS with 2 instead of 6 replicas",
      "The upgrade dropped the CoreDNS autoscaler settings, which had been patched by hand. With ndots:5 every "
      "external name caused up to five lookups and the two remaining replicas were overloaded.",
      "Scaled CoreDNS back to 6 replicas and restored the autoscaler settings",
      (("root_cause", "Manage the CoreDNS autoscaler settings in Terraform instead of kubectl patches"),
       ("mitigation", "Set ndots:2 in the {svc} pod DNS config"),
       ("detection", "Alert on a CoreDNS SERVFAIL rate > 1% for 5 minutes"),
       ("mitigation", "Enable NodeLocal DNSCache on the prod clusters"))),
    S("retry_storm", "Retry storm from {Svc} overloaded downstream services", "software-bug",
      "retries;cascading-failure", HTTP[:6] + WORKERS + ("auth-service", "search-api"), "A short latency blip in a downstream dependency makes {svc} calls time out",
      "{Svc} retried timed-out calls up to 5 times with a fixed 100 ms delay in three layers (SDK, HTTP client, "
      "job runner), multiplying load by up to 125x and keeping the dependency saturated after the blip.",
      "Disabled job-runner retries through config and shed load at the gateway",
      (("root_cause", "Remove retries from the job-runner layer in {svc} and keep a single retry layer"),
       ("root_cause", "Introduce a retry budget (10% of requests) in the {svc} HTTP client"),
       ("detection", "Add a retry-rate panel and alert for {svc} outbound calls"),
       ("documentation", "Write an ADR on retry budgets for {svc} clients"))),
    S("kafka_lag", "Consumer lag on {Svc} delayed downstream data", "capacity", "kafka;lag",
      WORKERS, "A partition rebalance on `{topic}` leaves 12 of 48 partitions without an active consumer",
      "Larger events from a producer change made batches slower than `max.poll.interval.ms`, so consumers were "
      "evicted from the group again and again and the rebalance never settled.",
      "Raised `max.poll.interval.ms`, lowered `max.poll.records` and restarted the consumer group",
      (("root_cause", "Set max.poll.records to 200 for the {svc} consumer group"),
       ("detection", "Alert when {svc} consumer lag exceeds 15 minutes on any partition"),
       ("process", "Add event size limits to the `{topic}` schema contract"),
       ("mitigation", "Add a runbook step to pause `{topic}` producers during consumer recovery"))),
    S("clock_skew", "Clock skew on {Svc} hosts broke token validation", "config", "ntp;auth",
      ("token-issuer", "auth-service", "mfa-service", "vault", "service-mesh", "payments-api"), "A base image update disables chrony on part of the {svc} fleet",
      "Without time synchronisation the clocks of 14 hosts drifted by more than 90 seconds. Tokens issued there "
      "carried `iat` values in the future and were rejected by peers that allow 60 seconds of leeway.",
      "Re-enabled chrony and restarted the affected hosts",
      (("root_cause", "Add a base image CI test that fails when chrony is disabled"),
       ("detection", "Alert on an NTP offset > 500ms on any {svc} host"),
       ("mitigation", "Raise token validation leeway in {svc} from 60s to 120s"),
       ("documentation", "Document time-sync requirements in the base image guide"))),
    S("unknown_502", "Intermittent 502s from {Svc} with unknown cause", "unknown", "5xx;investigation", HTTP,
      "Edge load balancer starts returning intermittent 502s for {svc}",
      "We have not found a root cause. The 502s correlate with connection reuse between the edge proxy and {svc} "
      "pods, but we could not reproduce them and they stopped after a routine deploy.",
      "Errors stopped after a routine deploy restarted all pods",
      (("root_cause", "Set the {svc} keep-alive timeout to 75s, above the edge proxy idle timeout of 60s"),
       ("detection", "Enable upstream connection error logging on the edge for {svc}"),
       ("process", "Reopen the review if {svc} 502s exceed 0.1% again"))),
]
SCENARIO_BY_KEY = {s.key: s for s in SCENARIOS}
GENERIC_ITEMS = [
    ("detection", "Add alert on p99 latency > {ms}ms for {svc}"),
    ("detection", "Add a synthetic probe for {svc} from three regions"),
    ("detection", "Add a saturation panel (CPU, connections, queue depth) to the {svc} dashboard"),
    ("detection", "Route high-urgency {svc} alerts to PagerDuty instead of Slack"),
    ("detection", "Add an SLO burn-rate alert (1h and 6h windows) for {svc}"),
    ("mitigation", "Increase {svc} HPA max replicas from {a} to {b}"),
    ("mitigation", "Add a kill switch for non-critical {svc} background jobs"),
    ("mitigation", "Set a timeout of {ms}ms on every outbound call from {svc}"),
    ("process", "Escalate unacknowledged {team} pages to the secondary on-call after 10 minutes"),
    ("process", "Add a failover scenario for {svc} to the quarterly game day rotation"),
    ("process", "Add a customer-support comms template for {svc} outages"),
    ("documentation", "Update the {svc} runbook with the mitigation steps used in this incident"),
    ("documentation", "Document the {svc} dependency map in the service catalog"),
    ("root_cause", "Add a regression test that reproduces this failure in {svc}"),
]
START = ["Picked this up; design notes are in the ticket.", "Started on this, first PR this week.",
         "Taking this one. Scoping it with {peer} first."]
PROGRESS = ["Draft PR #{pr} is up, looking for a reviewer from {team}.", "PR #{pr} approved, waiting for "
            "the next deploy window.", "Rolled out to staging; validating for a day before prod.",
            "Canary at 10% in prod, no regressions so far.", "Discussed in the weekly ops review; priority "
            "unchanged.", "About half done. Remaining work is the {svc} part.",
            "Test plan written and linked in the ticket.", "Pairing with {peer} on this, should land this week."]
BLOCKED = ["Blocked on vendor support case #{n}; escalated through our account manager.",
           "Blocked until platform-infra finishes the cluster upgrade (CHG-{n}).",
           "Blocked: waiting for a security review slot, requested for next week.",
           "Waiting for {other} to expose the metric we need."]
DONE = {"detection": ["Alert is live; tested it with a synthetic failure.", "Dashboard panel and alert shipped."],
        "documentation": ["Runbook page updated and reviewed by the on-call rotation.", "Doc published and linked."],
        "other": ["Merged in PR #{pr} and deployed to all regions.", "Change CHG-{n} applied everywhere; closing."]}
WONT_NOTES = ["Superseded by the {svc} redesign (RFC-{n}).", "Duplicate of another follow-up from this incident.",
              "Service is being decommissioned in Q3; not worth the investment.",
              "Risk accepted by {manager} after review; cost outweighs the benefit."]
NEEDS_OWNER = ["No owner yet. Raised in the #{team} standup; {manager} will assign it in planning.",
               "Still unowned; flagged in the weekly follow-up review.",
               "Needs someone with {svc} context; bringing it to sprint planning."]


@dataclass
class Person:
    handle: str
    name: str
    team: str
    role: str
    active: bool = True
    slack_id: str = ""


@dataclass
class Update:
    author: str
    posted_at: datetime
    body: str
    id: str = ""


@dataclass
class Change:
    """One row of action_item_history.csv (ids are assigned when writing)."""

    at: datetime
    field: str  # due_date | priority | status | owner
    old: str
    new: str


@dataclass(eq=False)
class Incident:
    team: str
    severity: str
    scenario: Scenario
    service: tuple[str, str]
    started_at: datetime
    resolved_at: datetime | None
    status: str
    confidential: bool = False
    labels: str = ""
    title: str = ""
    affected: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    tag: str = ""  # pinned-incident key, or "bad" for a malformed row
    raw: dict[str, str] = field(default_factory=dict)  # malformed-row overrides and "_reason"
    id: str = ""
    pm: Postmortem | None = None
    items: list[Item] = field(default_factory=list)


@dataclass(eq=False)
class Postmortem:
    incident: Incident
    owner: str
    status: str
    created_at: datetime
    published_at: datetime | None
    participants: list[str] = field(default_factory=list)
    variant: str = ""  # how the document deviates from a complete, blameless write-up
    id: str = ""


@dataclass(eq=False)
class Item:
    idx: int
    incident: Incident
    summary: str
    owner: str
    team: str
    priority: str
    category: str
    status: str
    created_at: datetime
    due: date | None
    closed_at: datetime | None = None
    note: str = ""
    approver: str = ""
    updates: list[Update] = field(default_factory=list)
    history: list[Change] = field(default_factory=list)  # due_date, priority and owner changes
    raw: dict[str, str] = field(default_factory=dict)  # malformed-row overrides
    id: str = ""
    used: bool = False  # already taken by a plant
    due_fixed: bool = False  # due date set by a plant (None then means "no due date")


@dataclass(eq=False)
class Plant:
    rule: str  # a rule id (the object must fire it), "clean" (a counterexample) or "quarantine"
    obj: Item | Postmortem | Incident
    note: str
    level: str = "violation"  # violation | warning | waived
    about: str = ""  # for "clean": the rule this counterexample is about


@dataclass
class World:
    rng: random.Random
    people: list[Person] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    plants: list[Plant] = field(default_factory=list)
    waivers: list[tuple[str, Item | Postmortem, str, str, date]] = field(default_factory=list)

    def active(self, team: str, role: str | None = None) -> list[str]:
        return [p.handle for p in self.people
                if p.team == team and p.active and (role is None or p.role == role)]

    def plant(self, rule: str, obj: Item | Postmortem | Incident, note: str, level: str = "violation") -> None:
        self.plants.append(Plant(rule, obj, note, level))

    def clean(self, about: str, obj: Item | Postmortem | Incident, note: str) -> None:
        self.plants.append(Plant("clean", obj, note, about=about))

    def pinned(self, tag: str) -> Incident:
        return next(i for i in self.incidents if i.tag == tag)


def utc(text: str) -> datetime:
    """Parse 'YYYY-MM-DDTHH:MM' (no offset) as UTC, or an ISO timestamp with an offset."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime, tz: str = "UTC") -> str:
    return moment.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")


def minutes(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(minutes=rng.randint(low, high))


def days(n: int) -> timedelta:
    return timedelta(days=n)


def fill(rng: random.Random, text: str, inc: Incident, **extra: str) -> str:
    """Fill an incident's placeholders ({svc}, {team}, {pr}, ...) into a template."""
    values = dict(inc.facts, pr=str(rng.randint(3100, 9899)), n=str(rng.randint(1200, 8999)),
                  ms=str(rng.choice([300, 500, 800, 1200])), a=str(rng.choice([8, 10, 12])),
                  b=str(rng.choice([24, 30, 40])), peer=LEADS[inc.team], manager=MANAGERS[inc.team],
                  other=rng.choice([t for t in TEAM_IDS if t != inc.team]))
    values.update(extra)
    return text.format(**values)


# ----------------------------------------------------------------------------------------- calendars


@functools.cache
def region_holidays(region: str) -> frozenset[date]:
    return frozenset(holidays.country_holidays(region, years=range(2025, 2028)))


def is_business_day(day: date, team: str) -> bool:
    return day.weekday() < 5 and day not in region_holidays(TEAM_REGION[team])


def business_days_after(moment: datetime, n: int, team: str) -> datetime:
    """docs/rules.md: local date (rolled forward to a business day) + n business days, same local time."""
    tz = ZoneInfo(TEAM_TZ[team])
    local = moment.astimezone(tz)
    day = local.date()
    while not is_business_day(day, team):
        day += days(1)
    for _ in range(n):
        day += days(1)
        while not is_business_day(day, team):
            day += days(1)
    return datetime.combine(day, local.time(), tzinfo=tz).astimezone(UTC)


def pm_target(inc: Incident) -> datetime:
    assert inc.resolved_at is not None
    return business_days_after(inc.resolved_at, TARGET_BUSINESS_DAYS, inc.team)


def pm_limit(inc: Incident) -> datetime:
    assert inc.resolved_at is not None
    if inc.severity == "SEV1":
        return inc.resolved_at + days(3)
    return business_days_after(inc.resolved_at, 5, inc.team)


# ----------------------------------------------------------------------------------------- due dates


def due_limit(item: Item) -> int | None:
    """AI-DUE-BEYOND-SLA: the smaller of the priority and the severity limit (None: no limit)."""
    limits = [x for x in (DUE_LIMIT_PRIORITY.get(item.priority), DUE_LIMIT_SEVERITY.get(item.incident.severity))
              if x is not None]
    return min(limits) if limits else None


def due_window(item: Item, created: datetime | None = None) -> tuple[date, date]:
    """The due dates an open item may have and fire neither AI-OVERDUE nor AI-DUE-BEYOND-SLA."""
    start = (created or item.created_at).astimezone(UTC).date()
    low, limit = max(CLEAN_DUE_FROM, start), due_limit(item)
    return low, start + days(limit) if limit is not None else low + days(75)


def window_ok(item: Item, created: datetime | None = None) -> bool:
    low, high = due_window(item, created)
    return low <= high


def natural_due(rng: random.Random, item: Item) -> date:
    """The due date a team would set at creation: by priority, never beyond the SLA."""
    start = item.created_at.astimezone(UTC).date()
    due = start + days(DUE_BASE[item.priority] + rng.randint(0, 7))
    limit = due_limit(item)
    return min(due, start + days(limit)) if limit is not None else due


def set_clean_due(w: World, item: Item) -> None:
    """A due date inside the clean window; an earlier original date is recorded as one push."""
    rng = w.rng
    low, high = due_window(item)
    assert low <= high, (item.summary, item.created_at, item.priority)
    natural = natural_due(rng, item)
    if natural >= low:
        item.due = natural
        return
    item.due = low + days(rng.randint(0, min((high - low).days, 21)))
    seen = [u.posted_at for u in item.updates if u.posted_at <= AS_OF]
    if seen:  # pushed at the item's last update, so the history never adds activity after it
        item.history.append(Change(max(seen), "due_date", natural.isoformat(), item.due.isoformat()))


def set_past_due(w: World, item: Item, due: date | None = None) -> None:
    """An overdue date (before 2026-07-14 unless given) that respects the SLA."""
    start = item.created_at.astimezone(UTC).date()
    limit = due_limit(item)
    high = min(date(2026, 7, 13), start + days(limit)) if limit is not None else date(2026, 7, 13)
    if due is None:
        low = min(start + days(3), high)
        due = low + days(w.rng.randint(0, (high - low).days))
    assert start <= due, (item.summary, due)
    assert limit is None or due <= start + days(limit), (item.summary, due)
    item.due, item.due_fixed = due, True


# ----------------------------------------------------------------------------------------- building


def build_people(rng: random.Random) -> list[Person]:
    people = []
    for team, members in ROSTER.items():
        for member in members:
            name, role = member if isinstance(member, tuple) else (member, "engineer")
            handle = name.lower().replace("'", "").replace(" ", ".")
            slack = "" if handle in NO_SLACK else "U0" + "".join(
                rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8))
            people.append(Person(handle, name, team, role, handle not in LEFT_COMPANY, slack))
    return people


def make_incident(w: World, team: str, sev: str, sc: Scenario, svc: tuple[str, str], start: datetime,
                  end: datetime | None, status: str, tag: str = "") -> Incident:
    rng = w.rng
    labels = [sc.labels, next(t[6] for t in TEAMS if t[0] == team)]
    if team in ("payments", "checkout", "identity", "search") and sev != "SEV4":
        labels.append("customer-facing")
    if team == "payments":
        labels.append("pci")
    conf = sc.cause == "security" or rng.random() < 0.06
    inc = Incident(team, sev, sc, svc, start, end, status, conf, ";".join(labels), tag=tag)
    inc.facts = {"svc": svc[0], "Svc": svc[1], "team": team,
                 "ver": f"v{rng.randint(2, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 9)}",
                 "topic": rng.choice(["orders.events.v2", "search.index-updates", "clickstream.raw"]),
                 "pct": str(rng.randint(30, 180))}
    inc.title = fill(rng, sc.title, inc)
    neighbours = [s for s, _ in SERVICES[team] if s != svc[0]]
    inc.affected = [svc[0]] + ([rng.choice(neighbours)] if rng.random() < 0.3 else [])
    inc.affected += [s for s in CROSS_TEAM.get(sc.key, ()) if SERVICE_TEAM[s] != team]
    return inc


# Pinned incidents: the plants and counterexamples of the incident and postmortem rules (see PIN_PLANTS).
# tag, team, severity, scenario, service, started (UTC), resolved (UTC, "" = still open), incident status,
# postmortem status ("" = no postmortem row), published_at (UTC or "").
PINNED = [
    ("O1", "payments", "SEV2", "pool_exhaustion", "payments-api", "2026-06-10T11:05", "2026-06-10T14:20",
     "closed", "draft", ""),
    ("O2", "checkout", "SEV1", "config_push", "checkout-api", "2026-06-23T22:40", "2026-06-24T02:15",
     "resolved", "in_review", ""),
    ("O3", "identity", "SEV2", "redis_failover", "login-web", "2026-06-27T16:30", "2026-06-27T18:00",
     "resolved", "in_review", ""),
    ("O4", "search", "SEV2", "bad_deploy", "search-api", "2026-07-07T19:40", "2026-07-07T21:15",
     "resolved", "draft", ""),
    ("O5", "data-pipelines", "SEV2", "kafka_lag", "events-ingest", "2026-05-19T08:00", "2026-05-20T09:30",
     "closed", "published", "2026-07-16T09:00"),
    ("O6", "checkout", "SEV2", "dns", "checkout-web", "2026-07-08T07:45", "2026-07-08T09:59",
     "resolved", "draft", ""),
    ("O7", "payments", "SEV1", "disk_full", "payments-db", "2026-03-16T13:00", "2026-03-16T17:45",
     "closed", "in_review", ""),
    ("C1", "platform-infra", "SEV2", "cert_expiry", "edge-lb", "2026-07-08T07:30", "2026-07-08T10:00",
     "resolved", "draft", ""),
    ("C2", "payments", "SEV2", "redis_failover", "payments-api", "2026-07-10T05:10", "2026-07-10T06:30",
     "resolved", "in_review", ""),
    ("C3", "checkout", "SEV1", "bad_deploy", "cart-service", "2026-05-04T13:20", "2026-05-04T15:05",
     "closed", "published", "2026-05-20T16:00"),
    ("C4", "identity", "SEV3", "clock_skew", "token-issuer", "2026-02-11T17:10", "2026-02-11T19:40",
     "closed", "draft", ""),
    ("C5", "search", "SEV2", "provider_outage", "autocomplete", "2026-07-08T17:00", "2026-07-08T19:00",
     "resolved", "in_review", ""),
    ("C6", "data-pipelines", "SEV2", "retry_storm", "cdc-connector", "2026-07-09T06:00", "",
     "open", "draft", ""),
    ("W1", "data-pipelines", "SEV1", "disk_full", "warehouse-loader", "2026-07-10T15:20", "2026-07-10T19:00",
     "resolved", "draft", ""),
    ("T0", "platform-infra", "SEV2", "az_partition", "service-mesh", "2026-07-13T07:40", "2026-07-13T10:00",
     "resolved", "draft", ""),
    ("M0", "search", "SEV2", "retry_storm", "search-api", "2026-07-13T08:10", "2026-07-13T10:00",
     "resolved", "", ""),
    ("M1", "checkout", "SEV2", "provider_outage", "pricing-service", "2026-06-02T14:05", "2026-06-02T16:40",
     "closed", "", ""),
    ("M2", "identity", "SEV1", "provider_outage", "mfa-service", "2026-07-06T18:00", "2026-07-06T20:30",
     "resolved", "draft", ""),
    ("N1", "payments", "SEV2", "provider_outage", "fraud-scoring", "2026-06-16T09:10", "2026-06-16T11:45",
     "closed", "published", "2026-06-19T15:00"),
    ("WD", "identity", "SEV2", "redis_failover", "session-store", "2026-05-11T15:00", "2026-05-11T17:20",
     "closed", "published", "2026-05-14T16:00"),
    ("G1", "search", "SEV2", "unknown_502", "query-ranker", "2026-05-26T04:30", "2026-05-26T07:10",
     "closed", "published", "2026-05-29T09:00"),
    ("G2", "data-pipelines", "SEV2", "dns", "airflow-scheduler", "2026-04-14T03:20", "2026-04-14T05:05",
     "closed", "published", "2026-04-16T14:00"),
    ("RA", "payments", "SEV3", "pool_exhaustion", "ledger-service", "2026-04-20T13:30", "2026-04-20T15:00",
     "closed", "", ""),
    ("RB", "payments", "SEV2", "pool_exhaustion", "ledger-service", "2026-06-29T08:45", "2026-06-29T11:30",
     "resolved", "published", "2026-07-02T09:00"),
    ("RC1a", "identity", "SEV3", "cert_expiry", "auth-service", "2026-05-05T16:00", "2026-05-05T18:10",
     "closed", "", ""),
    ("RC1b", "identity", "SEV3", "clock_skew", "auth-service", "2026-06-15T20:30", "2026-06-15T22:00",
     "closed", "", ""),
    ("RC2a", "checkout", "SEV3", "unknown_502", "checkout-api", "2026-05-18T12:00", "2026-05-18T13:30",
     "closed", "", ""),
    ("RC2b", "checkout", "SEV3", "unknown_502", "checkout-api", "2026-06-22T15:10", "2026-06-22T16:05",
     "closed", "", ""),
    ("RC3a", "search", "SEV3", "kafka_lag", "indexer", "2026-03-10T08:00", "2026-03-10T11:00", "closed", "", ""),
    ("RC3b", "search", "SEV3", "kafka_lag", "indexer", "2026-06-08T10:00", "2026-06-08T12:40", "closed", "", ""),
    ("I1", "platform-infra", "SEV3", "bad_deploy", "ci-runners", "2026-03-24T09:00", "2026-03-24T12:30",
     "closed", "published", "2026-03-27T10:00"),
]
# Per-tag details: title, affected services, postmortem created_at, document variant, number of action
# items, excluded item categories, participants ("insular": own team only; "team_id": other teams by id).
PIN: dict[str, dict[str, Any]] = {
    "O1": {"variant": "blame_draft"},
    "O2": {"variant": "blame"},
    "O3": {"variant": "no_timeline", "affected": ["login-web", "session-store"]},
    "O5": {"variant": "tbd_impact"},
    "O6": {"affected": ["checkout-web", "internal-dns"]},
    "C1": {"items": 0},
    "C2": {"affected": ["payments-api", "ledger-service", "checkout-api"], "participants": "insular"},
    "C3": {"variant": "blameless"},
    "C5": {"exclude": ("detection",)},
    "M2": {"items": 1, "pm_created": "2026-07-15T16:30"},
    "N1": {"items": 0, "variant": "no_actions", "affected": ["fraud-scoring", "payments-api"]},
    "WD": {"items": 2, "affected": ["session-store", "login-web"]},
    "G1": {"affected": ["query-ranker", "search-api", "edge-lb"], "participants": "team_id"},
    "G2": {"exclude": ("root_cause", "detection"), "affected": ["airflow-scheduler", "internal-dns"]},
    "RA": {"items": 3, "affected": ["ledger-service"]},
    "RB": {"title": "Ledger service connection pool exhausted again during month-end close",
           "affected": ["ledger-service", "payments-api", "checkout-api"], "participants": "insular"},
    "RC1a": {"items": 3},
    "RC2a": {"items": 2},
    "RC2b": {"title": "Intermittent 502s from Checkout API again, cause still unknown"},
    "RC3a": {"items": 2},
    "RC3b": {"title": "Consumer lag on Search indexer delayed index updates"},
    "I1": {"variant": "tbd_impact", "items": 2},
}
# Findings (rule, level) and counterexamples ("clean", rule) of the pinned incidents and postmortems.
PIN_PLANTS = [
    ("O1", "PM-OVERDUE", "violation", "SEV2 draft; limit Wed 2026-06-17 16:20+02:00"),
    ("O1", "PM-BLAME", "violation", "a draft whose root cause says `The on-call engineer should have raised the "
     "proxy pool limit ...`; the rule has no status condition"),
    ("O2", "PM-OVERDUE", "violation", "SEV1 in review; resolved Tue 2026-06-23 22:15 New York (UTC date 06-24); "
     "limit = resolved + 72 h = 2026-06-27T02:15Z"),
    ("O2", "PM-BLAME", "violation", "its root cause opens with `The outage was caused by human error: <an engineer> "
     "forgot to ...`"),
    ("O3", "PM-OVERDUE", "violation", "resolved Sat 2026-06-27 11:00 Los Angeles, rolls to Mon 06-29; the 5 "
     "business days skip Independence Day (observed) Fri 07-03: limit Tue 2026-07-07 11:00-07:00, not Mon 07-06"),
    ("O3", "PM-INCOMPLETE", "violation", "in review and the document has no timeline section"),
    ("O4", "PM-OVERDUE", "violation", "resolved Tue 21:15Z = Wed 2026-07-08 02:45 Kolkata; limit Wed 2026-07-15 "
     "02:45+05:30 = 2026-07-14T21:15Z, on the same local day as as_of"),
    ("O5", "PM-OVERDUE", "violation", "published_at 2026-07-16 is after as_of, so unpublished as of as_of"),
    ("O6", "PM-OVERDUE", "violation", "resolved Wed 2026-07-08 05:59 New York; limit 2026-07-15T09:59Z, one "
     "minute before as_of"),
    ("O7", "PM-OVERDUE", "violation", "SEV1 from March still in review; its waiver expired on 2026-07-14"),
    ("C1", "PM-OVERDUE", "warning", "resolved Wed 2026-07-08T10:00Z (UTC team): target Fri 07-10T10:00Z passed, "
     "limit Wed 2026-07-15T10:00Z equals as_of, so still a warning"),
    ("C2", "PM-OVERDUE", "warning", "resolved Fri 2026-07-10 08:30 Berlin: target Tue 07-14 08:30+02:00 passed; "
     "limit Fri 2026-07-17 (5 business days over the weekend), not the calendar 07-15"),
    ("C2", "PM-INSULAR", "violation", "in review; checkout owns the affected `checkout-api` and nobody from "
     "checkout took part"),
    ("C5", "PM-OVERDUE", "warning", "resolved Wed 19:00Z = Thu 2026-07-09 00:30 Kolkata: target Mon 07-13 "
     "00:30+05:30 passed; limit Thu 2026-07-16 00:30+05:30 = 2026-07-15T19:00Z, after as_of"),
    ("W1", "PM-OVERDUE", "violation", "SEV1 resolved Fri 2026-07-10 20:00 London: limit = resolved + 3 calendar "
     "days = Mon 2026-07-13T19:00Z (3 business days would give Wed 07-15T19:00Z, a warning)"),
    ("M1", "PM-MISSING", "violation", "SEV2 resolved 2026-06-02, no postmortem row at all"),
    ("M2", "PM-MISSING", "violation", "SEV1 whose postmortem row is created 2026-07-15T16:30Z, after as_of"),
    ("M2", "PM-NO-ACTIONS", "violation", "its only action item is created 2026-07-15T17:10Z, after as_of"),
    ("N1", "PM-NO-ACTIONS", "violation", "SEV2, published postmortem that agreed no follow-ups; no action items"),
    ("G1", "INC-CATEGORY-GAP", "violation", "no root_cause item: both root-cause items were closed as wont_do"),
    ("G2", "INC-CATEGORY-GAP", "violation", "only mitigation/process/documentation items: no root_cause and no "
     "detection"),
    ("RB", "INC-REPEAT", "violation", "same service `ledger-service` and category `capacity` as RA 69 days "
     "earlier, whose root-cause item is still open and was created before RB started"),
    ("RB", "PM-INSULAR", "violation", "published; checkout owns the affected `checkout-api` and is absent"),
    ("I1", "PM-INCOMPLETE", "violation", "published SEV3 write-up whose impact section is `TBD`"),
    ("T0", "clean", "PM-OVERDUE", "resolved Mon 2026-07-13T10:00Z (UTC team): target Wed 2026-07-15T10:00Z "
     "equals as_of; as_of > target is false"),
    ("M0", "clean", "PM-MISSING", "no postmortem yet; resolved Mon 2026-07-13 15:30 Kolkata, target Wed "
     "2026-07-15 15:30+05:30 = 10:00Z equals as_of"),
    ("C3", "clean", "PM-OVERDUE", "SEV1 published late (limit 2026-05-07T15:05Z, published 2026-05-20) but "
     "before as_of"),
    ("C3", "clean", "PM-BLAME", "says `This was not human error: ...` and `we should have ...`: negated and "
     "collective wording is not blame"),
    ("C4", "clean", "PM-OVERDUE", "SEV3 draft since February: SEV3 needs no postmortem"),
    ("C6", "clean", "PM-OVERDUE", "incident still open (resolved_at empty): no target yet"),
    ("M2", "clean", "PM-OVERDUE", "its postmortem row is created after as_of, so it does not exist yet"),
    ("O5", "clean", "PM-INCOMPLETE", "status published but published_at is after as_of; its impact section is "
     "`TBD`"),
    ("C1", "clean", "PM-INCOMPLETE", "a draft whose action items and lessons are still `TODO`; only in_review "
     "and published postmortems count"),
    ("C1", "clean", "PM-NO-ACTIONS", "SEV2 without action items, but as_of equals the limit "
     "(Wed 2026-07-15T10:00Z)"),
    ("WD", "clean", "PM-NO-ACTIONS", "both action items are wont_do; PM-NO-ACTIONS counts any status"),
    ("WD", "clean", "INC-CATEGORY-GAP", "its only items are wont_do, so it has no item the rule counts"),
    ("C5", "clean", "INC-CATEGORY-GAP", "no detection item, but as_of is before its limit "
     "(2026-07-15T19:00Z)"),
    ("G1", "clean", "PM-INSULAR", "platform-infra owns the affected `edge-lb` and took part as the team id "
     "`platform-infra`"),
    ("G2", "clean", "PM-INSULAR", "platform-infra owns the affected `internal-dns`; a platform-infra engineer "
     "took part"),
    ("O6", "clean", "PM-INSULAR", "a draft: platform-infra (`internal-dns`) is not among its participants yet"),
    ("RC1b", "clean", "INC-REPEAT", "same signature (`auth-service`, `config`) as RC1a 41 days earlier, but "
     "RC1a's only open item was created after RC1b started"),
    ("RC2b", "clean", "INC-REPEAT", "same service and category as RC2a, which has an open item, but the "
     "category is `unknown`"),
    ("RC3b", "clean", "INC-REPEAT", "same signature (`indexer`, `capacity`) as RC3a with an open item, but "
     "RC3a started 90 days and 2 hours earlier, outside the lookback"),
]


def repeats(w: World, service: str, cause: str, start: datetime) -> bool:
    """Would a new incident share its signature with one within 95 days? (INC-REPEAT stays planted only.)"""
    return any(i.service[0] == service and i.scenario.cause == cause and abs(i.started_at - start) <= days(95)
               for i in w.incidents)


def build_incidents(w: World) -> None:
    """The pinned incidents plus random clean ones: 60 valid incidents in total."""
    rng, titles = w.rng, set()
    for tag, team, sev, key, svc_id, started, resolved, status, *_ in PINNED:
        svc = next(s for s in SERVICES[team] if s[0] == svc_id)
        inc = make_incident(w, team, sev, SCENARIO_BY_KEY[key], svc, utc(started), utc(resolved) if resolved else None,
                            status, tag)
        extra = PIN.get(tag, {})
        inc.title = extra.get("title", inc.title)
        inc.affected = list(extra.get("affected", inc.affected))
        titles.add(inc.title)
        w.incidents.append(inc)
    sevs = ["SEV1"] * 1 + ["SEV2"] * 4 + ["SEV3"] * 13 + ["SEV4"] * 11
    teams = ["search", "checkout", "identity"] * 6 + ["payments", "platform-infra", "data-pipelines"] * 4
    rng.shuffle(sevs)
    rng.shuffle(teams)
    duration = {"SEV1": (45, 360), "SEV2": (25, 240), "SEV3": (15, 480), "SEV4": (10, 1800)}
    for sev, team in zip(sevs, teams, strict=False):  # 29 incidents over 30 team slots
        while True:
            day = FIRST_DAY + days(rng.randrange((LAST_DAY - FIRST_DAY).days + 1))
            hour = rng.randint(9, 18) if rng.random() < 0.7 else rng.randint(0, 23)
            local = datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=ZoneInfo(TEAM_TZ[team]))
            start = local.astimezone(UTC)
            end = start + minutes(rng, *duration[sev])
            fits = [s for s in SCENARIOS if not s.services or {x for x, _ in SERVICES[team]} & set(s.services)]
            uses = [sum(i.scenario is s for i in w.incidents) for s in fits]  # prefer rarely used patterns,
            weights = [(0.2 if s.cause == "security" else 1) / (1 + u) ** 2 for s, u in zip(fits, uses, strict=True)]
            sc = rng.choices(fits, weights)[0]  # and keep security incidents rare
            svc = rng.choice([x for x in SERVICES[team] if not sc.services or x[0] in sc.services])
            inc = make_incident(w, team, sev, sc, svc, start, end, "closed")
            if (FIRST_DAY <= start.date() <= LAST_DAY and end < AS_OF - timedelta(hours=2)
                    and inc.title not in titles and not repeats(w, svc[0], sc.cause, start)):
                break
        titles.add(inc.title)
        age = AS_OF - end
        inc.status = "closed" if age > days(30) and rng.random() < 0.75 else "resolved"
        if age < days(6) and sev in ("SEV3", "SEV4"):
            inc.status = "mitigated"
        w.incidents.append(inc)
    latest = max((i for i in w.incidents if i.severity == "SEV4"), key=lambda i: i.started_at)
    latest.status, latest.resolved_at = "open", None
    recent3 = max((i for i in w.incidents if i.severity == "SEV3" and not i.tag), key=lambda i: i.started_at)
    recent3.status = "mitigated"  # impact over (resolved_at set), permanent fix still pending
    w.incidents.sort(key=lambda i: i.started_at)


def build_postmortems(w: World) -> None:
    """A postmortem for every SEV1/SEV2 incident (but the pinned gaps), two random SEV3 ones and two pinned."""
    rng, pinned = w.rng, {p[0]: p for p in PINNED}
    sev3 = [i for i in w.incidents if i.severity == "SEV3" and not i.tag and i.resolved_at
            and i.resolved_at < AS_OF - days(20)]
    extra = rng.sample(sev3, 2)
    for inc in w.incidents:
        if inc.tag:
            if not pinned[inc.tag][8]:
                continue
        elif inc.severity not in MAJOR and inc not in extra:
            continue
        owner = rng.choice([h for h in w.active(inc.team) if h != MANAGERS[inc.team]])
        anchor = inc.resolved_at or inc.started_at + timedelta(hours=5)
        created = anchor + minutes(rng, 120, 1500)
        if created > AS_OF - timedelta(hours=1):
            created = (anchor + (AS_OF - anchor) / 2).replace(second=0, microsecond=0)
        if inc.tag:
            status, published = pinned[inc.tag][8:10]
            spec = PIN.get(inc.tag, {})
            created = utc(spec["pm_created"]) if "pm_created" in spec else created
            inc.pm = Postmortem(inc, owner, status, created, utc(published) if published else None,
                                variant=spec.get("variant", ""))
        elif inc.resolved_at is None:
            inc.pm = Postmortem(inc, owner, "draft", created, None)
        elif min(pm_target(inc), pm_limit(inc)) < AS_OF:  # due by now: published in time
            end = min(pm_limit(inc), AS_OF - timedelta(minutes=30))
            span = (end - created).total_seconds() * rng.uniform(0.35, 0.95)
            inc.pm = Postmortem(inc, owner, "published", created, created + timedelta(minutes=span // 60))
        else:  # not due yet
            inc.pm = Postmortem(inc, owner, rng.choice(["draft", "in_review"]), created, None)


def pick_priority(rng: random.Random, category: str, sev: str) -> str:
    base = {"root_cause": 1, "detection": 2, "mitigation": 2, "process": 3, "documentation": 3}[category]
    return f"P{min(base + rng.choice([0, 0, 1]) + (sev in ('SEV3', 'SEV4')), 4)}"


def updates_between(w: World, item: Item, author: str, first: datetime, last: datetime, count: int,
                    final: list[str], opening: list[str] = START) -> list[Update]:
    """`count` updates from `first` to exactly `last`; the last body is drawn from `final`."""
    rng = w.rng
    span = max((last - first).total_seconds(), 60.0)
    times = sorted(first + timedelta(seconds=rng.uniform(0, span)) for _ in range(count - 1)) + [last]
    peer = rng.choice([h for h in w.active(item.team) if h != author] or [author])
    bodies = ([rng.choice(opening)] if count > 1 else []) + rng.sample(PROGRESS, max(count - 2, 0))
    bodies.append(rng.choice(final))
    return [Update(author, t.replace(second=0, microsecond=0), fill(rng, b, item.incident, peer=peer))
            for t, b in zip(times, bodies, strict=True)]


def exact_updates(w: World, item: Item, author: str, stamps: list[str], final: list[str]) -> None:
    """Updates at exactly these instants (UTC unless an offset is given)."""
    times = [utc(s) for s in stamps]
    item.updates = updates_between(w, item, author, times[0], times[-1], len(times), final)
    for update, moment in zip(item.updates, times, strict=True):
        update.posted_at = moment


def build_items(w: World) -> None:
    """Clean action items: active owners; open ones are updated weekly and due in the future."""
    rng = w.rng
    counts = {"SEV1": [8], "SEV2": [7, 8, 8, 8], "SEV3": [2, 3, 3, 3, 3], "SEV4": [0, 2, 3, 3, 3]}
    for inc in w.incidents:
        spec = PIN.get(inc.tag, {})
        generic = [g for g in rng.sample(GENERIC_ITEMS, len(GENERIC_ITEMS)) if g not in inc.scenario.items]
        pool = [g for g in list(inc.scenario.items) + generic if g[0] not in spec.get("exclude", ())]
        chosen = pool[:spec.get("items", rng.choice(counts[inc.severity]))]
        if inc.severity in MAJOR and chosen and "exclude" not in spec:  # INC-CATEGORY-GAP stays planted only
            for need in ("root_cause", "detection"):
                if all(c != need for c, _ in chosen):
                    chosen[-1] = next(g for g in pool if g[0] == need)
        anchor = inc.resolved_at or inc.started_at + timedelta(hours=2)
        for category, template in chosen:
            team = inc.team
            if inc.scenario.key in ("dns", "az_partition", "cert_expiry") and rng.random() < 0.4:
                team = "platform-infra"
            created = anchor + minutes(rng, 60, 5760)
            if created > AS_OF - timedelta(minutes=30):
                created = anchor + (AS_OF - anchor) * rng.uniform(0.2, 0.8)
            created = created.replace(second=0, microsecond=0)
            owner = rng.choice(w.active(team, "engineer") * 4 + [LEADS[team]])
            priority = pick_priority(rng, category, inc.severity)
            item = Item(len(w.items), inc, fill(rng, template, inc), owner, team, priority, category, "",
                        created, None)
            item.due = natural_due(rng, item)
            set_clean_status(w, item)
            inc.items.append(item)
            w.items.append(item)


def wont_do_approver(rng: random.Random, item: Item) -> str:
    lead = LEADS[item.team]
    return lead if lead != item.owner and rng.random() < 0.3 else MANAGERS[item.team]


def close(w: World, item: Item, status: str, closed: datetime | None = None, note: str = "") -> None:
    """Close an item as done or wont_do (justified, approved), with the usual updates."""
    rng, age = w.rng, (AS_OF - item.created_at).days
    if closed is None:
        span = max(1, min(age, 45)) * 86400
        closed = min(item.created_at + timedelta(seconds=rng.randint(3600, span)), AS_OF - timedelta(hours=1))
        if closed <= item.created_at:
            closed = item.created_at + (AS_OF - item.created_at) / 2
    item.status, item.closed_at = status, closed.replace(second=0, microsecond=0)
    if status == "done":
        done = DONE.get(item.category, DONE["other"])
        item.note, item.approver = note or fill(rng, rng.choice(done), item.incident), ""
        item.updates = updates_between(w, item, item.owner, item.created_at, item.closed_at, rng.randint(1, 3), done)
    else:
        item.note = note or fill(rng, rng.choice(WONT_NOTES), item.incident)
        item.approver = wont_do_approver(rng, item)
        item.updates = [Update(LEADS[item.team], item.closed_at, "Closing as won't do: " + item.note)]
    limit = due_limit(item)
    if item.due is not None and limit is not None:
        item.due = min(item.due, item.created_at.astimezone(UTC).date() + days(limit))


def set_clean_status(w: World, item: Item) -> None:
    rng, age = w.rng, (AS_OF - item.created_at).days
    p_done, p_wont = (0.85, 0.05) if age > 100 else (0.65, 0.05) if age > 30 else (0.3, 0.02)
    roll = rng.random()
    protect = item.incident.severity in MAJOR and item.category in ("root_cause", "detection")
    if roll < p_done + p_wont or not window_ok(item):  # an old item that could not be clean if open is done
        close(w, item, "wont_do" if p_done <= roll < p_done + p_wont and not protect else "done")
        return
    item.status = rng.choices(["open", "in_progress", "blocked"], [3, 5, 2])[0]
    if not (age < 6 and rng.random() < 0.4):  # else a young item without updates: created_at is its activity
        low = max(item.created_at + timedelta(minutes=5), AS_OF - timedelta(days=6, hours=20))
        last = low + (AS_OF - timedelta(minutes=20) - low) * rng.random()
        author = item.owner if rng.random() < 0.8 else LEADS[item.team]
        item.updates = updates_between(w, item, author, item.created_at, last, rng.randint(1, 4),
                                       BLOCKED if item.status == "blocked" else PROGRESS)
    set_clean_due(w, item)


def take(w: World, team: str | None, before: datetime, status: str | None = None, created: datetime | None = None,
         pred: Callable[[Item], bool] | None = None, feasible: bool = True) -> Item:
    """Reserve an unused item of `team` (None: any team) created (and its incident resolved) before
    `before`, outside the pinned stories that need their items as they are; with `feasible`, one that
    can be clean when open (created at `created` if given)."""
    pool = [i for i in w.items if not i.used and i.incident.tag not in KEEP_ITEMS and team in (None, i.team)
            and (i.incident.resolved_at or i.incident.started_at) < before - timedelta(hours=6)
            and i.created_at < before and (status is None or i.status == status)
            and (pred is None or pred(i)) and (not feasible or window_ok(i, created))]
    item = w.rng.choice(pool)
    item.used = True
    return item


def recent(w: World, item: Item, max_days: int) -> datetime:
    """A minute-aligned instant after the item's creation and within the last `max_days` days."""
    low = max(item.created_at + timedelta(minutes=30), AS_OF - days(max_days))
    return (low + (AS_OF - timedelta(minutes=60) - low) * w.rng.random()).replace(second=0, microsecond=0)


def reopen(w: World, item: Item, status: str, created: datetime | None = None, owner: str | None = None) -> None:
    """Turn a plant target into an open item without updates; optionally re-date it and change its owner.
    Its due date is chosen clean at the end unless the plant sets one."""
    item.created_at = min(created or item.created_at, AS_OF - timedelta(hours=1)).astimezone(UTC)
    item.status, item.closed_at, item.note, item.approver, item.updates, item.history = status, None, "", "", [], []
    item.owner = item.owner if owner is None else owner
    item.due, item.due_fixed = None, False


def freshen(w: World, item: Item, author: str | None = None, final: list[str] | None = None) -> None:
    """Two updates, the last one within the last 5 days (the item is not stale)."""
    last = recent(w, item, 5)
    first = max(item.created_at + timedelta(minutes=10), last - days(12))
    final = final or (BLOCKED if item.status == "blocked" else PROGRESS)
    item.updates = updates_between(w, item, author or item.owner, first, last, 2, final)


# ----------------------------------------------------------------------------------------- plants


def plant_pinned(w: World) -> None:
    """The PIN_PLANTS findings and counterexamples, and the action items their stories need."""
    for tag, rule, level, note in PIN_PLANTS:
        inc = w.pinned(tag)
        topic = level if rule == "clean" else rule
        obj: Incident | Postmortem = inc if topic in INCIDENT_RULES or inc.pm is None else inc.pm
        if rule == "clean":
            w.clean(level, obj, note)
        else:
            w.plant(rule, obj, note, level)
    # M2: the only action item is created after as_of (PM-NO-ACTIONS).
    (item,) = w.pinned("M2").items
    reopen(w, item, "open")
    item.created_at = utc("2026-07-15T17:10")
    # WD: both items closed as wont_do, justified and approved.
    for item, note in zip(w.pinned("WD").items, ("The session-store cluster is replaced by the managed "
                                                  "service in RFC-3120; no work on the old client.",
                                                  "Alerting is part of the managed service rollout (RFC-3120)."),
                          strict=True):
        close(w, item, "wont_do", utc("2026-05-22T16:00"), note)
    # G1: every root_cause item closed as wont_do (no root cause found).
    for item in w.pinned("G1").items:
        if item.category == "root_cause":
            close(w, item, "wont_do", utc("2026-06-05T11:00"), "Tried in staging: it did not change the 502 "
                  "rate; without a reproduction there is nothing to fix yet.")
    o7 = w.pinned("O7").pm
    assert o7 is not None
    w.waivers.append(("PM-OVERDUE", o7, "Team on the Q2 payments-db migration; review scheduled after it.",
                      MANAGERS["payments"], date(2026, 7, 14)))
    # RA / RB (INC-REPEAT): RA's root-cause fix is still open (and overdue); its other items are done.
    ra, rb = w.pinned("RA"), w.pinned("RB")
    for item in ra.items:
        if item.category == "root_cause":
            reopen(w, item, "blocked", utc("2026-04-21T09:40"))
            item.priority = "P2"
            freshen(w, item, final=["Blocked: the DBA team has to approve the new proxy pool size first."])
            set_past_due(w, item, date(2026, 5, 19))
            w.plant("AI-OVERDUE", item, "RA's root-cause fix (P2, SEV3: limit 56 days), due 2026-05-19; still "
                                        "blocked when the same failure came back as RB")
        else:
            close(w, item, "done", utc("2026-05-06T15:00"))
    # RC1a: done items plus one open item created after RC1b started.
    rc1b = w.pinned("RC1b")
    first, *rest = w.pinned("RC1a").items
    reopen(w, first, "in_progress", rc1b.started_at + timedelta(days=2, hours=20, minutes=30))
    freshen(w, first)
    for item in rest:
        close(w, item, "done", utc("2026-05-20T18:00"))
    # RC2a and RC3a: one open low-priority item each (SEV3 + P3: no due-date limit), the rest done.
    for tag, created in (("RC2a", "2026-05-19T14:00"), ("RC3a", "2026-03-11T10:30")):
        first, *rest = w.pinned(tag).items
        reopen(w, first, "in_progress", utc(created))
        first.priority = "P3"
        freshen(w, first)
        for item in rest:
            close(w, item, "done")
    assert rb.started_at - ra.started_at < days(90)
    for item in w.pinned("I1").items + w.pinned("RC1b").items + w.pinned("RC2b").items + w.pinned("RC3b").items:
        if item.status in ("open", "in_progress", "blocked"):
            close(w, item, "done")


NO_OWNER_PLANTS = [  # team, owner exactly as written, status, why it fires
    ("checkout", "", "open", "empty owner"),
    ("payments", "TBD", "open", "placeholder `tbd` (case-insensitive)"),
    ("identity", "unassigned", "in_progress", "placeholder `unassigned`"),
    ("payments", "payments", "open", "equals a team_id"),
    ("data-pipelines", "Data Pipelines", "blocked", "equals a team name (case-insensitive)"),
    ("payments", "payments-oncall", "open", "group alias, regex `on-?call`"),
    ("platform-infra", "sre", "in_progress", "group alias, regex `^sre$`"),
    ("platform-infra", "platform team", "open", "group alias, regex `team$`"),
    ("search", "?", "open", "placeholder `?`"),
    ("search", " N/A ", "open", "placeholder `n/a` after trim and lower-case"),
    ("identity", "team-identity", "open", "group alias, regex `^team[-_ ]`"),
    ("checkout", "Checkout On-Call", "in_progress", "group alias, regex `on-?call` after lower-case"),
    ("data-pipelines", "data-eng group", "open", "group alias, regex `[-_ ]group$`"),
    ("platform-infra", "everyone", "open", "group alias, regex `everyone`"),
    ("identity", "all-engineering", "blocked", "group alias, regex `^all[-_ ]`"),
]
STALE_PLANTS = [  # team, status, days since last activity, number of updates (0 = relies on created_at), overdue
    ("payments", "in_progress", 9.5, 2, False), ("payments", "blocked", 34.2, 1, True),
    ("checkout", "open", 12.1, 0, False), ("checkout", "in_progress", 21.4, 3, True),
    ("identity", "open", 8.3, 0, False), ("identity", "blocked", 45.6, 2, True),
    ("search", "in_progress", 15.2, 1, False), ("search", "open", 58.7, 0, True),
    ("platform-infra", "in_progress", 26.9, 2, True), ("platform-infra", "open", 10.4, 0, False),
    ("data-pipelines", "blocked", 19.3, 1, False), ("data-pipelines", "in_progress", 40.8, 3, True),
]
STALE_EDGES = [  # team, status, update instants (UTC unless an offset is given), fires?, note
    ("checkout", "in_progress", ["2026-06-29T14:00", "2026-07-08T09:59"], True,
     "last update 2026-07-08T09:59Z, 7 days + 1 minute before as_of (written with -04:00)"),
    ("identity", "in_progress", ["2026-05-20T16:00", "2026-06-12T16:00", "2026-07-16T17:00"], True,
     "its only recent update is posted 2026-07-16, after as_of, and is ignored: last activity is "
     "2026-06-12T16:00Z, 32.75 days before as_of"),
    ("platform-infra", "in_progress", ["2026-06-30T11:00", "2026-07-08T10:00"], False,
     "last update exactly 7 days before as_of (2026-07-08T10:00:00+00:00)"),
    ("payments", "blocked", ["2026-06-25T08:00", "2026-07-08T12:00+02:00"], False,
     "last update 2026-07-08T12:00:00+02:00 = 10:00Z, exactly 7 days (offset handling)"),
    ("checkout", "open", ["2026-06-26T15:00", "2026-07-08T10:01"], False,
     "last update 2026-07-08T10:01Z, 7 days minus 1 minute before as_of"),
]


def plant_no_owner(w: World) -> None:
    for team, owner, status, why in NO_OWNER_PLANTS:
        item = take(w, team, AS_OF - days(6))
        reopen(w, item, status, owner=owner)
        last = recent(w, item, 5)
        first = max(item.created_at + timedelta(minutes=10), last - days(12))
        item.updates = updates_between(w, item, LEADS[team], first, last, 2, NEEDS_OWNER, NEEDS_OWNER)
        w.plant("AI-NO-OWNER", item, f"owner `{owner}`: {why}; updated recently, not stale")
    created = AS_OF - timedelta(days=31, hours=3)
    item = take(w, "search", AS_OF - days(40), created=created)  # unowned AND stale: fires both rules
    reopen(w, item, "open", created, owner="search-squad")
    item.updates = [Update(LEADS["search"], AS_OF - timedelta(days=20, hours=4), NEEDS_OWNER[1])]
    w.plant("AI-NO-OWNER", item, "owner `search-squad`: group alias, regex `squad$`")
    w.plant("AI-STALE", item, "the `search-squad` item: only update 20 days 4 hours before as_of")
    item = take(w, "checkout", AS_OF - days(30), status="done", feasible=False)
    item.owner = ""
    w.clean("AI-NO-OWNER", item, "empty owner, but status done")
    item = take(w, "identity", AS_OF - days(30), status="done", feasible=False)
    item.owner = "TBD"
    close(w, item, "wont_do", item.closed_at, WONT_NOTES[1])
    w.clean("AI-NO-OWNER", item, "owner `TBD`, but status wont_do (justified, approved)")
    for team, owner, why in (("payments", "alla.petrova", "starts with `all` but has no `-`/`_`/space after it"),
                             ("search", "sreeja.nair", "starts with `sre` but is not exactly `sre`")):
        item = take(w, team, AS_OF - days(10))
        reopen(w, item, "in_progress", owner=owner)
        item.updates = updates_between(w, item, owner, item.created_at, recent(w, item, 4), 2, PROGRESS)
        w.clean("AI-NO-OWNER", item, f"real, active person `{owner}` {why}")
    for tag, owner, later in (("C2", "TBD", "2026-07-16T08:30"), ("C5", "", "2026-07-17T05:00")):
        item = next(i for i in w.pinned(tag).items if i.category != "root_cause" and not i.used)
        item.used = True
        reopen(w, item, "open", owner=owner)
        item.created_at = utc(later)
        w.clean("AI-NO-OWNER", item, f"created_at {later}Z is after as_of (owner `{owner}`, no updates): "
                                     "does not exist yet, fires nothing")


def plant_owner_gone(w: World) -> None:
    for team, owner, why in (("checkout", "li.wei", "a contractor whose account was never added to people.csv"),
                             ("data-pipelines", "tom.becker", "a handle missing from people.csv")):
        item = take(w, team, AS_OF - days(10))
        reopen(w, item, "in_progress", owner=owner)
        item.updates = updates_between(w, item, LEADS[team], item.created_at, recent(w, item, 4), 2, PROGRESS)
        w.plant("AI-OWNER-GONE", item, f"owner `{owner}`: {why} (not AI-NO-OWNER: it is a named owner)")
    item = take(w, "search", utc("2026-05-20T00:00"))
    reopen(w, item, "in_progress", owner="vikram.singh")
    freshen(w, item, LEADS["search"], ["Vikram has left the company; Deepa to reassign this in sprint planning."])
    w.plant("AI-OWNER-GONE", item, "owner `vikram.singh` is in people.csv with active = false (left 2026-05-29)")


def plant_stale(w: World) -> None:
    rng = w.rng
    for team, status, age, n, overdue in STALE_PLANTS:
        last = (AS_OF - timedelta(days=age)).replace(second=0)
        created = last - timedelta(days=rng.randint(3, 20), minutes=rng.randint(0, 600)) if n else last
        item = take(w, team, created, created=created, feasible=not overdue)
        reopen(w, item, status, created)
        if n:
            item.updates = updates_between(w, item, item.owner, created + timedelta(hours=2), last, n,
                                           BLOCKED if status == "blocked" else PROGRESS)
        how = f"{n} update(s), the last" if n else "no updates; created_at"
        w.plant("AI-STALE", item, f"{status}, {how} {age:g} days before as_of")
        if overdue:
            set_past_due(w, item)
            w.plant("AI-OVERDUE", item, f"the {age:g}-day stale item is also past its due date")
        if team == "payments" and status == "blocked":
            w.waivers.append(("AI-STALE", item, "Blocked on the card network's vendor case; no progress to report "
                              "until their fix ships.", MANAGERS[team], date(2026, 8, 31)))
    for team, status, stamps, fires, note in STALE_EDGES:
        first = utc(stamps[0])
        created = first - days(rng.randint(1, 4))
        item = take(w, team, first - days(5), created=created)
        reopen(w, item, status, created)
        exact_updates(w, item, item.owner, stamps, BLOCKED if status == "blocked" else PROGRESS)
        if fires:
            w.plant("AI-STALE", item, note)
        else:
            w.clean("AI-STALE", item, note)
    created = utc("2026-07-08T10:00")
    item = take(w, "data-pipelines", created, created=created)
    reopen(w, item, "open", created)
    w.clean("AI-STALE", item, "no updates and created_at exactly 2026-07-08T10:00Z, 7 days before as_of")
    item = take(w, "payments", utc("2026-04-01T09:00"), feasible=False)
    reopen(w, item, "done", utc("2026-04-01T09:00"))
    close(w, item, "done", utc("2026-04-16T10:00"))
    item.updates = updates_between(w, item, item.owner, item.created_at, item.closed_at or AS_OF, 2, DONE["other"])
    w.clean("AI-STALE", item, "done item, last update 90 days before as_of")


VAGUE_PLANTS = [  # team, summary, status
    ("payments", "Look into the outage", "open"),
    ("checkout", "Improve monitoring", "in_progress"),
    ("identity", "TBD", "open"),
    ("search", "Make {svc} more resilient", "in_progress"),
    ("data-pipelines", "Follow up with the vendor", "blocked"),
]


def plant_vague(w: World) -> None:
    rng = w.rng
    for team, summary, status in VAGUE_PLANTS:
        item = take(w, team, AS_OF - days(8))
        reopen(w, item, status)
        item.summary = fill(rng, summary, item.incident)
        freshen(w, item)
        w.plant("AI-VAGUE", item, f"summary `{item.summary}`")
    item = take(w, "checkout", AS_OF - days(20), status="done", feasible=False)
    item.summary = "Improve monitoring"
    w.clean("AI-VAGUE", item, "summary `Improve monitoring`, but the item is done")
    item = take(w, "payments", AS_OF - days(8))
    reopen(w, item, "in_progress")
    item.summary = f"Improve {item.incident.service[0]} p99 latency to under 300ms"
    freshen(w, item)
    w.clean("AI-VAGUE", item, f"`{item.summary}`: an improvement verb bounded by a number is concrete")


def plant_no_due(w: World) -> None:
    for team, status in (("identity", "open"), ("platform-infra", "in_progress")):
        item = take(w, team, AS_OF - days(8), feasible=False)
        reopen(w, item, status)
        item.due, item.due_fixed = None, True
        freshen(w, item)
        w.plant("AI-NO-DUE", item, f"{status}, due_date empty")
    item = take(w, "search", AS_OF - days(20), status="done", feasible=False)
    item.due, item.due_fixed = None, True
    w.clean("AI-NO-DUE", item, "due_date empty, but the item is done")


def plant_due_sla(w: World) -> None:
    """AI-DUE-BEYOND-SLA: due_date > created_at's UTC date + min(priority limit, severity limit)."""
    cases = [  # team, tag, severities, priority, created (None = keep), days to due, fires, note
        (None, "", ("SEV3",), "P1", "2026-06-24T13:20", 29, True,
         "P1 on a SEV3 incident: limit 28 days (P1; SEV3 has none); due = created + 29 days"),
        (None, "W1", ("SEV1",), "P3", None, 16, True,
         "P3 on a SEV1 incident: limit 15 days (SEV1; P3 has none); due = created + 16 days"),
        (None, "", ("SEV2",), "P2", "2026-06-30T08:00", 31, True,
         "P2 on a SEV2 incident: limit min(56, 30) = 30 days; due = created + 31 days"),
        ("checkout", "", ("SEV2", "SEV3", "SEV4"), "P1", "2026-07-01T02:30", 28, False,
         "created 2026-07-01T02:30Z = Tue 06-30 22:30 New York; due 2026-07-29 = the UTC date + 28 days "
         "(the local date + 28 would be 07-28 and fire wrongly)"),
        (None, "", ("SEV3",), "P3", "2026-06-19T11:00", 120, False,
         "P3 on a SEV3 incident: no limit at all, due 120 days after creation"),
        (None, "W1", ("SEV1",), "P2", None, 15, False, "P2 on a SEV1 incident: due exactly created + 15 days"),
    ]
    for team, tag, sevs, priority, created, ahead, fires, note in cases:
        moment = utc(created) if created else None

        def fits(i: Item, sevs: tuple[str, ...] = sevs, team: str | None = team, tag: str = tag) -> bool:
            return (i.incident.severity in sevs and (team is None or i.team == i.incident.team)
                    and (not tag or i.incident.tag == tag))

        item = take(w, team, moment or AS_OF, pred=fits, feasible=False)
        reopen(w, item, "in_progress", moment)
        item.priority = priority
        freshen(w, item)
        item.due, item.due_fixed = item.created_at.date() + days(ahead), True
        if fires:
            w.plant("AI-DUE-BEYOND-SLA", item, note)
        else:
            w.clean("AI-DUE-BEYOND-SLA", item, note)


OVERDUE_PLANTS = [  # team, status, due (None = a random past date within the SLA), fires, note
    ("payments", "in_progress", None, True, ""), ("checkout", "blocked", None, True, ""),
    ("identity", "open", None, True, ""), ("search", "in_progress", None, True, ""),
    ("platform-infra", "open", None, True, ""), ("data-pipelines", "in_progress", None, True, ""),
    ("identity", "in_progress", "2026-07-14", True,
     "Los Angeles: the day after the due date starts 2026-07-15T00:00-07:00 = 07:00Z, 3 h before as_of"),
    ("payments", "open", "2026-07-14", True,
     "Berlin: the day after the due date starts 2026-07-15T00:00+02:00 = 2026-07-14T22:00Z"),
    ("search", "in_progress", "2026-07-15", False,
     "Kolkata, due today: it is 15:30 there at as_of, but the day after starts 2026-07-16T00:00+05:30 = "
     "2026-07-15T18:30Z, 8.5 h after as_of"),
    ("platform-infra", "in_progress", "2026-07-15", False,
     "UTC team, due today: overdue from 2026-07-16T00:00Z"),
]


def plant_overdue(w: World) -> None:
    for team, status, due_text, fires, note in OVERDUE_PLANTS:
        due = date.fromisoformat(due_text) if due_text else None

        def fits(i: Item, due: date | None = due) -> bool:
            limit = due_limit(i)
            return i.team == i.incident.team and (due is None or (
                i.created_at.date() >= due - days(45) and (limit is None or i.created_at.date() + days(limit) >= due)))

        item = take(w, team, AS_OF - days(12), pred=fits, feasible=False)
        reopen(w, item, status)
        freshen(w, item)
        set_past_due(w, item, due)
        if fires:
            w.plant("AI-OVERDUE", item, note or f"due {item.due}, updated recently")
        else:
            w.clean("AI-OVERDUE", item, note)
        if due_text == "2026-07-14" and team == "payments":
            w.waivers.append(("AI-OVERDUE", item, "Fix ships with the payments release train on 2026-07-15.",
                              LEADS[team], date(2026, 7, 15)))
    item = take(w, "checkout", AS_OF - days(30), status="done", feasible=False,
                pred=lambda i: i.due is not None and i.due < date(2026, 7, 1))
    w.clean("AI-OVERDUE", item, "due date long past, but the item is done")


DRIFT_CASES = [  # team, status, created, update instants, history (changed_at, field, old, new), fires, note
    ("identity", "in_progress", "2026-06-10T15:00", ["2026-06-12T16:00", "2026-06-23T17:30", "2026-07-07T18:00",
                                                     "2026-07-13T16:20"],
     [("2026-06-23T17:30", "due_date", "2026-06-24", "2026-07-08"),
      ("2026-07-07T18:00", "due_date", "2026-07-08", "2026-07-22")], True,
     "due date pushed twice (06-24 -> 07-08 -> 07-22): the threshold is `at least 2`"),
    ("checkout", "open", "2026-06-25T10:00", ["2026-07-02T14:00", "2026-07-10T15:00"],
     [("2026-07-02T14:00", "priority", "P1", "P2")], True, "priority lowered once, P1 -> P2"),
    ("payments", "in_progress", "2026-06-15T09:00", ["2026-06-17T08:00", "2026-06-30T12:00", "2026-07-13T09:10"],
     [("2026-06-30T12:00", "due_date", "2026-07-01", "2026-07-17"),
      ("2026-07-15T14:00", "due_date", "2026-07-17", "2026-07-31")], False,
     "one push before as_of; the second push is at 2026-07-15T14:00Z, after as_of, and does not count"),
    ("platform-infra", "open", "2026-06-20T11:00", ["2026-07-08T09:00", "2026-07-13T10:00"],
     [("2026-07-08T09:00", "due_date", "2026-07-10", "2026-07-24"),
      ("2026-07-13T10:00", "due_date", "2026-07-24", "2026-07-20")], False,
     "one push (07-10 -> 07-24) and one pull-in (07-24 -> 07-20): only pushes count"),
    ("data-pipelines", "in_progress", "2026-06-22T08:00", ["2026-06-24T09:00", "2026-07-09T10:30"],
     [("2026-06-24T09:00", "priority", "P3", "P2")], False, "priority raised P3 -> P2, not lowered"),
    ("search", "done", "2026-04-01T06:00", ["2026-04-14T07:00", "2026-04-28T07:00", "2026-05-12T07:00",
                                            "2026-05-26T07:00"],
     [("2026-04-14T07:00", "due_date", "2026-04-15", "2026-04-29"),
      ("2026-04-28T07:00", "due_date", "2026-04-29", "2026-05-13"),
      ("2026-05-12T07:00", "due_date", "2026-05-13", "2026-05-27")], False,
     "due date pushed three times, but the item is done"),
]


def plant_drift(w: World) -> None:
    for team, status, created, stamps, changes, fires, note in DRIFT_CASES:
        moment = utc(created)
        final_priority = changes[-1][3] if changes[-1][1] == "priority" else "P2"

        def fits(i: Item) -> bool:
            return i.incident.severity in ("SEV3", "SEV4")  # P2 limit 56 days, no severity limit

        item = take(w, team, moment, pred=fits, feasible=False)
        reopen(w, item, "in_progress" if status == "done" else status, moment)
        item.priority = final_priority
        exact_updates(w, item, item.owner, stamps, DONE["other"] if status == "done" else PROGRESS)
        item.history = [Change(utc(at), f, old, new) for at, f, old, new in changes]
        if status == "done":
            close(w, item, "done", utc(stamps[-1]), fill(w.rng, DONE["other"][0], item.incident))
            exact_updates(w, item, item.owner, stamps, DONE["other"])
        dues = [c for c in changes if c[1] == "due_date"]
        item.due, item.due_fixed = date.fromisoformat(dues[-1][3]) if dues else date(2026, 7, 24), True
        if fires:
            w.plant("AI-DRIFT", item, note)
        else:
            w.clean("AI-DRIFT", item, note)


WONTDO_PLANTS = [  # team, note, approver (manager | lead | owner | ""), closed_at (None = keep), fires, why
    ("payments", "n/a", "manager", None, True, "resolution note `n/a` is a placeholder"),
    ("search", "Superseded by the indexer redesign (RFC-2291).", "", None, True, "no approver"),
    ("checkout", "Not worth it given the Q3 roadmap.", "owner", None, True, "the approver is the owner"),
    ("data-pipelines", "TBD", "lead", "2026-07-15T10:00", True,
     "note `TBD`; closed_at is exactly as_of, and `closed_at <= as_of` includes it"),
    ("identity", "Covered by the session-store replacement (RFC-3120); risk accepted.", "lead", None, False,
     "justified note, approved by the team lead, who is not the owner"),
]


def plant_wontdo(w: World) -> None:
    for team, note, approver, closed, fires, why in WONTDO_PLANTS:
        item = take(w, team, AS_OF - days(15), status="done", feasible=False,  # and no INC-CATEGORY-GAP:
                    pred=lambda i: i.owner in (p.handle for p in w.people if p.role == "engineer")
                    and (i.incident.severity not in MAJOR or i.category not in ("root_cause", "detection")))
        close(w, item, "wont_do", utc(closed) if closed else item.closed_at, note)
        item.approver = {"manager": MANAGERS[team], "lead": LEADS[team], "owner": item.owner, "": ""}[approver]
        if fires:
            w.plant("AI-WONTDO-UNJUSTIFIED", item, why)
        else:
            w.clean("AI-WONTDO-UNJUSTIFIED", item, why)


def plant_malformed_items(w: World) -> None:
    """Three action-item rows the source contract must quarantine; no status update refers to them."""
    cases = [("missing_id", "identity", {"action_item_id": ""}, "empty action_item_id"),
             ("unparseable_timestamp", "search", {"created_at": "2026-06-31T09:00:00+00:00"},
              "created_at `2026-06-31T09:00:00+00:00` is not a calendar date (June has 30 days)"),
             ("unknown_value", "checkout", {"priority": "P7"}, "priority `P7` is not one of P1..P4")]
    for i, (code, team, raw, why) in enumerate(cases):
        created = AS_OF - timedelta(days=2 + i, hours=5)
        item = take(w, team, AS_OF - days(8), created=created)
        reopen(w, item, "open", created)
        if code == "unparseable_timestamp":
            item.created_at = utc("2026-07-01T09:00")  # nominal, only for the row order
        item.raw = raw
        w.plants.append(Plant("quarantine", item, f"{code}: {why}"))


def plant_departed_owners(w: World) -> None:
    """The two people who left own (besides one planted open item) only items done before they left."""
    for handle, left in LEFT_COMPANY.items():
        team = next(p.team for p in w.people if p.handle == handle)
        pool = [i for i in w.items if i.team == team and not i.used and i.status == "done"
                and i.closed_at and i.closed_at < left - days(3)]
        for item in w.rng.sample(pool, 3):
            item.used, item.owner = True, handle
            for update in item.updates:
                update.author = handle


def finish_items(w: World) -> None:
    """Clean due dates for reopened plants, and a few clean reassignments and priority raises."""
    rng = w.rng
    for item in w.items:
        if item.due is None and not item.due_fixed and item.status in ("done", "wont_do"):
            item.due = natural_due(rng, item)
        elif item.due is None and not item.due_fixed:
            set_clean_due(w, item)
    spare = [i for i in w.items if not i.used and not i.raw and i.incident.tag not in KEEP_ITEMS and len([u for u in i.updates if u.posted_at <= AS_OF]) >= 2
             and i.owner != LEADS[i.team] and i.status != "wont_do"]
    for item in rng.sample(spare, 8):  # the lead created the item, the owner picked it up
        item.used = True
        item.history.append(Change(min(u.posted_at for u in item.updates), "owner", LEADS[item.team], item.owner))
    spare = [i for i in spare if not i.used and i.priority in ("P1", "P2") and i.status in ("open", "in_progress")]
    for item in rng.sample(spare, 4):  # raised after the review: clean for AI-DRIFT
        item.used = True
        item.history.append(Change(min(u.posted_at for u in item.updates), "priority",
                                   f"P{int(item.priority[1]) + 1}", item.priority))


MALFORMED_INCIDENTS = [  # reason, title, team, severity, started, resolved, overrides
    ("missing_id", "Search API timeouts during index rebuild", "search", "SEV3", "2026-03-03T06:20",
     "2026-03-03T07:05", {"incident_id": ""}),
    ("unparseable_timestamp", "Checkout web blank page on Safari 17", "checkout", "SEV3", "2026-04-22T13:40",
     "2026-04-22T15:10", {"started_at": "yesterday 14:00"}),
    ("unknown_value", "Ledger service reconciliation job delayed", "payments", "SEV9", "2026-05-06T07:15",
     "2026-05-06T09:00", {}),
    ("duplicate_id", "Warehouse loader nightly run failed", "data-pipelines", "SEV4", "2026-05-27T02:10",
     "2026-05-27T04:30", {}),
    ("duplicate_id", "Warehouse loader nightly run failed (re-import)", "data-pipelines", "SEV4",
     "2026-05-27T02:11", "2026-05-27T04:30", {}),
    ("time_order", "Token issuer elevated latency", "identity", "SEV3", "2026-06-02T16:00", "2026-06-01T16:45", {}),
]


def malformed_incidents(w: World) -> list[Incident]:
    out = []
    for code, title, team, sev, start, end, raw in MALFORMED_INCIDENTS:
        svc = next((s for s in SERVICES[team] if title.startswith(s[1])), SERVICES[team][0])
        inc = make_incident(w, team, sev, SCENARIO_BY_KEY["unknown_502"], svc, utc(start), utc(end), "closed", "bad")
        inc.title, inc.raw, inc.affected = title, dict(raw, _reason=code), [svc[0]]
        out.append(inc)
        w.plants.append(Plant("quarantine", inc, code))
    return out


def assign_ids(w: World, bad: list[Incident]) -> list[Incident]:
    """Number everything in time order; returns the incident rows in file order."""
    rows = sorted(w.incidents + bad, key=lambda i: i.started_at)
    number, previous = 1001, ""
    for inc in rows:
        reason = inc.raw.get("_reason")
        if reason == "missing_id":
            continue
        if reason == "duplicate_id" and previous:
            inc.id = previous
            continue
        inc.id, number = f"INC-{number}", number + 1
        previous = inc.id if reason == "duplicate_id" else ""
    pms = sorted((i.pm for i in w.incidents if i.pm), key=lambda p: p.created_at)
    for n, pm in enumerate(pms, start=1001):
        pm.id = f"PM-{n}"
    w.items.sort(key=lambda i: (i.created_at, i.idx))
    number = 10001
    for item in w.items:
        if item.raw.get("action_item_id") != "":
            item.id, number = f"AI-{number}", number + 1
    updates = sorted(((u, it.id) for it in w.items for u in it.updates), key=lambda p: (p[0].posted_at, p[1]))
    for n, (update, _) in enumerate(updates, start=100001):
        update.id = f"UPD-{n}"
    return rows


def set_participants(w: World) -> None:
    """Who took part in each review: drafts have the owner and the lead; reviewed postmortems also have
    engineers and someone from every other team owning an affected service (unless planted insular)."""
    rng = w.rng
    for inc in w.incidents:
        pm = inc.pm
        if pm is None:
            continue
        people = [pm.owner] + [LEADS[inc.team]] * (LEADS[inc.team] != pm.owner)
        if pm.status != "draft":
            pool = [h for h in w.active(inc.team, "engineer") if h not in people]
            people += sorted(rng.sample(pool, rng.randint(1, 2)))
            mode = PIN.get(inc.tag, {}).get("participants", "")
            for team in dict.fromkeys(SERVICE_TEAM[s] for s in inc.affected):
                if team == inc.team or mode == "insular":
                    continue
                if mode == "team_id" or rng.random() < 0.25:
                    people.append(team)
                else:
                    people.append(rng.choice(w.active(team, "engineer") + [LEADS[team]]))
        pm.participants = people


def status_changes(item: Item) -> list[Change]:
    """The status history implied by an item's status, updates and closed_at (all at or before as_of)."""
    seen = sorted(u.posted_at for u in item.updates if u.posted_at <= AS_OF)
    if item.status in ("done", "wont_do"):
        assert item.closed_at is not None
        before = [t for t in seen if t < item.closed_at]
        if item.status == "done" and before:
            return [Change(before[0], "status", "open", "in_progress"),
                    Change(item.closed_at, "status", "in_progress", "done")]
        return [Change(item.closed_at, "status", "open", item.status)]
    if not seen or item.status == "open":
        return []
    if item.status == "blocked" and len(seen) >= 2:
        return [Change(seen[0], "status", "open", "in_progress"), Change(seen[-1], "status", "in_progress", "blocked")]
    return [Change(seen[0], "status", "open", item.status)]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_tables(w: World, rows: list[Incident], out: Path) -> None:
    home = {p.handle: TEAM_TZ[p.team] for p in w.people}
    write_csv(out / "teams.csv", ["team_id", "name", "lead", "manager", "slack_channel", "timezone", "region"],
              [[t, n, lead, mgr, f"#{t}", tz, reg] for t, n, tz, reg, lead, mgr, _ in TEAMS])
    write_csv(out / "people.csv", ["person_id", "name", "email", "team_id", "role", "slack_id", "active"],
              [[p.handle, p.name, f"{p.handle}@{EMAIL_DOMAIN}", p.team, p.role, p.slack_id,
                str(p.active).lower()] for p in w.people])
    write_csv(out / "services.csv", ["service", "team_id"],
              [[svc, team] for team in TEAM_IDS for svc, _ in SERVICES[team]])
    inc_rows = []
    for i in rows:
        row = {"incident_id": i.id, "title": i.title, "severity": i.severity, "status": i.status,
               "team_id": i.team, "service": i.service[0], "started_at": iso(i.started_at),
               "resolved_at": iso(i.resolved_at) if i.resolved_at else "",
               "confidential": str(i.confidential).lower(), "root_cause_category": i.scenario.cause,
               "labels": i.labels, "affected_services": ";".join(i.affected)}
        row.update({k: v for k, v in i.raw.items() if not k.startswith("_")})
        inc_rows.append(list(row.values()))
    write_csv(out / "incidents.csv", list(row), inc_rows)
    pms = sorted((i.pm for i in w.incidents if i.pm), key=lambda p: p.id)
    write_csv(out / "postmortems.csv",
              ["postmortem_id", "incident_id", "owner", "status", "created_at", "published_at", "document",
               "participants"],
              [[p.id, p.incident.id, p.owner, p.status, iso(p.created_at, TEAM_TZ[p.incident.team]),
                iso(p.published_at, TEAM_TZ[p.incident.team]) if p.published_at else "",
                f"postmortems/{p.id}.md", ";".join(p.participants)] for p in pms])
    ai_rows = []
    for it in w.items:
        row = {"action_item_id": it.id, "incident_id": it.incident.id, "summary": it.summary, "owner": it.owner,
               "team_id": it.team, "priority": it.priority, "category": it.category, "status": it.status,
               "created_at": iso(it.created_at), "due_date": it.due.isoformat() if it.due else "",
               "closed_at": iso(it.closed_at) if it.closed_at else "", "resolution_note": it.note,
               "approver": it.approver}
        row.update(it.raw)
        ai_rows.append(list(row.values()))
    write_csv(out / "action_items.csv", list(row), ai_rows)
    ups = sorted(((u, it.id) for it in w.items for u in it.updates), key=lambda p: p[0].id)
    write_csv(out / "status_updates.csv", ["update_id", "action_item_id", "author", "posted_at", "body"],
              [[u.id, item_id, u.author, iso(u.posted_at, home[u.author]), u.body] for u, item_id in ups])
    order = {"status": 0, "owner": 1, "priority": 2, "due_date": 3}
    changes = sorted(((c, it.id) for it in w.items if not it.raw and it.created_at <= AS_OF
                      for c in it.history + status_changes(it)), key=lambda p: (p[0].at, p[1], order[p[0].field]))
    write_csv(out / "action_item_history.csv",
              ["change_id", "action_item_id", "changed_at", "field", "old_value", "new_value"],
              [[f"H-{n}", item_id, iso(c.at), c.field, c.old, c.new]
               for n, (c, item_id) in enumerate(changes, start=100001)])


def render_postmortem(w: World, pm: Postmortem, style: int) -> str:
    """A Markdown postmortem in one of three styles seen in public postmortems."""
    rng, inc = w.rng, pm.incident
    sc, start, end, svc = inc.scenario, inc.started_at, inc.resolved_at, inc.service[0]
    dur = (end - start) if end else timedelta(hours=3)
    chg = str(rng.randint(1200, 8999))
    trigger, fix = fill(rng, sc.trigger, inc, n=chg), fill(rng, sc.fix, inc, n=chg)
    root = fill(rng, sc.root, inc, n=str(rng.randint(400, 9000)))
    security, unknown = sc.cause == "security", sc.cause == "unknown"
    clue = ("Working theory: " + root.split(". ")[1] if unknown else "Root cause identified: " + root.split(". ")[0])
    events = [(start - minutes(rng, 2, 25), trigger),
              (start, "Exposure starts" if security else f"Impact starts: {IMPACT_NOUN[inc.team]} begin failing"),
              (start + dur * 0.08, "Secret scanning flags the exposure and pages the security on-call" if security
               else f"Alert `{svc}-slo-burn` fires and pages the primary on-call"),
              (start + dur * 0.12, f"On-call acknowledges and opens #{inc.id.lower()}"),
              (start + dur * 0.18, f"{inc.severity} declared; {LEADS[inc.team]} is incident commander"),
              (start + dur * 0.45, clue.rstrip(".")), (start + dur * 0.8, fix)]
    events.append((end, "Exposure closed; incident resolved" if security else
                   "Metrics back to baseline; incident resolved") if end else
                  (start + dur * 0.9, "Impact reduced; incident still open while the fix is rolled out"))
    timeline = [(t.strftime("%Y-%m-%d %H:%M"), e) for t, e in events]
    mins = int(dur.total_seconds() // 60)
    impact = (f"For {mins // 60} h {mins % 60:02d} min about {rng.randint(3, 60)}% of {IMPACT_NOUN[inc.team]} "
              f"handled by `{svc}` failed or were delayed; we estimate {rng.randint(2, 90) * 100:,} customers "
              "were affected. No data was lost.")
    summary = (f"On {start:%A %d %B %Y}, {inc.service[1]} was degraded for {mins} minutes. Trigger: {trigger}. "
               f"Resolution: {fix}.")
    if security:
        impact = (f"No customer-facing impact. The credential was readable by about {rng.randint(40, 300)} "
                  "engineers with build-log access until it was rotated; audit logs show no use from unknown hosts.")
        summary = f"On {start:%A %d %B %Y} we found a credential exposure in `{svc}`. {trigger}. {fix}."
    engineer = next(p.name for p in w.people if p.team == inc.team and p.role == "engineer" and p.handle != pm.owner)
    root = {"blame": f"The outage was caused by human error: {engineer} forgot to check the new value against the "
                     f"container limits before pushing CHG-{chg}. {root}",
            "blame_draft": f"{root} The on-call engineer should have raised the proxy pool limit as soon as the "
                           "saturation panel turned red.",
            "blameless": f"{root} This was not human error: the pipeline let an incompatible release through, and "
                         "we should have had a mixed-version test stage long ago.",
            }.get(pm.variant, root)
    impact = "TBD" if pm.variant == "tbd_impact" else impact
    items = sorted((i for i in inc.items if i.id and not i.raw and i.created_at <= AS_OF), key=lambda i: i.id)
    draft = pm.status != "published"
    lessons = rng.sample(["Rollback tooling worked as designed and took under five minutes.",
                          "On-call acknowledged the page within two minutes.",
                          "Support posted a status page update within 15 minutes."], 2)
    lessons += rng.sample(["The first alert was a symptom alert; no cause-level alert existed.",
                           f"It took {rng.randint(10, 40)} minutes to find the right runbook.",
                           "The service catalog entry was outdated, which delayed escalation.",
                           "Only two people had the production access the mitigation needed."], 2)
    bullets = ["- TODO"] if pm.status == "draft" else ["- TODO: fill in after the review meeting."] if draft else [
        f"- {x}" for x in lessons]
    none_agreed = ["No follow-up actions were agreed. The provider fixed the fault on their side, and the review "
                   "found that our fallback and alerting behaved as designed."] if pm.variant == "no_actions" else [
        "TODO"]
    table = ["| Time (UTC) | Event |", "| --- | --- |"] + [f"| {t} | {e} |" for t, e in timeline]
    title = [f"# Postmortem: {inc.title}", f"# {inc.id}: {inc.title}",
             f"# Incident report: {inc.title} ({start:%d %b %Y})"][style]
    meta = f"**Incident:** {inc.id} · **Severity:** {inc.severity} · **Owner:** @{pm.owner} · " \
           f"**Status:** {pm.status.replace('_', ' ')} · **Service:** `{svc}`"
    if style == 0:
        sections = [("Summary", [summary]), ("Timeline (UTC)", [f"- **{t}**: {e}" for t, e in timeline]),
                    ("Root cause", [root]), ("Impact", [impact]),
                    ("Action items", ["| ID | Action | Owner | Priority | Status |", "| --- | --- | --- | --- | --- |"]
                     + [f"| {i.id} | {i.summary} | {i.owner or '(none)'} | {i.priority} | {i.status} |"
                        for i in items] if items else none_agreed), ("Lessons learned", bullets)]
    elif style == 1:
        sections = [("Summary", [summary]), ("Impact", [impact]), ("Root Causes", [root]),
                    ("Trigger", [trigger + "."]), ("Resolution", [fix + "."]),
                    ("Action Items", [f"- [{'x' if i.status == 'done' else ' '}] {i.id} ({i.category}, "
                                      f"{i.priority}, owner: {i.owner or 'unassigned'}): {i.summary}" for i in items]
                     or none_agreed), ("Lessons Learned", bullets), ("Timeline (UTC)", table)]
    else:
        sections = [("What happened", [summary]), ("Timeline (UTC)", table), ("Why it happened", [root]),
                    ("Who was affected", [impact]),
                    ("Follow-ups", [f"{n}. {i.summary} ({i.id}, {i.priority}, {i.owner or 'no owner'}, {i.status})"
                                    for n, i in enumerate(items, 1)] or none_agreed), ("What we learned", bullets)]
    if pm.variant == "no_timeline":
        sections = [s for s in sections if not s[0].startswith("Timeline")]
    lines = ["> **CONFIDENTIAL**: internal distribution only.", ""] if inc.confidential else []
    lines += [title, "", meta, ""]
    if pm.status != "published":
        lines += ["> **Draft**: sections marked TODO are still being written." if pm.status == "draft" else
                  "> **In review**: comments welcome until sign-off.", ""]
    for heading, body in sections:
        lines += [f"## {heading}", ""] + body + [""]
    return "\n".join(lines)


def write_documents(w: World, out: Path) -> None:
    folder = out / "postmortems"
    folder.mkdir(parents=True, exist_ok=True)
    for old in sorted(folder.glob("PM-*.md")):
        old.unlink()
    for n, pm in enumerate(sorted((i.pm for i in w.incidents if i.pm), key=lambda p: p.id)):
        (folder / f"{pm.id}.md").write_text(render_postmortem(w, pm, n % 3), encoding="utf-8")


def active_waiver(expires: date) -> bool:
    """A waiver holds until the end of its `expires` day (UTC)."""
    return datetime.combine(expires + days(1), time(0), tzinfo=UTC) > AS_OF


def subject(obj: Item | Postmortem | Incident) -> tuple[str, str]:
    kind = "incident" if isinstance(obj, Incident) else "postmortem" if isinstance(obj, Postmortem) else "action_item"
    return kind, obj.id


def quarantine_rows(w: World, rows: list[Incident]) -> list[list[str]]:
    quarantine = [["incidents", str(n), inc.id, inc.raw["_reason"]]
                  for n, inc in enumerate(rows, start=1) if "_reason" in inc.raw]
    reasons = {id(p.obj): p.note.split(":")[0] for p in w.plants if p.rule == "quarantine"}
    return quarantine + [["action_items", str(n), it.id, reasons[id(it)]]
                         for n, it in enumerate(w.items, start=1) if it.raw]


def write_expectations(w: World, rows: list[Incident], out: Path) -> None:
    """expected_findings.csv, quarantine_expected.csv and waivers.yaml, straight from the plant list."""
    waived = {(rule, obj.id) for rule, obj, _, _, expires in w.waivers if active_waiver(expires)}
    findings = [(p.rule, *subject(p.obj), "waived" if (p.rule, p.obj.id) in waived else p.level)
                for p in w.plants if p.rule in RULES]
    quarantine = quarantine_rows(w, rows)
    ids = [(entity, record) for entity, _, record, _ in quarantine]
    for entity, n, record, reason in quarantine:  # the row number names a row whose id does not
        name = record if record and ids.count((entity, record)) == 1 else f"row-{n}"
        findings.append(("SRC-INVALID", "source_row", f"{entity}/{name}/{reason}", "violation"))
    assert len(set(f[:3] for f in findings)) == len(findings), "a finding is planted twice"
    write_csv(out / "expected_findings.csv", ["rule", "subject_type", "subject_id", "level"],
              [list(f) for f in sorted(findings)])
    write_csv(out / "quarantine_expected.csv", ["entity", "row_number", "id", "reason_code"], quarantine)
    lines = ["# Waivers for the demo data set (docs/rules.md): a waived finding is recorded but not acted on",
             "# until the end of its `expires` day (UTC). Written by scripts/make_demo_data.py.", "waivers:"]
    for rule, obj, reason, approver, expires in w.waivers:
        lines += [f"  - rule: {rule}", f"    subject_id: {obj.id}", f'    reason: "{reason}"',
                  f"    approver: {approver}", f"    expires: {expires.isoformat()}"]
    (out / "waivers.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def print_plants(w: World, rows: list[Incident]) -> None:
    """The plant list, grouped by rule (the source of the README tables)."""
    def describe(o: Item | Postmortem | Incident) -> str:
        if isinstance(o, Incident):
            return f"{o.id} ({o.tag}) | {o.team}, {o.severity}, {o.status}"
        if isinstance(o, Postmortem):
            return f"{o.id} | {o.incident.id} ({o.incident.tag}) | {o.incident.team}, {o.incident.severity}, {o.status}"
        return (f"{o.id or '(empty)'} | row {w.items.index(o) + 1} | {o.team}, {o.status}, {o.priority}, "
                f"{o.incident.severity}, owner `{o.owner}`, due {o.due}")

    waived = {(rule, obj.id): expires for rule, obj, _, _, expires in w.waivers}
    for rule in RULES:
        print(f"\n## {rule}")
        for p in (p for p in w.plants if p.rule == rule):
            flag = f" [waiver until {waived[(rule, p.obj.id)]}]" if (rule, p.obj.id) in waived else ""
            print(f"| {describe(p.obj)} | {p.level}{flag} | {p.note} |")
        for p in (p for p in w.plants if p.rule == "clean" and p.about == rule):
            print(f"| clean | {describe(p.obj)} | {p.note} |")
    print("\n## quarantine")
    for entity, n, record, reason in quarantine_rows(w, rows):
        print(f"| {entity} | {n} | {record or '(empty)'} | {reason} |")


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate the Followthrough demo data set.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: data/demo)")
    parser.add_argument("--quiet", action="store_true", help="do not print the plant list")
    args = parser.parse_args()
    w = World(random.Random(SEED))
    w.people = build_people(w.rng)
    build_incidents(w)
    build_postmortems(w)
    build_items(w)
    plant_pinned(w)
    plant_no_owner(w)
    plant_owner_gone(w)
    plant_stale(w)
    plant_vague(w)
    plant_no_due(w)
    plant_due_sla(w)
    plant_overdue(w)
    plant_drift(w)
    plant_wontdo(w)
    plant_malformed_items(w)
    plant_departed_owners(w)
    finish_items(w)
    rows = assign_ids(w, malformed_incidents(w))
    set_participants(w)
    args.out.mkdir(parents=True, exist_ok=True)
    write_tables(w, rows, args.out)
    write_documents(w, args.out)
    write_expectations(w, rows, args.out)
    if not args.quiet:
        print_plants(w, rows)
    bad_items = sum(1 for i in w.items if i.raw)
    print(f"\nincidents={len(w.incidents)} (+{len(rows) - len(w.incidents)} malformed rows), "
          f"postmortems={sum(1 for i in w.incidents if i.pm)}, action_items={len(w.items) - bad_items} "
          f"(+{bad_items} malformed rows), updates={sum(len(i.updates) for i in w.items)}, "
          f"people={len(w.people)}, plants={len(w.plants)}")


if __name__ == "__main__":
    main()
