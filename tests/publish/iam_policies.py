"""The IAM policies Terraform gives the site's roles, rendered as Terraform renders them.

terraform/modules/github_oidc renders each role's policy with
`templatefile("${path.module}/policies/<name>.json.tftpl", {name = var.x, ...})`.
Here the same call is read from the module's HCL (which template, which
variables), and the template rendered with values for the emulator's resources.
The templates use plain `${name}` interpolation only (a test refuses anything
else), which is all `templatefile` does with them, so the two renderings agree.

    policy("publish", {"site_bucket_arn": "arn:aws:s3:::b", "distribution_arn": "..."})
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.paths import PROJECT

MODULE = PROJECT / "terraform" / "modules" / "github_oidc"
_CALL = re.compile(
    r'^\$\{templatefile\("\$\{path\.module\}/(?P<path>[^"]+)", \{(?P<args>[^}]*)\}\)\}$'
)
_ARG = re.compile(r"(\w+) = var\.(\w+)")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_TEMPLATE_DIRECTIVE = re.compile(r"%\{")


@dataclass(frozen=True)
class TemplateCall:
    template: Path
    arguments: dict[str, str]  # template variable -> module variable


def template_call(role: str) -> TemplateCall:
    """How the module renders `role`'s inline policy (parsed from its HCL)."""
    from terraform.tfestate import load_estate

    resource = load_estate().modules["github_oidc"].resource("aws_iam_role_policy", role)
    match = _CALL.match(resource["policy"])
    assert match, f"{role}'s policy is not templatefile(...) of a file in the module"
    arguments = dict(_ARG.findall(match.group("args")))
    return TemplateCall(MODULE / match.group("path"), arguments)


def placeholders(template: Path) -> set[str]:
    text = template.read_text(encoding="utf-8")
    assert not _TEMPLATE_DIRECTIVE.search(text), f"{template.name}: only ${{name}} is supported"
    names = set(_PLACEHOLDER.findall(text))
    assert all(re.fullmatch(r"\w+", name) for name in names), f"{template.name}: {names}"
    return names


def policy(role: str, variables: dict[str, str]) -> dict[str, Any]:
    """The role's policy document, rendered with the module variables' values."""
    call = template_call(role)
    values = {name: variables[variable] for name, variable in call.arguments.items()}
    assert placeholders(call.template) == set(values), "template and call disagree"
    text = _PLACEHOLDER.sub(lambda m: values[m.group(1)], call.template.read_text())
    return json.loads(text)


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def allows(document: dict[str, Any], action: str, resource: str) -> bool:
    """Whether an Allow statement (no Deny, no conditions here) grants action on resource."""
    for statement in statements(document):
        assert statement["Effect"] == "Allow" and "Condition" not in statement, statement
        if any(fnmatch.fnmatchcase(action, a) for a in _listed(statement["Action"])) and any(
            fnmatch.fnmatchcase(resource, r) for r in _listed(statement["Resource"])
        ):
            return True
    return False
