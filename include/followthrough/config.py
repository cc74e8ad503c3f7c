"""Connection ids and filesystem locations, read once, with documented fallbacks.

Secrets live only in Airflow Connections. Paths come from environment variables so the
same code serves the demo, the tests and a docker-compose deployment:

- FOLLOWTHROUGH_POLICY: the policy file (default: config/policy.yaml in the project)
- FOLLOWTHROUGH_HOME: where run staging files, reports and the embedded SQLite store live
  (default: var/ in the project)
- FOLLOWTHROUGH_DB_URL: the store for the CLI when no Airflow Connection is at hand
- FOLLOWTHROUGH_STAGING_URL: where tasks stage frames for the next task of the run, as an
  Airflow ObjectStoragePath URL (default: file://<FOLLOWTHROUGH_HOME>/staging; s3://bucket/prefix
  or gs://... in a deployment whose workers share no disk), with FOLLOWTHROUGH_STAGING_CONN_ID
  naming the Connection for it
"""

from __future__ import annotations

import os
import re
from pathlib import Path

JIRA_CONN_ID = "jira_default"
SLACK_CONN_ID = "slack_api_default"
STORE_CONN_ID = "followthrough_db"

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def policy_path() -> Path:
    return Path(os.environ.get("FOLLOWTHROUGH_POLICY", PROJECT_ROOT / "config" / "policy.yaml"))


def home() -> Path:
    return Path(os.environ.get("FOLLOWTHROUGH_HOME", PROJECT_ROOT / "var"))


def staging_url() -> str:
    return os.environ.get("FOLLOWTHROUGH_STAGING_URL") or f"file://{home().resolve() / 'staging'}"


def staging_conn_id() -> str | None:
    return os.environ.get("FOLLOWTHROUGH_STAGING_CONN_ID") or None


def default_store_url() -> str:
    return os.environ.get("FOLLOWTHROUGH_DB_URL") or f"sqlite:///{home() / 'followthrough.db'}"


def safe_name(run_id: str) -> str:
    """A run id as a folder name (Airflow run ids hold ':' and '+')."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", run_id).strip("_")


def report_dir(run_id: str) -> Path:
    return home() / "reports" / safe_name(run_id)
