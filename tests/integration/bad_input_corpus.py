"""The bad-input corpus: every case, what is broken, how it is injected, and its expected outcome.

Written down before the runs (tests/integration/test_bad_input_corpus.py executes and asserts it).
Three kinds of expected outcome:

- ``Quarantined``: the named row(s) are quarantined with exactly these reason codes (and become
  SRC-INVALID findings); no other finding is about them.
- ``Accepted``: the row is read as-is; ``rules`` (when given) are exactly the rules that fire on
  it, and ``effect`` names what is special about it (checked by the test named in ``check``).
- ``PolicyRejected``: loading the policy fails in the first task, before any action, with a
  message naming ``key``.

For every file and Jira case, the findings about every row the corpus did not inject are the
same as in a run without the corpus (the test compares with a baseline run).
"""

from __future__ import annotations

import csv
import io
import zlib
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["files", "jira", "policy"]


@dataclass(frozen=True)
class Quarantined:
    entity: str
    record_id: str  # "" for a row without an id (then `row` names it)
    reasons: frozenset[str]
    row: int | None = None  # data-row number, when the id names no single row (missing or duplicated)


@dataclass(frozen=True)
class Accepted:
    entity: str
    record_id: str
    rules: frozenset[str] | None = None  # the rules that fire on the row (None: not about a subject)
    effect: str = ""
    check: str = ""  # a named extra assertion in the test module


@dataclass(frozen=True)
class PolicyRejected:
    key: str


Outcome = Quarantined | Accepted | PolicyRejected


@dataclass(frozen=True)
class Case:
    id: str
    kind: Kind
    broken: str  # what is wrong with the input
    outcomes: tuple[Outcome, ...]
    # files: (file name, raw text appended, ...) or a named whole-file transform; jira: a seeding
    # step named in the test module; policy: the YAML text (sources are filled in by the test)
    inject: tuple[tuple[str, str], ...] = field(default=())
    transform: str = ""


def q(entity: str, record_id: str, *reasons: str, row: int | None = None) -> Quarantined:
    return Quarantined(entity, record_id, frozenset(reasons), row)


def ok(entity: str, record_id: str, *rules: str, effect: str = "", check: str = "", subject: bool = True) -> Accepted:
    return Accepted(entity, record_id, frozenset(rules) if subject else None, effect, check)


# ---------------------------------------------------------------------------------- files

ITEM_COLUMNS = ["action_item_id", "incident_id", "summary", "owner", "team_id", "priority", "category", "status",
                "created_at", "due_date", "closed_at", "resolution_note", "approver"]
PLAIN = "Add a p99 latency alert on the ledger write path"
# an open P2 item created 2026-06-01, due 2026-06-30, no status update: overdue and stale at as_of
OVERDUE_STALE = ("AI-OVERDUE", "AI-STALE")


def item(item_id: str, summary: str = PLAIN, *, owner: str = "corpus.owner", team: str = "corpus",
         priority: str = "P2", status: str = "open", created: str = "2026-06-01T10:00:00+00:00",
         due: str = "2026-06-30", closed: str = "") -> str:
    """One action_items.csv line, quoted as the csv module does."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(
        [item_id, "", summary, owner, team, priority, "detection", status, created, due, closed, "", ""])
    return out.getvalue()


def line(*values: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


def team(team_id: str, tz: str, lead: str = "corpus.lead", region: str = "") -> str:
    return line(team_id, team_id.title(), lead, "corpus.manager", f"#{team_id}", tz, region)


def person(person_id: str, email: str | None = None, role: str = "engineer", active: str = "true",
           team_id: str = "corpus") -> str:
    address = f"{person_id}@corpus.example" if email is None else email
    return line(person_id, person_id.replace(".", " ").title(), address, team_id, role, f"U{zlib.crc32(person_id.encode()):09d}",
                active)


# Rows every files case may lean on: a team, its lead, manager and an owner, and one plain
# reference item (AI-99000) whose findings are what a plain item of the corpus gets.
FIXTURE: tuple[tuple[str, str], ...] = (
    ("teams.csv", team("corpus", "UTC")),
    ("people.csv", person("corpus.lead", role="lead") + person("corpus.manager", role="manager")
     + person("corpus.owner")),
    ("action_items.csv", item("AI-99000")),
)
FIXTURE_OUTCOMES = (ok("action_items", "AI-99000", *OVERDUE_STALE, effect="the plain reference item"),)

MEGABYTE = "Add a p99 latency alert on the ledger write path. " * 21000  # 1.05 MB

FILE_CASES: tuple[Case, ...] = (
    # --- malformed CSV
    Case("F01", "files", "a row with one field too many (a stray comma)",
         (q("action_items", "AI-99101", "malformed_row"),),
         (("action_items.csv", item("AI-99101").rstrip("\n") + ",surplus\n"),)),
    Case("F02", "files", "a row with fields missing (not the last line)",
         (q("action_items", "AI-99102", "malformed_row"),),
         (("action_items.csv", "AI-99102,,Add a latency alert,corpus.owner,corpus,P2\n"),)),
    Case("F03", "files", "a quote opened and never closed: must not swallow the rows after it",
         (q("action_items", "AI-99103", "malformed_row"), ok("action_items", "AI-99104", *OVERDUE_STALE,
                                                             effect="the row after the open quote is read")),
         (("action_items.csv", 'AI-99103,,"Add a latency alert,corpus.owner,corpus,P2,detection,open,'
                               '2026-06-01T10:00:00+00:00,2026-06-30,,,\n' + item("AI-99104")),)),
    Case("F04", "files", "a row in Latin-1, not UTF-8",
         (q("action_items", "AI-99105", "undecodable_row"),),
         (("action_items.csv", "latin-1:" + item("AI-99105", "Réparer l'alerte du grand livre")),)),
    Case("F05", "files", "a UTF-8 byte order mark before the header of teams.csv",
         (ok("teams", "payments", subject=False, effect="the first column is still team_id"),),
         transform="bom:teams.csv"),
    Case("F06", "files", "CRLF line ends in services.csv",
         (ok("services", "payments-api", subject=False, effect="values carry no \\r"),), transform="crlf:services.csv"),
    Case("F07", "files", "blank lines in the middle of status_updates.csv",
         (ok("status_updates", "UPD-100002", subject=False, effect="skipped, rows after them read"),),
         transform="blank:status_updates.csv"),
    Case("F08", "files", "a NUL byte inside a summary", (q("action_items", "AI-99144", "undecodable_row"),),
         (("action_items.csv", item("AI-99144", "Add a p99\x00 latency alert")),)),
    Case("F09", "files", "a summary with a line break inside its quotes",
         (ok("action_items", "AI-99150", *OVERDUE_STALE, effect="one row, the line break kept"),),
         (("action_items.csv", item("AI-99150", "Add a p99 latency alert\non the ledger write path")),)),
    # --- missing ids and wrong types
    Case("F10", "files", "an action item without an id", (q("action_items", "", "missing_id"),),
         (("action_items.csv", item("")),)),
    Case("F11", "files", "a boolean written as yes", (q("people", "corpus.typo", "unknown_value"),),
         (("people.csv", person("corpus.typo", active="yes")),)),
    Case("F12", "files", "a due date in words", (q("action_items", "AI-99110", "unparseable_date"),),
         (("action_items.csv", item("AI-99110", due="next week")),)),
    Case("F13", "files", "a priority given as a number (2)", (q("action_items", "AI-99111", "unknown_value"),),
         (("action_items.csv", item("AI-99111", priority="2")),)),
    # --- impossible or ambiguous dates and time zones
    Case("F14", "files", "an impossible date, 30 February", (q("action_items", "AI-99112", "unparseable_date"),),
         (("action_items.csv", item("AI-99112", due="2026-02-30")),)),
    Case("F15", "files", "an impossible timestamp, month 13",
         (q("action_items", "AI-99113", "unparseable_timestamp"),),
         (("action_items.csv", item("AI-99113", created="2026-13-01T10:00:00+00:00")),)),
    Case("F16", "files", "a timestamp without a UTC offset (whose 10:00?)",
         (q("action_items", "AI-99114", "unparseable_timestamp"),),
         (("action_items.csv", item("AI-99114", created="2026-06-01T10:00:00")),)),
    Case("F17", "files", "a UTC offset out of range (+25:00)",
         (q("action_items", "AI-99115", "unparseable_timestamp"),),
         (("action_items.csv", item("AI-99115", created="2026-06-01T10:00:00+25:00")),)),
    Case("F18", "files", "a bare date in a timestamp column",
         (q("action_items", "AI-99116", "unparseable_timestamp"),),
         (("action_items.csv", item("AI-99116", created="2026-06-01")),)),
    Case("F19", "files", "a date beyond what the pipeline can count in (9999-12-31)",
         (q("action_items", "AI-99142", "unparseable_date"),),
         (("action_items.csv", item("AI-99142", due="9999-12-31")),)),
    # (F20 expected "accepted" for 2262-04-11 before the first run; the run crashed on F19, and the
    # fix bounds dates to 1700..2260, so 2262-04-11 is now quarantined and F48 is the last countable day)
    Case("F20", "files", "a due date at the end of pandas' range (2262-04-11): the day after it overflows",
         (q("action_items", "AI-99141", "unparseable_date"),),
         (("action_items.csv", item("AI-99141", due="2262-04-11")),)),
    Case("F48", "files", "the last countable due date (2260-12-31)",
         (ok("action_items", "AI-99143", "AI-DUE-BEYOND-SLA", "AI-STALE", effect="far away, counted"),),
         (("action_items.csv", item("AI-99143", due="2260-12-31")),)),
    Case("F21", "files", "a status update at a local time inside the Berlin DST gap (02:30 on 2026-03-29), "
                         "with its offset", (ok("status_updates", "UPD-99117", subject=False,
                                                effect="read as the instant its offset names", check="dst_gap_update"),
                                             # first written as AI-OVERDUE alone; the run showed the rule is
                                             # right: due 102 days after creation is beyond P2's 56 days
                                             ok("action_items", "AI-99117", "AI-OVERDUE", "AI-DUE-BEYOND-SLA",
                                                effect="its update counts: not stale")),
         (("action_items.csv", item("AI-99117", created="2026-03-20T10:00:00+00:00")),
          ("status_updates.csv", line("UPD-99117", "AI-99117", "corpus.owner", "2026-03-29T02:30:00+01:00",
                                      "Started.")),
          ("status_updates.csv", line("UPD-99118", "AI-99117", "corpus.owner", "2026-07-14T09:00:00+00:00",
                                      "Still on it.")))),
    Case("F22", "files", "a due date whose next local midnight does not exist (Santiago, DST starts at 24:00 "
                         "on 2025-09-06)",
         (ok("action_items", "AI-99118", *OVERDUE_STALE, effect="late from 01:00 local", check="santiago_gap"),),
         (("teams.csv", team("corpus-santiago", "America/Santiago", region="CL")),
          ("action_items.csv", item("AI-99118", team="corpus-santiago", created="2025-08-01T10:00:00+00:00",
                                    due="2025-09-06")))),
    Case("F23", "files", "a due date whose next local midnight happens twice (Havana, DST ends at 01:00 on "
                         "2025-11-02)",
         (ok("action_items", "AI-99119", *OVERDUE_STALE, effect="late from the first midnight"),),
         (("teams.csv", team("corpus-havana", "America/Havana", region="CU")),
          ("action_items.csv", item("AI-99119", team="corpus-havana", created="2025-10-01T10:00:00+00:00",
                                    due="2025-11-01")))),
    # --- roster gaps
    Case("F24", "files", "a team time zone that does not exist",
         (q("teams", "corpus-mars", "unknown_timezone"),
          ok("action_items", "AI-99120", *OVERDUE_STALE, effect="its item is judged on the default calendar")),
         (("teams.csv", team("corpus-mars", "Mars/Olympus_Mons")),
          ("action_items.csv", item("AI-99120", team="corpus-mars")))),
    Case("F25", "files", "a team without a time zone", (q("teams", "corpus-notz", "missing_value"),),
         (("teams.csv", team("corpus-notz", "")),)),
    Case("F26", "files", "an owner with no e-mail",
         (ok("action_items", "AI-99137", *OVERDUE_STALE, effect="messages go by Slack id", check="no_email"),),
         (("people.csv", person("corpus.noemail", email="")),
          ("action_items.csv", item("AI-99137", owner="corpus.noemail")))),
    Case("F27", "files", "a team with no lead, and an unowned item in it",
         (ok("action_items", "AI-99138", "AI-NO-OWNER", *OVERDUE_STALE, effect="no responsible person",
             check="no_lead"),),
         (("teams.csv", team("corpus-nolead", "UTC", lead="")),
          ("action_items.csv", item("AI-99138", owner="TBD", team="corpus-nolead")))),
    Case("F28", "files", "a role that is not engineer, lead or manager", (q("people", "corpus.boss", "unknown_value"),),
         (("people.csv", person("corpus.boss", role="boss")),)),
    # --- duplicate ids
    Case("F29", "files", "one new action item id twice",
         (q("action_items", "AI-99121", "duplicate_id", row=-2), q("action_items", "AI-99121", "duplicate_id", row=-1)),
         (("action_items.csv", item("AI-99121") + item("AI-99121", "Add a p99 latency alert on the refund path")),)),
    Case("F30", "files", "one history change id twice",
         (q("action_item_history", "H-99122", "duplicate_id", row=-2),
          q("action_item_history", "H-99122", "duplicate_id", row=-1)),
         (("action_item_history.csv",
           line("H-99122", "AI-99000", "2026-06-02T10:00:00+00:00", "priority", "P3", "P2")
           + line("H-99122", "AI-99000", "2026-06-03T10:00:00+00:00", "priority", "P2", "P2")),)),
    # --- unknown enums
    Case("F31", "files", "an unknown severity SEV0", (q("incidents", "INC-99123", "unknown_value"),),
         (("incidents.csv", line("INC-99123", "Ledger latency", "SEV0", "resolved", "corpus", "corpus-svc",
                                 "2026-06-01T10:00:00+00:00", "2026-06-01T11:00:00+00:00", "false", "config", "",
                                 "")),)),
    Case("F32", "files", "a status in the wrong case (Open)", (q("action_items", "AI-99124", "unknown_value"),),
         (("action_items.csv", item("AI-99124", status="Open")),)),
    Case("F33", "files", "an unknown priority P0", (q("action_items", "AI-99125", "unknown_value"),),
         (("action_items.csv", item("AI-99125", priority="P0")),)),
    Case("F34", "files", "a history change of an unknown field (assignee)",
         (q("action_item_history", "H-99126", "unknown_value"),),
         (("action_item_history.csv", line("H-99126", "AI-99000", "2026-06-02T10:00:00+00:00", "assignee",
                                           "a", "b")),)),
    Case("F35", "files", "values padded with spaces ( open , P2 )",
         (ok("action_items", "AI-99146", *OVERDUE_STALE, effect="values are trimmed"),),
         (("action_items.csv", item("AI-99146", status=" open ", priority=" P2 ")),)),
    Case("F36", "files", "closed before it was created", (q("action_items", "AI-99147", "time_order"),),
         (("action_items.csv", item("AI-99147", status="done", closed="2026-05-01T10:00:00+00:00")),)),
    Case("F37", "files", "created after the as-of instant",
         (ok("action_items", "AI-99140", effect="not judged before it exists"),),
         (("action_items.csv", item("AI-99140", created="2026-08-01T10:00:00+00:00", due="2026-08-30")),)),
    Case("F38", "files", "a status update about an item no export has",
         (ok("status_updates", "UPD-99148", subject=False, effect="kept, about nothing"),),
         (("status_updates.csv", line("UPD-99148", "AI-00000", "corpus.owner", "2026-07-01T10:00:00+00:00",
                                      "orphan")),)),
    # --- size
    Case("F39", "files", "a 1 MB summary", (q("action_items", "AI-99128", "value_too_long"),),
         (("action_items.csv", item("AI-99128", MEGABYTE)),)),
    # --- Unicode
    Case("F40", "files", "RTL text and a right-to-left override in a summary",
         (ok("action_items", "AI-99129", *OVERDUE_STALE, effect="kept verbatim"),),
         (("action_items.csv", item("AI-99129", PLAIN + " \u202eתקן את ההתראה\u202c إصلاح التنبيه")),)),
    Case("F41", "files", "emoji (a ZWJ family, a flag, skin tones) in a summary",
         (ok("action_items", "AI-99130", *OVERDUE_STALE, effect="kept verbatim"),),
         (("action_items.csv", item("AI-99130", "\U0001f6a8 " + PLAIN
                                    + " \U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f1e9\U0001f1ea \U0001f44d\U0001f3fd")),)),
    Case("F42", "files", "combining marks stacked on letters (zalgo) in a summary",
         (ok("action_items", "AI-99131", *OVERDUE_STALE, effect="kept verbatim"),),
         (("action_items.csv", item("AI-99131", PLAIN.replace("latency", "l\u0336\u0301a\u0338t\u0335\u0308e\u0321ncy"))),)),
    Case("F43", "files", "zero-width characters inside a summary's words",
         (ok("action_items", "AI-99132", *OVERDUE_STALE, effect="kept verbatim"),),
         (("action_items.csv", item("AI-99132", PLAIN.replace("alert", "al\u200bert\u200d").replace("ledger",
                                                                                                  "led\u2060ger"))),)),
    Case("F44", "files", "a zero-width space in an id, so it looks like AI-99000",
         (q("action_items", "AI-99000\u200b", "invisible_character"),),
         (("action_items.csv", item("AI-99000\u200b")),)),
    # --- markup in titles
    Case("F45", "files", "HTML in a summary",
         (ok("action_items", "AI-99133", *OVERDUE_STALE, effect="escaped in the report", check="html"),),
         (("action_items.csv", item("AI-99133", "<script>alert('x')</script><img src=x onerror=alert(1)> " + PLAIN)),)),
    Case("F46", "files", "Slack markup (a channel mention, a user mention, a disguised link) in a summary",
         (ok("action_items", "AI-99134", *OVERDUE_STALE, effect="escaped in the Slack text", check="slack"),),
         (("action_items.csv", item("AI-99134", "<!channel> <@U0HQENMPXR> <https://evil.example|status page> @here "
                                    + PLAIN)),)),
    Case("F47", "files", "Jira wiki markup (a link, a mention, colour, a heading) in a summary",
         (ok("action_items", "AI-99135", *OVERDUE_STALE, effect="plain text in the ticket's ADF", check="jira"),),
         (("action_items.csv", item("AI-99135", "[status page|https://evil.example] [~accountid:557058:abc] "
                                    "{color:red}urgent{color} h1. " + PLAIN)),)),
)

# ---------------------------------------------------------------------------------- Jira
# (the issues are seeded by the test module's `seed_jira_case`, keyed by case id)

JIRA_CASES: tuple[Case, ...] = (
    Case("J01", "jira", "an incident without its mapped severity field",
         (q("incidents", "INC-101", "missing_value"),)),
    Case("J02", "jira", "an action item without its mapped team field", (q("action_items", "AI-102", "missing_value"),)),
    Case("J03", "jira", "a postmortem description with an ADF node type the converter does not know",
         (q("postmortems", "PM-103", "unknown_adf_node"),)),
    Case("J04", "jira", "a comment with an unknown ADF node type",
         (q("status_updates", "AI-104:comment:*", "unknown_adf_node"),
          ok("action_items", "AI-104", effect="the item itself is read", subject=False))),
    Case("J05", "jira", "an assignee Jira will not name (email hidden, not in the users map)",
         (q("action_items", "AI-105", "unknown_user"),)),
    Case("J06", "jira", "an owner change to a user Jira will not name",
         (q("action_item_history", "AI-106:*:owner", "unknown_user"),
          ok("action_items", "AI-106", effect="the item itself is read", subject=False))),
    # (J07 was first "linked to an incident that was deleted": Jira drops a deleted issue's links, so the
    # item simply has no incident; that is now J14, and J07 links to an incident outside the query)
    Case("J07", "jira", "an action item linked to an Incident issue the incidents query does not return",
         (q("action_items", "AI-107", "unresolved_link"),)),
    Case("J08", "jira", "a postmortem with no link to an incident", (q("postmortems", "PM-108", "missing_value"),)),
    # (J09 and J10 were a severity of the wrong type and one outside the value map: a Jira select field
    # cannot hold either, so the fake refuses to serve them; replaced before any assertion ran)
    Case("J09", "jira", "an action item without assignee, priority and due date (optional fields missing)",
         (ok("action_items", "AI-109", "AI-NO-OWNER", "AI-NO-DUE", effect="read with empty values"),)),
    Case("J10", "jira", "a priority outside the value map (Blocker)", (q("action_items", "AI-110", "unknown_value"),)),
    Case("J11", "jira", "an impossible due date (2026-02-30)", (q("action_items", "AI-111", "unparseable_date"),)),
    Case("J12", "jira", "HTML, Slack and Jira wiki markup and RTL text in a summary",
         (ok("incidents", "INC-112", effect="kept verbatim", subject=False),)),
    Case("J13", "jira", "team names with JQL-special characters (quote, AND, ~, backslash, apostrophe)",
         (ok("incidents", "INC-113", effect="exactly the named teams' issues are read", check="jql_teams",
             subject=False),)),
    Case("J14", "jira", "an action item whose linked incident was deleted (Jira drops the link)",
         (ok("action_items", "AI-114", effect="read without an incident", check="no_incident", subject=False),)),
)

# ---------------------------------------------------------------------------------- policy
# Each text follows a valid `sources:` list (the demo folder); the expected key must be named.

POLICY_CASES: tuple[Case, ...] = (
    Case("P01", "policy", "an unknown top-level key", (PolicyRejected("escalaton"),),
         (("policy", "escalaton: {critical_start_step: 2}\n"),)),
    Case("P02", "policy", "a misspelt nested key", (PolicyRejected("action_items.update_interval_dayz"),),
         (("policy", "action_items: {update_interval_dayz: 7}\n"),)),
    Case("P03", "policy", "a number written as a word", (PolicyRejected("action_items.update_interval_days"),),
         (("policy", "action_items: {update_interval_days: weekly}\n"),)),
    Case("P04", "policy", "a limit out of range", (PolicyRejected("dispatch.max_dms_per_person_per_day"),),
         (("policy", "dispatch: {max_dms_per_person_per_day: 0}\n"),)),
    Case("P05", "policy", "a default time zone that does not exist", (PolicyRejected("calendar.default_timezone"),),
         (("policy", "calendar: {default_timezone: Europe/Atlantis}\n"),)),
    Case("P06", "policy", "a team override with a time zone that does not exist",
         (PolicyRejected("teams.payments.timezone"),), (("policy", "teams: {payments: {timezone: 'UTC+2'}}\n"),)),
    Case("P07", "policy", "a waiver expiring on 30 February", (PolicyRejected("waivers.0.expires"),),
         (("policy", "waivers: [{rule: AI-STALE, subject_id: AI-10001, reason: parked, approver: lena, "
                     "expires: '2026-02-30'}]\n"),)),
    Case("P08", "policy", "a waiver of a rule that does not exist", (PolicyRejected("waivers.0.rule"),),
         (("policy", "waivers: [{rule: AI-LATE, subject_id: AI-10001, reason: parked, approver: lena, "
                     "expires: 2026-12-01}]\n"),)),
    Case("P09", "policy", "YAML that does not parse (an unclosed bracket)", (PolicyRejected("not valid YAML"),),
         (("policy", "dispatch: {jira: dry_run\n"),)),
    Case("P10", "policy", "a key given twice (the second block would silently win)",
         (PolicyRejected("'dispatch' twice"),), (("policy", "dispatch: {jira: dry_run}\ndispatch: {slack: live}\n"),)),
    Case("P11", "policy", "an unknown dispatch mode", (PolicyRejected("dispatch.slack"),),
         (("policy", "dispatch: {slack: liv}\n"),)),
    Case("P12", "policy", "an escalation ladder out of order", (PolicyRejected("escalation"),),
         (("policy", "escalation: {ladder: [{step: 0, after_business_days: 5, action: ticket_and_dm}, "
                     "{step: 1, after_business_days: 2, action: post_team_channel}]}\n"),)),
    Case("P13", "policy", "a waiver file that does not exist", (PolicyRejected("absent-waivers.yaml"),),
         (("policy", "waiver_files: [absent-waivers.yaml]\n"),)),
)

CASES: tuple[Case, ...] = FILE_CASES + JIRA_CASES + POLICY_CASES
