"""The API image: built from the root Dockerfile with podman, run read-only on loopback.

Needs podman and debootstrap (``make test`` installs them); without them this
test fails rather than skips. The base image is bootstrapped once per machine
(``make api-base-image``); the layer cache makes the build quick afterwards.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
from support.availability import REPO
from support.moto_server import free_port
from support.podman import build_image, ensure_base_image, podman, podman_env
from support.servers import request

IMAGE = "localhost/sculpture-store/availability-api:test"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def image() -> str:
    ensure_base_image()
    build_image(IMAGE, REPO)
    return IMAGE


@pytest.fixture
def container(image: str) -> Iterator[tuple[str, str]]:
    port = free_port()
    name = f"availability-api-test-{uuid.uuid4().hex[:8]}"
    podman(
        "run",
        "--detach",
        "--name",
        name,
        # Read-only root; only an explicit /tmp is writable (the SQLite file lives there).
        "--read-only",
        "--read-only-tmpfs=false",
        "--tmpfs",
        "/tmp:rw,size=64m",
        "--no-healthcheck",  # podman would need systemd timers; the command is tested below
        "--env",
        "API_STAFF_TOKEN=container-staff",
        "--publish",
        f"127.0.0.1:{port}:8000",
        image,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if request("GET", base_url + "/healthz", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield name, base_url
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)


def test_the_image_serves_as_a_non_root_user_on_a_read_only_root(container) -> None:
    name, base_url = container
    assert request("GET", base_url + "/healthz").json() == {"status": "ok"}
    assert request("GET", base_url + "/readyz").json() == {"status": "ready"}
    uid = podman("exec", name, "python3", "-c", "import os; print(os.getuid(), os.getgid())")
    assert uid.stdout.split() == ["10001", "10001"]
    # Writing outside /tmp fails: the root filesystem really is read-only.
    probe = podman("exec", name, "touch", "/app/probe", check=False)
    assert probe.returncode != 0
    # The health check command the ECS task definition uses works in the image.
    assert podman("exec", name, "python3", "-m", "api.healthcheck", check=False).returncode == 0


def test_the_container_keeps_holds_in_its_writable_tmp(container) -> None:
    name, base_url = container
    inventory = json.dumps({"version": 1, "sculptures": {"unique-piece": 1}})
    synced = subprocess.run(
        ["podman", "exec", "-i", name, "flask", "--app", "api", "sync-inventory", "/dev/stdin"],
        input=inventory,
        text=True,
        capture_output=True,
        env=podman_env(),
        check=True,
    )
    assert "1 added" in synced.stdout
    hold = request(
        "POST",
        base_url + "/api/v1/holds",
        json_body={"sculpture": "unique-piece"},
        headers={"Idempotency-Key": "container"},
    )
    assert hold.status == 201
    second = request(
        "POST",
        base_url + "/api/v1/holds",
        json_body={"sculpture": "unique-piece"},
        headers={"Idempotency-Key": "other"},
    )
    assert second.status == 409


def test_podman_stop_ends_the_container_gracefully_within_10_seconds(container) -> None:
    name, _base_url = container
    started = time.monotonic()
    podman("stop", "--time", "10", name)
    elapsed = time.monotonic() - started
    state = podman("inspect", name, "--format", "{{.State.ExitCode}}").stdout.strip()
    assert state == "0"  # gunicorn exited on SIGTERM by itself, not killed (137)
    assert elapsed < 10
    logs = podman("logs", name).stdout
    assert "shutdown begun" in logs
