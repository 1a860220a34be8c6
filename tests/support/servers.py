"""Run an HTTP server as a subprocess for a test, and talk to it with the stdlib.

``ServerProcess.start(argv, port=...)`` launches the command, polls a URL until
it answers, and ``stop()`` sends SIGTERM to that PID only (escalating to
SIGKILL after a timeout), returning the exit code, so a test can also assert a
graceful shutdown. ``request`` is a tiny http.client wrapper that never raises
on an HTTP error status.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from support.moto_server import free_port
from support.processes import stop_process

__all__ = ["Response", "ServerProcess", "free_port", "request"]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Response:
    """Send one request on a fresh connection and return status, headers and body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    send_headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        send_headers.setdefault("Content-Type", "application/json")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, path or "/", body=body, headers=send_headers)
        response = connection.getresponse()
        return Response(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


@dataclass
class ServerProcess:
    """A server subprocess listening on ``base_url``."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path | None

    @classmethod
    def launch(
        cls,
        argv: Sequence[str],
        *,
        port: int,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        log_path: Path | None = None,
    ) -> ServerProcess:
        """Start the process without waiting (launch several, then ``wait_ready`` each)."""
        output = log_path.open("wb") if log_path else subprocess.DEVNULL
        process = subprocess.Popen(
            list(argv),
            env={**os.environ, **(env or {})},
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        if log_path:
            output.close()
        return cls(process, f"http://127.0.0.1:{port}", log_path)

    def wait_ready(self, ready_path: str = "/healthz", timeout: float = 30.0) -> ServerProcess:
        """Poll ``ready_path`` until it answers below 500; fail early if the process dies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log()}")
            try:
                if request("GET", self.base_url + ready_path, timeout=2).status < 500:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"server not ready in {timeout}s: {self.log()}")

    @classmethod
    def start(
        cls,
        argv: Sequence[str],
        *,
        port: int,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        ready_path: str = "/healthz",
        log_path: Path | None = None,
        timeout: float = 30.0,
    ) -> ServerProcess:
        """Launch and wait until ready."""
        server = cls.launch(argv, port=port, env=env, cwd=cwd, log_path=log_path)
        return server.wait_ready(ready_path, timeout)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-5000:]
        return ""

    def url(self, path: str) -> str:
        return self.base_url + path

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.process.send_signal(signum)

    def stop(self, timeout: float = 35.0) -> int:
        """SIGTERM, wait up to ``timeout`` s, then SIGKILL; return the exit code."""
        return stop_process(self.process, timeout)
