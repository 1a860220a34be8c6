"""A scripted HTTP server (a balancer before failing nodes) and site.js's client in node."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE_JS = ROOT / "site" / "pages" / "static" / "site.js"
HARNESS = Path(__file__).with_name("site_client.mjs")
CLOSE = "close"  # a scripted step: read the request, then close without answering


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class ScriptedServer(ThreadingHTTPServer):
    """Answers each request with the next scripted step (the last one repeats)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: list[Answer | str] = []
        self.seen: list[Seen] = []
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def next_step(self) -> Answer | str:
        with self.lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ScriptedServer

    def _serve(self) -> None:
        import time

        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append(
            Seen(self.command, self.path, dict(self.headers), body, time.monotonic())
        )
        step = self.server.next_step()
        if step == CLOSE:
            self.close_connection = True
            return
        assert isinstance(step, Answer)
        payload = b"" if step.body is None else json.dumps(step.body).encode()
        self.send_response(step.status)
        self.send_header("Content-Type", step.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in step.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, *args: object) -> None:
        pass


def run_client(base_url: str, call: str, *args: Any) -> dict[str, Any]:
    """Call site.js's client (run in node as the drill runs it): its result and its tries."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: install the Debian package nodejs (make system-deps)")
    done = subprocess.run(
        [node, str(HARNESS), str(SITE_JS), base_url, call, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)
