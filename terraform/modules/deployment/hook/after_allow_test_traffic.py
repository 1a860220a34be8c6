"""CodeDeploy AfterAllowTestTraffic hook: probe the replacement tasks before they get visitors.

CodeDeploy runs this Lambda once the test listener forwards to the new (green)
task set, and moves production traffic only if it reports ``Succeeded``.
``Failed`` stops the deployment and rolls back to the original tasks, so a
build that starts but cannot serve never meets a visitor.

It checks what a page needs from the API, through the test listener
(``TEST_TRAFFIC_URL``, e.g. ``http://<internal NLB>:8080``):

* ``GET /readyz`` answers 200 ``{"status": "ready"}``: the process serves and
  reaches its store;
* ``GET /api/v1/availability?ids=<probe>`` answers 200 with the documented
  shape (an unknown id is listed under ``unknown``): routing, the app and a
  store read work end to end.

Each probe is tried a few times (``PROBE_ATTEMPTS``, ``PROBE_PAUSE_SECONDS`` apart): the NLB
may still be registering the new targets when the hook starts. Only the
standard library and boto3 (in the Lambda runtime) are used.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

READY_PATH = "/readyz"
AVAILABILITY_PATH = "/api/v1/availability"
PROBE_ID = "deployment-probe"
Check = Callable[[int, bytes], str | None]


def check_ready(status: int, body: bytes) -> str | None:
    if status != 200:
        return f"{READY_PATH} answered {status}"
    if _json(body).get("status") != "ready":
        return f"{READY_PATH} did not say ready: {body[:200]!r}"
    return None


def check_availability(status: int, body: bytes) -> str | None:
    if status != 200:
        return f"{AVAILABILITY_PATH} answered {status}"
    data = _json(body)
    if not isinstance(data.get("items"), list) or data.get("unknown") != [PROBE_ID]:
        return f"{AVAILABILITY_PATH} answered an unexpected body: {body[:200]!r}"
    return None


PROBES: tuple[tuple[str, Check], ...] = (
    (READY_PATH, check_ready),
    (f"{AVAILABILITY_PATH}?ids={PROBE_ID}", check_availability),
)


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def fetch(url: str, timeout: float) -> tuple[int, bytes]:
    """Status and body of a GET; a refused connection or timeout is status 0."""
    request = urllib.request.Request(url, headers={"Cache-Control": "no-cache"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (OSError, ValueError) as error:
        return 0, str(error).encode()


def probe(base_url: str, attempts: int, timeout: float, pause: float = 1.0) -> list[str]:
    """Run every probe, each until it passes or ``attempts`` run out; return the failures."""
    failures = []
    for path, check in PROBES:
        problem: str | None = "not tried"
        for attempt in range(attempts):
            if attempt:
                time.sleep(pause)
            status, body = fetch(base_url.rstrip("/") + path, timeout)
            problem = check(status, body) if status else f"{path}: {body.decode(errors='replace')}"
            if problem is None:
                break
        if problem is not None:
            failures.append(problem)
    return failures


def codedeploy_client() -> Any:
    import boto3  # in the Lambda runtime; imported here so probing needs nothing but the stdlib

    return boto3.client("codedeploy")


def handler(event: dict[str, Any], context: Any, client: Any = None) -> dict[str, Any]:
    """Probe, then tell CodeDeploy: Succeeded, or Failed (which rolls the deployment back)."""
    failures = probe(
        os.environ["TEST_TRAFFIC_URL"],
        attempts=int(os.environ.get("PROBE_ATTEMPTS", "5")),
        timeout=float(os.environ.get("PROBE_TIMEOUT_SECONDS", "3")),
        pause=float(os.environ.get("PROBE_PAUSE_SECONDS", "1")),
    )
    status = "Failed" if failures else "Succeeded"
    print(json.dumps({"deployment": event["DeploymentId"], "status": status, "failures": failures}))
    (client or codedeploy_client()).put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )
    return {"status": status, "failures": failures}
