"""Run a workflow's jobs and steps, read from its YAML, against local stand-ins.

A rehearsal is a dry run that is not dry: every ``run:`` script is executed by
bash exactly as written (``-eo pipefail`` under ``shell: bash``), with the
environment GitHub would give it (the ``GITHUB_*`` variables and files, the
workflow, job and step ``env:`` evaluated with their expressions), in a fresh
copy of the repository per job, as a fresh runner would have. Jobs run in
``needs`` order and honour their ``if:``; outputs, artifacts and caches travel
between them as on GitHub.

The few things only GitHub or AWS can do are named, each in one table below,
and reported as skipped with the reason:

* ``uses:`` steps are run by a stand-in of the action (``ACTIONS``): checkout
  copies the repository, cache and artifacts use local folders, and
  configure-aws-credentials, which needs GitHub's OIDC token and AWS STS, is
  skipped and exports the stand-in credentials (moto's) instead;
* ``run:`` steps that need GitHub's API or AWS itself (``SKIPPED_STEPS``).

An action or a skipped step the tables do not know is an error, and so is a
table entry naming a step that no longer exists: the YAML and the rehearsal
cannot drift apart silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from support.paths import PROJECT
from workflows.gha_expressions import Context, condition, interpolate, to_string
from workflows.workflow_files import Step, Workflow

#: ``run:`` steps that need GitHub or AWS, by (workflow file, job, step name).
SKIPPED_STEPS: dict[tuple[str, str, str], str] = {
    ("deploy-api.yml", "deploy", "Wait for the deployment"): (
        "needs AWS: CodeDeploy moves ECS task sets and NLB listeners and runs the hook "
        "Lambda only in AWS; moto records the deployment and leaves it Created"
    ),
    ("preview.yml", "comment", "Create or update the preview comment"): (
        "needs GitHub: the pull request's comments (GitHub's REST API)"
    ),
    ("preview.yml", "comment-removed", "Update the preview comment"): (
        "needs GitHub: the pull request's comments (GitHub's REST API)"
    ),
}


class RehearsalError(Exception):
    """A step failed, or the rehearsal met something it cannot stand in for."""


@dataclass
class Event:
    """What triggered the run: ``github.event_name``, ``github.event`` and the ref."""

    name: str
    payload: dict[str, Any] = field(default_factory=dict)
    ref: str = "refs/heads/main"
    #: The commit being run, as edits to the working tree (path -> new text) and its SHA
    #: (default: the working tree's HEAD).
    changes: dict[str, str] = field(default_factory=dict)
    sha: str | None = None

    @property
    def inputs(self) -> dict[str, Any]:
        return dict(self.payload.get("inputs") or {})


@dataclass
class StandIns:
    """What the runner and the cloud look like to the steps."""

    #: Values of ``vars.X``.
    variables: dict[str, str]
    #: The runner's own environment (PATH with the stand-in tools first, HOME, …).
    runner_env: dict[str, str]
    #: What configure-aws-credentials would export (minus region): moto's credentials.
    aws_credentials: dict[str, str]
    #: Where artifacts and caches live between jobs (and between rehearsals).
    store: Path
    repository: str = "loja-de-esculturas/sculpture-store"


@dataclass
class StepReport:
    where: str
    outcome: str  # ran | skipped | not run (condition) | failed
    detail: str = ""
    seconds: float = 0.0


@dataclass
class JobState:
    workflow: Workflow
    job_id: str
    workspace: Path
    temp: Path
    env: dict[str, str]
    path: list[str] = field(default_factory=list)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: bool = False
    post: list[Callable[[], None]] = field(default_factory=list)
    summary: Path | None = None


Action = Callable[["Rehearsal", JobState, Step, dict[str, str]], tuple[str, str]]


class Rehearsal:
    """One run of one workflow for one event."""

    def __init__(
        self, workflow: Workflow, event: Event, stand_ins: StandIns, work: Path, log: TextIO
    ) -> None:
        self.workflow = workflow
        self.event = event
        self.stand_ins = stand_ins
        self.work = work
        self.log = log
        self.reports: list[StepReport] = []
        self.jobs: dict[str, dict[str, Any]] = {}  # needs context: result and outputs
        self.summaries: dict[str, str] = {}
        self.sha = event.sha or head_commit()
        self.run_id = str(int(time.time() * 1000))
        _check_skip_table(workflow)

    # -- contexts -----------------------------------------------------------------

    def github(self, job_id: str = "") -> dict[str, Any]:
        return {
            "event_name": self.event.name,
            "event": self.event.payload,
            "sha": self.sha,
            "ref": self.event.ref,
            "ref_name": self.event.ref.rsplit("/", 1)[-1],
            "repository": self.stand_ins.repository,
            "repository_owner": self.stand_ins.repository.split("/")[0],
            "run_id": self.run_id,
            "run_number": "1",
            "run_attempt": "1",
            "workflow": self.workflow.document.get("name", self.workflow.file),
            "job": job_id,
            "server_url": "https://github.com",
            "token": "rehearsal-token-without-power",
        }

    def context(self, state: JobState | None, job_id: str = "") -> Context:
        values: dict[str, Any] = {
            "github": self.github(job_id),
            "vars": self.stand_ins.variables,
            "inputs": self.event.inputs,
            "needs": {},
            "runner": {"os": "Linux", "arch": "X64", "temp": str(state.temp) if state else ""},
            "secrets": {},
        }
        if state is not None:
            needs = _as_list(self.workflow.jobs[state.job_id].get("needs"))
            values.update(
                env=state.env,
                steps=state.steps,
                needs={n: self.jobs[n] for n in needs},
                job={"status": "failure" if state.failed else "success"},
            )
        workspace = state.workspace if state else None
        return Context(values, workspace=workspace, failed=bool(state and state.failed))

    # -- running ------------------------------------------------------------------

    def run(self) -> list[StepReport]:
        env_context = self.context(None)
        workflow_env = {
            k: to_string(interpolate(v, env_context)) for k, v in self.workflow.env.items()
        }
        for job_id in _job_order(self.workflow):
            self._run_job(job_id, workflow_env)
        failed = [r for r in self.reports if r.outcome == "failed"]
        if failed:
            raise RehearsalError(f"{failed[0].where}: {failed[0].detail}")
        return self.reports

    def _run_job(self, job_id: str, workflow_env: dict[str, str]) -> None:
        job = self.workflow.jobs[job_id]
        needs = _as_list(job.get("needs"))
        needs_failed = any(self.jobs[n]["result"] != "success" for n in needs)
        context = self.context(None, job_id)
        context.values["needs"] = {n: self.jobs[n] for n in needs}
        context.failed = needs_failed
        where = f"{self.workflow.file} > {job_id}"
        if not condition(job.get("if"), context):
            self.jobs[job_id] = {"result": "skipped", "outputs": {}}
            self._report(StepReport(where, "not run (condition)", str(job.get("if", "needs"))))
            return
        self._say(f"== {where}")
        workspace = self.work / f"{self.workflow.path.stem}-{job_id}-{self.run_id}"
        temp = workspace.with_name(workspace.name + ".temp")
        workspace.mkdir(parents=True)
        temp.mkdir()
        state = JobState(self.workflow, job_id, workspace, temp, dict(workflow_env))
        state.summary = temp / "step_summary.md"
        state.summary.touch()
        state.env.update(
            {
                k: to_string(interpolate(v, self.context(state, job_id)))
                for k, v in (job.get("env") or {}).items()
            }
        )
        if job.get("environment"):
            self._say(
                f"   environment {job['environment']!r}: approvals and branch rules are GitHub's"
            )
        for step in (s for s in self.workflow.steps() if s.job == job_id):
            self._run_step(state, step)
        for post in reversed(state.post):
            if not state.failed:
                post()
        outputs = {
            name: to_string(interpolate(value, self.context(state, job_id)))
            for name, value in (job.get("outputs") or {}).items()
        }
        self.jobs[job_id] = {"result": "failure" if state.failed else "success", "outputs": outputs}
        self.summaries[job_id] = state.summary.read_text()

    def _run_step(self, state: JobState, step: Step) -> None:
        context = self.context(state, state.job_id)
        if not condition(step.body.get("if"), context):
            self._report(StepReport(step.where, "not run (condition)"))
            return
        started = time.monotonic()
        key = (step.workflow, step.job, step.body.get("name", ""))
        try:
            if key in SKIPPED_STEPS:
                report = StepReport(step.where, "skipped", SKIPPED_STEPS[key])
            elif "uses" in step.body:
                action = str(step.body["uses"]).split("@", 1)[0]
                if action not in ACTIONS:
                    raise RehearsalError(f"{step.where}: no stand-in for action {action}")
                inputs = {
                    k: to_string(interpolate(v, context))
                    for k, v in (step.body.get("with") or {}).items()
                }
                outcome, detail = ACTIONS[action](self, state, step, inputs)
                report = StepReport(step.where, outcome, detail)
            else:
                report = StepReport(step.where, "ran", self._run_script(state, step, context))
        except RehearsalError as error:
            state.failed = True
            report = StepReport(step.where, "failed", str(error))
        report.seconds = time.monotonic() - started
        self._report(report)

    def _run_script(self, state: JobState, step: Step, context: Context) -> str:
        env = dict(state.env)
        env.update(
            {k: to_string(interpolate(v, context)) for k, v in (step.body.get("env") or {}).items()}
        )
        files = {
            name: state.temp / f"{name.lower()}-{step.index}"
            for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH")
        }
        for path in files.values():
            path.write_text("")
        event_path = state.temp / "event.json"
        event_path.write_text(json.dumps(self.event.payload))
        github = self.github(state.job_id)
        process_env = {
            **self.stand_ins.runner_env,
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(state.workspace),
            "GITHUB_SHA": self.sha,
            "GITHUB_REF": self.event.ref,
            "GITHUB_REF_NAME": github["ref_name"],
            "GITHUB_REPOSITORY": self.stand_ins.repository,
            "GITHUB_REPOSITORY_OWNER": github["repository_owner"],
            "GITHUB_RUN_ID": self.run_id,
            "GITHUB_RUN_NUMBER": "1",
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_EVENT_NAME": self.event.name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_JOB": state.job_id,
            "GITHUB_WORKFLOW": github["workflow"],
            "GITHUB_SERVER_URL": github["server_url"],
            "GITHUB_STEP_SUMMARY": str(state.summary),
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "RUNNER_TEMP": str(state.temp),
            **{name: str(path) for name, path in files.items()},
            **env,
        }
        process_env["PATH"] = os.pathsep.join([*state.path, self.stand_ins.runner_env["PATH"]])
        shell = step.body.get("shell") or (self.workflow.document.get("defaults") or {}).get(
            "run", {}
        ).get("shell")
        script = state.temp / f"step-{step.index}.sh"
        script.write_text(str(step.body["run"]))
        command = (
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]
            if shell == "bash"
            else ["bash", "-e", str(script)]
            if shell is None
            else None
        )
        if command is None:
            raise RehearsalError(f"{step.where}: shell {shell!r} is not rehearsed")
        cwd = state.workspace / str(step.body.get("working-directory", "."))
        self._say(f"-> {step.where}")
        result = subprocess.run(
            command,
            cwd=cwd,
            env=process_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=900,
        )
        for line in result.stdout.splitlines():
            self._say(f"   | {line}")
        if result.returncode != 0:
            tail = "\n".join(result.stdout.splitlines()[-15:])
            raise RehearsalError(f"exit status {result.returncode}:\n{tail}")
        if "id" in step.body:
            outputs = _read_outputs(files["GITHUB_OUTPUT"])
            state.steps[step.body["id"]] = {"outputs": outputs, "outcome": "success"}
        state.env.update(_read_outputs(files["GITHUB_ENV"]))
        added = [line for line in files["GITHUB_PATH"].read_text().splitlines() if line]
        state.path[:0] = list(reversed(added))
        return f"exit 0 in {cwd.relative_to(state.workspace)}"

    def _report(self, report: StepReport) -> None:
        self.reports.append(report)
        detail = f" — {report.detail}" if report.detail and report.outcome != "ran" else ""
        self._say(f"   [{report.outcome}] {report.where}{detail}")

    def _say(self, line: str) -> None:
        self.log.write(line + "\n")
        self.log.flush()


# -- stand-ins for actions --------------------------------------------------------


def _checkout(
    rehearsal: Rehearsal, state: JobState, step: Step, inputs: dict[str, str]
) -> tuple[str, str]:
    """The repository's files (tracked and new, not ignored), as a fresh runner checks them out."""
    if inputs.get("persist-credentials") != "false":
        raise RehearsalError(f"{step.where}: checkout must not persist credentials")
    sparse = [
        p.strip().rstrip("/") for p in inputs.get("sparse-checkout", "").splitlines() if p.strip()
    ]
    copied = 0
    for name in repository_files():
        if sparse and "/" in name and not any(name.startswith(p + "/") for p in sparse):
            continue
        target = state.workspace / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, target)  # times kept: `make install` sees .venv up to date
        copied += 1
    for name, text in rehearsal.event.changes.items():
        if not sparse or any(name.startswith(p + "/") for p in sparse):
            (state.workspace / name).write_text(text, encoding="utf-8")
    # The runner would install the pinned dependencies; the project's .venv is that install.
    link_project_venv(state.workspace / ".venv")
    return "ran", f"stand-in: {copied} files of the working tree copied (.venv linked)"


def link_project_venv(venv: Path) -> None:
    """A workspace .venv that uses the project's install and can never change it.

    Its folders are links to the project's, and its install stamp is its own and
    new, so the workflows' `make install` finds it up to date. Were the whole
    .venv one link, a project stamp older than pyproject.toml would make that
    `make install` reinstall the project in editable mode from this temporary
    copy, and the developer's .venv would import the site from a folder that is
    then deleted.
    """
    venv.mkdir()
    for entry in (PROJECT / ".venv").iterdir():
        if entry.name != ".installed":
            (venv / entry.name).symlink_to(entry)
    (venv / ".installed").touch()


def _skip_setup_python(
    rehearsal: Rehearsal, state: JobState, step: Step, inputs: dict[str, str]
) -> tuple[str, str]:
    return "skipped", (
        f"needs GitHub: Python {inputs.get('python-version')} from the runner's tool cache; "
        "this machine's Python and the project's .venv stand in"
    )


def _assume_role(
    rehearsal: Rehearsal, state: JobState, step: Step, inputs: dict[str, str]
) -> tuple[str, str]:
    role, region = inputs.get("role-to-assume", ""), inputs.get("aws-region", "")
    if not role.startswith("arn:aws:iam::") or ":role/" not in role:
        raise RehearsalError(f"{step.where}: role-to-assume {role!r} is not a role ARN")
    if not region:
        raise RehearsalError(f"{step.where}: no aws-region")
    state.env.update(rehearsal.stand_ins.aws_credentials)
    # One access key per role: the emulator's request log then says which role called what.
    state.env["AWS_ACCESS_KEY_ID"] = role_access_key(role)
    state.env.update({"AWS_REGION": region, "AWS_DEFAULT_REGION": region})
    return "skipped", (
        f"needs GitHub and AWS: OIDC token for {role} (STS AssumeRoleWithWebIdentity); "
        "the emulator's credentials exported instead"
    )


def role_access_key(role: str) -> str:
    """The stand-in access key of a role (moto accepts any key while IAM is not enforced)."""
    return "ASIA" + hashlib.sha256(role.encode()).hexdigest()[:16].upper()


def _cache_dir(rehearsal: Rehearsal, key: str) -> Path:
    return rehearsal.stand_ins.store / "caches" / hashlib.sha256(key.encode()).hexdigest()[:32]


def _restore(rehearsal: Rehearsal, state: JobState, key: str, restore_keys: list[str]) -> str:
    exact = _cache_dir(rehearsal, key)
    candidates = [exact] if (exact / "archive.tar").exists() else []
    if not candidates:
        entries = sorted(
            (rehearsal.stand_ins.store / "caches").glob("*/key.txt"),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for prefix in restore_keys:
            candidates += [p.parent for p in entries if p.read_text().startswith(prefix)]
    if not candidates:
        return f"cache miss for {key}"
    with tarfile.open(candidates[0] / "archive.tar") as archive:
        archive.extractall(state.workspace, filter="tar")
    hit = (
        "exact hit"
        if candidates[0] == exact
        else "restored from " + (candidates[0] / "key.txt").read_text()
    )
    return hit


def _save(rehearsal: Rehearsal, state: JobState, key: str, paths: list[str]) -> None:
    target = _cache_dir(rehearsal, key)
    if (target / "archive.tar").exists():
        return  # cache entries are immutable, as on GitHub
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(target / "archive.tar.tmp", "w") as archive:
        for path in paths:
            if (state.workspace / path).exists():
                archive.add(state.workspace / path, arcname=path)
    (target / "archive.tar.tmp").replace(target / "archive.tar")
    (target / "key.txt").write_text(key)


def _cache(
    rehearsal: Rehearsal, state: JobState, step: Step, inputs: dict[str, str]
) -> tuple[str, str]:
    action = str(step.body["uses"]).split("@", 1)[0]
    key = inputs["key"]
    if not key or "--" in key or key.endswith("-"):
        raise RehearsalError(f"{step.where}: cache key {key!r} has an empty part")
    paths = [p.strip() for p in inputs.get("path", "").splitlines() if p.strip()]
    restore_keys = [p.strip() for p in inputs.get("restore-keys", "").splitlines() if p.strip()]
    detail = ""
    if action != "actions/cache/save":
        detail = _restore(rehearsal, state, key, restore_keys)
    if action == "actions/cache" and not detail.startswith("exact"):
        state.post.append(lambda: _save(rehearsal, state, key, paths))
        detail += "; saved at the end of the job"
    elif action == "actions/cache/save":
        _save(rehearsal, state, key, paths)
        detail = f"saved {key}"
    return "ran", f"stand-in (local folder): {detail}"


def _upload(
    rehearsal: Rehearsal, state: JobState, step: Step, inputs: dict[str, str]
) -> tuple[str, str]:
    source = state.workspace / inputs["path"]
    files = [p for p in source.rglob("*") if p.is_file()] if source.is_dir() else []
    if not files and inputs.get("if-no-files-found") == "error":
        raise RehearsalError(f"{step.where}: no files at {inputs['path']}")
    target = rehearsal.stand_ins.store / "artifacts" / rehearsal.run_id / inputs["name"]
    if target.exists():
        raise RehearsalError(f"{step.where}: artifact {inputs['name']!r} already uploaded")
    shutil.copytree(source, target)
    return "ran", f"stand-in (local folder): artifact {inputs['name']}, {len(files)} files"


def _download(
    rehearsal: Rehearsal, state: JobState, step: Step, inputs: dict[str, str]
) -> tuple[str, str]:
    source = rehearsal.stand_ins.store / "artifacts" / rehearsal.run_id / inputs["name"]
    if not source.is_dir():
        raise RehearsalError(f"{step.where}: no artifact {inputs['name']!r} in this run")
    shutil.copytree(source, state.workspace / inputs.get("path", "."), dirs_exist_ok=True)
    return "ran", f"stand-in (local folder): artifact {inputs['name']}"


#: Stand-ins for the actions the rehearsed workflows use, by action (without ref).
ACTIONS: dict[str, Action] = {
    "actions/checkout": _checkout,
    "actions/setup-python": _skip_setup_python,
    "actions/cache": _cache,
    "actions/cache/restore": _cache,
    "actions/cache/save": _cache,
    "actions/upload-artifact": _upload,
    "actions/download-artifact": _download,
    "aws-actions/configure-aws-credentials": _assume_role,
}


# -- helpers ----------------------------------------------------------------------


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.strip()


def head_commit() -> str:
    """``github.sha`` of a rehearsal: the commit the working tree is on."""
    return _git("rev-parse", "HEAD")


def repository_files() -> list[str]:
    """What a checkout of this working tree would hold: tracked and new files, not ignored."""
    listed = _git("ls-files", "--cached", "--others", "--exclude-standard").splitlines()
    return [
        name for name in listed if (PROJECT / name).is_file() and not (PROJECT / name).is_symlink()
    ]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _job_order(workflow: Workflow) -> list[str]:
    """Jobs in an order where each comes after the jobs it needs."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(job_id: str) -> None:
        if job_id in order:
            return
        if job_id in visiting:
            raise RehearsalError(f"{workflow.file}: jobs need each other in a cycle at {job_id}")
        visiting.add(job_id)
        for need in _as_list(workflow.jobs[job_id].get("needs")):
            if need not in workflow.jobs:
                raise RehearsalError(f"{workflow.file} > {job_id}: needs unknown job {need}")
            visit(need)
        order.append(job_id)

    for job_id in workflow.jobs:
        visit(job_id)
    return order


def _read_outputs(path: Path) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIMITER`` blocks, as the runner reads them."""
    values: dict[str, str] = {}
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            values[name] = "\n".join(lines[index + 1 : end])
            index = end + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        index += 1
    return values


def _check_skip_table(workflow: Workflow) -> None:
    """Every skipped step named for this workflow must exist in it."""
    names = {(s.workflow, s.job, s.body.get("name", "")) for s in workflow.steps()}
    stale = [key for key in SKIPPED_STEPS if key[0] == workflow.file and key not in names]
    if stale:
        raise RehearsalError(f"the rehearsal skips steps that no longer exist: {stale}")
