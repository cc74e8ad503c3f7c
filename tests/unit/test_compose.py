"""docker-compose.yaml against the Compose Specification, with everything it points at; and
broken copies of it, which must fail. No Docker engine here: static checks only (tests/compose_check.py).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.compose_check import ComposeError, check, load, read_env_file, required_variables
from tests.pipeline import ROOT

COMPOSE = ROOT / "docker-compose.yaml"
SPEC = ROOT / "tests" / "specs" / "compose-spec.json"
SHARED_SPEC = ROOT.parent / "shared" / "specs" / "compose-spec.json"
ENV_EXAMPLE = ROOT / ".env.example"
AIRFLOW_SERVICES = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker", "airflow-init"}


def example_env() -> dict[str, str]:
    """.env.example as a user fills it in: the secrets it leaves empty get a value."""
    return {key: value or f"placeholder-{key.lower()}" for key, value in read_env_file(ENV_EXAMPLE).items()}


def compose() -> dict[str, Any]:
    return load(COMPOSE, example_env())


def test_the_compose_file_meets_the_specification_and_everything_it_names_exists() -> None:
    assert check(COMPOSE, SPEC, example_env()) == []


def test_the_committed_spec_is_the_shared_one() -> None:
    if not SHARED_SPEC.exists():
        pytest.skip(f"no shared specs beside the repository ({SHARED_SPEC})")
    assert json.loads(SPEC.read_text()) == json.loads(SHARED_SPEC.read_text())


def test_every_required_variable_is_in_the_env_example() -> None:
    required = required_variables(COMPOSE)
    assert required >= {"FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"}
    assert required <= set(read_env_file(ENV_EXAMPLE))
    with pytest.raises(ComposeError, match="FERNET_KEY"):
        load(COMPOSE, read_env_file(ENV_EXAMPLE))  # left empty in the example: compose refuses to start


def test_it_runs_the_official_services_on_celery_with_one_common_block() -> None:
    services = compose()["services"]
    assert set(services) >= AIRFLOW_SERVICES | {"postgres", "redis"}
    raw = yaml.safe_load(COMPOSE.read_text())
    common = raw["x-airflow-common"]
    assert common["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    for name in AIRFLOW_SERVICES:
        assert raw["services"][name]["image"] == common["image"], name  # merged from x-airflow-common
        environment = services[name]["environment"]
        assert environment["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert environment["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == "followthrough.deploy.hostname"
        assert environment["FOLLOWTHROUGH_STAGING_URL"].startswith("file:///")
        assert services[name]["env_file"] == [{"path": ".env", "required": True}]
    commands = {name: services[name]["command"] for name in AIRFLOW_SERVICES}
    assert commands["airflow-worker"] == "celery worker"
    assert commands["airflow-dag-processor"] == "dag-processor"
    assert "python -m followthrough.deploy init-store" in commands["airflow-init"][-1]


def test_connections_come_only_from_the_env_file_and_the_store_has_its_own_database() -> None:
    for name, service in compose()["services"].items():  # secrets never in the compose file
        assert not [key for key in service.get("environment", {}) if key.startswith("AIRFLOW_CONN_")], name
    example = read_env_file(ENV_EXAMPLE)
    store = json.loads(example["AIRFLOW_CONN_FOLLOWTHROUGH_DB"])
    assert store["conn_type"] == "postgres"
    assert store["host"] == "postgres"
    metadata = compose()["services"]["airflow-scheduler"]["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert metadata.rsplit("/", 1)[1] == "airflow" != store["schema"]
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_dockerfile_builds_on_the_airflow_image_with_the_pinned_set() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "FROM apache/airflow:3.3.2-python3.11"
    assert "RUN pip install --no-cache-dir -r /opt/followthrough/requirements.txt" in lines
    assert "RUN pip install --no-cache-dir --no-deps /opt/followthrough" in lines
    for line in lines:
        if line.startswith("COPY"):
            sources = [part for part in line.split()[1:-1] if not part.startswith("--")]
            for source in sources:
                assert (ROOT / source).exists(), line
    allowed = [line.lstrip("!").rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.startswith("!")]
    for source in ("requirements.txt", "pyproject.toml", "include", "dags", "plugins", "config", "data/demo"):
        assert source in allowed, f".dockerignore keeps {source} out of the build context"


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node = document
        for key in parents:
            node = node[key]
        node[last] = value
    return mutate


BROKEN: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "ports as a mapping": (_set("services/airflow-apiserver/ports", {"8080": "8080"}), "schema: services/airflow-apiserver/ports"),
    "unknown depends_on condition": (_set("services/airflow-worker/depends_on/redis/condition", "service_ready"),
                                     "schema: services/airflow-worker/depends_on"),
    "misspelt service key": (_set("services/redis/imagee", "redis:7.2-bookworm"), "schema: services/redis"),
    "healthcheck interval as a number": (_set("services/redis/healthcheck/interval", 10), "schema: services/redis/healthcheck/interval"),
    "missing bind-mount source": (_set("services/airflow-scheduler/volumes", ["./no-such-folder:/opt/airflow/dags"]),
                                  "reference: airflow-scheduler: bind-mounted ./no-such-folder"),
    "undeclared named volume": (_set("services/airflow-scheduler/volumes", ["scratch:/tmp/scratch"]),
                                "reference: airflow-scheduler: named volume scratch"),
    "missing build context": (_set("services/airflow-worker/build", {"context": "no-such-context"}),
                              "reference: airflow-worker: build context"),
    "missing Dockerfile": (_set("services/airflow-worker/build", {"context": ".", "dockerfile": "Dockerfile.gone"}),
                           "reference: airflow-worker: Dockerfile"),
    "missing env file": (_set("services/airflow-triggerer/env_file", ["secrets.env"]),
                         "reference: airflow-triggerer: env_file secrets.env"),
    "unknown dependency": (_set("services/airflow-triggerer/depends_on", ["airflow-database"]),
                           "reference: airflow-triggerer: depends_on names unknown service airflow-database"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_copy_fails(name: str, tmp_path: Path) -> None:
    mutate, expected = BROKEN[name]
    document = copy.deepcopy(yaml.safe_load(COMPOSE.read_text()))
    mutate(document)
    broken = tmp_path / "docker-compose.yaml"
    broken.write_text(yaml.safe_dump(document, sort_keys=False))
    errors = check(broken, SPEC, example_env(), project=ROOT)
    assert any(error.startswith(expected) for error in errors), errors


@pytest.mark.parametrize(("text", "message"), [
    ("services:\n  redis:\n\timage: redis\n", "not valid YAML"),
    ("services:\n  redis:\n    image: ${REDIS_IMAGE:?set it}\n", "required variable REDIS_IMAGE"),
    ("services:\n  redis:\n    image: ${REDIS IMAGE}\n", "invalid interpolation format"),
    ("- just\n- a list\n", "a Compose file is a mapping"),
])
def test_an_unreadable_copy_fails(text: str, message: str, tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yaml"
    broken.write_text(text)
    with pytest.raises(ComposeError, match=message):
        check(broken, SPEC, {})


def test_interpolation_follows_compose() -> None:
    from tests.compose_check import interpolate

    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET}-${UNSET:-d}-${EMPTY:-e}-${EMPTY-f}-$${SET}-$SET", env) == "x-d-e--${SET}-x"
    assert interpolate({"a": ["${SET:+yes}", "${UNSET:+yes}"]}, env) == {"a": ["yes", ""]}
