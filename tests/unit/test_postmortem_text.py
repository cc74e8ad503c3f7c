from __future__ import annotations

import csv
from pathlib import Path

import pytest

from followthrough.rules.postmortem_text import (
    QUOTE_MAX_CHARS,
    SECTIONS,
    BlameQuote,
    SectionStatus,
    classify_heading,
    detect_sections,
    find_blame,
    html_to_text,
)

CORPUS = Path(__file__).resolve().parents[1] / "data" / "postmortems"

FULL_BODY = {
    "summary": "The checkout API returned errors for 40 minutes after a bad deploy.",
    "timeline": "- 10:02 deploy\n- 10:05 alert fired\n- 10:42 rollback complete",
    "root_cause": "A config change removed the database pool limit.",
    "impact": "12% of checkout requests failed; about 3,000 customers saw errors.",
    "actions": "- [ ] Add a canary stage (owner: payments, due 2026-08-01)",
}


def _markdown(headings: dict[str, str], bodies: dict[str, str] | None = None) -> str:
    bodies = bodies or FULL_BODY
    parts = ["# Checkout outage 2026-07-01\n"]
    for section, heading in headings.items():
        parts.append(f"{heading}\n\n{bodies[section]}\n")
    return "\n".join(parts)


# ----------------------------------------------------------------------------- heading styles


def test_markdown_atx_headings_all_present_with_their_heading_text() -> None:
    text = _markdown(
        {
            "summary": "## Summary",
            "timeline": "## Timeline (UTC)",
            "root_cause": "## Root cause(s)",
            "impact": "## Customer impact",
            "actions": "## Action items",
        }
    )
    result = detect_sections(text)
    assert all(result[s].present for s in SECTIONS)
    assert result["timeline"] == SectionStatus(True, "Timeline (UTC)", False)
    assert result["root_cause"].heading == "Root cause(s)"
    assert result["actions"].heading == "Action items"


@pytest.mark.parametrize(
    ("heading", "section"),
    [
        ("What happened", "summary"),
        ("Overview", "summary"),
        ("Background", "summary"),
        ("Executive summary", "summary"),
        ("Detailed timeline", "timeline"),
        ("Sequence of events", "timeline"),
        ("Cause", "root_cause"),
        ("Contributing factors", "root_cause"),
        ("Why did this happen?", "root_cause"),
        ("What caused the outage", "root_cause"),
        ("Who was affected", "impact"),
        ("Customer impact", "impact"),
        ("Lessons learned", "actions"),
        ("Follow-ups", "actions"),
        ("Next steps", "actions"),
        ("What we're doing to prevent this", "actions"),
        ("What we\u2019re doing to prevent this", "actions"),
        ("Remediation", "actions"),
        ("Corrective and preventative measures", "actions"),
    ],
)
def test_heading_vocabulary(heading: str, section: str) -> None:
    assert section in classify_heading(heading)


@pytest.mark.parametrize("heading", ["Detection", "Resolution", "Actions taken", "Appendix", "Thanks", "What went well"])
def test_headings_that_are_not_one_of_the_five(heading: str) -> None:
    assert classify_heading(heading) == ()


def test_combined_headings_count_for_each_section_they_name() -> None:
    assert classify_heading("Summary of impact") == ("summary", "impact")
    assert classify_heading("ROOT CAUSE AND REMEDIATION") == ("root_cause", "actions")


def test_long_question_headings_are_not_sections() -> None:
    faq = "Some of my merge requests are shown as being open but their commits have already been merged, what is the impact?"
    assert classify_heading(faq) == ()


def test_setext_headings() -> None:
    text = (
        "Checkout outage\n===============\n\n"
        "Summary\n-------\n\nThe API failed for 40 minutes.\n\n"
        "Root cause\n----------\n\nA bad config change.\n\n"
        "Action items\n============\n\n- Add a canary stage\n"
    )
    result = detect_sections(text, require_headings=True)
    assert result["summary"].present
    assert result["summary"].heading == "Summary"
    assert result["root_cause"].present
    assert result["actions"].present
    assert not result["impact"].present
    assert not result["timeline"].present


def test_a_thematic_break_after_a_list_is_not_a_setext_heading() -> None:
    text = "## Summary\n\nAPI down.\n\n- the impact list item\n---\n\n## Next\n"
    assert not detect_sections(text)["impact"].present


def test_numbered_headings_in_markdown_and_plain_text() -> None:
    md = "# Outage\n\n## 1. Summary\n\nIt broke.\n\n## 3. Impact\n\nAll users.\n\n## 4) Root cause\n\nA bug.\n"
    result = detect_sections(md)
    assert result["impact"] == SectionStatus(True, "3. Impact", False)
    assert result["root_cause"].present
    plain = "Checkout outage report\n\n1. Summary\n\nIt broke for an hour.\n\n3. Impact\n\nAll EU users could not pay.\n"
    assert detect_sections(plain)["impact"].present


def test_bold_pseudo_headings_and_inline_labels() -> None:
    text = (
        "# Incident 42\n\n**Root cause**\n\nA certificate expired.\n\n"
        "**Impact:** 5% of logins failed for 20 minutes.\n\n"
        "- **Follow-ups**: renew certificates automatically\n"
    )
    result = detect_sections(text)
    assert result["root_cause"] == SectionStatus(True, "Root cause", False)
    assert result["impact"] == SectionStatus(True, "Impact", False)
    assert result["actions"].present


def test_field_value_table_rows_count_but_column_headers_do_not() -> None:
    table = "| Field | Value |\n|---|---|\n| **Impact** | 5% of logins failed |\n| Root cause | TBD |\n"
    result = detect_sections(table)
    assert result["impact"] == SectionStatus(True, "Impact", False)
    assert result["root_cause"] == SectionStatus(False, "Root cause", True)
    header = "| Impact | Duration |\n|---|---|\n| | 2h |\n"
    assert not detect_sections(header)["impact"].present
    blank = "| Field | Value |\n|---|---|\n| Impact | |\n| Owner | Payments team |\n"
    assert detect_sections(blank)["impact"] == SectionStatus(False, "Impact", True)


def test_plain_text_report_with_upper_case_headings() -> None:
    text = (
        "Incident #17003: new VMs lost connectivity\n\nISSUE SUMMARY\n\nNew instances were unreachable for 2 hours.\n\n"
        "DETAILED DESCRIPTION OF IMPACT\n\nAll instances created between 10:36 and 12:42 were unreachable.\n\n"
        "ROOT CAUSE\n\nA canary timed out on a rarely used configuration.\n\n"
        "REMEDIATION AND PREVENTION\n\nThe canary timeout is being raised.\n"
    )
    result = detect_sections(text)
    assert result["summary"].heading == "ISSUE SUMMARY"
    assert result["impact"].heading == "DETAILED DESCRIPTION OF IMPACT"
    assert result["root_cause"].heading == "ROOT CAUSE"
    assert result["actions"].heading == "REMEDIATION AND PREVENTION"
    assert not result["timeline"].present


def test_labels_run_into_a_paragraph_by_text_extraction() -> None:
    text = (
        "South Central US - Preliminary RCA\n"
        "Summary of impact: Storms hit the region and a datacenter shut down. Impact was mitigated at 08:30 UTC. "
        "Next steps: We are reviewing datacenter recovery procedures.\n"
    )
    result = detect_sections(text)
    assert result["summary"].present
    assert result["impact"].present
    assert result["actions"] == SectionStatus(True, "Next steps", False)
    assert not result["root_cause"].present  # "...Preliminary RCA" is the title line


def test_plain_text_short_lines_in_markdown_documents_are_not_headings() -> None:
    text = "# Outage\n\n## Summary\n\nIt broke.\n\n## Details\n\nFull service degradation timeline\n\n![chart](x.png)\n"
    assert not detect_sections(text)["timeline"].present


def test_headings_inside_code_blocks_are_ignored() -> None:
    text = "# Outage\n\n## Summary\n\nIt broke.\n\n```bash\n# Impact\ncurl http://x\n```\n"
    assert not detect_sections(text)["impact"].present


# ----------------------------------------------------------------------------- empty sections


@pytest.mark.parametrize("body", ["", "TBD", "TODO", "N/A", "to be added", "- ", "- [ ]", "...", "_TBD_", "[Describe the impact]"])
def test_empty_or_placeholder_sections_count_as_missing(body: str) -> None:
    text = f"# Outage\n\n## Summary\n\nIt broke.\n\n## Impact\n\n{body}\n\n## Action items\n\n- Fix it\n"
    result = detect_sections(text)
    assert result["impact"] == SectionStatus(False, "Impact", True)
    assert result["actions"].present


def test_placeholder_label_counts_as_missing() -> None:
    result = detect_sections("Summary: the API failed.\nRoot cause: TBD\n")
    assert result["root_cause"] == SectionStatus(False, "Root cause", True)
    assert detect_sections("Root cause: unknown, under investigation.\n")["root_cause"].empty


def test_an_explicit_none_is_a_statement_not_a_placeholder() -> None:
    # "Customer impact: None" says there was no impact; only TBD-like text counts as missing
    assert detect_sections("Summary: internal only.\nCustomer impact: None.\n")["impact"].present


def test_labels_inside_a_section_are_its_content() -> None:
    text = "# Outage\n\n## Summary\n\n- **Impact:** 5% of logins\n- **Root cause:** expired cert\n\n**Root cause**\n\nNote:\n- the cert\n"
    result = detect_sections(text)
    assert result["summary"].present
    assert result["impact"].present
    assert result["root_cause"].present


def test_a_section_whose_content_is_in_subsections_is_present() -> None:
    text = "# Outage\n\n## Remediation\n\n### Immediate actions\n\n- Raised the timeout\n\n## Lessons\n\nMany.\n"
    assert detect_sections(text)["actions"] == SectionStatus(True, "Remediation", False)


def test_an_empty_heading_directly_followed_by_the_next_section_is_empty() -> None:
    text = "# Outage\n\n## Root cause\n## Impact\n\nAll users.\n"
    result = detect_sections(text)
    assert result["root_cause"].empty
    assert not result["root_cause"].present
    assert result["impact"].present


def test_one_filled_heading_is_enough_when_another_is_empty() -> None:
    text = "## Follow-ups\n\nTBD\n\n## Action items\n\n- Add alerting\n"
    assert detect_sections(text)["actions"] == SectionStatus(True, "Action items", False)


# ----------------------------------------------------------------------------- equivalents


def test_opening_paragraph_is_a_summary_but_a_subtitle_is_not() -> None:
    lead = (
        "# Database outage\n\nOn January 31st we lost six hours of database data for GitLab.com after an "
        "engineer removed the data directory on the primary instead of the secondary.\n\n## Timeline\n\n- 17:20 snapshot\n"
    )
    assert detect_sections(lead)["summary"] == SectionStatus(True, None, False)
    subtitle = "# ISSUE NAME\nPassword compromise of an employee account.\n\n## Timeline\n\n- 11:12 email received\n"
    assert not detect_sections(subtitle)["summary"].present


def test_metadata_lines_are_not_a_summary() -> None:
    text = "# Outage\n\n**Date:** 2026-01-14\n\n**Severity:** Critical\n\n**Status:** Resolved\n\n## Timeline\n\n- x\n"
    assert not detect_sections(text)["summary"].present


def test_explicit_empty_summary_wins_over_the_opening_paragraph() -> None:
    text = (
        "We had an outage of the payments API yesterday that lasted for more than an hour and affected "
        "many of our customers in Europe.\n\n## Summary\n\nTBD\n"
    )
    assert detect_sections(text)["summary"] == SectionStatus(False, "Summary", True)


def test_timestamped_lines_without_a_heading_are_a_timeline() -> None:
    text = (
        "Checkout was down on Monday.\n\n"
        "- 2026-07-01 10:02 UTC: deploy of v2.3.1\n- 10:05 alert fires\n- 10:42 rollback complete\n"
    )
    assert detect_sections(text)["timeline"] == SectionStatus(True, None, False)


def test_wrapped_prose_lines_that_begin_with_a_time_are_not_a_timeline() -> None:
    text = (
        "Packet loss in us-east1 lasted from 11:48 to\n12:05 and finally from 16:05 to\n16:25. The loss in us-central1 started at\n"
        "12:02. Only two regions were affected.\n"
    )
    assert not detect_sections(text)["timeline"].present


def test_table_timeline_without_heading() -> None:
    text = "Intro.\n\n| Time | Event |\n|---|---|\n| 10:00 | alert |\n| 10:05 | page |\n| 10:30 | fixed |\n"
    assert detect_sections(text)["timeline"].present


# ----------------------------------------------------------------------------- HTML


HTML = """<!DOCTYPE html><html><head><title>Outage</title><style>h2 {color: red}</style></head>
<body><nav><a href="/">Home</a> <a href="/blog">Blog</a></nav>
<article><h1>Checkout outage on 1 July</h1>
<p>On 1 July the checkout API returned errors for forty minutes after a configuration change removed
the connection pool limit of the payments database.</p>
<h2 id="timeline">Timeline (UTC)</h2>
<table><tr><th>Time</th><th>Event</th></tr><tr><td>10:02</td><td>Deploy</td></tr>
<tr><td>10:05</td><td>Alert</td></tr><tr><td>10:42</td><td>Rollback</td></tr></table>
<h2>Root cause</h2><p>The pool limit was <strong>removed</strong> by a template default.</p>
<h3>Impact</h3><p>TBD</p>
<p><strong>Follow-ups</strong></p><ul><li>Add a canary stage</li><li>Alert on pool saturation</li></ul>
<script>var impact = "none";</script>
</article></body></html>"""


def test_html_to_text_keeps_headings_recognisable() -> None:
    text = html_to_text(HTML)
    assert "## Timeline (UTC)" in text.splitlines()
    assert "## Root cause" in text.splitlines()
    assert "- Add a canary stage" in text.splitlines()
    assert "h2 {color" not in text
    assert "var impact" not in text
    assert "Home" not in text


def test_html_sections() -> None:
    result = detect_sections(HTML)
    assert result["summary"] == SectionStatus(True, None, False)
    assert result["timeline"] == SectionStatus(True, "Timeline (UTC)", False)
    assert result["root_cause"].present
    assert result["impact"] == SectionStatus(False, "Impact", True)
    assert result["actions"] == SectionStatus(True, "Follow-ups", False)


def test_markdown_with_inline_html_is_not_treated_as_html() -> None:
    text = "## Timeline\n\n*06:00*: site down<br />\n*06:46*: provider informed<br />\n\n<img src='x.png'>\n\n## Impact\n\nOnly the website.\n"
    result = detect_sections(text)
    assert result["timeline"].present
    assert result["impact"].present


def test_html_entities_and_empty_input() -> None:
    assert html_to_text("<h2>Impact &amp; scope</h2><p>All&nbsp;users</p>").splitlines()[0] == "## Impact & scope"
    assert html_to_text("") == ""
    assert html_to_text(None) == ""


# ----------------------------------------------------------------------------- robustness


@pytest.mark.parametrize("text", [None, "", "   \n\n", "\r\n"])
def test_none_and_empty_input(text: str | None) -> None:
    result = detect_sections(text)
    assert set(result) == set(SECTIONS)
    assert all(st == SectionStatus(False, None, False) for st in result.values())
    assert find_blame(text) == []


def test_windows_line_endings() -> None:
    text = _markdown({"summary": "## Summary", "root_cause": "Root cause\n----------", "impact": "## Impact"})
    result = detect_sections(text.replace("\n", "\r\n"))
    assert result["summary"].present
    assert result["root_cause"].present
    assert result["impact"].present


def test_front_matter_and_source_comment_are_ignored() -> None:
    text = "<!-- source: https://example.com/pm -->\n---\ntitle: Impact report\nimpact: high\n---\n\n# Outage\n\nShort.\n"
    assert not detect_sections(text)["impact"].present


def test_one_megabyte_document_is_handled() -> None:
    block = _markdown(
        {"summary": "## Summary", "timeline": "## Timeline", "root_cause": "## Root cause", "impact": "## Impact", "actions": "## Action items"}
    )
    prose = (
        "The engineer should have checked the dashboard, and the system should have rejected the request. "
        "We do not attribute this to human error. " * 20
    )
    text = ((block + prose + "\n\n") * 400)[:1_000_000]
    sections = detect_sections(text)
    quotes = find_blame(text)
    assert all(sections[s].present for s in SECTIONS)
    assert quotes


def test_one_megabyte_single_line_is_handled() -> None:
    text = ("human error " * 90_000)[:1_000_000]
    detect_sections(text)
    quotes = find_blame(text)
    assert all(len(q.quote) <= QUOTE_MAX_CHARS for q in quotes)


# ----------------------------------------------------------------------------- blame


@pytest.mark.parametrize(
    ("sentence", "phrase"),
    [
        ("The root cause was human error during the deploy.", "human error"),
        ("Root cause: Human error.", "human error"),
        ("This was caused by human error on our part, where we approved the plugin.", "human error"),
        ("Bob forgot to renew the certificate.", "forgot"),
        ("The on-call engineer failed to escalate the page for an hour.", "failed to"),
        ("The operator should have checked the replica before wiping it.", "should have"),
        ("Alice should've known the backups were broken.", "should've"),
        ("A careless change to the firewall took the site down.", "careless"),
        ("This was gross negligence by the contractor.", "negligence"),
        ("The developer didn't bother to run the tests.", "didn't bother"),
        ("It was an operator mistake: the wrong host was selected.", "operator mistake"),
        ("We blame the DBA for dropping the table.", "blame"),
        ("The outage was the fault of the release manager.", "fault of"),
        ("Frankly the team lead was incompetent.", "incompetent"),
        ("I added my token to the file in an act of laziness.", "laziness"),
        ("Someone neglected to update the runbook.", "neglected to"),
        ("@jdoe did not follow the deploy checklist.", "did not follow"),
        ("It was John's fault.", "john's fault"),
        ("It was her fault.", "her fault"),
        ("The on-call engineer is to blame.", "is to blame"),
        ("The blame lies with the operator.", "blame"),
        ("Because the on-call engineer forgot to renew the cert, logins failed.", "forgot"),
        ("The engineer who deployed the change forgot to run migrations.", "forgot"),
        ("An operator error caused the outage.", "operator error"),
        ("We built tooling to prevent outages, yet the root cause was human error.", "human error"),
        ("He should have been more careful with the flag.", "should have"),
        # from Wikimedia incident reports
        ("Because of an operator mistake, the command was executed on all machines at once.", "operator mistake"),
        ("Mukunda failed to follow up with Bartosz after the deploy.", "failed to"),
        ("The deployer should have understood how the changes were interrelated.", "should have"),
        ("Along the way, Otto forgot that we were now filtering out bot events.", "forgot"),
    ],
)
def test_blame_first_phrases_fire_with_the_sentence_as_evidence(sentence: str, phrase: str) -> None:
    text = f"## Root cause\n\nThe payments API failed at 10:02.\n{sentence} It was restored at 10:40.\n"
    quotes = find_blame(text)
    assert [q.phrase for q in quotes] == [phrase]
    assert quotes[0].quote == sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "We don't attribute this to human error; the tool allowed the command.",
        "This is a blameless postmortem and human error is never a root cause.",
        "Human error is not the root cause here.",
        "We added a confirmation prompt to reduce the risk of human error.",
        "The system should have rejected the request.",
        "It should have simply failed quickly and allowed progress to continue.",
        "Instead, the nodes should have waited and retried later.",
        "Our overcommit should've been just 2x.",
        "We should have posted the status update sooner.",
        "We failed to consider the case where the only spend in a bundle was a fast-forward spend.",
        "The backup job failed to upload to S3.",
        "Kubernetes failed to schedule the pods on the new nodes.",
        "The replica failed to catch up with the primary.",
        "Because the changes were in the lazy-loaded Replay extension, all customers got them.",
        "Dynamo uses a sloppy quorum for writes.",
        "I don't want to blame our tools; the real problem is our maintenance strategy.",
        "The engineer terminated the process a second or two after noticing their mistake.",
        "Unfortunately, the developer did not realize the mistake at the time.",
        "Don't forget to rotate the keys after an incident.",
        "Nobody was at fault here: the alert never fired.",
        "The disk was at fault.",
        "It was the disk's fault.",
        "The outage was the fault of the load balancer.",
        "The slowdown was blamed on the network.",
        "Blaming individuals is counterproductive.",
        "Human errors happen; systems should tolerate them.",
        "The system which the engineer deployed failed to start.",
        "The team forgot to renew the certificate.",
        "The deploy should have been caught by the integration tests.",
        "The on-call engineer should have been paged by the alert.",
        "The customer should have been notified sooner.",
        # from GitHub and Wikimedia write-ups
        "Note: I initially forgot to mention that we had a single fileserver pair offline.",
        "On Saturday community member Yann Forget reopened the bug.",
        "Shinken fails to notify IRC until much later, for unclear reasons.",
        "After half an hour, Puppet should have run on all cp servers.",
        "For example: user's error report was exceptionally detailed.",
    ],
)
def test_blameless_counterexamples_do_not_fire(sentence: str) -> None:
    assert find_blame(f"## Root cause\n\n{sentence}\n") == []


def test_quote_is_trimmed_around_the_match() -> None:
    filler = "the replication lag grew while the spam wave kept the primary busy and " * 10
    text = f"During the night {filler}the root cause was human error on the primary {filler}until morning."
    quotes = find_blame(text)
    assert len(quotes) == 1
    assert len(quotes[0].quote) <= QUOTE_MAX_CHARS
    assert "human error" in quotes[0].quote
    assert quotes[0].quote.startswith("\u2026")
    assert quotes[0].quote.endswith("\u2026")


def test_blame_in_code_blocks_is_ignored_and_hits_keep_document_order() -> None:
    text = (
        "The operator forgot the flag.\n\n```\n# human error in a comment\n```\n\n"
        "Later the reviewer failed to notice the diff. A careless merge followed.\n"
    )
    assert [q.phrase for q in find_blame(text)] == ["forgot", "failed to", "careless"]
    assert find_blame(text)[0] == BlameQuote("forgot", "The operator forgot the flag.")


def test_a_repeated_sentence_is_reported_once() -> None:
    sentence = "Due to human error, the update was applied to the wrong switches."
    assert len(find_blame(f"{sentence}\n\n## Copy\n\n{sentence}\n")) == 1


def test_blame_in_html() -> None:
    quotes = find_blame("<html><body><h2>Cause</h2><p>The outage was caused by <b>human error</b>.</p></body></html>")
    assert quotes == [BlameQuote("human error", "The outage was caused by human error.")]


# ----------------------------------------------------------------------------- corpus


def _labels() -> list[dict[str, str]]:
    with (CORPUS / "labels.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_corpus_files_and_labels_match() -> None:
    rows = _labels()
    files = sorted(p.name for p in CORPUS.iterdir() if p.suffix in {".md", ".html", ".txt"})
    assert sorted(r["file"] for r in rows) == files
    assert len(files) >= 60
    assert all(r["org"] for r in rows)
    for r in rows:
        first = (CORPUS / r["file"]).read_text(encoding="utf-8").splitlines()[0]
        assert first == f"<!-- source: {r['source_url']} -->"
    assert sum(any(r[s] == "false" for s in SECTIONS) for r in rows) >= 3


def test_corpus_leave_one_organisation_out() -> None:
    """The figures tests/data/README.md reports, with a margin: each organisation scored with
    parameters chosen on the other organisations (scripts/eval_postmortems.py)."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[2] / "scripts" / "eval_postmortems.py"
    spec = importlib.util.spec_from_file_location("eval_postmortems", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_postmortems"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    docs = module.load(CORPUS)
    assert len(docs) >= 60
    assert len({d["org"] for d in docs}) >= 20
    result = module.evaluate(docs)
    totals = module.pooled(result)
    print(f"\ncontent-based {totals['content'].accuracy():.3f}, heading-based {totals['headings'].accuracy():.3f}, "
          f"blame accuracy {totals['blame'].accuracy():.3f} F1 {totals['blame'].f1():.3f}")
    assert totals["content"].accuracy() >= 0.93
    assert all(totals[s].accuracy() >= 0.9 for s in SECTIONS)
    # the switch enforces headings: stricter, so it finds fewer sections than the content does
    assert totals["headings"].recall() < totals["content"].recall()
    assert totals["blame"].accuracy() >= 0.95
    # the organisations labelled before the detectors were run on them: the held-out figures
    held = module.pooled(result, module.HELD_OUT_ORGS)
    assert held["blame"].total >= 13
    assert held["content"].accuracy() >= 0.90
    assert held["blame"].accuracy() >= 0.90
    assert held["blame"].fp == 0
    # round 2 (15 documents, 13 organisations, 5 with blame): scored once before the blame changes that
    # followed it: sections 0.840 (63 of 75), blame 11 of 15 (1 of 5 found, no false alarm); since those
    # changes its blame documents are development data
    held = module.pooled(result, module.HELD_OUT_ORGS_ROUND_2)
    assert held["blame"].total == 15
    assert held["content"].accuracy() >= 0.80
    assert held["blame"].fp == 0


# --- failure shapes from issue 12 (examples written for these tests) ---------------------------

PROSE_ONLY = """# Search outage, 4 March

Search returned errors for most users for about two hours on the morning of 4 March, and
saved searches could not be loaded at all until the index was rebuilt.

## What went wrong

A schema change renamed a field that the indexer still wrote, so every document it tried to
index was rejected and the index slowly emptied.

## Timeline

09:10 schema change deployed
09:40 first customer report
11:05 index rebuilt

## What we are changing

- Add a schema compatibility check to the indexer's CI pipeline
- Alert when the indexed document count drops by more than 10% in an hour
"""


def test_root_cause_and_impact_in_prose_count_by_default() -> None:
    result = detect_sections(PROSE_ONLY)
    assert all(result[s].present for s in SECTIONS)
    assert result["impact"].basis == "content"
    assert "two hours" in (result["impact"].evidence or "")
    assert result["root_cause"].basis == "heading"
    assert result["summary"].basis == "structure"
    assert "09:10" in (result["timeline"].evidence or "")


@pytest.mark.parametrize(("heading", "body"), [
    ("What happened", "The cache cluster ran out of memory because the eviction policy was set to noeviction "
                      "after the upgrade, and requests to checkout-api timed out for 25 minutes."),
    ("Why", "The deploy job used a stale credentials file, which caused every push to the registry to fail, "
            "so 40% of builds failed between 10:00 and 11:30."),
    ("Details", "Due to a bug in the rate limiter, customers were unable to log in for 12 minutes."),
])
def test_root_cause_and_impact_under_other_headings(heading: str, body: str) -> None:
    result = detect_sections(f"# Incident\n\n## {heading}\n\n{body}\n")
    assert result["root_cause"].present
    assert result["impact"].present


def test_root_cause_in_opening_paragraphs_without_headings() -> None:
    text = ("The login service was down for 35 minutes on Tuesday. The outage was caused by an expired TLS "
            "certificate on the internal load balancer, which nobody had been alerted about.\n\n"
            "We will add certificate expiry alerts 30 days ahead, and we are moving the certificate to automated "
            "renewal.\n")
    result = detect_sections(text)
    assert result["summary"].present
    assert result["root_cause"].present
    assert result["impact"].present
    assert result["actions"].present
    assert result["actions"].basis == "content"


def test_actions_as_a_list_of_commitments_without_a_heading() -> None:
    text = ("# Queue backlog\n\nThe queue backed up for an hour.\n\n"
            "- Add an alert on queue depth above 10000\n- Document the drain procedure in the runbook\n")
    assert detect_sections(text)["actions"].present


def test_unknown_root_cause_is_not_a_root_cause() -> None:
    text = "# Blip\n\nLaunches failed for 20 minutes. The root cause is still unknown.\n"
    result = detect_sections(text)
    assert not result["root_cause"].present
    assert result["impact"].present
    assert "no sentence explaining why" in (result["root_cause"].evidence or "")


def test_require_headings_counts_headings_only() -> None:
    result = detect_sections(PROSE_ONLY, require_headings=True)
    assert result["root_cause"].present  # "What went wrong" is a heading for it
    assert result["actions"].present  # "What we are changing"
    assert not result["impact"].present
    assert not result["summary"].present  # the opening paragraph has no heading
    assert "headings judged:" in (result["impact"].evidence or "")


def test_an_empty_heading_is_quoted() -> None:
    result = detect_sections("# PM\n\n## Impact\n\nTBD\n\n## Notes\n\nCustomers were unable to pay for 10 minutes.\n")
    assert result["impact"].empty
    assert result["impact"].evidence == "heading \u201cImpact\u201d: \u201cTBD\u201d"


@pytest.mark.parametrize("sentence", [
    "Dana didn't follow the runbook when she restarted the primary.",
    "The on-call ignored the alert for forty minutes.",
    "The engineer was not careful with the migration script.",
    "The release manager should have known that the flag was still on.",
    "Inexperienced staff were allowed to run the failover.",
    "@sam looked over the change without being thorough and approved it.",
    "The operator did not check the target cluster before running the command.",
    # found missing in the held-out round 2 of the postmortems (examples written for these tests)
    "The admin restored the snapshot by hand; and then, crucially, forgot to re-enable the cron job.",
    "The deployer merged the branch and promptly forgot to bump the schema version.",
    "She was a fine analyst, but she wasn't a strong backend engineer.",
    "My lack of understanding of the replication settings caused the data loss.",
    "It was a stupid mistake on a Friday afternoon.",
])
def test_person_or_role_with_a_failure_or_judgement_is_blame(sentence: str) -> None:
    assert find_blame(sentence), sentence


@pytest.mark.parametrize("sentence", [
    "The script failed to rotate the certificate.",
    "The deploy pipeline did not check the target cluster.",
    "No one is at fault here: the process allowed the change.",
    "We don't attribute this to human error; the tooling made the mistake easy.",
    "The alerting system ignored the warnings because the threshold was misconfigured.",
    "Kubernetes failed to schedule the pods.",
    "The job copied the files, and then failed to update the index.",
    "The cache was warmed; and crucially, the proxy failed to notice the new nodes.",
    "The engineer started the rollout, the deploy hung, and then failed to roll back.",
    "The lack of understanding of the replication settings across teams caused the data loss.",
    "This isn't a strong guarantee, and the client failed to retry.",
])
def test_system_subjects_and_blameless_framing_are_not_blame(sentence: str) -> None:
    assert not find_blame(sentence), sentence


def test_blame_quotes_are_deduplicated() -> None:
    sentence = "The on-call engineer forgot to page the database team and failed to follow the runbook."
    quotes = find_blame(f"{sentence}\n\n{sentence}\n")
    assert len(quotes) == 1
    assert quotes[0].quote == sentence
