"""Airflow plugin: mounts the Followthrough dashboard at /followthrough and links it in the navigation.

Only wiring lives here; the app is followthrough.dashboard.app (it enforces Airflow's
authentication itself, which plugin apps do not get by default).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from followthrough.dashboard.app import create_app


class FollowthroughDashboardPlugin(AirflowPlugin):
    name = "followthrough_dashboard"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/followthrough", "name": "Followthrough dashboard"}]
    external_views = [{"name": "Followthrough", "href": "/followthrough/", "destination": "nav",
                       "category": "browse", "url_route": "followthrough"}]
