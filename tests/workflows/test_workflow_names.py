"""Every name a workflow calls exists where it points: read from the code, never restated.

- ``flask --app APP COMMAND --option``: the command's ``--help`` lists the option;
- environment variables set for the app (``PUBLISH_*``, ``API_*``) are ones it reads;
- ``make TARGET``: ``make -n TARGET`` knows the target;
- ``vars.X``: terraform/envs/production has an output ``x`` (the README's rule for
  repository variables), and a job's environment is the one its role trusts;
- ``aws SERVICE OPERATION`` in a job: the role it assumed allows the IAM action;
- every path filter matches a file of the repository.

Names other open issues are adding are listed in ``pending.py`` (strict xfail).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import botocore.session
import pytest
from botocore import xform_name
from support.paths import PROJECT
from terraform.tfestate import Estate, load_estate
from workflows.estate_links import allowed_actions, trusted_subject
from workflows.path_filters import matches
from workflows.pending import PENDING, param
from workflows.workflow_files import (
    Call,
    all_workflows,
    calls,
    environment_name,
    flask_calls,
    make_targets,
)

WORKFLOWS = all_workflows()
#: AWS CLI service names that differ from botocore's.
CLI_SERVICES = {"deploy": "codedeploy", "s3api": "s3"}
#: `aws ecr get-login-password` is a CLI customisation of this operation.
CLI_CUSTOM = {("ecr", "get-login-password"): "ecr:GetAuthorizationToken"}
#: What `docker push` to ECR needs (AWS ECR user guide, "Required IAM permissions
#: for pushing an image"); the login is `aws ecr get-login-password` above.
DOCKER_PUSH = {
    "ecr:BatchCheckLayerAvailability",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
}


@pytest.fixture(scope="module")
def estate() -> Estate:
    return load_estate()


@cache
def _help(app: str, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", app, command, "--help"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _flask_names() -> list[object]:
    seen: dict[str, tuple[str, str, str | None]] = {}
    for call in flask_calls():
        seen.setdefault(f"flask:{call.app} {call.command}", (call.app, call.command, None))
        for option in call.options:
            key = f"flask:{call.app} {call.command} {option}"
            seen.setdefault(key, (call.app, call.command, option))
    cases = []
    for key, values in sorted(seen.items()):
        command = f"flask:{values[0]} {values[1]}"
        cases.append(param(command if command in PENDING else key, *values, id=key))
    return cases


@pytest.fixture(scope="module", autouse=True)
def _helps_in_parallel() -> None:
    """Each distinct --help once, a few at a time (each starts the app)."""
    commands = {(c.app, c.command) for c in flask_calls()}
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda pair: _help(*pair), commands))


@pytest.mark.parametrize(("app", "command", "option"), _flask_names())
def test_flask_commands_and_options_exist(app: str, command: str, option: str | None) -> None:
    result = _help(app, command)
    assert result.returncode == 0, f"flask --app {app} {command} --help:\n{result.stderr}"
    if option is not None:
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", result.stdout), (
            f"flask --app {app} {command} has no option {option}:\n{result.stdout}"
        )


def test_an_option_a_command_lacks_is_caught() -> None:
    """The check above can fail: a made-up option is absent from the real --help."""
    result = _help("storefront", "publish")
    assert result.returncode == 0 and "--prefix" in result.stdout
    assert not re.search(r"(?<![\w-])--no-such-option(?![\w-])", result.stdout)
    assert _help("storefront", "no-such-command").returncode != 0


def _click_envvars() -> set[str]:
    """Environment variables the site's commands read (their options' envvar)."""
    from storefront import create_app

    app = create_app()
    names: set[str] = set()
    for command in app.cli.commands.values():
        for parameter in command.params:
            envvar = getattr(parameter, "envvar", None)
            names.update([envvar] if isinstance(envvar, str) else envvar or [])
    return names


def _app_env_names() -> list[tuple[str, str]]:
    found = set()
    for workflow in WORKFLOWS:
        blocks = [workflow.env, *(job.get("env") or {} for job in workflow.jobs.values())]
        blocks += [step.body.get("env") or {} for step in workflow.steps()]
        for block in blocks:
            found.update((workflow.file, n) for n in block if n.startswith(("PUBLISH_", "API_")))
    return sorted(found)


@pytest.mark.parametrize(("workflow", "name"), _app_env_names())
def test_settings_given_to_the_app_are_ones_it_reads(workflow: str, name: str) -> None:
    if name.startswith("PUBLISH_"):
        assert name in _click_envvars(), f"{workflow}: no site command reads {name}"
    else:
        from api.config import DEFAULTS

        assert name.removeprefix("API_") in DEFAULTS, f"{workflow}: api/config.py has no {name}"


@pytest.mark.parametrize("target", sorted({t for _c, t in make_targets()}))
def test_make_targets_exist(target: str) -> None:
    result = subprocess.run(
        ["make", "-n", target], cwd=PROJECT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"make {target}: {result.stderr}"


def _variables() -> list[object]:
    names = sorted({name for workflow in WORKFLOWS for name in workflow.variables()})
    return [param(f"output:{name.lower()}", name) for name in names]


@pytest.mark.parametrize("variable", _variables())
def test_repository_variables_are_production_outputs(estate: Estate, variable: str) -> None:
    """`vars.X` is set from `terraform output x` (README, deploying from an empty account)."""
    assert variable.lower() in estate.production.outputs, (
        f"vars.{variable}: terraform/envs/production has no output {variable.lower()}"
    )


def _role_jobs() -> list[object]:
    found = {}
    for workflow in WORKFLOWS:
        for step in workflow.steps():
            role = str((step.body.get("with") or {}).get("role-to-assume", ""))
            match = re.search(r"env\.(\w+)", role)
            if not match:
                continue
            variable = re.search(r"vars\.(\w+)", str(workflow.env[match.group(1)])).group(1)
            job = workflow.jobs[step.job]
            environment = environment_name(job)
            subject = f"environment:{environment}" if environment else "pull_request"
            key = f"trust:{variable.lower()}"
            where = f"{workflow.file}:{step.job}"
            found[where] = param(key, variable.lower(), subject, id=f"{key}[{where}]")
    return list(found.values())


@pytest.mark.parametrize(("output", "subject"), _role_jobs())
def test_each_job_runs_where_its_role_trusts(estate: Estate, output: str, subject: str) -> None:
    assert trusted_subject(estate, output) == subject


def test_production_environment_is_the_terraform_default(estate: Estate) -> None:
    expected = estate.production.variables["github_environment"]["default"]
    names = {
        environment_name(job)
        for workflow in WORKFLOWS
        for job in workflow.jobs.values()
        if environment_name(job)
    }
    assert names == {expected}


def _iam_action(call: Call) -> str | None:
    """The IAM action of an `aws SERVICE OPERATION` line, from botocore's service model."""
    service, operation = call.words[1], call.words[2]
    if (service, operation) in CLI_CUSTOM:
        return CLI_CUSTOM[service, operation]
    if operation == "wait":
        operation = "get-deployment" if service == "deploy" else operation
    model = botocore.session.get_session().get_service_model(CLI_SERVICES.get(service, service))
    for name in model.operation_names:
        if xform_name(name, "-") == operation:
            return f"{model.signing_name}:{name}"
    raise AssertionError(f"{call.step.where}: aws {service} {operation} is not an operation")


def _calls_per_role() -> dict[str, dict[str, list[str]]]:
    """For each role output: the IAM actions its jobs' scripts need, with where."""
    needed: dict[str, dict[str, list[str]]] = {}
    for workflow in WORKFLOWS:
        for job_id in workflow.jobs:
            steps = [s for s in workflow.steps() if s.job == job_id]
            role_env = next(
                (
                    re.search(r"env\.(\w+)", str(s.body["with"]["role-to-assume"])).group(1)
                    for s in steps
                    if "role-to-assume" in (s.body.get("with") or {})
                ),
                None,
            )
            if role_env is None:
                continue
            output = re.search(r"vars\.(\w+)", str(workflow.env[role_env])).group(1).lower()
            for step in steps:
                for call in calls(step):
                    actions = set()
                    if call.program == "aws":
                        actions.add(_iam_action(call))
                    elif call.words[:2] == ("docker", "push"):
                        actions |= DOCKER_PUSH
                    elif call.words[:4] == ("flask", "--app", "api", "sync-inventory"):
                        actions.add("dynamodb:*")  # checked by the rehearsal's recording
                    for action in actions:
                        needed.setdefault(output, {}).setdefault(action, []).append(step.where)
    return needed


def _iam_cases() -> list[object]:
    cases = []
    for output, actions in sorted(_calls_per_role().items()):
        for action, where in sorted(actions.items()):
            service = action.split(":")[0]
            key = f"iam:{output}:{service}" if f"iam:{output}:{service}" in PENDING else action
            cases.append(param(key, output, action, where[0], id=f"{output}:{action}"))
    return cases


@pytest.mark.parametrize(("output", "action", "where"), _iam_cases())
def test_roles_allow_what_their_jobs_call(
    estate: Estate, output: str, action: str, where: str
) -> None:
    allowed = allowed_actions(estate, output)
    if action.endswith(":*"):
        prefix = action[:-1]
        assert any(a.startswith(prefix) for a in allowed), f"{where}: {output} allows no {action}"
    else:
        assert action in allowed, f"{where}: {output} does not allow {action}"


@cache
def _repository_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in listed.stdout.splitlines() if (PROJECT / line).is_file()]


def _path_filters() -> list[tuple[str, str, str]]:
    return sorted(
        (workflow.file, trigger, pattern)
        for workflow in WORKFLOWS
        for trigger, settings in workflow.triggers.items()
        for key in ("paths", "paths-ignore")
        for pattern in (settings or {}).get(key, [])
    )


@pytest.mark.parametrize(("workflow", "trigger", "pattern"), _path_filters())
def test_path_filters_match_files_that_exist(workflow: str, trigger: str, pattern: str) -> None:
    assert any(matches(path, [pattern.lstrip("!")]) for path in _repository_files()), (
        f"{workflow} on.{trigger}: {pattern!r} matches no file of the repository"
    )


def test_python_version_is_the_projects() -> None:
    """Workflows set up the Python the code targets (ruff's target-version)."""
    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    target = pyproject["tool"]["ruff"]["target-version"]  # "py311"
    expected = f"{target[2]}.{target[3:]}"
    versions = {w.env["PYTHON_VERSION"] for w in WORKFLOWS if "PYTHON_VERSION" in w.env}
    assert versions == {expected}


def test_helper_scripts_the_workflows_run_exist() -> None:
    scripts = {
        word
        for workflow in WORKFLOWS
        for step in workflow.steps()
        for call in calls(step)
        for word in call.words
        if word.startswith((".github/", ".ci/"))
    }
    assert scripts, "no helper script found: the scan is broken"
    assert [s for s in scripts if not (PROJECT / s).is_file()] == []
