"""The dashboard's FastAPI app. Airflow mounts it at /followthrough (plugins/followthrough_dashboard.py).

Plugin apps are not behind Airflow's authentication, so every route depends on Airflow's own
auth manager (`requires_access_view(WEBSITE)` from airflow.api_fastapi.core_api.security): the
same JWT cookie or bearer token the Airflow UI uses; without one the answer is 401. It only
reads; HTML comes from autoescaped Jinja2 templates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse

TEMPLATES = Path(__file__).parent / "templates"
REPORT_TEMPLATES = Path(__file__).parents[1] / "report" / "templates"
# an id, or empty: the page's own filter form sends `team=&rule=` for "all"
ID_PATTERN = r"^(?:[A-Za-z0-9][A-Za-z0-9._@:+-]{0,249})?$"
# module-level: FastAPI resolves these annotations by name (the module uses postponed annotations)
Team = Annotated[str | None, Query(max_length=250, pattern=ID_PATTERN)]
Rule = Annotated[str | None, Query(max_length=40, pattern=ID_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=1000)]


def _airflow_access_check() -> Any:
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
    from airflow.api_fastapi.core_api.security import requires_access_view

    return requires_access_view(AccessView.WEBSITE)


def _render(template: str, **values: Any) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader([TEMPLATES, REPORT_TEMPLATES]), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["pct"] = lambda share: "–" if share is None else f"{100 * share:.0f}%"
    css = (REPORT_TEMPLATES / "_style.css").read_text(encoding="utf-8")
    return env.get_template(template).render(css=css, **values)


def create_app(access_check: Any = None) -> FastAPI:
    """The app; `access_check` is Airflow's dependency (tests may pass their own)."""
    check = access_check or _airflow_access_check()
    app = FastAPI(title="Followthrough dashboard", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(check)])

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # name the bad parameters, never echo what was sent
        names = sorted({str(e.get("loc", ["", "?"])[-1]) for e in exc.errors()})
        return JSONResponse({"detail": f"invalid parameter(s): {', '.join(names)}"}, status_code=422)

    def _data(team: str | None, rule: str | None, limit: int) -> dict[str, Any] | str:
        from followthrough.dashboard.data import DashboardInputError, open_store, overview, validated

        team, rule = team or None, rule or None  # empty = all
        store = open_store()
        if store is None:
            return "no Followthrough store yet: run the followthrough_enforce DAG first"
        try:
            return overview(store, validated(store, team, rule, limit))
        except DashboardInputError as exc:
            return f"bad filter: {exc}"

    @app.get("/", response_class=HTMLResponse)
    def dashboard(team: Team = None, rule: Rule = None, limit: Limit = 200) -> HTMLResponse:
        data = _data(team, rule, limit)
        if isinstance(data, str):
            status = 422 if data.startswith("bad filter") else 200
            return HTMLResponse(_render("dashboard.html", message=data, **_empty()), status_code=status)
        return HTMLResponse(_render("dashboard.html", message=None, **data))

    @app.get("/findings.json")
    def findings_json(team: Team = None, rule: Rule = None, limit: Limit = 200) -> JSONResponse:
        data = _data(team, rule, limit)
        if isinstance(data, str):
            return JSONResponse({"detail": data}, status_code=422 if data.startswith("bad filter") else 404)
        rows = [{k: v for k, v in r.items() if k not in ("private", "title_hidden")} | {
            "title": None if r["title_hidden"] else r["title"],
            "reason": "(private)" if r["private"] else r["reason"]} for r in data["findings"]]
        return JSONResponse({"total": data["findings_total"], "findings": rows})

    return app


def _empty() -> dict[str, Any]:
    from followthrough.dashboard.data import Filters

    return {"summary": None, "m": None, "charts": [], "findings": [], "findings_total": 0, "teams": [], "rules": [],
            "filters": Filters(), "runs": [], "trail": []}
