"""CPU cost per request, in process: the bare route against the availability route.

A steadier companion to bench/api_load.sh on a shared machine: no sockets, no
gunicorn, no wrk, only the WSGI apps called directly with one thread, and CPU
time (``time.process_time``) instead of wall time, in alternating rounds, so
other processes' load moves both numbers alike. It measures what the app code
costs; api_load.sh measures what a client sees.

Rows: the bare route (bench/api_bare_app.py), ``GET /api/v1/availability`` for
20 ids with the in-process cache on (the default) and off
(``API_AVAILABILITY_CACHE_SECONDS=0``, every request reads SQLite and encodes).
Access/metrics lines are written, to /dev/null.

Usage: .venv/bin/python bench/api_inprocess.py [requests per round, default 2000] [rounds, 5]
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

IDS = ",".join(f"bench-piece-{n:02d}" for n in range(1, 21))
Wsgi = Callable[[dict, Callable], Iterable[bytes]]


def environ(path: str, query: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def per_request_us(app: Wsgi, path: str, query: str, count: int) -> float:
    statuses = []

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        statuses.append(status)

    started = time.process_time()
    for _ in range(count):
        b"".join(app(environ(path, query), start_response))
    elapsed = time.process_time() - started
    if any(not status.startswith("200") for status in statuses):
        sys.exit(f"{path}: non-200 responses: {set(statuses)}")
    return elapsed / count * 1e6


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    work = tempfile.mkdtemp()
    os.environ["API_STORE_URL"] = f"sqlite:///{work}/availability.sqlite3"

    from api_bare_app import app as bare

    from api import create_app
    from api.stores import open_store

    store = open_store(os.environ["API_STORE_URL"])
    store.sync_inventory(dict.fromkeys(IDS.split(","), 3), now=int(time.time()))
    cached = create_app({"AVAILABILITY_CACHE_SECONDS": 1})
    uncached = create_app({"AVAILABILITY_CACHE_SECONDS": 0})
    targets = {
        "bare Flask route (constant JSON)": (bare, "/bare", ""),
        "availability, 20 ids, cache on": (cached, "/api/v1/availability", f"ids={IDS}"),
        "availability, 20 ids, cache off": (uncached, "/api/v1/availability", f"ids={IDS}"),
    }
    real_stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115 - the access lines
    try:
        samples: dict[str, list[float]] = {name: [] for name in targets}
        for app, path, query in targets.values():  # warm-up
            per_request_us(app, path, query, count // 4)
        for _ in range(rounds):
            for name, (app, path, query) in targets.items():
                samples[name].append(per_request_us(app, path, query, count))
    finally:
        sys.stdout.close()
        sys.stdout = real_stdout
    bare_us = statistics.median(samples["bare Flask route (constant JSON)"])
    print(f"{count} requests x {rounds} alternating rounds; CPU us per request (median, min)")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:34s} {median:8.0f} {min(values):8.0f}   {median / bare_us:5.2f}x bare")


if __name__ == "__main__":
    main()
