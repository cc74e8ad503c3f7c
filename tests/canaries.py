"""Canary secrets for the secrets suite: recognisable values for every Connection, and scanners.

The end-to-end and soak suites put these values in the Connections (the Jira API token, the
Slack bot token, the store password, the audit key), run the pipeline, then search everything
it left behind. None may contain a canary::

    from tests import canaries

    env = canaries.canary_connections(jira, slack, store_url, timeout=5)  # AIRFLOW_CONN_* with canaries
    ...                                                         # run the pipeline with `env`
    scan = canaries.Scan()
    scan.paths(airflow_home / "logs", followthrough_home)      # task logs, reports, staging, ...
    scan.store(store_url)                                       # every row of every table
    scan.text("airflow dags test stdout", result.stdout)        # captured output, exception messages
    scan.fake_requests(jira, slack)                             # what the fakes received (tokens only in headers)
    print(scan.figure())
    assert not scan.hits, scan.report()

Besides the raw value, each canary is also looked for URL-quoted and base64-encoded (the form
an `Authorization: Basic` header would take if it were ever printed); `basic_auth_needle` adds
the `user:token` form. The fixture `canary_store` (tests/conftest.py) gives a PostgreSQL store
whose role has the canary password; the fakes take the canary tokens as
``FakeJira(api_token=CANARIES["jira_token"])`` and ``FakeSlack(token=CANARIES["slack_token"])``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

# One per secret a deployment holds. Long, distinctive, and free of characters a URL would
# need to quote, so they fit every Connection field as they are.
CANARIES: dict[str, str] = {
    "jira_token": "FTCANARY-jira-token-4e1d7c29b8a0",
    "slack_token": "xoxb-FTCANARY-slack-token-9b2f61d4c7e3",
    "store_password": "FTCANARY_store_password_53a8e0f1",
    "audit_key": "FTCANARY-audit-key-d04c8b7e2f19a6",
}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def needles(canaries: Mapping[str, str] = CANARIES) -> dict[str, str]:
    """Every form of every canary to look for, mapped to the canary's name."""
    found: dict[str, str] = {}
    for name, value in canaries.items():
        for form in (value, quote(value, safe=""), _b64(value), _b64(value).rstrip("=")):
            found[form] = name
    return found


def basic_auth_needle(user: str, token: str) -> str:
    """What `Authorization: Basic` carries for user:token (add it to a Scan's needles)."""
    return _b64(f"{user}:{token}")


@dataclass(frozen=True)
class Hit:
    canary: str  # the canary's name in CANARIES
    where: str  # a file path, "table:<name> row <n>", or the label given to scanned text
    excerpt: str  # the text around the hit, with the canary itself replaced by <CANARY>


@dataclass
class Scan:
    """Accumulates what was searched (files, bytes, rows, texts, requests) and every hit."""

    canaries: Mapping[str, str] = field(default_factory=lambda: dict(CANARIES))
    extra_needles: dict[str, str] = field(default_factory=dict)  # form -> canary name
    files: int = 0
    bytes: int = 0
    tables: int = 0
    rows: int = 0
    texts: int = 0
    requests: int = 0
    hits: list[Hit] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._needles = {**needles(self.canaries), **self.extra_needles}

    def add_needle(self, form: str, canary: str) -> None:
        self._needles[form] = canary

    # -- what is searched ------------------------------------------------------------------
    def text(self, where: str, text: str | bytes) -> list[Hit]:
        """Search one captured text (an exception message, a process's output, a payload)."""
        self.texts += 1
        return self._search(where, text)

    def paths(self, *roots: Path) -> list[Hit]:
        """Search every file under each root (a file root is searched itself), bytes and all."""
        hits: list[Hit] = []
        for path in _files(roots):
            data = path.read_bytes()
            self.files += 1
            self.bytes += len(data)
            hits += self._search(str(path), data)
        return hits

    def store(self, url: str) -> list[Hit]:
        """Search every row of every table of the store (outbox payloads, audit events, runs, ...)."""
        import sqlalchemy as sa

        hits: list[Hit] = []
        engine = sa.create_engine(url)
        try:
            metadata = sa.MetaData()
            metadata.reflect(engine)
            with engine.connect() as connection:
                for table in metadata.sorted_tables:
                    self.tables += 1
                    for n, row in enumerate(connection.execute(sa.select(table))):
                        self.rows += 1
                        hits += self._search(f"table:{table.name} row {n}",
                                             json.dumps(list(row), default=str, ensure_ascii=False))
        finally:
            engine.dispose()
        return hits

    def fake_requests(self, jira: Any = None, slack: Any = None) -> list[Hit]:
        """What the fakes received: no canary in a path, a query or a body (tokens go in the
        Authorization header, which the fakes do not record), and every Slack token came by header."""
        hits: list[Hit] = []
        for record in list(getattr(jira, "log", [])):
            self.requests += 1
            hits += self._search(f"jira request {record.method} {record.path}",
                                 json.dumps([record.path, record.query, record.body], default=str))
        for record in list(getattr(slack, "log", [])):
            self.requests += 1
            hits += self._search(f"slack request {record.method}", json.dumps(record.args, default=str))
            if record.token_from not in (None, "header"):
                hit = Hit("slack_token", f"slack request {record.method}",
                          f"the token came as a {record.token_from} argument, not in the Authorization header")
                self.hits.append(hit)
                hits.append(hit)
        return hits

    # -- results ---------------------------------------------------------------------------
    def figure(self) -> str:
        return (f"canary scan: {self.files} files ({self.bytes:,} bytes), {self.rows} rows in {self.tables} tables, "
                f"{self.texts} texts, {self.requests} fake requests searched for {len(self.canaries)} canaries: "
                f"{len(self.hits)} found")

    def report(self) -> str:
        return "\n".join(f"{h.canary} in {h.where}: ...{h.excerpt}..." for h in self.hits) or "no canary found"

    def _search(self, where: str, data: str | bytes) -> list[Hit]:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        hits = []
        for form, name in self._needles.items():
            start = text.find(form)
            if start >= 0:
                excerpt = text[max(0, start - 80):start + len(form) + 80].replace(form, "<CANARY>")
                hits.append(Hit(name, where, excerpt))
        self.hits += hits
        return hits


def canary_fakes() -> tuple[Any, Any]:
    """A FakeJira and a FakeSlack (not started) that expect the canary tokens, with the project FOLLOW
    and the demo roster (tests/pipeline.add_demo_directory)."""
    from tests.fakes.jira import FakeJira
    from tests.fakes.slack import FakeSlack
    from tests.pipeline import add_demo_directory

    jira, slack = FakeJira(api_token=CANARIES["jira_token"]), FakeSlack(token=CANARIES["slack_token"])
    jira.add_project("FOLLOW")
    add_demo_directory(jira, slack)
    return jira, slack


def canary_connections(jira: Any, slack: Any, store_url: str, timeout: float) -> dict[str, str]:
    """`AIRFLOW_CONN_*` (and the CLI's audit key variable) for the fakes, the store at `store_url`
    (the canary role's URL, see :func:`canary_database`) and the audit key, each with its canary."""
    import sqlalchemy as sa

    from tests.pipeline import fake_connections

    url = sa.engine.make_url(store_url)
    return {
        **fake_connections(jira, slack, timeout=timeout),
        "AIRFLOW_CONN_FOLLOWTHROUGH_DB": json.dumps({
            "conn_type": "postgres", "host": url.host, "port": url.port, "login": url.username,
            "password": url.password, "schema": url.database}),
        "AIRFLOW_CONN_FOLLOWTHROUGH_AUDIT": json.dumps({"conn_type": "generic", "password": CANARIES["audit_key"]}),
        "FOLLOWTHROUGH_AUDIT_KEY": CANARIES["audit_key"],
    }


def _files(roots: Iterable[Path]) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
        elif root.is_dir():
            yield from sorted(p for p in root.rglob("*") if p.is_file())


@contextmanager
def canary_database(admin_url: str, password: str = CANARIES["store_password"]) -> Iterator[str]:
    """A new PostgreSQL database owned by a new role whose password is `password`; yields the
    role's SQLAlchemy URL (password included). With trust auth the server does not check the
    password, but the Connection carries it all the same, which is what the scan is about."""
    import uuid

    import sqlalchemy as sa

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"ft_canary_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        # a utility statement takes no bound parameters: the name is generated hex, the literal quoted
        literal = "'" + password.replace("'", "''") + "'"
        connection.execute(sa.text(f'CREATE ROLE "{name}" LOGIN PASSWORD {literal}'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}" OWNER "{name}"'))
    url = admin.url.set(username=name, password=password, database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()
