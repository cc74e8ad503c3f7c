"""Deployment helpers: the worker name Airflow records, and the init step that prepares the store.

- `hostname` is meant for `[core] hostname_callable` (AIRFLOW__CORE__HOSTNAME_CALLABLE=
  followthrough.deploy.hostname): it names a Celery worker by FOLLOWTHROUGH_WORKER_NAME, so two
  workers on one machine (the deployment test, or containers sharing a host name) are told apart
  in each task instance's `hostname`. Without the variable it is the machine's FQDN, Airflow's
  default.
- `python -m followthrough.deploy init-store` (run by docker-compose's init service) creates the
  store's PostgreSQL database named by the Connection `followthrough_db` when it does not exist
  yet, then applies the store's migrations. Safe to repeat: upgrades use the same command.

Every Airflow component imports this module for the hostname: the standard library only at
module level.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence

WORKER_NAME_ENV = "FOLLOWTHROUGH_WORKER_NAME"


def hostname() -> str:
    """FOLLOWTHROUGH_WORKER_NAME when set and not blank, else the fully qualified host name."""
    name = os.environ.get(WORKER_NAME_ENV, "").strip()
    return name or socket.getfqdn()


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database of `url` if it is missing (on the same server, same login).

    Returns True when it was created. Other databases (the embedded SQLite store) need nothing.
    """
    import sqlalchemy as sa

    target = sa.engine.make_url(url)
    if not target.drivername.startswith("postgresql") or not target.database:
        return False
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                        {"name": target.database}).scalar()
            if exists:
                return False
            quoted = connection.dialect.identifier_preparer.quote(target.database)
            connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        admin.dispose()


def init_store(url: str | None = None) -> str:
    """Create the store's database when needed and migrate it to the newest schema; the safe URL."""
    from followthrough.store.repository import Store

    connect_args: dict = {}
    if url is None:
        from followthrough.tasks import store_connection

        url, connect_args = store_connection()
    ensure_database(url)
    store = Store(url, connect_args=connect_args)
    store.migrate()
    return store.safe_url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m followthrough.deploy", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init-store", help="create the store's database if missing, then migrate it")
    init.add_argument("--url", help="a SQLAlchemy URL (default: the Connection followthrough_db)")
    sub.add_parser("hostname", help="print the name this worker records as task instance hostname")
    args = parser.parse_args(argv)
    if args.command == "hostname":
        print(hostname())
        return 0
    try:
        print(f"store ready: {init_store(args.url)}")
    except Exception as exc:  # one line for the init container's log, exit code for compose
        first_line = (str(exc).strip().splitlines() or [""])[0]
        print(f"store initialisation failed: {type(exc).__name__}: {first_line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
