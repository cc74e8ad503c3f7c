"""In a real browser: the dashboard inside a locally started Airflow, and the Data Docs offline.

Debian's headless Chromium (`/usr/bin/chromium`, installed by `make browser`, which `make test`
runs) driven by Playwright. The dashboard test starts `airflow api-server` in a temporary
Airflow home on the demo store, signs in through Airflow's login page, opens the dashboard from
Airflow's navigation (Browse > Followthrough) and checks that its charts and findings table show
the demo data. Screenshots go to the test output folder (`var/test-output/browser/`, or
`$FOLLOWTHROUGH_TEST_OUTPUT`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from followthrough.catalog import RULE_IDS
from followthrough.store.repository import Store
from tests.browser import ApiServer, chromium_or_skip, chromium_page
from tests.pipeline import ROOT

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def output_dir() -> Path:
    folder = Path(os.environ.get("FOLLOWTHROUGH_TEST_OUTPUT", ROOT / "var" / "test-output")) / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def api_server(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    chromium_or_skip()  # no point starting Airflow without the browser
    server = ApiServer(home=tmp_path_factory.mktemp("airflow-home"),
                       store_url=f"sqlite:///{demo_home / 'followthrough.db'}").start()
    try:
        yield server
    finally:
        server.stop()


def sign_in(page: Any, server: ApiServer) -> None:
    page.goto(f"{server.base_url}/")
    page.wait_for_url(re.compile(r"/auth/login"))
    page.locator("input[name=username]").fill("admin")
    page.locator("input[name=password]").fill(server.password())
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{server.base_url}/", timeout=60_000)


def assert_charts_drawn(charts: Any) -> None:
    """Three matplotlib SVGs, laid out at a real size and drawn (they hold paths)."""
    assert charts.count() == 3
    for index in range(3):
        box = charts.nth(index).bounding_box()
        assert box is not None
        assert box["width"] > 100
        assert box["height"] > 50
        assert charts.nth(index).locator("path").count() > 5


def test_dashboard_in_airflows_navigation_shows_the_demo_data(api_server: ApiServer, demo_home: Path,
                                                              output_dir: Path) -> None:
    store = Store(api_server.store_url)
    open_findings = store.findings_frame("open")
    latest = store.get_run(None)
    assert latest is not None
    assert len(open_findings) > 0
    with chromium_page() as page:
        sign_in(page, api_server)
        page.get_by_role("button", name="Browse").click()
        page.get_by_role("menuitem", name="Followthrough").click()
        page.wait_for_url(re.compile(r"/plugin/followthrough"))
        frame = page.frame_locator("iframe")
        frame.locator("h1", has_text="Followthrough").wait_for(timeout=60_000)
        # the charts: matplotlib's inline SVGs, drawn (they have paths), the metric tiles with the store's figures
        assert_charts_drawn(frame.locator('svg[role="img"]'))
        assert "postmortems within SLA" in frame.locator("body").inner_text()
        assert latest["run_id"] in frame.locator("p.meta").inner_text()
        # the findings table: one row per open finding in the store, the demo's teams and rules
        rows = frame.locator("tr[data-team]")
        assert rows.count() == len(open_findings)
        shown_rules = set(rows.evaluate_all("rows => rows.map(r => r.cells[1].innerText.trim())"))
        assert shown_rules == set(open_findings["rule"])
        assert set(rows.evaluate_all("rows => rows.map(r => r.dataset.team)")) == set(open_findings["team_id"])
        page.set_viewport_size({"width": 1400, "height": 2400})  # the dashboard scrolls inside Airflow's frame
        page.screenshot(path=str(output_dir / "dashboard.png"))
        # filtering by a team inside the page narrows the table to that team's findings
        team = str(open_findings.iloc[0]["team_id"])
        frame.locator("select[name=team]").select_option(team)
        frame.locator("button[type=submit]").click()
        frame.locator("h2#open-findings", has_text="filtered").wait_for()
        assert frame.locator("tr[data-team]").count() == int((open_findings["team_id"] == team).sum())
    assert (output_dir / "dashboard.png").stat().st_size > 10_000


def test_dashboard_without_a_login_is_refused(api_server: ApiServer) -> None:
    with chromium_page() as page:
        response = page.goto(f"{api_server.base_url}/followthrough/")
        assert response is not None
        assert response.status == 401
        assert "Open findings" not in page.content()


def _block_network(page: Any) -> list[str]:
    blocked: list[str] = []

    def only_files(route: Any) -> None:
        url = route.request.url
        if url.startswith(("file://", "data:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort("internetdisconnected")

    page.context.route("**/*", only_files)
    return blocked


def test_report_reads_offline_with_its_charts(demo_home: Path, output_dir: Path) -> None:
    run_folder = sorted((demo_home / "reports").iterdir())[-1]
    with chromium_page(viewport=(1300, 2400)) as page:
        blocked = _block_network(page)
        page.goto((run_folder / "report.html").as_uri())
        assert_charts_drawn(page.locator('svg[role="img"]'))
        assert page.locator("tr[data-team]").count() > 0
        page.screenshot(path=str(output_dir / "report.png"))
    assert blocked == []


def test_data_docs_offline_list_the_expectations(demo_home: Path, output_dir: Path) -> None:
    """With every non-file request blocked, the follow-up suite's Data Docs still show its expectations."""
    run_folder = sorted((demo_home / "reports").iterdir())[-1]
    index = run_folder / "data_docs" / "followup" / "index.html"
    with chromium_page() as page:
        blocked = _block_network(page)
        page.goto(index.as_uri())
        links = page.locator("table a[href*='expectations/']")
        assert links.count() == 1, page.content()[:2000]
        page.screenshot(path=str(output_dir / "data_docs_index.png"), full_page=True)
        links.first.click()
        page.wait_for_url(re.compile(r"expectations/followup\.html$"))
        text = page.locator("body").inner_text()
        page.screenshot(path=str(output_dir / "data_docs_expectations.png"), full_page=True)
        page.goto(index.as_uri())
        page.locator("table a[href*='validations/']").first.click()
        page.wait_for_url(re.compile(r"validations/.*\.html$"))
        validation = page.locator("body").inner_text()
    # the suite lists one expectation per rule of the catalog; the validation shows it ran and what failed
    listed = set(re.findall(r"([A-Z]+-[A-Z-]+): no team has open violations", text))
    assert listed == set(RULE_IDS)
    assert "AI-OVERDUE" in validation
    assert "failed" in validation.lower()
    assert blocked == []  # nothing tried to reach the network: the pages are self-contained
