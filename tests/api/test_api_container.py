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


# What the task definition gives the container (a local store, as no AWS is reachable).
PRODUCTION_SETTINGS = {
    "API_STORE_URL": "sqlite:////tmp/availability.sqlite3",
    "API_STAFF_TOKEN": "container-staff",
    "API_SERVICE_NAME": "availability-api",
    "API_TRUSTED_PROXY_HOPS": "1",
}


def env_args(settings: dict[str, str]) -> list[str]:
    return [arg for name, value in settings.items() for arg in ("--env", f"{name}={value}")]


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
        *env_args(PRODUCTION_SETTINGS),
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
        headers={"Idempotency-Key": str(uuid.uuid4()), "X-Forwarded-For": "198.51.100.1"},
    )
    assert hold.status == 201
    second = request(
        "POST",
        base_url + "/api/v1/holds",
        json_body={"sculpture": "unique-piece"},
        headers={"Idempotency-Key": str(uuid.uuid4()), "X-Forwarded-For": "198.51.100.2"},
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


def test_the_image_holds_no_package_installer_or_build_backend(container) -> None:
    name, _base_url = container
    probe = (
        "import importlib.util as u;"
        " print([m for m in ('pip', 'setuptools', 'wheel') if u.find_spec(m)])"
    )
    for python in ("python3", "/usr/bin/python3", "/usr/local/bin/python3"):
        found = podman("exec", name, python, "-c", probe, check=False)
        if found.returncode == 0:  # this base has that interpreter
            assert found.stdout.strip() == "[]", (python, found.stdout)
    assert podman("exec", name, "ls", "/usr/share/python-wheels", check=False).returncode != 0


@pytest.mark.parametrize("missing", sorted(PRODUCTION_SETTINGS))
def test_the_container_refuses_to_start_without_a_production_setting(
    image: str, missing: str
) -> None:
    """Without its store a task would run a private empty store and sell every edition again."""
    settings = {name: value for name, value in PRODUCTION_SETTINGS.items() if name != missing}
    name = f"availability-api-refuses-{uuid.uuid4().hex[:8]}"
    started = podman(
        "run", "--name", name, "--read-only", "--tmpfs", "/tmp:rw,size=16m", "--no-healthcheck",
        *env_args(settings), image, check=False, timeout=120,
    )  # fmt: skip
    try:
        logs = podman("logs", name, check=False).stdout + started.stdout + started.stderr
        assert started.returncode != 0
        assert missing in logs
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)
