"""Helpers for the browser tests: Debian's headless Chromium driven by Playwright, and a real
`airflow api-server` started in a temporary Airflow home.

Chromium is the system package (`/usr/bin/chromium`, installed by `make test` through
`make browser`); Playwright's own browser downloads are never used. Without the browser the
tests skip, except under CI=true, where they fail. Nothing here is imported by product code.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.pipeline import ROOT

CHROMIUM = Path(os.environ.get("FOLLOWTHROUGH_CHROMIUM", "/usr/bin/chromium"))
AIRFLOW = str(Path(sys.executable).parent / "airflow")


def chromium_or_skip() -> Path:
    """The browser binary; a missing one skips the test, or fails it under CI=true."""
    if not CHROMIUM.is_file():
        reason = f"{CHROMIUM} not found (`make browser` installs Debian's chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser is required in CI: {reason}")
        pytest.skip(reason)
    return CHROMIUM


@contextlib.contextmanager
def chromium_page(viewport: tuple[int, int] = (1400, 1000)) -> Iterator[Any]:
    """A fresh page in headless Chromium (its own context: no cookies carried over)."""
    from playwright.sync_api import sync_playwright

    binary = chromium_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(binary), headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            yield context.new_page()
        finally:
            browser.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ApiServer:
    """`airflow api-server` on a free port, SQLite metadata, SimpleAuthManager with one admin user."""

    home: Path
    store_url: str
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.home / "api-server.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_", "AIRFLOW__"))}
        (self.home / "dags").mkdir(parents=True, exist_ok=True)
        env.update(
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__DAGS_FOLDER=str(self.home / "dags"),  # the dashboard needs no DAG parsed
            AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(self.home / "passwords.json"),
            AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_urlsafe(32),
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(self.port),
            AIRFLOW__API__BASE_URL=self.base_url,
            AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
            FOLLOWTHROUGH_DB_URL=self.store_url,
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        return env

    def password(self) -> str:
        return str(json.loads((self.home / "passwords.json").read_text())["admin"])

    def start(self, timeout: float = 240) -> ApiServer:
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = self.port or _free_port()
        env = self.env()
        migrate = subprocess.run([AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True,
                                 timeout=600, check=False)
        if migrate.returncode != 0:
            raise AssertionError(f"airflow db migrate failed:\n{(migrate.stdout + migrate.stderr)[-4000:]}")
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([AIRFLOW, "api-server", "--port", str(self.port)], env=env,
                                            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True, cwd=self.home)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the api-server exited ({self.process.returncode}):\n{self.tail()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).status_code == 200:
                    return self
            time.sleep(1)
        self.stop()
        raise AssertionError(f"the api-server did not answer within {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""

    def stop(self) -> None:
        """Stop the api-server's process group (the server and the workers it forked)."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
