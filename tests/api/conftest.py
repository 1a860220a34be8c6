"""Fixtures for the availability API suites.

Every store-backed fixture is parametrised over both stores, so one suite is
the contract for SQLite and DynamoDB alike. DynamoDB runs on the
single-threaded moto server (atomic like real DynamoDB, see TOOLING.md),
reached over HTTP through the standard ``AWS_ENDPOINT_URL``. Every response
the Flask test client sees is checked against ``api/openapi.json``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support.availability import (
    CATALOG,
    SPEC_PATH,
    STAFF_TOKEN,
    START,
    FakeClock,
    launch_node,
    new_table,
)
from support.moto_server import MotoServer, aws_environment, start_moto
from support.openapi import OpenAPIChecker
from support.servers import ServerProcess

from api import create_app
from api.stores import Store, open_store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def openapi() -> OpenAPIChecker:
    return OpenAPIChecker.from_file(SPEC_PATH)


@pytest.fixture(scope="session")
def moto_atomic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """The single-threaded moto server: writes are serialised as in real DynamoDB."""
    with start_moto(threaded=False, log_dir=tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def aws_env(moto_atomic: MotoServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = aws_environment(moto_atomic.endpoint_url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return env


@pytest.fixture(params=["sqlite", "dynamodb"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'availability.sqlite3'}"
    request.getfixturevalue("aws_env")
    return f"dynamodb://{new_table()}"


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    store = open_store(store_url)
    store.initialize()
    store.sync_inventory(CATALOG, now=START)
    yield store
    store.close()


class CheckedClient(FlaskClient):
    """A test client that fails the test on any response the OpenAPI document forbids."""

    checker: OpenAPIChecker

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().open(*args, **kwargs)
        request = response.request
        self.checker.check(
            request.method, request.path, response.status_code, response.headers, response.data
        )
        return response


@pytest.fixture
def app(store_url: str, clock: FakeClock, openapi: OpenAPIChecker) -> Iterator[Flask]:
    app = create_app({"STORE_URL": store_url, "STAFF_TOKEN": STAFF_TOKEN, "CLOCK": clock})
    app.extensions["availability_store"].sync_inventory(CATALOG, now=START)
    app.test_client_class = type("Checked", (CheckedClient,), {"checker": openapi})
    yield app
    app.extensions["availability_store"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --------------------------------------------------------------------------- real servers


@pytest.fixture
def start_gunicorn(tmp_path: Path) -> Iterator:
    """Start API nodes under gunicorn (see ``launch_node``); all are stopped at the end."""
    started: list[ServerProcess] = []

    def start(store_url: str, app: str = "api.wsgi:app", **env: str) -> ServerProcess:
        node = launch_node(store_url, tmp_path, app, **env)
        started.append(node)
        return node.wait_ready()

    yield start
    for node in started:
        node.stop()
