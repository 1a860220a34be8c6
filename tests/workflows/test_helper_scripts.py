"""The scripts the workflows run (.github/scripts), called as the workflows call them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import PROJECT

SCRIPTS = PROJECT / ".github" / "scripts"
DESCRIBED = {
    "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:4",
    "family": "api",
    "revision": 4,
    "status": "ACTIVE",
    "compatibilities": ["EC2", "FARGATE"],
    "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
    "registeredAt": "2026-01-01T00:00:00Z",
    "registeredBy": "arn:aws:sts::123456789012:assumed-role/deploy/x",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "256",
    "containerDefinitions": [
        {"name": "sidecar", "image": "sidecar:1"},
        {"name": "api", "image": "repo/api:old", "user": "10001"},
    ],
}


def _run(script: str, *args: str, cwd: Path = PROJECT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_task_definition_gets_the_image_and_loses_what_aws_adds(tmp_path: Path) -> None:
    (tmp_path / "described.json").write_text(json.dumps(DESCRIBED))
    result = _run(
        "codedeploy.py", "task-definition", str(tmp_path / "described.json"),
        "--container", "api", "--image", "1234.dkr.ecr.eu-west-1.amazonaws.com/api:abc123",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rendered = json.loads(result.stdout)
    assert rendered == {
        "family": "api",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "containerDefinitions": [
            {"name": "sidecar", "image": "sidecar:1"},
            {
                "name": "api",
                "image": "1234.dkr.ecr.eu-west-1.amazonaws.com/api:abc123",
                "user": "10001",
            },
        ],
    }


@pytest.mark.parametrize(
    ("described", "container", "image", "message"),
    [
        ({"family": "api"}, "api", "r/api:1", "containerDefinitions: missing"),
        (DESCRIBED, "web", "r/api:1", "expected one container named 'web'"),
        (DESCRIBED, "api", "r/api", "is not a repository URL with a tag"),
        (DESCRIBED, "api", "r/api:1 x", "is not a repository URL with a tag"),
    ],
)
def test_task_definition_refuses_what_cannot_be_deployed(
    tmp_path: Path, described: dict, container: str, image: str, message: str
) -> None:
    (tmp_path / "d.json").write_text(json.dumps(described))
    result = _run(
        "codedeploy.py", "task-definition", str(tmp_path / "d.json"),
        "--container", container, "--image", image,
    )  # fmt: skip
    assert result.returncode == 2 and message in result.stderr and result.stdout == ""


def test_task_definition_names_an_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    result = _run("codedeploy.py", "task-definition", str(tmp_path / "bad.json"),
                  "--container", "api", "--image", "r/api:1")  # fmt: skip
    assert result.returncode == 2 and f"{tmp_path / 'bad.json'}: not JSON" in result.stderr


DEPLOYMENT = [
    "--task-definition-arn", "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:5",
    "--container", "api", "--port", "8000", "--hook", "api-test-traffic-hook",
    "--application", "app", "--group", "group", "--description", "run 1",
]  # fmt: skip


def test_deployment_carries_an_ecs_appspec_with_the_test_traffic_hook() -> None:
    result = _run("codedeploy.py", "deployment", *DEPLOYMENT)
    assert result.returncode == 0, result.stderr
    request = json.loads(result.stdout)
    assert request["applicationName"] == "app" and request["deploymentGroupName"] == "group"
    assert request["revision"]["revisionType"] == "AppSpecContent"
    spec = json.loads(request["revision"]["appSpecContent"]["content"])
    assert spec == {
        "version": 0.0,
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": DEPLOYMENT[1],
                        "LoadBalancerInfo": {"ContainerName": "api", "ContainerPort": 8000},
                    },
                }
            }
        ],
        "Hooks": [{"AfterAllowTestTraffic": "api-test-traffic-hook"}],
    }


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--task-definition-arn", "api:5", "is not a task definition ARN"),
        ("--port", "70000", "is not a TCP port"),
        ("--hook", "", "no AfterAllowTestTraffic function"),
        ("--application", "", "application: empty"),
    ],
)
def test_deployment_refuses_incomplete_inputs(option: str, value: str, message: str) -> None:
    args = list(DEPLOYMENT)
    args[args.index(option) + 1] = value
    result = _run("codedeploy.py", "deployment", *args)
    assert result.returncode == 2 and message in result.stderr


def test_site_url_reads_the_catalogs_base_url(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text("name: x\nbase_url: https://loja.example/acervo/\n")
    site = ["--site-file", str(tmp_path / "site.yaml")]
    assert _run("site_url.py", *site).stdout == "https://loja.example/acervo/\n"
    preview = _run("site_url.py", *site, "--at-host-root", "previews/pr-3/")
    assert preview.stdout == "https://loja.example/previews/pr-3/\n"
    assert _run("site_url.py").stdout.startswith("https://")  # the real catalog


@pytest.mark.parametrize(
    "text",
    ["base_url: http://loja.example/\n", "base_url: https://loja.example\n", "name: x\n", "- a\n"],
)
def test_site_url_refuses_a_base_url_a_deploy_cannot_use(tmp_path: Path, text: str) -> None:
    (tmp_path / "site.yaml").write_text(text)
    result = _run("site_url.py", "--site-file", str(tmp_path / "site.yaml"))
    assert result.returncode == 1
    assert f"{tmp_path / 'site.yaml'}: base_url must be an https URL" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "image"], "`docker run` is not rehearsed"),
        (["build", "--platform", "linux/arm64", "-t", "x", "."], "--platform is not rehearsed"),
        (["push", "localhost/x:1"], "is not an ECR image with a tag"),
        (["login", "registry"], "login needs --username"),
    ],
)
def test_the_docker_stand_in_refuses_what_it_does_not_rehearse(
    args: list[str], message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workflows.docker_standin", *args],
        cwd=PROJECT,
        env={"PYTHONPATH": str(PROJECT / "tests"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and message in result.stderr
