"""The dashboard app on the demo store: Airflow's authentication is enforced, filters are validated,
output is escaped, and it shows the metrics, charts, findings, runs and audit trail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from followthrough.dashboard.app import create_app
from followthrough.store.repository import Store


@pytest.fixture
def db(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{demo_home / 'followthrough.db'}"
    monkeypatch.setenv("FOLLOWTHROUGH_DB_URL", url)
    return url


@pytest.fixture
def client(db: str) -> TestClient:
    """The app with the access check replaced (the real one is tested below and in the browser test)."""
    return TestClient(create_app(access_check=lambda: None))


@pytest.mark.parametrize("path", ["/", "/findings.json", "/?team=payments"])
def test_unauthenticated_requests_are_refused_by_airflows_auth(db: str, path: str) -> None:
    client = TestClient(create_app())
    response = client.get(path)
    assert response.status_code == 401
    assert "Followthrough" not in response.text


def test_dashboard_shows_metrics_charts_findings_runs_and_trail(client: TestClient, db: str) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.text
    assert len(re.findall(r'<svg role="img"', page)) == 3
    open_findings = Store(db).findings_frame("open")
    assert len(re.findall(r'<tr data-team="', page)) == len(open_findings)
    assert "postmortems within SLA" in page
    assert "scheduled__2026-07-16T07:00:00+00:00" in page.split('id="runs"', 1)[1]
    assert "action_" in page.split('id="audit"', 1)[1]
    assert "<script" not in page


def test_findings_filter_by_team_and_rule(client: TestClient, db: str) -> None:
    stored = Store(db).findings_frame("open")
    team, rule = stored.iloc[0]["team_id"], stored.iloc[0]["rule"]
    page = client.get("/", params={"team": team}).text
    teams = set(re.findall(r'<tr data-team="([^"]*)"', page))
    assert teams == {team}
    data = client.get("/findings.json", params={"team": team, "rule": rule}).json()
    expected = stored[(stored["team_id"] == team) & (stored["rule"] == rule)]
    assert data["total"] == len(expected)
    assert {(f["team_id"], f["rule"]) for f in data["findings"]} == {(team, rule)}


@pytest.mark.parametrize("params", [{"team": "<script>alert(1)</script>"}, {"team": "x" * 300}, {"limit": "0"},
                                    {"limit": "many"}, {"rule": "AI-OVERDUE' OR 1=1--"}])
def test_malformed_parameters_are_rejected(client: TestClient, params: dict) -> None:
    response = client.get("/", params=params)
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.text


def test_unknown_team_is_a_clear_422(client: TestClient) -> None:
    response = client.get("/", params={"team": "nosuchteam"})
    assert response.status_code == 422
    assert "unknown team &#39;nosuchteam&#39;" in response.text


def test_private_and_confidential_stay_hidden_in_json(client: TestClient, db: str) -> None:
    stored = Store(db).findings_frame("open")
    blame = stored[stored["rule"] == "PM-BLAME"]
    data = client.get("/findings.json", params={"rule": "PM-BLAME"}).json()
    assert data["total"] == len(blame)
    assert {f["reason"] for f in data["findings"]} == {"(private)"}


def test_read_only(client: TestClient) -> None:
    assert client.post("/").status_code == 405
    assert client.delete("/findings.json").status_code == 405


def test_no_store_yet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FOLLOWTHROUGH_DB_URL", f"sqlite:///{tmp_path / 'none.db'}")
    response = TestClient(create_app(access_check=lambda: None)).get("/")
    assert response.status_code == 200
    assert "no Followthrough store yet" in response.text
    assert not (tmp_path / "none.db").exists()


def test_the_filter_forms_empty_choice_means_all(client: TestClient, db: str) -> None:
    """The page's own form sends `team=&rule=` for "all" (the browser test found it refused)."""
    stored = Store(db).findings_frame("open")
    team = stored.iloc[0]["team_id"]
    response = client.get("/", params={"team": team, "rule": ""})
    assert response.status_code == 200
    assert set(re.findall(r'<tr data-team="([^"]*)"', response.text)) == {team}
    everything = client.get("/", params={"team": "", "rule": ""})
    assert everything.status_code == 200
    assert len(re.findall(r'<tr data-team="', everything.text)) == len(stored)
