"""Check HTTP responses against an OpenAPI 3.1 document.

OpenAPI 3.1 schemas are JSON Schema 2020-12, so ``jsonschema`` validates bodies
directly; ``$ref``s resolve inside the document through a ``referencing``
registry. A response conforms when its path and method are documented, its
status is listed for that operation, its media type is the documented one and
its body and documented headers match their schemas. Undocumented paths must
still answer with an RFC 9457 problem.

    checker = OpenAPIChecker.from_file("api/openapi.json")
    checker.check("GET", "/healthz", 200, headers, body_bytes)  # raises on mismatch
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOC_URI = "urn:openapi-document"


class ConformanceError(AssertionError):
    """A response the document does not allow."""


@dataclass
class OpenAPIChecker:
    document: dict[str, Any]
    _routes: list[tuple[re.Pattern[str], str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._routes = [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"), path)
            for path in self.document["paths"]
        ]
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self._registry = Registry().with_resource(DOC_URI, resource)

    @classmethod
    def from_file(cls, path: str | Path) -> OpenAPIChecker:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def template_for(self, path: str) -> str | None:
        matches = [template for pattern, template in self._routes if pattern.match(path)]
        # Prefer the most literal template when several match.
        return min(matches, key=lambda template: template.count("{"), default=None)

    def _resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in node:
            pointer = node["$ref"].removeprefix("#/")
            target: Any = self.document
            for part in pointer.split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def _validate(self, instance: Any, schema: Mapping[str, Any], what: str) -> None:
        validator = _validator(schema, self._registry)
        errors = sorted(validator.iter_errors(instance), key=lambda error: list(error.path))
        if errors:
            details = "; ".join(
                f"{'/'.join(map(str, error.path)) or '(root)'}: {error.message}" for error in errors
            )
            raise ConformanceError(f"{what} does not match its schema: {details}")

    def check(
        self,
        method: str,
        path: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
    ) -> None:
        """Raise ``ConformanceError`` unless the response is one the document allows."""
        method = method.lower()
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip()
        template = self.template_for(path)
        operation = self.document["paths"].get(template, {}).get(method) if template else None
        if operation is None or method == "head":
            # Outside the contract (unknown path, wrong method, HEAD): still a problem document.
            if status >= 400:
                if content_type != "application/problem+json":
                    raise ConformanceError(f"{method} {path} -> {status} is not problem+json")
                self._validate(
                    json.loads(body), {"$ref": "#/components/schemas/Problem"}, "problem"
                )
            return
        responses = operation["responses"]
        documented = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
        if documented is None:
            raise ConformanceError(
                f"{method.upper()} {template} answered {status}, not documented"
                f" (documented: {', '.join(sorted(responses))})"
            )
        documented = self._resolve(documented)
        for name, header in documented.get("headers", {}).items():
            header = self._resolve(header)
            value = _header(headers, name)
            if value is None:
                if header.get("required"):
                    raise ConformanceError(f"{template} {status}: header {name} missing")
                continue
            if "schema" in header:
                self._validate(value, header["schema"], f"header {name}")
        content = documented.get("content")
        if not content:
            if body:
                raise ConformanceError(f"{template} {status}: body not documented")
            return
        if content_type not in content:
            raise ConformanceError(
                f"{template} {status}: Content-Type {content_type!r}, documented {list(content)}"
            )
        schema = content[content_type].get("schema")
        if schema is not None:
            self._validate(json.loads(body), schema, f"{method.upper()} {template} {status} body")


def _validator(schema: Mapping[str, Any], registry: Registry) -> Draft202012Validator:
    """A validator whose ``#/components/...`` refs resolve against the whole document."""
    rebased = json.loads(json.dumps(schema).replace('"$ref": "#/', f'"$ref": "{DOC_URI}#/'))
    return Draft202012Validator(
        rebased, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None
