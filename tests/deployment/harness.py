"""A real Airflow deployment for tests: PostgreSQL, Redis, CeleryExecutor and every Airflow service.

`Deployment` starts, in a temporary Airflow home, the processes a platform team runs:
`airflow scheduler`, `dag-processor`, `triggerer`, `api-server` (on a free port) and two
`airflow celery worker`s, each with its own FOLLOWTHROUGH_HOME and its own worker name
(`[core] hostname_callable = followthrough.deploy.hostname`). The metadata database and the
Followthrough store are two fresh PostgreSQL databases; Redis (a database number and a queue of
this deployment's own, so other developers' workers never take its tasks) is the broker.

It talks to Airflow only through the REST API with a JWT from `/auth/token`, as a user would,
and stops every process it started (each in its own process group, plus any descendant that
left it), also when the test fails. Nothing here is imported by product code.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.pipeline import DEMO, ROOT, airflow_env, write_policy

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
WORKERS = ("ft-worker-a", "ft-worker-b")
SERVICES = ("scheduler", "dag-processor", "triggerer", "api-server")
AIRFLOW = str(Path(sys.executable).parent / "airflow")


class DeploymentError(AssertionError):
    """The deployment did not come up, or a run did not end as expected; carries the logs' tails."""


class DagRunFailed(DeploymentError):
    """A DAG run ended in `failed`."""

    def __init__(self, message: str, run: dict[str, Any], task_instances: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.run = run
        self.task_instances = task_instances


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_command(*args: str, db: int = 0, timeout: float = 5.0) -> bytes:
    """One RESP command to the local Redis (no client library needed for a ping or a FLUSHDB)."""
    def encode(*parts: str) -> bytes:
        return f"*{len(parts)}\r\n".encode() + b"".join(
            f"${len(p.encode())}\r\n".encode() + p.encode() + b"\r\n" for p in parts)

    with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=timeout) as sock:
        sock.sendall(encode("SELECT", str(db)) + encode(*args))
        reply = b""
        while reply.count(b"\r\n") < 2:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.split(b"\r\n")[1]


def pick_redis_db() -> int:
    """An empty Redis database number (1-15; 0 is everyone's default), so no stale keys mix in."""
    candidates = list(range(1, 16))
    secrets.SystemRandom().shuffle(candidates)
    for db in candidates:
        if redis_command("DBSIZE", db=db) == b":0":
            return db
    return candidates[0]


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]
    args: list[str]

    def tail(self, chars: int = 3000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ({self.log}) ---\n{text[-chars:]}"


@dataclass
class Deployment:
    """A running deployment; build it with `Deployment.start(tmp_path, ...)`, end it with `stop()`."""

    root: Path
    metadata_db: str
    store_db: str
    slack_connection: dict[str, Any]
    run_deadline_minutes: str = "30"
    api_port: int = field(default_factory=free_port)
    redis_db: int = 0
    queue: str = field(default_factory=lambda: f"followthrough-deploy-{uuid.uuid4().hex[:8]}")
    services: dict[str, Service] = field(default_factory=dict)
    _token: str | None = None
    _descendants: set[int] = field(default_factory=set)
    _every_pid: dict[int, float] = field(default_factory=dict)  # pid -> start time, of every process seen

    # ---- set-up -----------------------------------------------------------------------------------

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    @property
    def policy(self) -> Path:
        return self.root / "config" / "policy.yaml"

    @property
    def staging_url(self) -> str:
        return (self.root / "object-store").as_uri()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def pg_url(self, database: str, driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"

    @property
    def store_url(self) -> str:
        return self.pg_url(self.store_db)

    def followthrough_home(self, name: str) -> Path:
        return self.root / "homes" / name

    def base_env(self) -> dict[str, str]:
        store = {"conn_type": "postgres", "host": PG_HOST, "port": PG_PORT, "login": PG_USER, "password": "",
                 "schema": self.store_db}
        env = airflow_env(self.airflow_home, self.followthrough_home("platform"), self.policy)
        env.update(
            AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=self.pg_url(self.metadata_db),
            AIRFLOW__CELERY__BROKER_URL=f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.redis_db}",
            AIRFLOW__CELERY__RESULT_BACKEND=self.pg_url(self.metadata_db, "db+postgresql"),
            AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER="1",
            AIRFLOW__OPERATORS__DEFAULT_QUEUE=self.queue,
            AIRFLOW__CORE__HOSTNAME_CALLABLE="followthrough.deploy.hostname",
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
            AIRFLOW__CORE__FERNET_KEY=self._fernet_key(),
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(self.airflow_home / "passwords.json"),
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(self.api_port),
            AIRFLOW__API__BASE_URL=self.base_url,
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.base_url}/execution/",
            AIRFLOW__API_AUTH__JWT_SECRET=self._jwt_secret(),
            AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES="1",
            AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
            AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
            AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK="False",
            # only the runs a test triggers: unpausing must not add today's scheduled run to the store
            AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
            AIRFLOW_CONN_FOLLOWTHROUGH_DB=json.dumps(store),
            AIRFLOW_CONN_SLACK_API_DEFAULT=json.dumps(self.slack_connection),
            FOLLOWTHROUGH_RUN_DEADLINE_MINUTES=self.run_deadline_minutes,  # on, as in production
            FOLLOWTHROUGH_STAGING_URL=self.staging_url,  # shared by every worker: stands in for s3:// or gs://
        )
        return env

    def _fernet_key(self) -> str:
        path = self.root / "fernet.key"
        if not path.exists():
            from cryptography.fernet import Fernet

            path.write_bytes(Fernet.generate_key())
        return path.read_text().strip()

    def _jwt_secret(self) -> str:
        path = self.root / "jwt.secret"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32))
        return path.read_text().strip()

    @classmethod
    def start(cls, root: Path, metadata_db: str, store_db: str, slack_connection: dict[str, Any],
              run_deadline_minutes: str = "30") -> Deployment:
        deployment = cls(root=root, metadata_db=metadata_db, store_db=store_db,
                         slack_connection=slack_connection, run_deadline_minutes=run_deadline_minutes)
        try:
            deployment._start()
        except BaseException:
            deployment.stop()
            raise
        return deployment

    def _start(self) -> None:
        (self.root / "config").mkdir(parents=True, exist_ok=True)
        self.airflow_home.mkdir(parents=True, exist_ok=True)
        write_policy(self.root / "config", DEMO)
        self.redis_db = pick_redis_db()
        env = self.base_env()
        # what docker-compose's init service does: metadata migrations and the store's database
        # (side by side: they touch different databases), then the pool once the API is up
        init = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for command in ([AIRFLOW, "db", "migrate"], [sys.executable, "-m", "followthrough.deploy", "init-store"])]
        try:
            for process in init:
                output, _ = process.communicate(timeout=600)
                if process.returncode != 0:
                    raise DeploymentError(f"{' '.join(map(str, process.args))} failed:\n{output[-5000:]}")
        finally:
            for process in init:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        self.start_service("api-server", ["api-server", "--port", str(self.api_port)])
        self.start_service("scheduler", ["scheduler"])
        self.start_service("dag-processor", ["dag-processor"])
        self.start_service("triggerer", ["triggerer", "--skip-serve-logs"])
        for name in WORKERS:
            self.start_worker(name)
        self.wait_for(self._api_up, "the API server to answer", timeout=180)
        self.api("POST", "/pools", expect=(201, 200), json={
            "name": "jira_api", "slots": 2, "description": "Caps concurrent Jira calls", "include_deferred": False})
        for name in WORKERS:
            self.wait_for(lambda name=name: "ready." in self.services[name].log.read_text(errors="replace"),
                          f"Celery worker {name} to be ready", timeout=180)

    def start_service(self, name: str, args: list[str], **extra_env: str) -> Service:
        env = {**self.base_env(), **extra_env}
        log = self.root / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            # its own session and process group: stop() signals the whole tree at once
            process = subprocess.Popen([AIRFLOW, *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.root)
        service = Service(name, process, log, env, args)
        self.services[name] = service
        self._note(process.pid)
        return service

    def start_worker(self, name: str) -> Service:
        home = self.followthrough_home(name)
        home.mkdir(parents=True, exist_ok=True)
        return self.start_service(
            name,
            ["celery", "worker", "--queues", self.queue, "--concurrency", "1", "--celery-hostname", f"{name}@%h",
             "--without-mingle", "--without-gossip", "--skip-serve-logs"],
            FOLLOWTHROUGH_HOME=str(home), FOLLOWTHROUGH_WORKER_NAME=name,
        )

    def restart_service(self, name: str, **extra_env: str) -> Service:
        old = self.services.pop(name)
        self._stop_one(old)
        return self.start_service(name, old.args, **extra_env)

    # ---- the REST API -------------------------------------------------------------------------------

    def _api_up(self) -> bool:
        try:
            return requests.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def token(self) -> str:
        if self._token is None:
            password = json.loads((self.airflow_home / "passwords.json").read_text())["admin"]
            reply = requests.post(f"{self.base_url}/auth/token", json={"username": "admin", "password": password},
                                  timeout=30)
            if reply.status_code not in (200, 201):
                raise DeploymentError(f"POST /auth/token: {reply.status_code} {reply.text[:500]}")
            self._token = str(reply.json()["access_token"])
        return self._token

    def api(self, method: str, path: str, expect: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        reply = requests.request(method, f"{self.base_url}/api/v2{path}",
                                 headers={"Authorization": f"Bearer {self.token()}"}, timeout=30, **kwargs)
        if reply.status_code not in expect:
            raise DeploymentError(f"{method} /api/v2{path}: {reply.status_code} {reply.text[:1000]}")
        return reply.json() if reply.content else None

    def wait_for_dag(self, dag_id: str, timeout: float = 240) -> dict[str, Any]:
        def parsed() -> bool:
            return bool(self.api("GET", f"/dags/{dag_id}", expect=(200, 404)).get("dag_id"))

        self.wait_for(parsed, f"the dag-processor to parse {dag_id}", timeout=timeout)
        return dict(self.api("GET", f"/dags/{dag_id}"))

    def dag_versions(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"/dags/{dag_id}/dagVersions")["dag_versions"])

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})

    def trigger(self, dag_id: str, logical_date: str, conf: dict[str, Any] | None = None) -> str:
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", expect=(200,),
                       json={"logical_date": logical_date, "conf": conf or {}})
        return str(run["dag_run_id"])

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 600) -> dict[str, Any]:
        """The run once it succeeded; DagRunFailed when it failed; DeploymentError when it took too long."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            run = self.dag_run(dag_id, run_id)
            if run["state"] == "success":
                return run
            if run["state"] == "failed":
                tis = self.task_instances(dag_id, run_id)
                failed = [ti["task_id"] for ti in tis if ti["state"] in ("failed", "upstream_failed")]
                raise DagRunFailed(f"DAG run {dag_id} {run_id} failed (tasks: {failed})\n{self.tails()}", run, tis)
            time.sleep(3)
        states = {ti["task_id"]: ti["state"] for ti in self.task_instances(dag_id, run_id)}
        raise DeploymentError(f"DAG run {dag_id} {run_id} not finished after {timeout:.0f} s: {states}\n{self.tails()}")

    # ---- waiting, logs, shutdown --------------------------------------------------------------------

    def check_alive(self) -> None:
        for service in self.services.values():
            if service.process.poll() is not None:
                raise DeploymentError(f"{service.name} exited with {service.process.returncode}\n{service.tail(6000)}")

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 120, every: float = 1.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if condition():
                return
            time.sleep(every)
        raise DeploymentError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.tails()}")

    def tails(self, chars: int = 2500) -> str:
        return "\n".join(service.tail(chars) for service in self.services.values())

    def log_text(self, name: str) -> str:
        return self.services[name].log.read_text(errors="replace")

    def _remember_descendants(self, service: Service) -> None:
        import psutil

        with contextlib.suppress(psutil.Error):
            self._descendants.update(c.pid for c in psutil.Process(service.process.pid).children(recursive=True))
        for pid in self._descendants:
            self._note(pid)

    def _stop_one(self, service: Service, grace: float = 20.0) -> None:
        self._remember_descendants(service)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            service.process.wait(timeout=grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.process.pid, signal.SIGKILL)  # whatever of the group is left
        service.process.wait(timeout=30)
        self._kill_descendants()

    def _kill_descendants(self) -> None:
        import psutil

        for pid in sorted(self._descendants):
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).kill()
        self._descendants.clear()

    def stop(self) -> None:
        """Stop every process this deployment started: workers first, the API server last."""
        order = [*WORKERS, "triggerer", "scheduler", "dag-processor", "api-server"]
        for name in sorted(self.services, key=lambda n: order.index(n) if n in order else -1):
            self._stop_one(self.services[name])
        self.services.clear()
        if self.redis_db:
            with contextlib.suppress(OSError):
                redis_command("FLUSHDB", db=self.redis_db)

    def _note(self, pid: int) -> None:
        import psutil

        with contextlib.suppress(psutil.Error):
            self._every_pid.setdefault(pid, psutil.Process(pid).create_time())

    def running_pids(self) -> list[int]:
        """Processes this deployment started (or saw below them) that are still alive: none after stop()."""
        import psutil

        alive = []
        for pid, started in sorted(self._every_pid.items()):
            try:
                process = psutil.Process(pid)
                if process.create_time() == started and process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.Error:
                pass
        return alive


__all__ = ["ROOT", "DagRunFailed", "Deployment", "DeploymentError", "WORKERS", "free_port", "redis_command"]
