"""Fire many HTTP requests at once from several processes (for race tests).

``burst(specs, processes=5)`` splits the request specs over ``processes``
spawned processes; each starts one thread per request, and every thread in
every process waits on a shared barrier before sending, so the requests hit
the server together. Results come back in the order of ``specs``.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from support.servers import Response, request


@dataclass(frozen=True)
class RequestSpec:
    method: str
    url: str
    json_body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def send(self) -> Response:
        """Send this one request now."""
        return request(self.method, self.url, json_body=self.json_body, headers=self.headers)


def _send_all(specs: list[tuple[int, RequestSpec]], barrier: Any) -> list[tuple[int, int, bytes]]:
    results: list[tuple[int, int, bytes]] = []
    lock = threading.Lock()
    local_barrier = threading.Barrier(len(specs))

    def one(index: int, spec: RequestSpec) -> None:
        local_barrier.wait()
        try:
            response = spec.send()
            outcome = (index, response.status, response.body)
        except OSError as error:  # a refused or reset connection is a result too
            outcome = (index, -1, str(error).encode())
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=one, args=item) for item in specs]
    barrier.wait()  # every process is up: go together
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def burst(specs: Sequence[RequestSpec], processes: int = 5) -> list[tuple[int, bytes]]:
    """Send ``specs`` concurrently from ``processes`` processes; return (status, body) each."""
    context = multiprocessing.get_context("spawn")  # no fork of a threaded test runner
    indexed = list(enumerate(specs))
    shares = [indexed[offset::processes] for offset in range(processes)]
    shares = [share for share in shares if share]
    with context.Manager() as manager:
        barrier = manager.Barrier(len(shares))
        with context.Pool(len(shares)) as pool:
            parts = pool.starmap(_send_all, [(share, barrier) for share in shares])
    ordered = sorted(result for part in parts for result in part)
    return [(status, body) for _index, status, body in ordered]
