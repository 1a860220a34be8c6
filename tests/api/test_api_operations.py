"""What operators rely on: metrics lines, JSON logs, configuration, the CLI, the spec."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from flask import Flask
from openapi_spec_validator import validate
from support.api_client import place_hold
from support.availability import SPEC_PATH, START

from api import create_app
from api.config import DEFAULTS
from api.logs import utc_timestamp
from api.metrics import emf_document, encode_request_document

# --------------------------------------------------------------------------- EMF


@pytest.mark.parametrize(
    ("status", "classes"),
    [(200, (1, 0, 0)), (201, (1, 0, 0)), (304, (0, 0, 0)), (409, (0, 1, 0)), (503, (0, 0, 1))],
)
def test_each_request_counts_in_exactly_its_status_class(status: int, classes) -> None:
    document = emf_document(service="svc", timestamp_ms=1, latency_ms=2.5, status=status)
    assert (document["Status2xx"], document["Status4xx"], document["Status5xx"]) == classes


def test_an_emf_document_follows_the_specification_with_the_names_alarms_use() -> None:
    document = emf_document(
        service="availability-api",
        timestamp_ms=1_700_000_000_000,
        latency_ms=12.3456,
        status=201,
        counters={"HoldsCreated": 1, "HoldConflicts": 0},
    )
    directive = document["_aws"]
    assert directive["Timestamp"] == 1_700_000_000_000
    [metrics] = directive["CloudWatchMetrics"]
    assert metrics["Namespace"] == "SculptureStore/API"
    assert metrics["Dimensions"] == [["Service"]]
    assert document["Service"] == "availability-api"
    units = {metric["Name"]: metric["Unit"] for metric in metrics["Metrics"]}
    assert units == {
        "Latency": "Milliseconds",
        "Status2xx": "Count",
        "Status4xx": "Count",
        "Status5xx": "Count",
        "HoldsCreated": "Count",
        "HoldConflicts": "Count",
    }
    # Every declared metric has a numeric value at the top level (an EMF rule).
    assert all(isinstance(document[name], int | float) for name in units)
    assert document["Latency"] == 12.346


@pytest.mark.parametrize(
    ("status", "counters", "path"),
    [
        (200, None, "/api/v1/availability"),
        (201, {"HoldsCreated": 1}, "/api/v1/holds"),
        (409, {"HoldConflicts": 1}, "/api/v1/holds"),
        (503, {}, '/api/v1/odd"path\\with-\u00e9-\u2603'),
    ],
)
def test_the_request_line_encoder_writes_exactly_what_json_dumps_would(
    status: int, counters: dict | None, path: str
) -> None:
    """The hot-path encoder and the documented shape (emf_document) cannot drift apart."""
    arguments = {
        "service": 'availability-"api"',
        "timestamp_ms": 1_700_000_000_123,
        "latency_ms": 0.123456,
        "status": status,
        "counters": counters,
    }
    properties = {"method": "POST", "path": path, "status": status}
    expected = json.dumps(emf_document(**arguments, properties=properties), separators=(",", ":"))
    encoded = encode_request_document(**arguments, method="POST", path=path)
    assert "{" + encoded + "}" == expected


@pytest.mark.parametrize(
    "now", [0.0, 1_800_000_000.0, 1_800_000_000.999, 1_800_000_001.0005, 1_800_086_399.5]
)
def test_log_times_are_utc_to_the_millisecond(now: float) -> None:
    expected = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(now * 1000) // 1000))
    assert utc_timestamp(now) == f"{expected}.{int(now * 1000) % 1000:03d}Z"


def stdout_records(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def test_every_api_request_writes_one_json_line_that_is_an_emf_document(
    client, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    capsys.readouterr()
    place_hold(client, visitor="198.51.100.7")
    place_hold(client)
    place_hold(client, visitor="198.51.100.7")  # the same visitor, the same piece: 429
    client.get("/api/v1/availability?ids=unique-piece", headers={"X-Request-Id": "trace-me"})
    client.get("/healthz")  # probes are not counted
    created, conflict, limited, read = stdout_records(capsys)
    assert (created["HoldsCreated"], created["Status2xx"]) == (1, 1)
    assert (conflict["HoldConflicts"], conflict["Status4xx"], conflict["status"]) == (1, 1, 409)
    assert (limited["HoldsLimited"], limited["Status4xx"], limited["status"]) == (1, 1, 429)
    assert "HoldsCreated" not in read
    assert read["request_id"] != "trace-me" and read["client_request_id"] == "trace-me"
    assert read["path"] == "/api/v1/availability"
    assert read["level"] == "info"
    assert read["Latency"] >= 0


def test_the_service_dimension_comes_from_the_environment(
    tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("API_SERVICE_NAME", "availability-api-staging")
    app = create_app({"STORE_URL": f"sqlite:///{tmp_path}/db.sqlite3"})
    capsys.readouterr()
    app.test_client().get("/api/v1/availability?ids=x")
    [record] = stdout_records(capsys)
    assert record["Service"] == "availability-api-staging"


def test_an_unexpected_error_is_logged_with_its_traceback(
    app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode() -> None:
        raise RuntimeError("boom")

    app.add_url_rule("/api/v1/explode", "explode", explode)
    capsys.readouterr()
    response = app.test_client().get("/api/v1/explode")
    error, access = stdout_records(capsys)
    assert error["level"] == "error"
    assert "RuntimeError: boom" in error["exception"]
    assert error["request_id"] == access["request_id"] == response.headers["X-Request-Id"]
    assert access["Status5xx"] == 1


# --------------------------------------------------------------------------- configuration


def test_configuration_comes_from_api_prefixed_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("API_STORE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    monkeypatch.setenv("API_HOLD_TTL_SECONDS", "90")
    monkeypatch.setenv("API_STAFF_TOKEN", "0123e4")  # would be a float if parsed as JSON
    app = create_app()
    assert app.config["HOLD_TTL_SECONDS"] == 90
    assert app.config["STAFF_TOKEN"] == "0123e4"
    assert app.config["STORE_URL"].endswith("x.sqlite3")


def test_the_defaults_match_the_documented_contract() -> None:
    assert DEFAULTS["HOLD_TTL_SECONDS"] == 1800
    assert DEFAULTS["STAFF_TOKEN"] is None
    assert DEFAULTS["SERVICE_NAME"] == "availability-api"


@pytest.mark.parametrize("ttl", [0, -5, "soon", True])
def test_a_nonsense_hold_ttl_stops_the_app_from_starting(tmp_path: Path, ttl) -> None:
    with pytest.raises(ValueError, match="HOLD_TTL_SECONDS"):
        create_app({"STORE_URL": f"sqlite:///{tmp_path}/db", "HOLD_TTL_SECONDS": ttl})


@pytest.mark.parametrize(
    "url", ["postgres://db/x", "sqlite:///", "dynamodb://", "dynamodb://table/extra", "nonsense"]
)
def test_an_unusable_store_url_stops_the_app_from_starting(url: str) -> None:
    with pytest.raises(ValueError, match="STORE_URL"):
        create_app({"STORE_URL": url})


def test_a_relative_sqlite_path_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = create_app({"STORE_URL": "sqlite:///data/availability.sqlite3"})
    app.test_client().get("/readyz")
    assert (tmp_path / "data" / "availability.sqlite3").exists()


# --------------------------------------------------------------------------- CLI


def write_inventory(path: Path, sculptures: dict, version: int = 1) -> Path:
    path.write_text(json.dumps({"version": version, "sculptures": sculptures}))
    return path


def test_sync_inventory_adds_pieces_and_is_idempotent(app: Flask, tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "inventory.json", {"unique-piece": 1, "new-piece": 2})
    runner = app.test_cli_runner()
    first = runner.invoke(args=["sync-inventory", str(inventory)])
    assert first.exit_code == 0, first.output
    assert "1 added" in first.output and "added: new-piece" in first.output
    assert "kept off sale: large-edition" in first.output
    second = runner.invoke(args=["sync-inventory", str(inventory)])
    assert "0 added, 0 resized, 2 unchanged" in second.output
    counts = app.extensions["availability_store"].availability(["new-piece"], START)
    assert counts["new-piece"].edition_size == 2


def test_sync_inventory_refuses_to_shrink_below_held_plus_sold(
    app: Flask, client, tmp_path: Path
) -> None:
    for _ in range(2):
        assert place_hold(client, "edition-of-three").status_code == 201
    inventory = write_inventory(tmp_path / "inventory.json", {"edition-of-three": 1})
    result = app.test_cli_runner().invoke(args=["sync-inventory", str(inventory)])
    assert result.exit_code == 1
    assert "edition-of-three: edition_size 1 < held 2 + sold 0" in result.output
    counts = app.extensions["availability_store"].availability(["edition-of-three"], START)
    assert counts["edition-of-three"].edition_size == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ('{"version": 2, "sculptures": {}}', '"version": 1'),
        ('{"version": 1, "sculptures": []}', "must map slugs"),
        ('{"version": 1, "sculptures": {"Bad Slug": 1}}', "not a valid slug"),
        ('{"version": 1, "sculptures": {"a": 0, "b": "2"}}', "a: edition size must be"),
    ],
)
def test_sync_inventory_explains_a_bad_file(
    app: Flask, tmp_path: Path, content: str, message: str
) -> None:
    inventory = tmp_path / "inventory.json"
    inventory.write_text(content)
    result = app.test_cli_runner().invoke(args=["sync-inventory", str(inventory)])
    assert result.exit_code == 1
    assert message in result.output


def test_sync_inventory_explains_a_missing_file(app: Flask, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(args=["sync-inventory", str(tmp_path / "nope.json")])
    assert result.exit_code == 1
    assert "nope.json" in result.output


def test_init_store_is_idempotent(app: Flask) -> None:
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["init-store"])
        assert result.exit_code == 0, result.output
        assert "store ready" in result.output


# --------------------------------------------------------------------------- the spec


def test_the_openapi_document_is_valid_openapi_3_1() -> None:
    document = json.loads(SPEC_PATH.read_text())
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_openapi_document_describes_exactly_the_routes_the_app_serves(app: Flask) -> None:
    document = json.loads(SPEC_PATH.read_text())
    documented = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    served = {
        (rule.rule.replace("<", "{").replace(">", "}"), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served == documented


def test_the_availability_status_maps_onto_schema_org(tmp_path: Path) -> None:
    """The spec tells the site which schema.org availability each status means."""
    document = json.loads(SPEC_PATH.read_text())
    status = document["components"]["schemas"]["Availability"]["properties"]["status"]
    assert status["enum"] == ["available", "reserved", "sold_out"]
    for name in ("InStock", "Reserved", "SoldOut"):
        assert name in status["description"]


def test_the_gunicorn_settings_meet_the_operational_contract(monkeypatch) -> None:
    """Graceful timeout 30 s (matched by the NLB), keep-alive above the NLB idle timeout."""
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    monkeypatch.setenv("GUNICORN_THREADS", "5")
    settings: dict = {}
    path = SPEC_PATH.parent / "gunicorn.conf.py"
    exec(compile(path.read_text(), str(path), "exec"), settings)
    assert (settings["workers"], settings["threads"]) == (3, 5)
    assert settings["graceful_timeout"] == 30
    assert settings["keepalive"] > 350
    assert settings["bind"] == "0.0.0.0:8000"
    assert settings["control_socket_disable"] is True
    assert settings["errorlog"] == "-"


# --------------------------------------------------------------------------- production


PRODUCTION_ENV = {
    "API_ENV": "production",
    "API_STORE_URL": "sqlite:///{tmp}/db.sqlite3",
    "API_STAFF_TOKEN": "a-staff-token",
    "API_SERVICE_NAME": "availability-api",
    "API_TRUSTED_PROXY_HOPS": "1",
}


@pytest.mark.parametrize(
    "missing", ["API_STORE_URL", "API_STAFF_TOKEN", "API_SERVICE_NAME", "API_TRUSTED_PROXY_HOPS"]
)
def test_in_production_the_app_refuses_to_start_without_each_required_setting(
    tmp_path: Path, monkeypatch, missing: str
) -> None:
    from api.config import PRODUCTION_REQUIRED

    assert missing.removeprefix("API_") in PRODUCTION_REQUIRED
    for name, value in PRODUCTION_ENV.items():
        if name != missing:
            monkeypatch.setenv(name, value.format(tmp=tmp_path))
    monkeypatch.delenv(missing, raising=False)
    with pytest.raises(ValueError, match=missing):
        create_app()
    monkeypatch.setenv(missing, "  ")  # blank is missing too
    with pytest.raises(ValueError, match=missing):
        create_app()


def test_in_production_the_app_starts_with_every_setting_given(tmp_path: Path, monkeypatch) -> None:
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    app = create_app()
    assert app.config["TRUSTED_PROXY_HOPS"] == 1
    assert app.config["STORE_URL"].startswith("sqlite:///")


def test_the_image_runs_in_production_mode_with_no_default_store_and_a_pinned_base() -> None:
    dockerfile = (SPEC_PATH.parents[1] / "Dockerfile").read_text()
    assert "API_ENV=production" in dockerfile
    assert "API_STORE_URL" not in dockerfile.split("ENV PATH", 1)[1].split("WORKDIR", 1)[0]
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.M)
    assert base and re.search(r"@sha256:[0-9a-f]{64}$", base.group(1)), "pin the base by digest"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TRUSTED_PROXY_HOPS", -1),
        ("TRUSTED_PROXY_HOPS", "1"),
        ("HOLDS_PER_VISITOR", 0),
        ("HOLD_REPEAT_SECONDS", 0),
        ("STORE_TIME_BUDGET_SECONDS", 0),
        ("STORE_TIME_BUDGET_SECONDS", 29),  # would outlive CloudFront's 30 s with retries
        ("ENV", "staging"),
    ],
)
def test_a_nonsense_setting_stops_the_app_from_starting(tmp_path: Path, name: str, value) -> None:
    with pytest.raises(ValueError, match=name):
        create_app({"STORE_URL": f"sqlite:///{tmp_path}/db", name: value})
