"""Deterministic generator for the Followthrough demo data set.

Writes a realistic, fully synthetic company (6 teams, their people, incidents,
postmortems with Markdown documents, action items and status updates) into
``data/demo/``.  The data is clean for the rules AI-NO-OWNER, AI-STALE and
PM-OVERDUE except for a list of planted problems, planted clean counterexamples
and malformed rows that the source contract must quarantine (documented in
``data/demo/README.md``).  ``expected_findings.csv`` and
``quarantine_expected.csv`` are derived from that plant list; the independent
checker ``scripts/check_demo_data.py`` re-derives both from the CSV files.

The run's "as of" instant is 2026-07-15T10:00:00Z.  Output is byte-for-byte
reproducible: a fixed seed, no wall-clock access and stable ordering.

Usage::

    .venv/bin/python scripts/make_demo_data.py [--out DIR] [--quiet]
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

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
IMPACT_NOUN = {"payments": "card payment attempts", "checkout": "checkout requests",
               "identity": "login attempts", "search": "search queries",
               "platform-infra": "requests from dependent services", "data-pipelines": "scheduled warehouse loads"}
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
      (("root_cause", "Check that chrony is enabled in the base image CI tests"),
       ("detection", "Alert on an NTP offset > 500ms on any {svc} host"),
       ("mitigation", "Raise token validation leeway in {svc} from 60s to 120s"),
       ("documentation", "Document time-sync requirements in the base image guide"))),
    S("unknown_502", "Intermittent 502s from {Svc} with unknown cause", "unknown", "5xx;investigation", HTTP,
      "Edge load balancer starts returning intermittent 502s for {svc}",
      "We have not found a root cause. The 502s correlate with connection reuse between the edge proxy and {svc} "
      "pods, but we could not reproduce them and they stopped after a routine deploy.",
      "Errors stopped after a routine deploy restarted all pods",
      (("root_cause", "Align idle timeouts between the edge proxy (60s) and {svc} keep-alive (75s)"),
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
    ("process", "Review the on-call escalation policy for {team}"),
    ("process", "Add {svc} to the quarterly game day rotation"),
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
    facts: dict[str, str] = field(default_factory=dict)
    tag: str = ""  # pinned-plant key, or "bad" for a malformed row
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
    due: date
    closed_at: datetime | None = None
    note: str = ""
    updates: list[Update] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)  # malformed-row overrides
    id: str = ""
    used: bool = False  # already taken by a plant


@dataclass(eq=False)
class Plant:
    rule: str  # AI-NO-OWNER | AI-STALE | PM-OVERDUE | clean | quarantine
    obj: Item | Postmortem | Incident
    note: str


@dataclass
class World:
    rng: random.Random
    people: list[Person] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    plants: list[Plant] = field(default_factory=list)

    def active(self, team: str, role: str | None = None) -> list[str]:
        return [p.handle for p in self.people
                if p.team == team and p.active and (role is None or p.role == role)]


def utc(text: str) -> datetime:
    """Parse 'YYYY-MM-DDTHH:MM' (no offset) as UTC, or an ISO timestamp with an offset."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime, tz: str = "UTC") -> str:
    return moment.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")


def minutes(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(minutes=rng.randint(low, high))


def fill(rng: random.Random, text: str, inc: Incident, **extra: str) -> str:
    """Fill an incident's placeholders ({svc}, {team}, {pr}, ...) into a template."""
    values = dict(inc.facts, pr=str(rng.randint(3100, 9899)), n=str(rng.randint(1200, 8999)),
                  ms=str(rng.choice([300, 500, 800, 1200])), a=str(rng.choice([8, 10, 12])),
                  b=str(rng.choice([24, 30, 40])), peer=LEADS[inc.team], manager=MANAGERS[inc.team],
                  other=rng.choice([t for t in TEAM_IDS if t != inc.team]))
    values.update(extra)
    return text.format(**values)


def pm_deadline(resolved_at: datetime, tz: str) -> datetime:
    """Resolution + 5 business days in the team's zone (weekend rolls to Monday, keep local time)."""
    local = resolved_at.astimezone(ZoneInfo(tz))
    day = local.date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    added = 0
    while added < 5:
        day += timedelta(days=1)
        added += day.weekday() < 5
    return datetime.combine(day, local.time(), tzinfo=ZoneInfo(tz))


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
    return inc


# Pinned incidents for the PM-OVERDUE plants and counterexamples. Columns: tag, team, severity, scenario,
# service, started (UTC), resolved (UTC, "" = still open), incident status, postmortem status,
# published_at (UTC or ""), rule, note.
PINNED = [
    ("O1", "payments", "SEV2", "pool_exhaustion", "payments-api", "2026-06-10T11:05", "2026-06-10T14:20",
     "closed", "draft", "", "PM-OVERDUE", "deadline Wed 2026-06-17 16:20+02:00; still draft"),
    ("O2", "checkout", "SEV1", "config_push", "checkout-api", "2026-06-23T22:40", "2026-06-24T02:15",
     "resolved", "in_review", "", "PM-OVERDUE",
     "resolved Tue 2026-06-23 22:15 New York (UTC date is 06-24); deadline Tue 2026-06-30 22:15-04:00"),
    ("O3", "identity", "SEV2", "redis_failover", "login-web", "2026-06-27T16:30", "2026-06-27T18:00",
     "resolved", "in_review", "", "PM-OVERDUE",
     "resolved Sat 2026-06-27 11:00 Los Angeles, rolls to Mon 06-29; deadline Mon 2026-07-06 11:00-07:00"),
    ("O4", "search", "SEV2", "bad_deploy", "search-api", "2026-07-07T19:40", "2026-07-07T21:15",
     "resolved", "draft", "", "PM-OVERDUE", "resolved Tue 21:15Z = Wed 2026-07-08 02:45 Kolkata; deadline "
     "Wed 2026-07-15 02:45+05:30 = 2026-07-14T21:15Z, on the same local day as as_of"),
    ("O5", "data-pipelines", "SEV2", "kafka_lag", "events-ingest", "2026-05-19T08:00", "2026-05-20T09:30",
     "closed", "published", "2026-07-16T09:00", "PM-OVERDUE",
     "published_at 2026-07-16 is after as_of, so unpublished as of as_of; deadline Wed 2026-05-27 10:30+01:00"),
    ("O6", "checkout", "SEV2", "dns", "checkout-web", "2026-07-08T07:45", "2026-07-08T09:59",
     "resolved", "draft", "", "PM-OVERDUE",
     "resolved Wed 2026-07-08 05:59 New York; deadline 2026-07-15T09:59Z, one minute before as_of"),
    ("O7", "payments", "SEV1", "disk_full", "payments-db", "2026-03-16T13:00", "2026-03-16T17:45",
     "closed", "in_review", "", "PM-OVERDUE", "SEV1 from March still in review; deadline Mon 2026-03-23 18:45+01:00"),
    ("C1", "platform-infra", "SEV2", "cert_expiry", "edge-lb", "2026-07-08T07:30", "2026-07-08T10:00",
     "resolved", "draft", "", "clean", "resolved Wed 2026-07-08T10:00Z, team in UTC: deadline is exactly "
     "as_of 2026-07-15T10:00Z; as_of > deadline is false, must NOT fire"),
    ("C2", "payments", "SEV2", "redis_failover", "payments-api", "2026-07-10T05:10", "2026-07-10T06:30",
     "resolved", "in_review", "", "clean", "resolved Fri 2026-07-10 08:30 Berlin; the 5 business days cross the "
     "weekend: deadline Fri 2026-07-17 08:30+02:00, not yet due (5 calendar days would give 07-15 06:30Z)"),
    ("C3", "checkout", "SEV1", "bad_deploy", "cart-service", "2026-05-04T13:20", "2026-05-04T15:05",
     "closed", "published", "2026-05-20T16:00", "clean",
     "published late (deadline Mon 2026-05-11 11:05-04:00, published 2026-05-20) but before as_of"),
    ("C4", "identity", "SEV3", "clock_skew", "token-issuer", "2026-02-11T17:10", "2026-02-11T19:40",
     "closed", "draft", "", "clean", "SEV3 postmortem in draft since February: SEV3 needs no postmortem"),
    ("C5", "search", "SEV2", "provider_outage", "autocomplete", "2026-07-08T17:00", "2026-07-08T19:00",
     "resolved", "in_review", "", "clean", "resolved Wed 19:00Z = Thu 2026-07-09 00:30 Kolkata; deadline Thu "
     "2026-07-16 00:30+05:30 = 2026-07-15T19:00Z, not yet due (UTC date + local clock gives 07-14T19:00Z)"),
    ("C6", "data-pipelines", "SEV2", "retry_storm", "cdc-connector", "2026-07-09T06:00", "",
     "open", "draft", "", "clean", "SEV2 incident still open (resolved_at empty): no deadline yet"),
]


def build_incidents(w: World) -> None:
    """The pinned plant incidents plus random clean ones: 60 valid incidents in total."""
    rng, titles = w.rng, set()
    for tag, team, sev, key, svc_id, started, resolved, status, *_ in PINNED:
        svc = next(s for s in SERVICES[team] if s[0] == svc_id)
        inc = make_incident(w, team, sev, SCENARIO_BY_KEY[key], svc, utc(started), utc(resolved) if resolved else None,
                            status, tag)
        titles.add(inc.title)
        w.incidents.append(inc)
    sevs = ["SEV1"] * 3 + ["SEV2"] * 11 + ["SEV3"] * 22 + ["SEV4"] * 11
    teams = TEAM_IDS * 8
    rng.shuffle(sevs)
    rng.shuffle(teams)
    duration = {"SEV1": (45, 360), "SEV2": (25, 240), "SEV3": (15, 480), "SEV4": (10, 1800)}
    for sev, team in zip(sevs, teams, strict=False):  # 47 incidents over 48 team slots
        while True:
            day = FIRST_DAY + timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))
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
            if FIRST_DAY <= start.date() <= LAST_DAY and end < AS_OF - timedelta(hours=2) and inc.title not in titles:
                break
        titles.add(inc.title)
        age = AS_OF - end
        inc.status = "closed" if age > timedelta(days=30) and rng.random() < 0.75 else "resolved"
        if age < timedelta(days=6) and sev in ("SEV3", "SEV4"):
            inc.status = "mitigated"
        w.incidents.append(inc)
    latest = max((i for i in w.incidents if i.severity == "SEV4"), key=lambda i: i.started_at)
    latest.status, latest.resolved_at = "open", None
    recent3 = max((i for i in w.incidents if i.severity == "SEV3" and not i.tag), key=lambda i: i.started_at)
    recent3.status = "mitigated"  # impact over (resolved_at set), permanent fix still pending
    w.incidents.sort(key=lambda i: i.started_at)


def build_postmortems(w: World) -> None:
    """A postmortem for every SEV1/SEV2 incident, two published SEV3 ones and the pinned SEV3 draft."""
    rng, pinned = w.rng, {p[0]: p for p in PINNED}
    sev3 = [i for i in w.incidents if i.severity == "SEV3" and not i.tag and i.resolved_at
            and i.resolved_at < AS_OF - timedelta(days=20)]
    extra = rng.sample(sev3, 2)
    for inc in w.incidents:
        if inc.severity not in ("SEV1", "SEV2") and inc not in extra and inc.tag != "C4":
            continue
        owner = rng.choice([h for h in w.active(inc.team) if h != MANAGERS[inc.team]])
        anchor = inc.resolved_at or inc.started_at + timedelta(hours=5)
        created = anchor + minutes(rng, 120, 1500)
        if inc.tag:
            status, published, rule, note = pinned[inc.tag][8:]
            inc.pm = Postmortem(inc, owner, status, created, utc(published) if published else None)
            w.plants.append(Plant(rule, inc.pm, note))
        elif inc.resolved_at is None:
            inc.pm = Postmortem(inc, owner, "draft", created, None)
        elif (deadline := pm_deadline(inc.resolved_at, TEAM_TZ[inc.team])) < AS_OF:
            span = (deadline - created).total_seconds() * rng.uniform(0.35, 0.95)
            inc.pm = Postmortem(inc, owner, "published", created, created + timedelta(minutes=span // 60))
        else:
            created = min(created, inc.resolved_at + (AS_OF - inc.resolved_at) / 2)
            inc.pm = Postmortem(inc, owner, rng.choice(["draft", "in_review"]), created, None)


def pick_priority(rng: random.Random, category: str, sev: str) -> str:
    base = {"root_cause": 1, "detection": 2, "mitigation": 2, "process": 3, "documentation": 3}[category]
    return f"P{min(base + rng.choice([0, 0, 1]) + (sev in ('SEV3', 'SEV4')), 4)}"


def due_for(rng: random.Random, created: datetime, priority: str) -> date:
    return created.date() + timedelta(days={"P1": 7, "P2": 14, "P3": 30, "P4": 60}[priority] + rng.randint(0, 7))


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


def build_items(w: World) -> None:
    """Clean action items: active owners; open ones have an update within the last 7 days."""
    rng = w.rng
    counts = {"SEV1": [8], "SEV2": [7, 8, 8, 8], "SEV3": [2, 3, 3, 3, 3], "SEV4": [0, 2, 3, 3, 3]}
    for inc in w.incidents:
        generic = [g for g in rng.sample(GENERIC_ITEMS, len(GENERIC_ITEMS)) if g not in inc.scenario.items]
        anchor = inc.resolved_at or inc.started_at + timedelta(hours=2)
        for category, template in (list(inc.scenario.items) + generic)[:rng.choice(counts[inc.severity])]:
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
                        created, due_for(rng, created, priority))
            set_clean_status(w, item)
            inc.items.append(item)
            w.items.append(item)


def set_clean_status(w: World, item: Item) -> None:
    rng, age = w.rng, (AS_OF - item.created_at).days
    p_done, p_wont = (0.85, 0.05) if age > 100 else (0.65, 0.05) if age > 30 else (0.3, 0.02)
    roll = rng.random()
    if roll < p_done + p_wont:
        item.status = "done" if roll < p_done else "wont_do"
        span = max(1, min(age, 45)) * 86400
        closed = min(item.created_at + timedelta(seconds=rng.randint(3600, span)), AS_OF - timedelta(hours=1))
        if closed <= item.created_at:
            closed = item.created_at + (AS_OF - item.created_at) / 2
        item.closed_at = closed.replace(second=0, microsecond=0)
        if item.status == "done":
            done = DONE.get(item.category, DONE["other"])
            item.note = fill(rng, rng.choice(done), item.incident)
            item.updates = updates_between(w, item, item.owner, item.created_at, item.closed_at,
                                           rng.randint(1, 3), done)
        else:
            item.note = fill(rng, rng.choice(WONT_NOTES), item.incident)
            item.updates = [Update(LEADS[item.team], item.closed_at, "Closing as won't do: " + item.note)]
        return
    item.status = rng.choices(["open", "in_progress", "blocked"], [3, 5, 2])[0]
    if age < 6 and rng.random() < 0.4:
        return  # a young item without updates: its created_at is its last activity
    low = max(item.created_at + timedelta(minutes=5), AS_OF - timedelta(days=6, hours=20))
    last = low + (AS_OF - timedelta(minutes=20) - low) * rng.random()
    author = item.owner if rng.random() < 0.8 else LEADS[item.team]
    item.updates = updates_between(w, item, author, item.created_at, last, rng.randint(1, 4),
                                   BLOCKED if item.status == "blocked" else PROGRESS)


def take(w: World, team: str, before: datetime, status: str | None = None, tag: str = "") -> Item:
    """Reserve an unused item of `team` created (and its incident resolved) before `before`."""
    pool = [i for i in w.items if not i.used and i.incident.tag == tag and (tag or i.team == team)
            and (i.incident.resolved_at or i.incident.started_at) < before - timedelta(hours=6)
            and i.created_at < before and (status is None or i.status == status)]
    item = w.rng.choice(pool)
    item.used = True
    return item


def recent(w: World, item: Item, max_days: int) -> datetime:
    """A minute-aligned instant after the item's creation and within the last `max_days` days."""
    low = max(item.created_at + timedelta(minutes=30), AS_OF - timedelta(days=max_days))
    return (low + (AS_OF - timedelta(minutes=60) - low) * w.rng.random()).replace(second=0, microsecond=0)


def reopen(w: World, item: Item, status: str, created: datetime | None = None, owner: str | None = None) -> None:
    """Turn a plant target into an open item without updates; optionally re-date it and change its owner."""
    item.created_at = min(created or item.created_at, AS_OF - timedelta(hours=1))
    item.status, item.closed_at, item.note, item.updates = status, None, "", []
    item.owner = item.owner if owner is None else owner
    item.due = due_for(w.rng, item.created_at, item.priority)


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
STALE_PLANTS = [  # team, status, days since last activity, number of updates (0 = relies on created_at)
    ("payments", "in_progress", 9.5, 2), ("payments", "blocked", 34.2, 1), ("checkout", "open", 12.1, 0),
    ("checkout", "in_progress", 21.4, 3), ("identity", "open", 8.3, 0), ("identity", "blocked", 45.6, 2),
    ("search", "in_progress", 15.2, 1), ("search", "open", 58.7, 0), ("platform-infra", "in_progress", 26.9, 2),
    ("platform-infra", "open", 10.4, 0), ("data-pipelines", "blocked", 19.3, 1),
    ("data-pipelines", "in_progress", 40.8, 3),
]
STALE_EDGES = [  # team, status, update instants (UTC unless an offset is given), fires?, note
    ("checkout", "in_progress", ["2026-06-29T14:00", "2026-07-08T09:59"], True,
     "last update 2026-07-08T09:59Z, 7 days + 1 minute before as_of (written with -04:00)"),
    ("identity", "in_progress", ["2026-05-20T16:00", "2026-06-12T16:00", "2026-07-16T17:00"], True,
     "its only recent update is posted 2026-07-16, after as_of, and is ignored: last activity is "
     "2026-06-12T16:00Z, 32.75 days before as_of"),
    ("platform-infra", "in_progress", ["2026-06-30T11:00", "2026-07-08T10:00"], False,
     "AI-STALE counterexample: last update exactly 7 days before as_of (2026-07-08T10:00:00+00:00)"),
    ("payments", "blocked", ["2026-06-25T08:00", "2026-07-08T12:00+02:00"], False,
     "AI-STALE counterexample: last update 2026-07-08T12:00:00+02:00 = 10:00Z, exactly 7 days (offset handling)"),
    ("checkout", "open", ["2026-06-26T15:00", "2026-07-08T10:01"], False,
     "AI-STALE counterexample: last update 2026-07-08T10:01Z, 7 days minus 1 minute before as_of"),
]


def plant_no_owner(w: World) -> None:
    rng = w.rng
    for team, owner, status, why in NO_OWNER_PLANTS:
        item = take(w, team, AS_OF - timedelta(days=6))
        reopen(w, item, status, owner=owner)
        last = recent(w, item, 5)
        first = max(item.created_at + timedelta(minutes=10), last - timedelta(days=12))
        item.updates = updates_between(w, item, LEADS[team], first, last, 2, NEEDS_OWNER, NEEDS_OWNER)
        w.plants.append(Plant("AI-NO-OWNER", item, f"owner `{owner}`: {why}; updated recently, not stale"))
    item = take(w, "search", AS_OF - timedelta(days=40))  # unowned AND stale: fires both rules
    reopen(w, item, "open", AS_OF - timedelta(days=31, hours=3), owner="search-squad")
    item.updates = [Update(LEADS["search"], AS_OF - timedelta(days=20, hours=4), NEEDS_OWNER[1])]
    w.plants.append(Plant("AI-NO-OWNER", item, "owner `search-squad`: group alias, regex `squad$`"))
    w.plants.append(Plant("AI-STALE", item, "the `search-squad` item: only update 20 days 4 hours before as_of"))
    item = take(w, "checkout", AS_OF - timedelta(days=30), status="done")
    item.owner = ""
    w.plants.append(Plant("clean", item, "AI-NO-OWNER counterexample: empty owner, but status done"))
    item = take(w, "identity", AS_OF - timedelta(days=30), status="done")
    item.owner, item.status, item.note = "TBD", "wont_do", WONT_NOTES[1]
    item.updates = [Update(LEADS["identity"], item.closed_at or AS_OF, "Closing as won't do: " + item.note)]
    w.plants.append(Plant("clean", item, "AI-NO-OWNER counterexample: owner `TBD`, but status wont_do"))
    for team, owner, why in (("checkout", "li.wei", ""), ("data-pipelines", "tom.becker", ""),
                             ("payments", "alla.petrova", "starts with `all` but has no `-`/`_`/space after it"),
                             ("search", "sreeja.nair", "starts with `sre` but is not exactly `sre`")):
        item = take(w, team, AS_OF - timedelta(days=10))
        reopen(w, item, "in_progress", owner=owner)
        author = LEADS[team] if not why else owner
        item.updates = updates_between(w, item, author, item.created_at, recent(w, item, 4), 2, PROGRESS)
        note = (f"AI-NO-OWNER counterexample: real person `{owner}` {why}" if why else
                f"owner `{owner}` is a person handle missing from people.csv (AI-OWNER-GONE, not in this "
                "data set's rules): NOT fired by AI-NO-OWNER")
        w.plants.append(Plant("clean", item, note))
    for tag, owner, created in (("C2", "TBD", "2026-07-16T08:30"), ("C5", "", "2026-07-17T05:00")):
        item = take(w, "", AS_OF, tag=tag)
        reopen(w, item, "open", owner=owner)
        item.created_at = utc(created)
        item.due = due_for(rng, item.created_at, item.priority)
        w.plants.append(Plant("clean", item, f"created_at {created}Z is after as_of (owner `{owner}`, no "
                                             "updates): does not exist yet, fires nothing"))


def plant_stale(w: World) -> None:
    rng = w.rng
    for team, status, days, n in STALE_PLANTS:
        last = (AS_OF - timedelta(days=days)).replace(second=0)
        created = last - timedelta(days=rng.randint(3, 20), minutes=rng.randint(0, 600)) if n else last
        item = take(w, team, created)
        reopen(w, item, status, created)
        if n:
            item.updates = updates_between(w, item, item.owner, created + timedelta(hours=2), last, n,
                                           BLOCKED if status == "blocked" else PROGRESS)
        how = f"{n} update(s), the last" if n else "no updates; created_at"
        w.plants.append(Plant("AI-STALE", item, f"{status}, {how} {days:g} days before as_of"))
    for team, status, stamps, fires, note in STALE_EDGES:
        times = [utc(s) for s in stamps]
        item = take(w, team, times[0] - timedelta(days=5))
        reopen(w, item, status, times[0] - timedelta(days=rng.randint(1, 4)))
        item.updates = updates_between(w, item, item.owner, times[0], times[-1], len(times),
                                       BLOCKED if status == "blocked" else PROGRESS)
        for update, moment in zip(item.updates, times, strict=True):
            update.posted_at = moment  # exact instants; the random spacing is not wanted here
        w.plants.append(Plant("AI-STALE" if fires else "clean", item, note))
    item = take(w, "data-pipelines", utc("2026-07-08T10:00"))
    reopen(w, item, "open", utc("2026-07-08T10:00"))
    w.plants.append(Plant("clean", item, "AI-STALE counterexample: no updates and created_at exactly "
                                         "2026-07-08T10:00Z, 7 days before as_of"))
    item = take(w, "payments", utc("2026-04-01T09:00"))
    reopen(w, item, "done", utc("2026-04-01T09:00"))
    item.closed_at, item.note = utc("2026-04-16T10:00"), fill(rng, DONE["other"][0], item.incident)
    item.updates = updates_between(w, item, item.owner, item.created_at, item.closed_at, 2, DONE["other"])
    w.plants.append(Plant("clean", item, "AI-STALE counterexample: done item, last update 90 days before as_of"))


def plant_malformed_items(w: World) -> None:
    """Three action-item rows the source contract must quarantine; no status update refers to them."""
    cases = [("missing_id", "identity", {"action_item_id": ""}, "empty action_item_id"),
             ("unparseable_timestamp", "search", {"created_at": "2026-06-31T09:00:00+00:00"},
              "created_at `2026-06-31T09:00:00+00:00` is not a calendar date (June has 30 days)"),
             ("unknown_value", "checkout", {"priority": "P7"}, "priority `P7` is not one of P1..P4")]
    for i, (code, team, raw, why) in enumerate(cases):
        item = take(w, team, AS_OF - timedelta(days=8))
        reopen(w, item, "open", AS_OF - timedelta(days=2 + i, hours=5))
        if code == "unparseable_timestamp":
            item.created_at = utc("2026-07-01T09:00")  # nominal, only for the row order
        item.raw = raw
        w.plants.append(Plant("quarantine", item, f"{code}: {why}"))


def plant_departed_owners(w: World) -> None:
    """The two people who left own only items that were done before they left (clean)."""
    for handle, left in LEFT_COMPANY.items():
        team = next(p.team for p in w.people if p.handle == handle)
        pool = [i for i in w.items if i.team == team and not i.used and i.status == "done"
                and i.closed_at and i.closed_at < left - timedelta(days=3)]
        for item in w.rng.sample(pool, 3):
            item.used, item.owner = True, handle
            for update in item.updates:
                update.author = handle


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
        inc.title, inc.raw = title, dict(raw, _reason=code)
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
    inc_rows = []
    for i in rows:
        row = {"incident_id": i.id, "title": i.title, "severity": i.severity, "status": i.status,
               "team_id": i.team, "service": i.service[0], "started_at": iso(i.started_at),
               "resolved_at": iso(i.resolved_at) if i.resolved_at else "",
               "confidential": str(i.confidential).lower(), "root_cause_category": i.scenario.cause,
               "labels": i.labels}
        row.update({k: v for k, v in i.raw.items() if not k.startswith("_")})
        inc_rows.append(list(row.values()))
    write_csv(out / "incidents.csv", list(row), inc_rows)
    pms = sorted((i.pm for i in w.incidents if i.pm), key=lambda p: p.id)
    write_csv(out / "postmortems.csv",
              ["postmortem_id", "incident_id", "owner", "status", "created_at", "published_at", "document"],
              [[p.id, p.incident.id, p.owner, p.status, iso(p.created_at, TEAM_TZ[p.incident.team]),
                iso(p.published_at, TEAM_TZ[p.incident.team]) if p.published_at else "",
                f"postmortems/{p.id}.md"] for p in pms])
    ai_rows = []
    for it in w.items:
        row = {"action_item_id": it.id, "incident_id": it.incident.id, "summary": it.summary, "owner": it.owner,
               "team_id": it.team, "priority": it.priority, "category": it.category, "status": it.status,
               "created_at": iso(it.created_at), "due_date": it.due.isoformat(),
               "closed_at": iso(it.closed_at) if it.closed_at else "", "resolution_note": it.note}
        row.update(it.raw)
        ai_rows.append(list(row.values()))
    write_csv(out / "action_items.csv", list(row), ai_rows)
    ups = sorted(((u, it.id) for it in w.items for u in it.updates), key=lambda p: p[0].id)
    write_csv(out / "status_updates.csv", ["update_id", "action_item_id", "author", "posted_at", "body"],
              [[u.id, item_id, u.author, iso(u.posted_at, home[u.author]), u.body] for u, item_id in ups])


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
    items = sorted((i for i in inc.items if i.id and not i.raw and i.created_at <= AS_OF), key=lambda i: i.id)
    draft = pm.status != "published"
    lessons = rng.sample(["Rollback tooling worked as designed and took under five minutes.",
                          "On-call acknowledged the page within two minutes.",
                          "Support posted a status page update within 15 minutes."], 2)
    lessons += rng.sample(["The first alert was a symptom alert; no cause-level alert existed.",
                           f"It took {rng.randint(10, 40)} minutes to find the right runbook.",
                           "The service catalog entry was outdated, which delayed escalation.",
                           "Only two people had the production access the mitigation needed."], 2)
    bullets = ["- TODO: fill in after the review meeting."] if draft else [f"- {x}" for x in lessons]
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
                        for i in items]), ("Lessons learned", bullets)]
    elif style == 1:
        sections = [("Summary", [summary]), ("Impact", [impact]), ("Root Causes", [root]),
                    ("Trigger", [trigger + "."]), ("Resolution", [fix + "."]),
                    ("Action Items", [f"- [{'x' if i.status == 'done' else ' '}] {i.id} ({i.category}, "
                                      f"{i.priority}, owner: {i.owner or 'unassigned'}): {i.summary}" for i in items]),
                    ("Lessons Learned", bullets), ("Timeline (UTC)", table)]
    else:
        sections = [("What happened", [summary]), ("Timeline (UTC)", table), ("Why it happened", [root]),
                    ("Who was affected", [impact]),
                    ("Follow-ups", [f"{n}. {i.summary} ({i.id}, {i.priority}, {i.owner or 'no owner'}, {i.status})"
                                    for n, i in enumerate(items, 1)]), ("What we learned", bullets)]
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


def write_expectations(w: World, rows: list[Incident], out: Path) -> None:
    """expected_findings.csv and quarantine_expected.csv, straight from the plant list."""
    rules = ("AI-NO-OWNER", "AI-STALE", "PM-OVERDUE")
    findings = sorted((p.rule, "postmortem" if isinstance(p.obj, Postmortem) else "action_item", p.obj.id)
                      for p in w.plants if p.rule in rules)
    write_csv(out / "expected_findings.csv", ["rule", "subject_type", "subject_id"], [list(f) for f in findings])
    quarantine = [["incidents", str(n), inc.id, inc.raw["_reason"]]
                  for n, inc in enumerate(rows, start=1) if "_reason" in inc.raw]
    reasons = {id(p.obj): p.note.split(":")[0] for p in w.plants if p.rule == "quarantine"}
    quarantine += [["action_items", str(n), it.id, reasons[id(it)]]
                   for n, it in enumerate(w.items, start=1) if it.raw]
    write_csv(out / "quarantine_expected.csv", ["entity", "row_number", "id", "reason_code"], quarantine)


def print_plants(w: World, rows: list[Incident]) -> None:
    """The plant list, grouped by rule (the source of the README tables)."""
    for rule in ("AI-NO-OWNER", "AI-STALE", "PM-OVERDUE", "clean", "quarantine"):
        print(f"\n## {rule}")
        for p in (p for p in w.plants if p.rule == rule):
            o = p.obj
            if isinstance(o, Incident):
                print(f"| incidents row {rows.index(o) + 1} | `{o.id}` | {o.title} | {p.note} |")
            elif isinstance(o, Postmortem):
                print(f"| {o.id} | {o.incident.id} | {o.incident.team}, {o.incident.severity}, "
                      f"{o.status} | {p.note} |")
            else:
                print(f"| {o.id or '(empty)'} | row {w.items.index(o) + 1} | {o.team}, {o.status}, "
                      f"owner `{o.owner}` | {p.note} |")


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
    plant_no_owner(w)
    plant_stale(w)
    plant_malformed_items(w)
    plant_departed_owners(w)
    rows = assign_ids(w, malformed_incidents(w))
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
