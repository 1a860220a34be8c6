"""Fixtures of the publish suites: a moto server over HTTP (shared by the session,
reset before each test), a bucket and distribution, a frozen fixture catalog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import storefront.publish.commands
from publish.harness import Edge, Publisher, Recorder, Site, create_bucket, create_distribution
from storefront.publish.remote import make_clients
from support.moto_server import MotoServer, aws_environment, start_moto


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with start_moto(threaded=True, log_dir=tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def aws(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A clean emulator, and boto3 in this process (and its children) pointed at it."""
    moto.reset()
    environment = aws_environment(moto.endpoint_url)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return environment


@pytest.fixture
def bucket(aws: dict[str, str]) -> str:
    return create_bucket()


@pytest.fixture
def edge(bucket: str) -> Edge:
    return Edge(bucket, create_distribution(bucket))


@pytest.fixture(scope="session")
def image_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Encoded image variants are cached by content hash: share them across tests."""
    return tmp_path_factory.mktemp("images")


@pytest.fixture
def site(content_dir: Path, tmp_path: Path, image_cache: Path) -> Site:
    """The fixture catalog (a private copy), frozen."""
    site = Site(content_dir, tmp_path / "work", {"IMAGE_CACHE_DIR": image_cache})
    site.refreeze()
    return site


@pytest.fixture
def publisher(site: Site, edge: Edge) -> Publisher:
    return Publisher(site, edge.bucket, edge.distribution_id)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Records the API calls of commands run in-process from now on."""
    recorder = Recorder()

    def recording_clients(**kwargs: Any) -> tuple[Any, Any]:
        session = boto3.Session()
        session.events.register("provide-client-params.*.*", recorder.hook)
        return make_clients(session=session, **kwargs)

    monkeypatch.setattr(storefront.publish.commands, "make_clients", recording_clients)
    return recorder
