"""What a visitor gets for a URL, resolved the way the distribution will resolve it.

The distribution is read from terraform/modules/static_site (its behaviours and
path patterns, each behaviour's origin and origin path, its viewer-request
function's JavaScript, its custom error responses), never restated here. For a
URL: pick the behaviour by path pattern (first match in order, else the
default), run the behaviour's viewer-request function in node
(tests/cloudfront/runtime.js), and either return the response the
function generated or fetch `origin_path + uri` from the bucket; a missing key
is S3's 403 (CloudFront may not list the bucket), which the distribution's
custom error response turns into its error page. CloudFront's cache is not
simulated.

    resolve("/loja/esculturas/onda", fetch) -> Response(301, {"location": ...})
"""

from __future__ import annotations

import atexit
import fnmatch
import json
import re
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from support.paths import PROJECT

MODULE = PROJECT / "terraform" / "modules" / "static_site"
RUNTIME = Path(__file__).with_name("runtime.js")
NODE = "/usr/bin/node"

#: fetch(bucket key) -> (body, headers) or None when the key does not exist.
Fetch = Callable[[str], tuple[bytes, dict[str, str]] | None]


@dataclass(frozen=True)
class Behaviour:
    pattern: str | None  # None: the default behaviour
    origin_id: str
    origin_path: str | None  # None: not an S3 origin (the API)
    viewer_request: Path | None  # the function's source, if any


@dataclass(frozen=True)
class ErrorResponse:
    error_code: int
    response_code: int
    page_template: str  # as written in the module, e.g. ${var.site_path}404.html
    page: str = ""  # with the variables in force


@dataclass(frozen=True)
class Distribution:
    behaviours: tuple[Behaviour, ...]  # ordered ones first, the default last
    errors: dict[int, ErrorResponse]
    defaults: dict[str, Any]  # the module's variable defaults, for ${var.x} in values

    def with_variables(self, **values: Any) -> Distribution:
        """The distribution as a root passing these variables would configure it."""
        variables = {**self.defaults, **values}
        errors = {
            code: replace(e, page=_interpolate(e.page_template, variables))
            for code, e in self.errors.items()
        }
        return Distribution(self.behaviours, errors, variables)

    def behaviour(self, uri: str) -> Behaviour:
        for behaviour in self.behaviours:
            if behaviour.pattern is None or fnmatch.fnmatchcase(uri, behaviour.pattern):
                return behaviour
        raise AssertionError("the default behaviour matches everything")


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    key: str | None = None  # the bucket key served, if any
    origin: str | None = None  # the origin the request went to


_PARSING = threading.Lock()


def distribution() -> Distribution:
    """The static_site module's distribution, parsed from its Terraform (once).

    Under a lock: python-hcl2 keeps its serialization options in shared state,
    so two threads parsing at once can get each other's string quoting.
    """
    with _PARSING:
        return _distribution()


@cache
def _distribution() -> Distribution:
    from terraform.tfestate import load_estate, one

    site = load_estate().modules["static_site"]
    resource = site.resource("aws_cloudfront_distribution")
    functions = site.resources("aws_cloudfront_function")
    origins = {origin["origin_id"]: origin for origin in resource["origin"]}
    locals_ = {k: v for block in site._blocks("locals") for k, v in block.items()}

    def origin_id(value: str) -> str:
        match = re.fullmatch(r"\$\{local\.(\w+)\}", value)
        return locals_[match.group(1)] if match else value

    def origin_of(value: str) -> dict[str, Any]:
        wanted = origin_id(value)
        for key, origin in origins.items():
            if origin_id(key) == wanted:
                return origin
        raise AssertionError(f"no origin {wanted}")

    def function_file(associations: list[dict[str, Any]]) -> Path | None:
        for association in associations:
            if association["event_type"] == "viewer-request":
                name = re.fullmatch(
                    r"\$\{aws_cloudfront_function\.(\w+)\.arn\}", association["function_arn"]
                )
                assert name, association
                code = functions[name.group(1)]["code"]
                file = re.fullmatch(r'\$\{file\("\$\{path\.module\}/([^"]+)"\)\}', code)
                assert file, f"function code must be file(...) of the module: {code}"
                return MODULE / file.group(1)
        return None

    def behaviour(block: dict[str, Any], pattern: str | None) -> Behaviour:
        origin = origin_of(block["target_origin_id"])
        s3 = "vpc_origin_config" not in origin and "custom_origin_config" not in origin
        return Behaviour(
            pattern,
            origin_id(block["target_origin_id"]),
            origin.get("origin_path", "") if s3 else None,
            function_file(block.get("function_association", [])),
        )

    ordered = [behaviour(b, b["path_pattern"]) for b in resource.get("ordered_cache_behavior", [])]
    default = behaviour(one(resource["default_cache_behavior"]), None)
    errors = {
        int(e["error_code"]): ErrorResponse(
            int(e["error_code"]), int(e["response_code"]), e["response_page_path"]
        )
        for e in resource.get("custom_error_response", [])
    }
    defaults = {name: v.get("default") for name, v in site.variables.items()}
    return Distribution((*ordered, default), errors, defaults).with_variables()


def _interpolate(value: str, variables: dict[str, Any]) -> str:
    return re.sub(r"\$\{var\.(\w+)\}", lambda m: str(variables[m.group(1)]), value)


class _Node:
    """One node process running every function call of the test session."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None

    def call(self, path: Path, event: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = subprocess.Popen(
                    [NODE, str(RUNTIME)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                atexit.register(self.stop)
            assert self._process.stdin and self._process.stdout
            self._process.stdin.write(json.dumps({"path": str(path), "event": event}) + "\n")
            self._process.stdin.flush()
            answer = json.loads(self._process.stdout.readline())
        if "error" in answer:
            raise RuntimeError(f"{path.name} threw: {answer['error']}")
        return answer["result"]

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.stdin.close()  # type: ignore[union-attr]
            self._process.wait(timeout=10)


NODE_RUNNER = _Node()


def viewer_request_event(url: str, method: str = "GET") -> dict[str, Any]:
    """The event CloudFront passes a viewer-request function for a URL path (+ query).

    Query names and values are given as the viewer sent them (still percent-encoded);
    a repeated name gets a multiValue list.
    """
    parts = urlsplit(url)
    querystring: dict[str, dict[str, Any]] = {}
    pairs = [item.partition("=") for item in parts.query.split("&") if item]
    for name, _, value in pairs:
        entry = querystring.get(name)
        if entry is None:
            querystring[name] = {"value": value}
        else:
            entry.setdefault("multiValue", [{"value": entry["value"]}]).append({"value": value})
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request", "distributionId": "ETEST"},
        "viewer": {"ip": "198.51.100.7"},
        "request": {
            "method": method,
            "uri": parts.path,
            "querystring": querystring,
            "headers": {"host": {"value": "teste.example"}},
            "cookies": {},
        },
    }


def run_function(path: Path, url: str) -> dict[str, Any]:
    return NODE_RUNNER.call(path, viewer_request_event(url))


def resolve(
    url: str, fetch: Fetch, *, follow_errors: bool = True, dist: Distribution | None = None
) -> Response:
    """The response a visitor gets for `url` (a path with an optional query string)."""
    dist = dist or distribution()
    path = urlsplit(url).path
    chosen = dist.behaviour(path)
    uri = path
    if chosen.viewer_request is not None:
        result = run_function(chosen.viewer_request, url)
        if "statusCode" in result:  # the function answered itself
            headers = {name: h["value"] for name, h in (result.get("headers") or {}).items()}
            return Response(int(result["statusCode"]), headers, origin=chosen.origin_id)
        uri = result["uri"]
    if chosen.origin_path is None:
        return Response(0, origin=chosen.origin_id)  # the API: not resolved here
    key = chosen.origin_path.lstrip("/") + ("/" if chosen.origin_path else "") + uri.lstrip("/")
    key = unquote(key.lstrip("/"))
    found = fetch(key)
    if found is not None:
        return Response(200, found[1], found[0], key, chosen.origin_id)
    error = dist.errors.get(403)  # S3 denies what CloudFront may not list: a missing key
    if error is None or not follow_errors:
        return Response(403, key=key, origin=chosen.origin_id)
    page = resolve(error.page, fetch, follow_errors=False, dist=dist)
    return Response(error.response_code, page.headers, page.body, page.key, chosen.origin_id)
