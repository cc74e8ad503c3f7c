"""The Followthrough dashboard: a read-only FastAPI app that Airflow's api-server mounts (plugins/)."""
