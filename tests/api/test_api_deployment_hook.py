"""The AfterAllowTestTraffic hook (terraform/modules/deployment/hook) against a running API.

CodeDeploy's side is botocore's Stubber: the hook must report exactly one
verdict for the deployment it was called for (moto does not emulate lifecycle
hooks). The API side is real: gunicorn serving the app, as the test listener would.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType

import boto3
import pytest
from botocore.stub import Stubber
from support.availability import REPO
from support.servers import free_port

from api.stores import open_store

HOOK = REPO / "terraform" / "modules" / "deployment" / "hook" / "after_allow_test_traffic.py"
EVENT = {"DeploymentId": "d-ABCDEF123", "LifecycleEventHookExecutionId": "hook-execution-1"}


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("after_allow_test_traffic", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_hook(hook: ModuleType, url: str, monkeypatch: pytest.MonkeyPatch, expected: str) -> dict:
    """Call the handler as Lambda would; the stub fails the test unless one verdict is sent."""
    monkeypatch.setenv("TEST_TRAFFIC_URL", url)
    monkeypatch.setenv("PROBE_ATTEMPTS", "3")
    monkeypatch.setenv("PROBE_PAUSE_SECONDS", "0.2")
    client = boto3.client(
        "codedeploy", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        stub.add_response(
            "put_lifecycle_event_hook_execution_status",
            {"lifecycleEventHookExecutionId": EVENT["LifecycleEventHookExecutionId"]},
            {
                "deploymentId": EVENT["DeploymentId"],
                "lifecycleEventHookExecutionId": EVENT["LifecycleEventHookExecutionId"],
                "status": expected,
            },
        )
        result = hook.handler(dict(EVENT), None, client=client)
        stub.assert_no_pending_responses()
    assert result["status"] == expected
    return result


def test_a_healthy_green_task_set_lets_the_deployment_go_on(
    hook: ModuleType, tmp_path: Path, start_gunicorn, monkeypatch
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    open_store(url).sync_inventory({"unique-piece": 1}, now=int(time.time()))
    node = start_gunicorn(url)
    assert run_hook(hook, node.base_url, monkeypatch, "Succeeded")["failures"] == []


def test_tasks_that_cannot_reach_their_store_fail_the_deployment(
    hook: ModuleType, tmp_path: Path, start_gunicorn, monkeypatch
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    node = start_gunicorn(f"sqlite:///{blocker}/db.sqlite3")  # alive, never ready
    failures = run_hook(hook, node.base_url, monkeypatch, "Failed")["failures"]
    assert any("/readyz answered 503" in failure for failure in failures)
    assert any("/api/v1/availability answered 503" in failure for failure in failures)


def test_nothing_listening_fails_the_deployment(hook: ModuleType, monkeypatch) -> None:
    failures = run_hook(hook, f"http://127.0.0.1:{free_port()}", monkeypatch, "Failed")["failures"]
    assert len(failures) == 2


def test_a_server_that_is_not_the_api_fails_the_deployment(
    hook: ModuleType, tmp_path: Path, start_gunicorn, monkeypatch
) -> None:
    """Something answers 200 on the test port, but it is not the API."""
    node = start_gunicorn(f"sqlite:///{tmp_path / 'db.sqlite3'}", app="api_not_the_api:app")
    failures = run_hook(hook, node.base_url, monkeypatch, "Failed")["failures"]
    assert any("did not say ready" in failure for failure in failures)
    assert any("unexpected body" in failure for failure in failures)
