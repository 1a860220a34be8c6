"""The deploy workflows, rehearsed: their steps, read from the YAML, run on local stand-ins.

One production day, in order: the site is published from main, published again
after a price edit (with the build caches restored), rolled back by hand, and
the API is deployed. Each outcome is checked in the emulated estate itself
(what the distribution serves, what ECR, ECS and CodeDeploy hold, what the
availability API answers), never in what the workflow printed about itself.
Only steps that need GitHub or AWS are skipped, each with its reason.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from support.paths import PROJECT
from terraform.tfestate import load_estate
from workflows.estate_links import allowed_actions
from workflows.pending import param
from workflows.rehearsal import (
    SKIPPED_STEPS,
    Event,
    Rehearsal,
    RehearsalError,
    StandIns,
    StepReport,
    head_commit,
    role_access_key,
)
from workflows.scenarios import PULL_REQUEST, scenarios
from workflows.standins import Stage, site_base_url, stage
from workflows.workflow_files import WORKFLOWS, all_workflows, load

pytestmark = pytest.mark.slow

REPOSITORY = "loja-de-esculturas/sculpture-store"
WORKFLOWS_LOADED = all_workflows()
EDITED = "content/sculptures/dobra-vermelha.yaml"


@dataclass
class Run:
    reports: list[StepReport]
    summaries: dict[str, str]
    log: str


@dataclass
class Day:
    stage: Stage
    stand_ins: StandIns
    work: Path
    runs: dict[str, Run] = field(default_factory=dict)
    live: dict[str, str] = field(default_factory=dict)  # scenario -> the live release
    calls: dict[str, set[str]] = field(default_factory=dict)  # role output -> IAM actions

    def rehearse(self, name: str, workflow: str, event: Event) -> Run:
        log = io.StringIO()
        rehearsal = Rehearsal(load(WORKFLOWS / workflow), event, self.stand_ins, self.work, log)
        try:
            rehearsal.run()
        finally:
            self.runs[name] = Run(rehearsal.reports, rehearsal.summaries, log.getvalue())
        return self.runs[name]

    def live_release(self) -> str:
        """The release the live site serves, as the bucket records it (publish's pointer)."""
        from storefront.publish.state import Pointer

        body = (
            boto3.client("s3")
            .get_object(Bucket=self.stage.estate.bucket, Key="_publish/site/live.json")["Body"]
            .read()
        )
        pointer = Pointer.from_json(body)
        assert not pointer.changing, pointer
        assert pointer.release is not None
        return pointer.release


def _edited_price() -> str:
    text = (PROJECT / EDITED).read_text(encoding="utf-8")
    edited, count = re.subn(r"amount: [0-9.]+", "amount: 35500.00", text, count=1)
    assert count == 1
    return edited


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("rehearsal")
    known = scenarios(REPOSITORY)
    with stage(folder) as running:
        stand_ins = StandIns(
            running.variables, running.runner_env, running.aws_credentials, folder / "store"
        )
        today = Day(running, stand_ins, folder / "work")
        today.rehearse("first publish", *known["deploy-site push"])
        today.live["first publish"] = today.live_release()
        edit = Event(
            "push",
            {"ref": "refs/heads/main"},
            changes={EDITED: _edited_price()},
            sha=hashlib.sha1(f"{head_commit()} price edit".encode()).hexdigest(),
        )
        today.rehearse("price edit", "deploy-site.yml", edit)
        today.live["price edit"] = today.live_release()
        today.rehearse("rollback", *known["deploy-site rollback"])
        today.live["rollback"] = today.live_release()
        today.rehearse("api deploy", *known["deploy-api push"])
        today.calls = _calls_by_role(today)
        yield today


def test_a_push_publishes_the_site_the_distribution_then_serves(day: Day) -> None:
    live = day.live["first publish"]
    from publish.harness import Edge

    served = Edge(day.stage.estate.bucket, day.stage.estate.distribution_id).get("/")
    assert served is not None and b"<html" in served["body"].lower()
    summary = day.runs["first publish"].summaries["publish"]
    assert live in summary and site_base_url() in summary


def test_a_content_edit_publishes_a_new_release_from_restored_caches(day: Day) -> None:
    first, second = day.live["first publish"], day.live["price edit"]
    assert second != first
    cache = next(r for r in day.runs["price edit"].reports if "Restore the build caches" in r.where)
    assert "restored from site-build-Linux-py3.11-" in cache.detail
    rendered = re.search(r"froze \d+ files \((\d+) rendered", day.runs["price edit"].log)
    total = re.search(r"froze (\d+) files \((\d+) rendered", day.runs["first publish"].log)
    assert rendered and total and int(rendered.group(1)) < int(total.group(2))


def test_a_manual_run_rolls_the_site_back_to_the_previous_release(day: Day) -> None:
    assert day.live["rollback"] == day.live["first publish"]
    assert day.live["first publish"] in day.runs["rollback"].summaries["rollback"]
    ran = {r.where.split(" > ")[1] for r in day.runs["rollback"].reports if r.outcome == "ran"}
    assert ran == {"rollback"}  # no build, no publish, no sync on a manual run


def test_published_inventory_reaches_the_availability_store(day: Day) -> None:
    from api import create_app

    frozen = day.work.glob("deploy-site-build-*/build/site/inventory.json")
    inventory = json.loads(max(frozen, key=lambda p: p.stat().st_mtime).read_text())
    editions = inventory["sculptures"]
    app = create_app({"STORE_URL": f"dynamodb://{day.stage.estate.table}"})
    response = app.test_client().get("/api/v1/availability?ids=" + ",".join(editions))
    assert response.status_code == 200
    body = response.get_json()
    assert body["unknown"] == []
    assert {i["sculpture"]: i["edition_size"] for i in body["items"]} == editions


def test_the_api_image_is_pushed_once_tagged_with_the_commit(day: Day) -> None:
    estate = day.stage.estate
    images = boto3.client("ecr").describe_images(repositoryName=estate.repository_name)
    tags = [tag for image in images["imageDetails"] for tag in image.get("imageTags", [])]
    assert tags == [head_commit()]


def test_a_task_definition_revision_runs_the_new_image_and_nothing_else_changes(day: Day) -> None:
    estate = day.stage.estate
    ecs = boto3.client("ecs")
    arns = ecs.list_task_definitions(familyPrefix=estate.task_family)["taskDefinitionArns"]
    assert len(arns) == 2
    old, new = (ecs.describe_task_definition(taskDefinition=a)["taskDefinition"] for a in arns)
    (container,) = new["containerDefinitions"]
    assert container["image"] == f"{estate.repository_url}:{head_commit()}"
    volatile = {"taskDefinitionArn", "revision", "registeredAt", "containerDefinitions"}
    assert {k: v for k, v in new.items() if k not in volatile} == {
        k: v for k, v in old.items() if k not in volatile
    }
    assert {**container, "image": None} == {**old["containerDefinitions"][0], "image": None}


def test_codedeploy_gets_an_appspec_for_the_new_revision_with_the_test_traffic_hook(
    day: Day,
) -> None:
    estate = day.stage.estate
    codedeploy = boto3.client("codedeploy")
    (deployment_id,) = codedeploy.list_deployments(
        applicationName=estate.application, deploymentGroupName=estate.deployment_group
    )["deployments"]
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    spec = json.loads(info["revision"]["appSpecContent"]["content"])
    latest = boto3.client("ecs").describe_task_definition(taskDefinition=estate.task_family)
    properties = spec["Resources"][0]["TargetService"]["Properties"]
    assert properties["TaskDefinition"] == latest["taskDefinition"]["taskDefinitionArn"]
    assert properties["LoadBalancerInfo"] == {
        "ContainerName": estate.container_name,
        "ContainerPort": estate.container_port,
    }
    hook = day.stand_ins.variables["TEST_TRAFFIC_HOOK_FUNCTION_NAME"]
    assert spec["Hooks"] == [{"AfterAllowTestTraffic": hook}]


def test_only_steps_that_need_github_or_aws_are_skipped(day: Day) -> None:
    for name, run in day.runs.items():
        for report in run.reports:
            assert report.outcome in ("ran", "skipped", "not run (condition)"), (name, report)
            if report.outcome == "skipped":
                assert report.detail.startswith(("needs GitHub", "needs AWS")), report
        skipped = {r.where for r in run.reports if r.outcome == "skipped"}
        allowed = ("actions/setup-python", "(OIDC)", *(key[2] for key in SKIPPED_STEPS))
        assert all(any(a in where for a in allowed) for where in skipped), skipped


#: Services whose requests name their operation (X-Amz-Target), so the log says the action.
JSON_SERVICES = ("codedeploy", "dynamodb", "ecr", "ecs")
#: DynamoDB authorises a transaction by the actions of its items (DynamoDB developer
#: guide, "Using IAM with DynamoDB transactions").
TRANSACTION_ITEMS = {
    "ConditionCheck": "ConditionCheckItem",
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
}
_CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/aws4_request")


def _recorded(path: Path) -> Iterator[dict[str, Any]]:
    """The log's entries. Threads append them concurrently, each object in one write but
    its newline in another, so objects are read back to back rather than by line."""
    decoder, text, position = json.JSONDecoder(), path.read_text(), 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return
        entry, position = decoder.raw_decode(text, position)
        yield entry


def _calls_by_role(day: Day) -> dict[str, set[str]]:
    """IAM actions each role's jobs made, read from moto's request log (output -> actions)."""
    roles = {
        role_access_key(value): name.lower()
        for name, value in day.stand_ins.variables.items()
        if name.endswith("_ROLE_ARN")
    }
    found: dict[str, set[str]] = {}
    for entry in _recorded(day.stage.recording):
        headers = {k.lower(): v for k, v in entry["headers"].items()}
        credential = _CREDENTIAL.search(headers.get("authorization", ""))
        target = headers.get("x-amz-target")
        if not credential or credential.group(1) not in roles or not target:
            continue
        service, operation = credential.group(2), target.rsplit(".", 1)[-1]
        actions = {f"{service}:{operation}"}
        if operation == "TransactWriteItems":
            raw = entry["body"]
            body = json.loads(base64.b64decode(raw) if entry.get("body_encoded") else raw)
            actions = {
                f"dynamodb:{TRANSACTION_ITEMS[kind]}"
                for item in body["TransactItems"]
                for kind in item
            }
        found.setdefault(roles[credential.group(1)], set()).update(actions)
    return found


def test_the_request_log_attributes_calls_to_the_role_that_made_them(day: Day) -> None:
    calls = day.calls
    assert {"ecr:PutImage", "ecs:RegisterTaskDefinition", "codedeploy:CreateDeployment"} <= (
        calls["deploy_role_arn"]
    )
    assert any(action.startswith("dynamodb:") for action in calls["deploy_role_arn"])


def _role_services() -> list[object]:
    roles = sorted(
        {
            name.lower()
            for w in WORKFLOWS_LOADED
            for name in w.variables()
            if name.endswith("_ROLE_ARN")
        }
    )
    return [
        param(f"iam:{role}:{service}", role, service, id=f"{role}:{service}")
        for role in roles
        for service in JSON_SERVICES
    ]


@pytest.mark.parametrize(("output", "service"), _role_services())
def test_each_role_allows_every_call_its_jobs_made(day: Day, output: str, service: str) -> None:
    """What the rehearsed jobs really called, against the role's policy in the Terraform."""
    made = {a for a in day.calls.get(output, set()) if a.startswith(f"{service}:")}
    if made:
        missing = made - allowed_actions(load_estate(), output)
        assert missing == set(), f"{output} lacks {sorted(missing)}"


@pytest.mark.parametrize(
    "scenario", [param("rehearsal:preview.yml", "preview", id="preview opened then closed")]
)
def test_a_pull_request_gets_a_preview_that_is_removed_when_it_closes(
    day: Day, scenario: str
) -> None:
    known = scenarios(REPOSITORY)
    prefix = f"previews/pr-{PULL_REQUEST}/"
    s3 = boto3.client("s3")

    def keys() -> list[str]:
        listed = s3.list_objects_v2(Bucket=day.stage.estate.bucket, Prefix=prefix)
        return [item["Key"] for item in listed.get("Contents", [])]

    live_before = day.live_release()
    day.rehearse("preview opened", *known["preview opened"])
    assert any(key.endswith("index.html") for key in keys())
    assert day.live_release() == live_before  # a preview never touches the live site
    day.rehearse("preview closed", *known["preview closed"])
    assert keys() == []


def test_a_pull_request_from_a_fork_gets_no_aws_job(day: Day) -> None:
    fork = scenarios("someone-else/sculpture-store")["preview opened"]
    run = day.rehearse("fork preview", *fork)
    assert {r.outcome for r in run.reports} == {"not run (condition)"}


def test_a_broken_step_fails_the_rehearsal_at_that_step(day: Day, tmp_path: Path) -> None:
    """What the rehearsal runs is the YAML: a bad option in it fails there, not elsewhere."""
    text = (WORKFLOWS / "deploy-site.yml").read_text()
    broken = text.replace("rollback --json", "rollback --no-such-option --json")
    assert broken != text
    (tmp_path / "deploy-site.yml").write_text(broken)
    live = day.live_release()
    event = Event("workflow_dispatch", {"inputs": {"action": "rollback", "release": ""}})
    rehearsal = Rehearsal(
        load(tmp_path / "deploy-site.yml"), event, day.stand_ins, day.work, io.StringIO()
    )
    with pytest.raises(
        RehearsalError, match=r"rollback > step \d+ \(flask --app storefront rollback\)"
    ):
        rehearsal.run()
    assert day.live_release() == live
