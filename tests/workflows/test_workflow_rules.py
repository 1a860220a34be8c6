"""The rules every workflow keeps: least privilege, pinned actions, OIDC only,
no untrusted input in scripts, one place for the estate's names.

Each rule is a function over the parsed workflows returning its violations, so
the tests below can also show that a rule catches a broken workflow.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from workflows.workflow_files import (
    DEPLOY_WORKFLOWS,
    Workflow,
    all_workflows,
    environment_name,
    load,
    workflow_paths,
)

WORKFLOWS = all_workflows()
IDS = [w.file for w in WORKFLOWS]
CONFIGURE_AWS = "aws-actions/configure-aws-credentials"
CHECKOUT = "actions/checkout"
#: What a job may be granted, and why it would need it.
ALLOWED_GRANTS = {
    ("contents", "read"): "check out the repository",
    ("id-token", "write"): "an OIDC token to assume an AWS role",
    ("pull-requests", "write"): "the preview comment",
}
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_VERSION_COMMENT = re.compile(r"^v\d+\.\d+\.\d+$")


def _uses(step: dict[str, Any]) -> str:
    return str(step.get("uses", "")).split("@", 1)[0]


def _jobs_with(workflow: Workflow, action: str) -> set[str]:
    return {s.job for s in workflow.steps() if _uses(s.body) == action}


# -- rules ------------------------------------------------------------------------


def top_permissions_violations(workflow: Workflow) -> list[str]:
    if workflow.document.get("permissions") != {}:
        return [f"{workflow.file}: top-level `permissions: {{}}` missing"]
    return []


def job_permissions_violations(workflow: Workflow) -> list[str]:
    found = []
    for job_id, job in workflow.jobs.items():
        grants = job.get("permissions")
        if not isinstance(grants, dict):
            found.append(f"{workflow.file} > {job_id}: permissions must be a mapping per job")
            continue
        for grant in grants.items():
            if grant not in ALLOWED_GRANTS:
                found.append(f"{workflow.file} > {job_id}: grant {grant} is not one of the allowed")
        assumes_role = job_id in _jobs_with(workflow, CONFIGURE_AWS)
        if (grants.get("id-token") == "write") != assumes_role:
            found.append(f"{workflow.file} > {job_id}: id-token: write iff it assumes an AWS role")
        checks_out = job_id in _jobs_with(workflow, CHECKOUT)
        if checks_out and grants.get("contents") != "read":
            found.append(f"{workflow.file} > {job_id}: checks out without contents: read")
    return found


def pinning_violations(workflow: Workflow) -> list[str]:
    found = []
    for line, ref, comment in workflow.uses_lines():
        if ref.startswith("./"):
            continue
        action, _, sha = ref.partition("@")
        if not _FULL_SHA.match(sha):
            found.append(f"{workflow.file}:{line}: {action} not pinned to a full commit SHA")
        if not comment or not _VERSION_COMMENT.match(comment.strip()):
            found.append(f"{workflow.file}:{line}: {action} lacks its version (# vX.Y.Z)")
    return found


def checkout_violations(workflow: Workflow) -> list[str]:
    return [
        f"{step.where}: checkout without persist-credentials: false"
        for step in workflow.steps()
        if _uses(step.body) == CHECKOUT
        and (step.body.get("with") or {}).get("persist-credentials") is not False
    ]


def run_expression_violations(workflow: Workflow) -> list[str]:
    """No ``${{ }}`` inside run: — values reach scripts through env, never as code."""
    return [
        f"{step.where}: `${{{{ }}}}` inside run: (pass it through env:)"
        for step in workflow.steps()
        if "${{" in str(step.body.get("run", ""))
    ]


def aws_credentials_violations(workflow: Workflow) -> list[str]:
    found = []
    text = workflow.text()
    for needle in ("aws-access-key-id", "aws-secret-access-key", "AWS_SECRET_ACCESS_KEY"):
        if needle in text:
            found.append(f"{workflow.file}: long-lived AWS key ({needle})")
    for step in workflow.steps():
        if _uses(step.body) != CONFIGURE_AWS:
            continue
        role = str((step.body.get("with") or {}).get("role-to-assume", ""))
        if not re.fullmatch(r"\$\{\{ env\.OIDC_[A-Z]+_ROLE_ARN \}\}", role):
            found.append(f"{step.where}: role-to-assume must be an OIDC_*_ROLE_ARN of the top env")
        job = workflow.jobs[step.job]
        triggers = set(workflow.triggers)
        if environment_name(job) is None and triggers != {"pull_request"}:
            found.append(f"{step.where}: assumes a role outside a protected environment")
    return found


def single_place_violations(workflow: Workflow) -> list[str]:
    """Repository variables are read once, in the workflow's top-level env."""
    top = yaml.safe_dump(workflow.env)
    body = {k: v for k, v in workflow.document.items() if k != "env"}
    elsewhere = re.findall(r"vars\.[A-Za-z_]+", yaml.safe_dump(body))
    found = [f"{workflow.file}: {name} read outside the top-level env" for name in elsewhere]
    names = re.findall(r"vars\.([A-Za-z_]+)", top)
    found += [
        f"{workflow.file}: vars.{n} read twice"
        for n in sorted({n for n in names if names.count(n) > 1})
    ]
    return found


def concurrency_violations(workflow: Workflow) -> list[str]:
    concurrency = workflow.document.get("concurrency")
    if not isinstance(concurrency, dict) or not concurrency.get("group"):
        return [f"{workflow.file}: no concurrency group"]
    expected = workflow.file == "ci.yml"  # cancel superseded CI runs, never a deploy
    if concurrency.get("cancel-in-progress") is not expected:
        return [f"{workflow.file}: cancel-in-progress must be {str(expected).lower()}"]
    return []


def hygiene_violations(workflow: Workflow) -> list[str]:
    found = []
    if (workflow.document.get("defaults") or {}).get("run", {}).get("shell") != "bash":
        found.append(f"{workflow.file}: defaults.run.shell must be bash (-eo pipefail)")
    for job_id, job in workflow.jobs.items():
        if not isinstance(job.get("timeout-minutes"), int):
            found.append(f"{workflow.file} > {job_id}: no timeout-minutes")
    return found


RULES = [
    top_permissions_violations,
    job_permissions_violations,
    pinning_violations,
    checkout_violations,
    run_expression_violations,
    aws_credentials_violations,
    single_place_violations,
    concurrency_violations,
    hygiene_violations,
]


@pytest.mark.parametrize("rule", RULES, ids=[r.__name__ for r in RULES])
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=IDS)
def test_every_workflow_keeps_the_rule(workflow: Workflow, rule) -> None:
    assert rule(workflow) == []


def test_the_four_workflows_of_the_pipeline_exist() -> None:
    assert {"ci.yml", *DEPLOY_WORKFLOWS} <= set(IDS)


def test_one_version_of_each_action_across_workflows() -> None:
    versions: dict[str, set[tuple[str, str | None]]] = {}
    for workflow in WORKFLOWS:
        for _line, ref, comment in workflow.uses_lines():
            action, _, sha = ref.partition("@")
            versions.setdefault(action, set()).add((sha, comment))
    assert {a: v for a, v in versions.items() if len(v) > 1} == {}


def test_aws_jobs_of_deploy_workflows_run_in_the_production_environment() -> None:
    for name in ("deploy-site.yml", "deploy-api.yml"):
        workflow = load(workflow_paths()[IDS.index(name)])
        for job_id in _jobs_with(workflow, CONFIGURE_AWS):
            assert environment_name(workflow.jobs[job_id]) == "production", (name, job_id)


def test_pull_request_target_is_confined_to_the_fork_notice() -> None:
    """The one elevated trigger: no code from the pull request, one narrow grant."""
    for workflow in WORKFLOWS:
        if "pull_request_target" not in workflow.triggers:
            continue
        assert workflow.file == "preview-fork-notice.yml"
        assert set(workflow.triggers) == {"pull_request_target"}
        for step in workflow.steps():
            assert "ref" not in (step.body.get("with") or {}), step.where  # base branch only
            assert _uses(step.body) in ("", CHECKOUT), step.where
        for job in workflow.jobs.values():
            assert "fork" in job["if"] or "!= github.repository" in job["if"]
            assert set(job["permissions"].items()) <= {
                ("contents", "read"),
                ("pull-requests", "write"),
            }


def test_zizmor_ignores_nothing_but_the_fork_notice_trigger() -> None:
    ignores = [
        (w.file, line)
        for w in WORKFLOWS
        for line in w.text().splitlines()
        if "zizmor: ignore" in line
    ]
    assert ignores == [
        (
            "preview-fork-notice.yml",
            "  pull_request_target: # zizmor: ignore[dangerous-triggers] see the note above",
        )
    ]


# -- the rules catch what they are for ---------------------------------------------------

BAD_WORKFLOW = """
name: bad
on: push
permissions: write-all
jobs:
  deploy:
    runs-on: ubuntu-latest
    permissions:
      contents: write
    steps:
      - uses: actions/checkout@v4
      - uses: aws-actions/configure-aws-credentials@0123456789abcdef0123456789abcdef01234567
        with:
          aws-access-key-id: ${{ secrets.KEY }}
          role-to-assume: ${{ vars.ROLE }}
      - run: echo "${{ github.event.head_commit.message }}"
"""


@pytest.fixture
def bad(tmp_path) -> Workflow:
    path = tmp_path / "bad.yml"
    path.write_text(BAD_WORKFLOW)
    return load(path)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (top_permissions_violations, "top-level `permissions: {}` missing"),
        (job_permissions_violations, "grant ('contents', 'write')"),
        (job_permissions_violations, "id-token: write iff it assumes an AWS role"),
        (pinning_violations, "actions/checkout not pinned to a full commit SHA"),
        (pinning_violations, "configure-aws-credentials lacks its version"),
        (checkout_violations, "checkout without persist-credentials: false"),
        (run_expression_violations, "inside run:"),
        (aws_credentials_violations, "long-lived AWS key (aws-access-key-id)"),
        (aws_credentials_violations, "outside a protected environment"),
        (single_place_violations, "vars.ROLE read outside the top-level env"),
        (concurrency_violations, "no concurrency group"),
        (hygiene_violations, "no timeout-minutes"),
    ],
)
def test_each_rule_flags_a_workflow_that_breaks_it(bad: Workflow, rule, expected: str) -> None:
    assert any(expected in violation for violation in rule(bad)), rule(bad)
