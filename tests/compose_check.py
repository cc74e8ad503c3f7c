"""Static checks of a docker-compose file, for machines without a Docker engine (tests only).

What `docker compose config` would reject, as far as it can be told without Docker:
- the YAML itself (anchors and merge keys resolved, as Compose does);
- variable interpolation (`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
  `${VAR?error}`, `$$`) with the variables of an env file such as `.env.example`;
- the Compose Specification's JSON schema (draft-07), on the interpolated document;
- every file and folder the file points at: build contexts and Dockerfiles, bind-mounted
  sources, env files; named volumes declared; `depends_on` naming existing services.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")
BRACED = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?$", re.DOTALL)


class ComposeError(ValueError):
    """The file cannot be read as a Compose file at all (YAML or interpolation)."""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as Compose reads them (comments and blank lines skipped, quotes removed)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def interpolate(node: Any, env: Mapping[str, str], path: str = "") -> Any:
    if isinstance(node, dict):
        return {key: interpolate(value, env, f"{path}.{key}") for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(value, env, f"{path}[{i}]") for i, value in enumerate(node)]
    if not isinstance(node, str):
        return node

    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        if match.group("named"):
            return env.get(match.group("named"), "")
        braced = BRACED.match(match.group("braced"))
        if braced is None:
            raise ComposeError(f"{path}: invalid interpolation format ${{{match.group('braced')}}}")
        name, op, arg = braced.group("name"), braced.group("op"), braced.group("arg") or ""
        value = env.get(name)
        unset_or_empty = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if unset_or_empty else str(value)
        if op in (":?", "?"):
            if unset_or_empty:
                raise ComposeError(f"{path}: required variable {name} is missing a value: {arg}")
            return str(value)
        if op in (":+", "+"):
            return "" if unset_or_empty else arg
        return value or ""

    return VARIABLE.sub(replace, node)


def load(path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ComposeError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise ComposeError(f"{path}: a Compose file is a mapping, got {type(document).__name__}")
    return dict(interpolate(document, env))


def schema_errors(document: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft7Validator(spec)
    return sorted(f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
                  for error in validator.iter_errors(document))


def _gitignored(name: str, project: Path) -> bool:
    ignore = project / ".gitignore"
    return ignore.exists() and name in {line.strip().lstrip("/") for line in ignore.read_text().splitlines()}


def reference_errors(document: Mapping[str, Any], project: Path) -> list[str]:
    """Files, folders, volumes and services the document names that do not exist."""
    errors: list[str] = []
    services: Mapping[str, Any] = document.get("services") or {}
    declared_volumes = set((document.get("volumes") or {}).keys())
    for name, service in services.items():
        if not isinstance(service, Mapping):
            continue
        build = service.get("build")
        if build is not None:
            build = {"context": build} if isinstance(build, str) else build
            context = project / str(build.get("context", "."))
            if not context.is_dir():
                errors.append(f"{name}: build context {context} is not a folder")
            elif "dockerfile_inline" not in build and not (context / str(build.get("dockerfile", "Dockerfile"))).is_file():
                errors.append(f"{name}: Dockerfile {context / str(build.get('dockerfile', 'Dockerfile'))} does not exist")
        for volume in service.get("volumes") or []:
            if isinstance(volume, str):
                source = volume.split(":", 1)[0] if ":" in volume else None
                kind = "bind" if source and source.startswith((".", "/", "~")) else "volume"
            else:
                source, kind = volume.get("source"), volume.get("type", "volume")
            if not source:
                continue
            if kind == "bind" and not (project / source).expanduser().exists():
                errors.append(f"{name}: bind-mounted {source} does not exist")
            if kind == "volume" and source not in declared_volumes:
                errors.append(f"{name}: named volume {source} is not declared under volumes")
        env_files = service.get("env_file") or []
        for entry in [env_files] if isinstance(env_files, str | dict) else env_files:
            file, required = (entry, True) if isinstance(entry, str) else (entry.get("path"), entry.get("required", True))
            target = project / str(file)
            if not required or target.exists():
                continue
            # a git-ignored secrets file is created from its committed example (README: cp .env.example .env)
            example = target.with_name(target.name + ".example")
            if not (example.is_file() and _gitignored(target.name, project)):
                errors.append(f"{name}: env_file {file} does not exist (and no git-ignored {file} with {example.name})")
        depends = service.get("depends_on") or []
        for dependency in depends if isinstance(depends, list) else depends.keys():
            if dependency not in services:
                errors.append(f"{name}: depends_on names unknown service {dependency}")
    return errors


def required_variables(compose: Path) -> set[str]:
    """Variables the file insists on (`${VAR:?...}` / `${VAR?...}`)."""
    return {m.group(1) for m in re.finditer(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?", compose.read_text())}


def check(compose: Path, spec: Path, env: Mapping[str, str], project: Path | None = None) -> list[str]:
    """Every problem found; empty when the file passes. ComposeError when it cannot be read at all."""
    document = load(compose, env)
    errors = [f"schema: {e}" for e in schema_errors(document, json.loads(spec.read_text()))]
    return errors + [f"reference: {e}" for e in reference_errors(document, project or compose.parent)]
