"""Validate HTTP requests and responses against an OpenAPI 3.0 document (test helper).

Used by the fake servers in this package so that a fake accepts only what the published API
description allows and never answers with a body the description would not allow.

How the OpenAPI 3.0 dialect is mapped onto JSON Schema draft 4 (what ``jsonschema`` checks):

- ``$ref`` to ``#/components/...`` resolves through one ``referencing`` registry built from the
  whole document, once per mode (``request`` / ``response``); nothing is inlined, so recursive
  schemas work. Validators are built lazily and cached per operation, parameter and status code.
- ``nullable: true`` adds ``null`` to ``type``/``enum`` (or wraps the schema in ``anyOf``).
- ``readOnly`` properties are not required in requests; ``writeOnly`` ones not in responses.
  A readOnly property that a client sends anyway is accepted (servers ignore them).
- Requests follow Jackson's default scalar coercion for one case: a JSON number is accepted where
  the schema says ``string`` (atlassian-python-api sends ``{"transition": {"id": 31}}``).
- ``format`` is not checked (Jira's ``date-time`` values such as ``2024-01-01T10:00:00.000+0000``
  are not RFC 3339 anyway); ``discriminator``/``xml``/``example`` are ignored.

Query and path parameters arrive as strings; they are coerced by their declared schema
(``integer``, ``number``, ``boolean``, ``array`` with repeated keys) before validation. Unknown
query parameters are reported separately, not as errors: real servers ignore them.

The parsed document is cached per path by :func:`load_spec` (parse once per test session).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jsonschema
from referencing import Registry
from referencing.jsonschema import DRAFT4

Mode = Literal["request", "response"]

_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# Keywords whose value is a schema, a list of schemas, or a map of schemas.
_SCHEMA_VALUED = frozenset({"items", "not", "additionalProperties"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
_SCHEMA_MAPS = frozenset({"properties", "patternProperties"})
# OpenAPI-only keywords (or noise) that JSON Schema validation must not see.
_DROPPED = frozenset(
    {
        "description",
        "example",
        "examples",
        "xml",
        "externalDocs",
        "discriminator",
        "deprecated",
        "nullable",
        "readOnly",
        "writeOnly",
        "default",
        "title",
    }
)


def convert_schema(node: Any, mode: Mode, base_uri: str) -> Any:
    """Return a JSON Schema draft-4 rendering of an OpenAPI 3.0 schema object."""
    if not isinstance(node, dict):
        return node
    if "$ref" in node:  # OpenAPI 3.0: siblings of $ref are ignored
        ref = node["$ref"]
        return {"$ref": base_uri + ref if ref.startswith("#") else ref}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED or key.startswith("x-"):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: convert_schema(sub, mode, base_uri) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [convert_schema(sub, mode, base_uri) for sub in value]
        elif key in _SCHEMA_VALUED and isinstance(value, dict):
            out[key] = convert_schema(value, mode, base_uri)
        else:
            out[key] = value  # enum, required, type, bounds...: copied verbatim
    hidden = "readOnly" if mode == "request" else "writeOnly"
    raw_properties = node.get("properties")
    properties: dict[str, Any] = raw_properties if isinstance(raw_properties, dict) else {}
    if "required" in out:
        required = [
            name
            for name in out["required"]
            if not (isinstance(properties.get(name), dict) and properties[name].get(hidden))
        ]
        if required:
            out["required"] = required
        else:
            del out["required"]  # draft 4 forbids an empty "required"
    if mode == "request" and out.get("type") == "string":
        out["type"] = ["string", "number"]  # Jackson coerces scalars to String by default
    if node.get("nullable"):
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@dataclass(frozen=True)
class Operation:
    """One operation of the document, with its path template (e.g. ``/rest/api/3/issue/{issueIdOrKey}``)."""

    method: str
    template: str
    operation_id: str
    parameters: tuple[Mapping[str, Any], ...]
    request_body: Mapping[str, Any] | None
    responses: Mapping[str, Any]
    deprecated: bool = False


@dataclass(frozen=True)
class PathMatch:
    """The result of matching a concrete path: the template, its parameters and the operation (if any)."""

    template: str
    path_params: dict[str, str]
    operation: Operation | None  # None: the path exists but not with this method
    allowed_methods: tuple[str, ...]


@dataclass
class RequestCheck:
    """What :meth:`OpenAPISpec.check_request` found."""

    errors: list[str] = field(default_factory=list)
    query: dict[str, Any] = field(default_factory=dict)  # coerced values of the declared parameters
    unknown_query: list[str] = field(default_factory=list)
    body: Any = None
    unsupported_media_type: bool = False


class OpenAPISpec:
    """An OpenAPI 3.0 document indexed for matching paths and validating requests and responses."""

    def __init__(self, document: Mapping[str, Any], *, path_prefix: str = "") -> None:
        self.document = document
        self._components = document.get("components", {})
        self._registries: dict[Mode, Registry[Any]] = {}
        self._validators: dict[tuple[str, ...], jsonschema.protocols.Validator | None] = {}
        self._lock = threading.Lock()
        self._routes: list[tuple[re.Pattern[str], tuple[str, ...], str, dict[str, Operation]]] = []
        for template, item in document.get("paths", {}).items():
            if not template.startswith(path_prefix):
                continue
            operations: dict[str, Operation] = {}
            shared = tuple(self._deref(p) for p in item.get("parameters", []))
            for method in _HTTP_METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                own = tuple(self._deref(p) for p in op.get("parameters", []))
                names = {(p.get("name"), p.get("in")) for p in own}
                params = own + tuple(p for p in shared if (p.get("name"), p.get("in")) not in names)
                operations[method.upper()] = Operation(
                    method=method.upper(),
                    template=template,
                    operation_id=str(op.get("operationId", f"{method} {template}")),
                    parameters=params,
                    request_body=self._deref(op["requestBody"]) if "requestBody" in op else None,
                    responses={code: self._deref(r) for code, r in op.get("responses", {}).items()},
                    deprecated=bool(op.get("deprecated", False)),
                )
            segments = template.strip("/").split("/")
            names_in_order: list[str] = []
            pattern = ""
            for segment in segments:
                param = re.fullmatch(r"\{([^}]+)\}", segment)
                if param:
                    names_in_order.append(param.group(1))
                    pattern += "/([^/]+)"
                else:
                    pattern += "/" + re.escape(segment)
            self._routes.append((re.compile(f"^{pattern}/?$"), tuple(names_in_order), template, operations))
        # Most literal segments first: /issue/createmeta must win over /issue/{issueIdOrKey}.
        self._routes.sort(key=lambda route: (-_literal_count(route[2]), route[2]))

    # ----------------------------------------------------------------------------- matching

    def match(self, method: str, path: str) -> PathMatch | None:
        """Find the operation for a concrete path, or None when no path template matches."""
        for pattern, names, template, operations in self._routes:
            found = pattern.match(path)
            if found:
                params = dict(zip(names, found.groups(), strict=True))
                return PathMatch(template, params, operations.get(method.upper()), tuple(sorted(operations)))
        return None

    def operation(self, method: str, template: str) -> Operation:
        """The operation for an exact template (raises KeyError if the document lacks it)."""
        for _, _, candidate, operations in self._routes:
            if candidate == template:
                return operations[method.upper()]
        raise KeyError(f"{method} {template}")

    # ----------------------------------------------------------------------------- requests

    def check_request(
        self,
        operation: Operation,
        *,
        path_params: Mapping[str, str],
        query: Mapping[str, list[str]],
        content_type: str | None,
        body: bytes,
    ) -> RequestCheck:
        """Validate parameters and the JSON body of a request against the operation."""
        check = RequestCheck()
        declared: set[str] = set()
        for param in operation.parameters:
            name, where = str(param.get("name")), param.get("in")
            schema = param.get("schema", {})
            if where == "query":
                declared.add(name)
                raw = query.get(name)
            elif where == "path":
                raw = [path_params[name]] if name in path_params else None
            else:
                continue  # header and cookie parameters are not checked
            if raw is None:
                if param.get("required"):
                    check.errors.append(f"{where} parameter '{name}' is required")
                continue
            value = _coerce_parameter(raw, schema)
            key: tuple[str, ...] = ("param", operation.method, operation.template, str(where), name)
            validator = self._validator(key, schema, "request")
            if validator is not None:
                check.errors.extend(
                    f"{where} parameter '{name}': {msg}" for msg in _messages(validator, value)
                )
            if where == "query":
                check.query[name] = value
        check.unknown_query = sorted(set(query) - declared)

        spec_body = operation.request_body
        if spec_body is None:
            return check
        content = spec_body.get("content", {})
        if not body.strip():
            if spec_body.get("required"):
                check.errors.append("request body is required")
            return check
        json_media = next((ct for ct in content if ct == "application/json" or ct.endswith("+json")), None)
        media = (content_type or "").split(";")[0].strip().lower()
        if (json_media is None or media not in {"application/json", json_media}) and "*/*" not in content:
            check.unsupported_media_type = True
            check.errors.append(f"content type {media or '(none)'!r} is not one of {sorted(content)}")
            return check
        try:
            check.body = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            check.errors.append(f"request body is not valid JSON: {exc}")
            return check
        schema = content.get(json_media or "*/*", {}).get("schema")
        if schema:
            key = ("body", operation.method, operation.template)
            validator = self._validator(key, schema, "request")
            if validator is not None:
                check.errors.extend(f"body: {msg}" for msg in _messages(validator, check.body))
        return check

    # ----------------------------------------------------------------------------- responses

    def check_response(self, operation: Operation, status: int, body: Any) -> list[str]:
        """Validate a response body for a status; an undocumented status is an error too."""
        response = operation.responses.get(str(status)) or operation.responses.get("default")
        if response is None:
            return [f"status {status} is not documented for {operation.operation_id}"]
        media = response.get("content", {}).get("application/json")
        schema = media.get("schema") if media else None
        if not schema or body is None:
            return []
        key = ("response", operation.method, operation.template, str(status))
        validator = self._validator(key, schema, "response")
        return [] if validator is None else _messages(validator, body)

    def check_component(self, name: str, instance: Any, mode: Mode = "response") -> list[str]:
        """Validate an instance against ``#/components/schemas/<name>``."""
        validator = self._validator(("component", mode, name), {"$ref": f"#/components/schemas/{name}"}, mode)
        return [] if validator is None else _messages(validator, instance)

    # ----------------------------------------------------------------------------- internals

    def _deref(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node and str(node["$ref"]).startswith("#/"):
            target: Any = self.document
            for part in str(node["$ref"])[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def _registry(self, mode: Mode) -> Registry[Any]:
        with self._lock:
            if mode not in self._registries:
                converted = {
                    "components": {
                        "schemas": {
                            name: convert_schema(schema, mode, _base(mode))
                            for name, schema in self._components.get("schemas", {}).items()
                        }
                    }
                }
                self._registries[mode] = Registry().with_resource(
                    _base(mode), DRAFT4.create_resource(converted)
                )
            return self._registries[mode]

    def _validator(
        self, key: tuple[str, ...], schema: Any, mode: Mode
    ) -> jsonschema.protocols.Validator | None:
        """A cached validator for an OpenAPI schema (None when the schema is empty)."""
        with self._lock:
            if key in self._validators:
                return self._validators[key]
        converted = convert_schema(schema, mode, _base(mode))
        validator = (
            jsonschema.Draft4Validator(converted, registry=self._registry(mode)) if converted else None
        )
        with self._lock:
            self._validators[key] = validator
        return validator


def _base(mode: Mode) -> str:
    return f"urn:openapi:{mode}"


def _literal_count(template: str) -> int:
    return sum(1 for segment in template.strip("/").split("/") if not segment.startswith("{"))


def _coerce_scalar(raw: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"[+-]?\d+", raw.strip()):
        return int(raw)
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    if kind == "boolean" and raw.lower() in {"true", "false"}:
        return raw.lower() == "true"
    return raw


def _coerce_parameter(raw: list[str], schema: Mapping[str, Any]) -> Any:
    if schema.get("type") == "array":
        items = schema.get("items", {})
        return [_coerce_scalar(value, items) for value in raw]
    return _coerce_scalar(raw[0], schema)  # a repeated scalar parameter: the first one counts


def _messages(validator: jsonschema.protocols.Validator, instance: Any, limit: int = 5) -> list[str]:
    errors: Iterable[jsonschema.ValidationError] = sorted(
        validator.iter_errors(instance), key=lambda e: list(e.path)
    )
    out = []
    for error in errors:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        out.append(f"{where}: {error.message}")
        if len(out) >= limit:
            break
    return out


@cache
def load_spec(path: str, path_prefix: str = "") -> OpenAPISpec:
    """Parse and index an OpenAPI document once per process (per path and prefix)."""
    with Path(path).open(encoding="utf-8") as handle:
        return OpenAPISpec(json.load(handle), path_prefix=path_prefix)
