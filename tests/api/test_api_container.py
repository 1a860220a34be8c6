"""The API image: built from the root Dockerfile with podman, run read-only on loopback.

Needs podman and debootstrap (``make test`` installs them); without them this
test fails rather than skips. The base image is bootstrapped once per machine
(``make api-base-image``); the layer cache makes the build quick afterwards.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
import yaml
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


def init_args() -> list[str]:
    """Run an init as PID 1, as ECS does for the task (``initProcessEnabled``).

    ECS injects Docker's init, which is tini; Debian's static tini is the same
    program. Without an init, gunicorn is PID 1, and the kernel drops a SIGTERM
    that arrives before gunicorn has installed its handler: the container then
    ignores ``stop`` until it is killed.
    """
    tini = shutil.which("tini-static")
    assert tini, "tini-static is missing: `make test` installs Debian's tini package"
    return ["--init", "--init-path", tini]


def start_container(image: str, name: str, port: int) -> None:
    """Start the image the way the task definition runs it, on loopback only."""
    podman(
        "run",
        "--detach",
        "--name",
        name,
        *init_args(),
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


@pytest.fixture(scope="module")
def image() -> str:
    ensure_base_image()
    build_image(IMAGE, REPO)
    return IMAGE


@pytest.fixture
def container(image: str) -> Iterator[tuple[str, str]]:
    port = free_port()
    name = f"availability-api-test-{uuid.uuid4().hex[:8]}"
    start_container(image, name, port)
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
    logs = podman("logs", name).stdout
    # gunicorn exited on SIGTERM by itself, not killed at the deadline (137)
    assert (state, elapsed < 10) == ("0", True), f"{elapsed:.1f} s\n{logs}"
    assert "shutdown begun" in logs


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15, 0.3])
def test_a_container_stopped_while_it_boots_still_stops_at_once(image: str, delay: float) -> None:
    # ECS stops tasks that are still starting (a failed deployment, a scale-in).
    # Without an init as PID 1 this waited for the 10 s kill about one time in ten.
    name = f"availability-api-boot-{uuid.uuid4().hex[:8]}"
    start_container(image, name, free_port())
    try:
        time.sleep(delay)
        started = time.monotonic()
        podman("stop", "--time", "10", name)
        elapsed = time.monotonic() - started
        state = podman("inspect", name, "--format", "{{.State.ExitCode}}").stdout.strip()
        assert state != "137", podman("logs", name).stdout  # not killed at the deadline
        assert elapsed < 10
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)


def test_the_task_definition_runs_an_init_as_the_container_test_does() -> None:
    # The fixture's --init stands for this setting; without it the test would
    # prove a behaviour production does not have.
    main_tf = (REPO / "terraform/modules/api_service/main.tf").read_text()
    assert re.search(r"linuxParameters\s*=\s*\{\s*initProcessEnabled\s*=\s*true", main_tf)


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


def test_the_ci_smoke_run_starts_the_image_as_production_would() -> None:
    # GitHub's smoke run cannot be run here (no Docker engine): read it instead.
    # A setting production requires but the smoke run lacks makes the app refuse to
    # start there, and the workflow fails on every pull request.
    from api.config import PRODUCTION_REQUIRED

    workflow = yaml.safe_load((REPO / ".github/workflows/ci.yml").read_text())
    runs = [
        step["run"]
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "docker run" in step.get("run", "")
    ]
    assert len(runs) == 1
    command = runs[0].split("docker run", 1)[1]
    assert "--init" in command
    assert "--read-only" in command
    for setting in PRODUCTION_REQUIRED:
        assert f"--env API_{setting}=" in command, setting


def test_the_readme_runs_the_image_as_production_would() -> None:
    # The README's `docker run` is what a developer types first: it must start.
    from api.config import PRODUCTION_REQUIRED

    readme = (REPO / "README.md").read_text()
    command = readme.split("docker run", 1)[1].split("```", 1)[0]
    assert "--init" in command
    for setting in PRODUCTION_REQUIRED:
        assert f"-e API_{setting}=" in command, setting
