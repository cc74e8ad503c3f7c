"""Packaging: pyproject declares what the code imports, the pinned sets satisfy those ranges,
runtime and development tools are pinned apart, and the hostname callable names the worker."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.pipeline import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def pinned(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, sep, version = line.partition("==")
        assert sep == "==", f"{path.name}: {line!r} is not pinned with =="
        assert version, f"{path.name}: {line!r} has no version"
        pins[canonicalize_name(name.split("[")[0])] = version
    return pins


RUNTIME = pinned(ROOT / "requirements.txt")
DEV = pinned(ROOT / "requirements-dev.txt")


def declared() -> list[Requirement]:
    return [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]


def third_party_imports(*folders: str) -> set[str]:
    names: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("followthrough", "__future__")}


def test_every_runtime_import_is_a_declared_dependency() -> None:
    distributions = packages_distributions()
    names = {canonicalize_name(r.name) for r in declared()}
    missing = {}
    for module in sorted(third_party_imports("include", "dags", "plugins")):
        provided_by = {canonicalize_name(d) for d in distributions.get(module, [])}
        if not provided_by & names:
            missing[module] = sorted(provided_by)
    assert missing == {}, f"imported but not in pyproject dependencies: {missing}"


def test_the_pinned_runtime_set_satisfies_every_declared_range() -> None:
    for requirement in declared():
        version = RUNTIME.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is declared but not pinned in requirements.txt"
        assert requirement.specifier.contains(version, prereleases=True), f"{requirement} vs =={version}"
    for requirement in map(Requirement, PYPROJECT["project"]["optional-dependencies"]["celery"]):
        assert requirement.specifier.contains(RUNTIME[canonicalize_name(requirement.name)])


def test_the_runtime_set_holds_airflow_and_celery_and_no_test_tools() -> None:
    assert RUNTIME["apache-airflow"] == "3.3.2"
    assert {"apache-airflow-providers-celery", "celery", "redis", "kombu"} <= set(RUNTIME)
    assert not {"pytest", "ruff", "mypy"} & set(RUNTIME)
    assert {"pytest", "ruff", "mypy", "jsonschema"} <= set(DEV)
    shared = set(RUNTIME) & set(DEV)  # resolved against the runtime set: never a second version
    assert {name: (RUNTIME[name], DEV[name]) for name in shared if RUNTIME[name] != DEV[name]} == {}


def test_pyproject_ranges_fit_airflow_3_3() -> None:
    airflow = next(r for r in declared() if r.name == "apache-airflow")
    assert airflow.specifier.contains("3.3.2")
    assert not airflow.specifier.contains("4.0.0")
    assert all(str(r.specifier) for r in declared()), "every dependency has a range"
    assert not [r for r in declared() if any(s.operator == "==" for s in r.specifier)], "ranges, not pins"


def test_the_deployment_marker_is_registered_and_run_by_make_test() -> None:
    markers = PYPROJECT["tool"]["pytest"]["ini_options"]["markers"]
    assert any(m.startswith("deployment:") for m in markers)
    makefile = (ROOT / "Makefile").read_text()
    test_recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    selection = test_recipe.split("pytest", 1)[1]
    # make test runs every marker, deployment included; only the six-minute throughput test has its own target
    assert '-m "not throughput"' in selection
    assert "deployment" not in selection
    assert "requirements-dev.txt" in makefile


def test_hostname_is_the_worker_name_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from followthrough.deploy import hostname

    monkeypatch.setenv("FOLLOWTHROUGH_WORKER_NAME", "worker-7")
    assert hostname() == "worker-7"
    monkeypatch.setenv("FOLLOWTHROUGH_WORKER_NAME", "  ")
    assert hostname() == socket.getfqdn()
    monkeypatch.delenv("FOLLOWTHROUGH_WORKER_NAME")
    assert hostname() == socket.getfqdn()


def test_airflow_resolves_the_hostname_callable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__HOSTNAME_CALLABLE", "followthrough.deploy.hostname")
    monkeypatch.setenv("FOLLOWTHROUGH_WORKER_NAME", "worker-b")
    from airflow.sdk.api.client import get_hostname

    assert get_hostname() == "worker-b"
