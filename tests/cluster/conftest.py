"""Fixtures for the cluster drill's parts."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from cluster.scripted import ScriptedServer


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    thread = threading.Thread(target=scripted.serve_forever, daemon=True)
    thread.start()
    try:
        yield scripted
    finally:
        scripted.shutdown()
        scripted.server_close()
