"""The HTML report of a demo run: self-contained, templated and escaped, with charts, levels, waivers,
resolved findings and undelivered messages, and without blame quotes or confidential titles."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from followthrough.config import safe_name
from followthrough.report.summary import PRIVATE_REASON, render, report_view
from followthrough.store.repository import Store
from tests.integration.conftest import DEMO_RUNS


@pytest.fixture(scope="module")
def folder(demo_home: Path) -> Path:
    return demo_home / "reports" / safe_name(DEMO_RUNS[-1])


@pytest.fixture(scope="module")
def page(folder: Path) -> str:
    return (folder / "report.html").read_text()


@pytest.fixture(scope="module")
def store(demo_home: Path) -> Store:
    return Store(f"sqlite:///{demo_home / 'followthrough.db'}")


def test_report_is_self_contained(page: str) -> None:
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<script" not in page
    assert "<link" not in page


def test_report_has_matplotlib_charts_inline(page: str) -> None:
    charts = re.findall(r'<svg role="img" aria-label="([^"]+)"', page)
    assert charts == ["Weekly compliance trend per team", "Open action items by age bucket and team",
                      "Open findings by rule and team"]
    assert "Matplotlib" not in page.split("<svg", 1)[0]  # the SVG prolog is stripped, the charts are inline


def test_report_lists_findings_with_level_age_overdue_and_local_due(page: str, store: Store) -> None:
    open_findings = store.findings_frame("open")
    rows = re.findall(r'<tr data-team="([^"]*)" data-rule="([^"]*)">', page)
    assert len(rows) == len(open_findings)
    assert {"critical", "violation", "warning"} <= set(re.findall(r'class="level level-(\w+)"', page))
    overdue = open_findings[open_findings["rule"] == "AI-OVERDUE"].iloc[0]
    assert str(overdue["subject_id"]) in page
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d (CEST|EDT|PDT|IST|UTC|BST|JST|AEST|SGT)", page)
    assert "rules.md#:~:text=" in page


def test_report_withholds_blame_quotes_and_confidential_titles(page: str, store: Store, folder: Path) -> None:
    stored = store.findings_frame()
    blame = stored[stored["rule"] == "PM-BLAME"]
    assert not blame.empty
    for reason in blame["reason"]:
        assert reason not in page
    assert PRIVATE_REASON in page
    findings_csv = pd.read_csv(folder / "findings.csv")
    assert set(findings_csv.loc[findings_csv["rule"] == "PM-BLAME", "reason"]) == {PRIVATE_REASON}
    confidential = stored[stored["confidential"] & stored["title"].notna() & (stored["status"] == "open")]
    assert not confidential.empty
    for title in confidential["title"]:
        assert title not in page


def test_report_shows_waivers_with_approver_and_expiry(page: str, store: Store) -> None:
    waived = store.findings_frame("waived")
    assert not waived.empty
    section = page.split("<h2>Waived findings", 1)[1].split("<h2>", 1)[0]
    for waiver in waived["waiver"]:
        assert waiver["approver"] in section
        assert waiver["expires"] in section


def test_resolved_this_run_and_undelivered_are_listed(store: Store, demo_home: Path) -> None:
    import sqlalchemy as sa

    run = store.get_run(DEMO_RUNS[-1])
    assert run is not None
    summary = dict(run["summary"])
    fingerprint = store.findings_frame("open").iloc[0]["fingerprint"]
    copy = Store(f"sqlite:///{demo_home.parent / 'report-copy.db'}")
    import shutil

    shutil.copy(demo_home / "followthrough.db", demo_home.parent / "report-copy.db")
    with copy.engine.begin() as connection:
        connection.execute(sa.text("UPDATE ft_findings SET status='resolved', resolved_as_of=:t WHERE fingerprint=:f"),
                           {"t": pd.Timestamp(summary["as_of"]).tz_localize(None).to_pydatetime(), "f": fingerprint})
        connection.execute(sa.text("UPDATE ft_outbox SET status='dead', attempts=5 WHERE id = 1"))
    before = report_view(store, DEMO_RUNS[-1], summary, {})
    view = report_view(copy, DEMO_RUNS[-1], summary, {})
    resolved_before = [r["subject_id"] for r in before["resolved"]]
    assert resolved_before, "the second demo run resolves findings"
    assert [r["subject_id"] for r in view["resolved"]] == sorted(
        [*resolved_before, store.findings_frame("open").iloc[0]["subject_id"]],
        key=[r["subject_id"] for r in view["resolved"]].index)
    assert len(view["resolved"]) == len(resolved_before) + 1
    assert [(d["status"], d["attempts"]) for d in view["undelivered"]] == [("dead", 5)]
    html = render("report.html", **view)
    assert "Failed or dead deliveries (1)" in html
    assert f"Resolved this run ({len(resolved_before) + 1})" in html


def test_text_from_trackers_is_escaped(store: Store) -> None:
    run = store.get_run(DEMO_RUNS[-1])
    assert run is not None
    view = report_view(store, DEMO_RUNS[-1], dict(run["summary"]), {})
    view["open"][0] = {**view["open"][0], "title": "<script>alert(1)</script>", "title_hidden": False,
                       "reason": "<img src=x onerror=alert(1)>", "private": False}
    html = render("report.html", **view)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


def _blame_quotes(store: Store) -> list[str]:
    stored = store.findings_frame()
    return [q for reason in stored.loc[stored["rule"] == "PM-BLAME", "reason"]
            for q in re.findall("\u201c(.+?)\u201d", str(reason))]


def test_actions_csv_and_audit_payloads_keep_a_hash_not_the_quote_or_title(store: Store, folder: Path) -> None:
    import json

    from followthrough.privacy import text_digest

    quotes = _blame_quotes(store)
    assert quotes
    stored = store.findings_frame()
    titles = [t for t in stored.loc[stored["confidential"] & stored["title"].notna(), "title"] if len(str(t)) > 12]
    assert titles
    actions_csv = (folder / "actions.csv").read_text()
    audit = json.dumps([e["payload"] for e in store.audit_events()], default=str, ensure_ascii=False)
    for secret in [*quotes, *titles]:
        assert secret not in actions_csv
        assert secret not in audit
    # the owner is still told: the outbox keeps the text, and the audit its hash
    outbox = store.outbox_frame()
    private = outbox[outbox["payload"].map(lambda p: bool(p.get("sensitive")) and quotes[0] in str(p.get("text")))]
    assert not private.empty
    assert text_digest(private.iloc[0]["payload"]["text"]) in audit
    assert set(private["recipient"]) <= set(stored.loc[stored["rule"] == "PM-BLAME", "responsible"])


def test_metric_tiles_show_the_summarys_figures(page: str, folder: Path) -> None:
    import json

    metrics = json.loads((folder / "summary.json").read_text())["metrics"]
    closed = metrics["closed_within_sla"]
    assert f"action items closed within SLA ({closed['within_sla']}/{closed['items']})" in page
    assert "built-in method" not in page


def test_a_long_report_shows_the_first_rows_and_says_the_csvs_hold_all(store: Store, demo_home: Path) -> None:
    from followthrough.report.summary import finding_rows

    run = store.get_run(DEMO_RUNS[0])
    assert run is not None
    summary = dict(run["summary"])
    full = report_view(store, DEMO_RUNS[0], summary, {})
    view = report_view(store, DEMO_RUNS[0], summary, {}, limit=3)
    open_findings = store.findings_frame("open")
    assert len(full["open"]) == full["open_total"] == len(open_findings) > 3
    assert full["actions_total"] == len(full["actions"]) > 3
    # the most urgent three, in the full list's order; the actions in planned order
    assert view["open"] == full["open"][:3]
    assert view["open"] == finding_rows(store, open_findings, summary["as_of"], {}, None, limit=3)
    assert view["actions"] == full["actions"][:3]
    assert (view["open_total"], view["actions_total"]) == (full["open_total"], full["actions_total"])
    html = render("report.html", **view)
    assert len(re.findall(r'<tr data-team="', html)) == 3
    assert f"Open findings ({full['open_total']})" in html
    assert f'The first 3 of {full["open_total"]}, most urgent first; <a href="findings.csv">findings.csv</a>' in html
    assert f'The first 3 of {full["actions_total"]}, in planned order; <a href="actions.csv">actions.csv</a>' in html
    assert "The first" not in render("report.html", **full)
    # the run's CSVs list every open finding and every planned action, whatever the page shows
    folder = demo_home / "reports" / safe_name(DEMO_RUNS[0])
    assert len(pd.read_csv(folder / "actions.csv")) == full["actions_total"]
    assert len(pd.read_csv(folder / "findings.csv")) > 3
