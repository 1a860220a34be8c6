"""Inputs of an ECS blue/green deployment through CodeDeploy (deploy-api.yml).

Two pure transformations of JSON, for the AWS CLI to send:

* ``task-definition``: the live task definition, as ``aws ecs
  describe-task-definition --query taskDefinition`` prints it, with one
  container's image replaced and the fields AWS adds on registration removed,
  ready for ``aws ecs register-task-definition --cli-input-json``;
* ``deployment``: the input of ``aws deploy create-deployment --cli-input-json``,
  whose AppSpec points the service at a task definition revision, names the
  container and port the load balancer routes to, and runs the test-traffic
  hook (a Lambda function) before production traffic moves.

Standard library only: the runner's python3 runs it before any install.
Every error names the file and field at fault and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Fields ``describe-task-definition`` returns that ``register-task-definition``
#: refuses: AWS sets them on registration (the list the
#: aws-actions/amazon-ecs-deploy-task-definition action strips as well).
REGISTRATION_FIELDS = (
    "compatibilities",
    "deregisteredAt",
    "registeredAt",
    "registeredBy",
    "requiresAttributes",
    "revision",
    "status",
    "taskDefinitionArn",
)


class InputError(Exception):
    """A problem with an input, worded for the person reading the job log."""


def render_task_definition(described: dict[str, Any], container: str, image: str) -> dict[str, Any]:
    """The registrable task definition with ``container`` running ``image``."""
    if not isinstance(described.get("containerDefinitions"), list):
        raise InputError("containerDefinitions: missing (is this describe-task-definition output?)")
    names = [c.get("name") for c in described["containerDefinitions"]]
    if names.count(container) != 1:
        raise InputError(
            f"containerDefinitions: expected one container named {container!r}, found {names}"
        )
    if not image or any(c.isspace() for c in image) or ":" not in image.rsplit("/", 1)[-1]:
        raise InputError(f"image: {image!r} is not a repository URL with a tag")
    rendered = {k: v for k, v in described.items() if k not in REGISTRATION_FIELDS}
    rendered["containerDefinitions"] = [
        {**c, "image": image} if c.get("name") == container else c
        for c in described["containerDefinitions"]
    ]
    return rendered


def appspec(task_definition_arn: str, container: str, port: int, hook: str) -> dict[str, Any]:
    """The AppSpec of an ECS deployment (version 0.0, the only one CodeDeploy reads)."""
    if not task_definition_arn.startswith("arn:") or ":task-definition/" not in task_definition_arn:
        raise InputError(f"task definition: {task_definition_arn!r} is not a task definition ARN")
    if not 0 < port < 65536:
        raise InputError(f"container port: {port} is not a TCP port")
    if not hook:
        raise InputError("hook: no AfterAllowTestTraffic function given")
    return {
        "version": 0.0,
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": task_definition_arn,
                        "LoadBalancerInfo": {"ContainerName": container, "ContainerPort": port},
                    },
                }
            }
        ],
        # Runs while only the test listener reaches the new tasks: a failure stops
        # the deployment before any visitor is routed to them.
        "Hooks": [{"AfterAllowTestTraffic": hook}],
    }


def deployment_input(
    application: str, group: str, spec: dict[str, Any], description: str
) -> dict[str, Any]:
    """The create-deployment request carrying the AppSpec inline."""
    for field, value in (("application", application), ("deployment group", group)):
        if not value:
            raise InputError(f"{field}: empty (is the repository variable set?)")
    return {
        "applicationName": application,
        "deploymentGroupName": group,
        "description": description[:100],
        "revision": {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": json.dumps(spec, sort_keys=True)},
        },
    }


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
    except ValueError as error:
        raise InputError(f"{path}: not JSON ({error})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("task-definition", help="set one container's image")
    render.add_argument("described", type=Path, help="describe-task-definition's taskDefinition")
    render.add_argument("--container", required=True)
    render.add_argument("--image", required=True)
    deploy = commands.add_parser("deployment", help="create-deployment input with the AppSpec")
    deploy.add_argument("--task-definition-arn", required=True)
    deploy.add_argument("--container", required=True)
    deploy.add_argument("--port", type=int, required=True)
    deploy.add_argument("--hook", required=True, help="AfterAllowTestTraffic Lambda function")
    deploy.add_argument("--application", required=True)
    deploy.add_argument("--group", required=True)
    deploy.add_argument("--description", default="")
    args = parser.parse_args(argv)
    try:
        if args.command == "task-definition":
            output = render_task_definition(_read_json(args.described), args.container, args.image)
        else:
            spec = appspec(args.task_definition_arn, args.container, args.port, args.hook)
            output = deployment_input(args.application, args.group, spec, args.description)
    except InputError as error:
        print(f"codedeploy.py {args.command}: {error}", file=sys.stderr)
        return 2
    json.dump(output, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
