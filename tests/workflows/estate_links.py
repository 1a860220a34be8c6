"""Follow a production output of the Terraform to the IAM role behind it.

The workflows name roles by repository variables set from
``terraform/envs/production`` outputs. To check a job may really assume the role
it names, and may make the calls it makes, the chain is followed through the
parsed HCL: root output → module output → ``aws_iam_role`` → its trust policy
(whose subject says which GitHub runs may assume it) and its inline policy
(whose actions say what it may do). Each hop that cannot be followed raises
``LinkError`` naming the hop, so a refactored Terraform fails loudly here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from terraform.tfestate import Config, Estate

_MODULE_OUTPUT = re.compile(r"^\$\{module\.(\w+)\.(\w+)\}$")
_ROLE_ARN = re.compile(r"^\$\{aws_iam_role\.(\w+)\.arn\}$")
_DOCUMENT = re.compile(r'^\$\{data\.aws_iam_policy_document\.(\w+)(?:\["(\w+)"\])?\.json\}$')
_VAR = re.compile(r"^\$\{var\.(\w+)\}$")
_LOCAL = re.compile(r"^\$\{local\.(\w+)\}$")


class LinkError(AssertionError):
    """A hop of the chain output → role → policy that the Terraform does not make."""


@dataclass(frozen=True)
class Role:
    module: Config
    root_call: dict[str, Any]
    name: str
    body: dict[str, Any]


def _locals(config: Config) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for parsed in config.files.values():
        for block in parsed.get("locals", []):
            merged.update(block)
    return merged


def role_of_output(estate: Estate, output: str) -> Role:
    """The IAM role whose ARN a production output returns."""
    production = estate.production
    if output not in production.outputs:
        raise LinkError(f"terraform/envs/production has no output {output!r}")
    match = _MODULE_OUTPUT.match(str(production.outputs[output]["value"]))
    if not match:
        raise LinkError(f"output {output}: not a module output")
    call_name, module_output = match.groups()
    call = production.module_calls[call_name]
    module = estate.modules[str(call["source"]).rstrip("/").rsplit("/", 1)[-1]]
    value = str(module.outputs.get(module_output, {}).get("value", ""))
    role = _ROLE_ARN.match(value)
    if not role:
        raise LinkError(f"module {call_name} output {module_output}: not an aws_iam_role ARN")
    return Role(module, call, role.group(1), module.resources("aws_iam_role")[role.group(1)])


def _resolve(role: Role, estate: Estate, value: str, key: str | None) -> str:
    """A value of the module, down to a literal: each.value, local.x, var.x, root default."""
    if local := _LOCAL.match(value):
        entry = _locals(role.module)[local.group(1)]
        value = str(entry[key] if isinstance(entry, dict) and key is not None else entry)
    if variable := _VAR.match(value):
        argument = role.root_call.get(variable.group(1))
        if argument is None:
            argument = role.module.variables[variable.group(1)].get("default")
        value = str(estate.production.default(argument))
    return value


def trusted_subject(estate: Estate, output: str) -> str:
    """The part of the OIDC subject after the repository: ``environment:X`` or ``pull_request``."""
    role = role_of_output(estate, output)
    document = _DOCUMENT.match(str(role.body.get("assume_role_policy", "")))
    if not document:
        raise LinkError(f"role {role.name}: trust policy is not an aws_iam_policy_document")
    name, key = document.groups()
    trust = role.module.data("aws_iam_policy_document")[name]
    subjects = [
        value
        for statement in trust.get("statement", [])
        for condition in statement.get("condition", [])
        if str(condition.get("variable", "")).endswith(":sub")
        and condition.get("test") == "StringEquals"
        for value in condition.get("values", [])
    ]
    if len(subjects) != 1:
        raise LinkError(f"role {role.name}: expected one StringEquals subject, got {subjects}")
    subject = subjects[0].split(":", 2)[2]  # drop "repo:${var.github_repository}:"
    if "${each.value}" in subject:
        for_each = str(trust.get("for_each", ""))
        local = _LOCAL.match(for_each)
        if not local or key is None:
            raise LinkError(f"role {role.name}: trust for_each is not a local map")
        environment = _resolve(role, estate, f"${{local.{local.group(1)}}}", key)
        subject = subject.replace("${each.value}", environment)
    return subject


def allowed_actions(estate: Estate, output: str) -> set[str]:
    """Every IAM action the role's inline policies allow."""
    role = role_of_output(estate, output)
    actions: set[str] = set()
    policies = [
        p
        for p in role.module.resources("aws_iam_role_policy").values()
        if p.get("role")
        in (f"${{aws_iam_role.{role.name}.id}}", f"${{aws_iam_role.{role.name}.name}}")
    ]
    if not policies:
        raise LinkError(f"role {role.name}: no aws_iam_role_policy attached")
    for policy in policies:
        document = _DOCUMENT.match(str(policy.get("policy", "")))
        if not document:
            raise LinkError(f"role {role.name}: policy is not an aws_iam_policy_document")
        body = role.module.data("aws_iam_policy_document")[document.group(1)]
        for statement in body.get("statement", []):
            if statement.get("effect", "Allow") == "Allow":
                actions.update(statement.get("actions", []))
    return actions
