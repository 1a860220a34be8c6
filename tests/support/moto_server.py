"""Start and stop a local AWS emulator (moto) over real HTTP, for any test suite.

Two flavours, because they answer different questions:

* ``start_moto(threaded=True)`` runs the stock ``moto_server`` CLI. It serves
  requests concurrently, which is fast, but its backends are not atomic under
  concurrent requests: use it for functional tests (S3, CloudFront, DynamoDB
  calls one at a time).
* ``start_moto(threaded=False)`` runs the same WSGI application on a
  single-threaded werkzeug server, so requests are handled one after another the
  way real DynamoDB serialises writes to one item. Use it whenever a test is
  about what happens when many writers race.

Each server is a subprocess bound to a free port on 127.0.0.1, polled until it
answers and stopped by its PID. Typical use in a conftest::

    from support.moto_server import aws_environment, start_moto

    @pytest.fixture(scope="session")
    def moto():
        with start_moto(threaded=True) as server:
            yield server

    def test_upload(moto, monkeypatch):
        for name, value in aws_environment(moto.endpoint_url).items():
            monkeypatch.setenv(name, value)
        s3 = boto3.client("s3")  # talks to the emulator

``python tests/support/moto_server.py --port N [--single-threaded]`` runs a
server in the foreground (that is how the subprocess is started).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

#: Region and dummy credentials that boto3 needs but moto ignores.
REGION = "us-east-1"
READY_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def aws_environment(endpoint_url: str) -> dict[str, str]:
    """Environment variables that point boto3 (in this or a child process) at moto.

    ``AWS_ENDPOINT_URL`` is honoured by botocore >= 1.31 for every service, so
    code under test needs no emulator-specific switch. The CA bundle variable is
    cleared because the emulator speaks plain HTTP.
    """
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@dataclass
class MotoServer:
    """A running moto server subprocess; stop it with ``stop()`` or a ``with`` block."""

    endpoint_url: str
    process: subprocess.Popen[bytes]
    threaded: bool
    log_path: Path | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def reset(self) -> None:
        """Forget every resource created so far (moto's own reset endpoint)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server by PID, escalating to SIGKILL if it lingers."""
        # Imported here: this file also runs as a script (the single-threaded server),
        # where the `support` package is not importable.
        from support.processes import stop_process

        stop_process(self.process, timeout, kill_timeout=timeout)

    def __enter__(self) -> MotoServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _command(port: int, threaded: bool) -> list[str]:
    if threaded:
        # The stock CLI, exactly as a developer would start it.
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    return [sys.executable, str(Path(__file__).resolve()), "--port", str(port), "--single-threaded"]


def _wait_until_ready(server: MotoServer, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"moto server exited with {server.process.returncode} before it was ready"
                + (f"; see {server.log_path}" if server.log_path else "")
            )
        try:
            with urllib.request.urlopen(f"{server.endpoint_url}/moto-api/", timeout=1):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    server.stop()
    raise TimeoutError(f"moto server at {server.endpoint_url} not ready in time")


def start_moto(threaded: bool = True, log_dir: Path | None = None) -> MotoServer:
    """Start a moto server on a free 127.0.0.1 port and return once it answers.

    ``threaded=False`` gives the single-threaded server whose writes are atomic
    (see the module docstring). Output goes to ``log_dir/moto-<port>.log`` when a
    directory is given, otherwise it is discarded.
    """
    last_error: Exception | None = None
    for _attempt in range(3):  # the free port may be taken between probe and bind
        port = free_port()
        log_path = log_dir / f"moto-{port}.log" if log_dir else None
        output = log_path.open("wb") if log_path else subprocess.DEVNULL
        env = {**os.environ, "MOTO_PORT": str(port)}
        process = subprocess.Popen(
            _command(port, threaded),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        if log_path:
            output.close()
        server = MotoServer(f"http://127.0.0.1:{port}", process, threaded, log_path)
        try:
            _wait_until_ready(server, time.monotonic() + READY_TIMEOUT_SECONDS)
        except RuntimeError as error:
            last_error = error
            continue
        return server
    raise RuntimeError(f"could not start moto server: {last_error}")


def _serve_single_threaded(port: int) -> None:
    """Serve moto's WSGI app one request at a time (the recipe from TOOLING.md)."""
    import signal

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(
        "127.0.0.1",
        port,
        DomainDispatcherApplication(create_backend_app),
        threaded=False,
        request_handler=MotoRequestHandler,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--single-threaded", action="store_true")
    args = parser.parse_args(argv)
    if args.single_threaded:
        _serve_single_threaded(args.port)
    else:
        from moto.server import main as stock_main

        stock_main(["-H", "127.0.0.1", "-p", str(args.port)])


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
