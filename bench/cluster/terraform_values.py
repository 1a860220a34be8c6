"""What the drill copies from the Terraform, read with python-hcl2 and never restated.

The load balancer's target group (health check, deregistration delay,
connection termination), the CodeDeploy deployment group (traffic shifting,
rollback triggers, the alarms it watches), the test-traffic hook's probe
settings and the alarms' definitions all come from ``terraform/``: the
production root's module calls, then each module's own variable defaults. A
value the drill cannot resolve to a literal (an output of another module, a
function call) is refused with its place named, rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

from bench.cluster import ROOT
from bench.cluster.alarms import AlarmDefinition, MetricStat, Query

TERRAFORM = ROOT / "terraform"
PRODUCTION = TERRAFORM / "envs" / "production"
HOOK_SOURCE = TERRAFORM / "modules" / "deployment" / "hook" / "after_allow_test_traffic.py"
_OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
_REFERENCE = re.compile(r"^\$\{(var|module)\.([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+)*)\}$")
_RESOURCE_ATTRIBUTE = re.compile(
    r"^\$\{aws_cloudwatch_metric_alarm\.([A-Za-z0-9_]+)\.alarm_name\}$"
)
_OPTIONAL = re.compile(r"(\w+)\s*=\s*optional\(\s*\w+\s*,\s*([^()]+?)\s*\)")


class TerraformValueError(ValueError):
    """A value the drill needs is not a literal it can resolve; the message says where."""


@dataclass(frozen=True)
class Folder:
    """The parsed .tf files of one folder."""

    path: Path
    blocks: dict[str, list[dict[str, Any]]]

    def named(self, kind: str) -> dict[str, dict[str, Any]]:
        """Blocks with one label (variable, output, module) by name."""
        return {name: body for block in self.blocks.get(kind, []) for name, body in block.items()}

    def resource(self, rtype: str, name: str) -> dict[str, Any]:
        for block in self.blocks.get("resource", []):
            if name in block.get(rtype, {}):
                return block[rtype][name]
        raise TerraformValueError(f"{shown(self.path)}: no {rtype}.{name}")


def shown(path: Path) -> str:
    """A path as error messages name it: from the repository root when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


@cache
def read_folder(path: Path) -> Folder:
    blocks: dict[str, list[dict[str, Any]]] = {}
    for tf in sorted(path.glob("*.tf")):
        for kind, values in hcl2.loads(tf.read_text(), serialization_options=_OPTIONS).items():
            blocks.setdefault(kind, []).extend(values)
    return Folder(path, blocks)


@dataclass(frozen=True)
class Module:
    """A module as the production root calls it: its files and the arguments it gets."""

    folder: Folder
    arguments: dict[str, Any]
    root: Folder

    @classmethod
    def called(cls, name: str, root: Path = PRODUCTION) -> Module:
        """Module ``name`` as the root module in folder ``root`` calls it."""
        caller = read_folder(root)
        call = caller.named("module").get(name)
        if call is None:
            raise TerraformValueError(f"{shown(root)}: no module {name!r}")
        return cls(read_folder((root / call["source"]).resolve()), call, caller)

    def where(self) -> str:
        return shown(self.folder.path)

    def root_where(self) -> str:
        return shown(self.root.path)

    def value(self, expression: Any, what: str) -> Any:
        """``expression`` with ``var.x`` (and ``var.x.attr``) resolved to a literal."""
        if not isinstance(expression, str) or "${" not in expression:
            return expression
        match = _REFERENCE.match(expression)
        if not match or match.group(1) != "var":
            raise TerraformValueError(f"{self.where()}: {what} = {expression!r} is not a literal")
        name, attributes = match.group(2), [a for a in match.group(3).split(".") if a]
        value = self._variable(name, what)
        for attribute in attributes:
            value = self._attribute(name, value, attribute, what)
        return value

    def _variable(self, name: str, what: str) -> Any:
        if name in self.arguments:
            passed = self.arguments[name]
            match = _REFERENCE.match(passed) if isinstance(passed, str) else None
            if match and match.group(1) == "var" and not match.group(3):
                root_variable = self.root.named("variable")[match.group(2)]
                if "default" not in root_variable:
                    raise TerraformValueError(
                        f"{self.root_where()}: var.{match.group(2)} (for {what}) has no default"
                    )
                return root_variable["default"]
            if isinstance(passed, str) and "${" in passed:
                raise TerraformValueError(
                    f"{self.root_where()}: {name} = {passed!r} (for {what}) is not a literal"
                )
            return passed
        variable = self.folder.named("variable").get(name)
        if variable is None or "default" not in variable:
            raise TerraformValueError(f"{self.where()}: var.{name} (for {what}) has no default")
        return variable["default"]

    def _attribute(self, name: str, value: Any, attribute: str, what: str) -> Any:
        if isinstance(value, dict) and attribute in value:
            return value[attribute]
        # An object attribute left out takes its `optional(type, default)` from the type.
        declared = self.folder.named("variable")[name].get("type", "")
        defaults = dict(_OPTIONAL.findall(declared))
        if attribute not in defaults:
            raise TerraformValueError(f"{self.where()}: var.{name}.{attribute} (for {what}) unset")
        return _number(defaults[attribute])


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text.strip('"')


def _one(blocks: Any) -> dict[str, Any]:
    return blocks[0] if isinstance(blocks, list) else blocks


# --------------------------------------------------------------------------- what the drill needs


@dataclass(frozen=True)
class HealthCheck:
    """The target group's health check (the NLB probes every target with it)."""

    path: str
    status: int  # matcher
    interval: float
    timeout: float
    healthy_threshold: int
    unhealthy_threshold: int


@dataclass(frozen=True)
class TargetGroup:
    deregistration_delay: float
    connection_termination: bool
    health_check: HealthCheck


@dataclass(frozen=True)
class Deployment:
    """The CodeDeploy deployment group and its test-traffic hook."""

    config_name: str
    rollback_on_failure: bool
    rollback_on_alarm: bool
    termination_wait_minutes: float
    alarm_names: tuple[str, ...]  # resource names in the monitoring module
    probe_attempts: int
    probe_timeout_seconds: float


def target_group(root: Path = PRODUCTION) -> TargetGroup:
    module = Module.called("load_balancer", root)
    body = module.folder.resource("aws_lb_target_group", "this")
    check = _one(body["health_check"])
    if module.value(check["protocol"], "health_check.protocol") != "HTTP":
        raise TerraformValueError(f"{module.where()}: the drill probes over HTTP only")
    return TargetGroup(
        deregistration_delay=float(module.value(body["deregistration_delay"], "deregistration")),
        connection_termination=bool(module.value(body.get("connection_termination", False), "")),
        health_check=HealthCheck(
            path=module.value(check["path"], "health_check.path"),
            status=int(module.value(check["matcher"], "health_check.matcher")),
            interval=float(module.value(check["interval"], "health_check.interval")),
            timeout=float(module.value(check["timeout"], "health_check.timeout")),
            healthy_threshold=int(module.value(check["healthy_threshold"], "healthy_threshold")),
            unhealthy_threshold=int(
                module.value(check["unhealthy_threshold"], "unhealthy_threshold")
            ),
        ),
    )


def first_routes(root: Path = PRODUCTION) -> dict[str, str]:
    """Listener (production, test) -> the target group (blue, green) it forwards to at first."""
    module = Module.called("load_balancer", root)
    routes = {}
    for listener in ("production", "test"):
        action = _one(module.folder.resource("aws_lb_listener", listener)["default_action"])
        group = re.fullmatch(
            r'\$\{aws_lb_target_group\.this\["(\w+)"\]\.arn\}', action["target_group_arn"]
        )
        if group is None:
            raise TerraformValueError(f"{module.where()}: {listener} forwards to {action!r}")
        routes[listener] = group.group(1)
    return routes


def deployment(root: Path = PRODUCTION) -> Deployment:
    module = Module.called("deployment", root)
    group = module.folder.resource("aws_codedeploy_deployment_group", "this")
    rollback = _one(group["auto_rollback_configuration"])
    events = set(rollback.get("events", [])) if rollback.get("enabled") else set()
    alarms = _one(group["alarm_configuration"])
    blue_green = _one(group["blue_green_deployment_config"])
    terminate = _one(blue_green["terminate_blue_instances_on_deployment_success"])
    hook = module.folder.resource("aws_lambda_function", "hook")
    environment = _one(_one(hook["environment"])["variables"])
    return Deployment(
        config_name=module.value(group["deployment_config_name"], "deployment_config_name"),
        rollback_on_failure="DEPLOYMENT_FAILURE" in events,
        rollback_on_alarm="DEPLOYMENT_STOP_ON_ALARM" in events and bool(alarms.get("enabled")),
        termination_wait_minutes=float(
            module.value(terminate["termination_wait_time_in_minutes"], "termination wait")
        ),
        alarm_names=deployment_alarm_names(module, alarms["alarms"]),
        probe_attempts=int(environment["PROBE_ATTEMPTS"]),
        probe_timeout_seconds=float(environment["PROBE_TIMEOUT_SECONDS"]),
    )


def deployment_alarm_names(deployment_module: Module, alarms: Any) -> tuple[str, ...]:
    """The monitoring module's alarm resources CodeDeploy watches (followed through the root)."""
    if alarms != "${var.alarm_names}":
        raise TerraformValueError(f"{deployment_module.where()}: alarms = {alarms!r}")
    passed = deployment_module.arguments.get("alarm_names")
    match = _REFERENCE.match(passed) if isinstance(passed, str) else None
    if not match or match.group(1) != "module" or match.group(2) != "monitoring":
        raise TerraformValueError(f"{deployment_module.root_where()}: alarm_names = {passed!r}")
    output = match.group(3).lstrip(".")
    monitoring = Module.called("monitoring", deployment_module.root.path)
    values = monitoring.folder.named("output")[output]["value"]
    names = []
    for value in values:
        resource = _RESOURCE_ATTRIBUTE.match(value)
        if not resource:
            raise TerraformValueError(f"monitoring output {output}: {value!r} is not an alarm name")
        names.append(resource.group(1))
    return tuple(names)


def api_service_dimension(root: Path = PRODUCTION) -> str:
    """The ``Service`` value the alarms watch (the task definition sets API_SERVICE_NAME to it)."""
    module = Module.called("monitoring", root)
    return str(module.value("${var.metrics_service_dimension}", "metrics_service_dimension"))


# --------------------------------------------------------------------------- alarms


def api_namespace(root: Path = PRODUCTION) -> str:
    """The namespace of the API's own (EMF) metrics, as the monitoring module names it."""
    monitoring = Module.called("monitoring", root)
    return str(monitoring.value("${var.metrics_namespace}", "metrics_namespace"))


def deployment_alarms(root: Path = PRODUCTION) -> tuple[list[AlarmDefinition], dict[str, str]]:
    """The alarms CodeDeploy watches that read only the API's own metrics, and the others.

    Returns (definitions, {alarm: why it is not evaluated here}). The nodes'
    logs carry the API's metrics; an alarm on another namespace (the NLB's
    target health) has no data on this machine.
    """
    monitoring = Module.called("monitoring", root)
    own = api_namespace(root)
    definitions, skipped = [], {}
    for name in deployment(root).alarm_names:
        body = monitoring.folder.resource("aws_cloudwatch_metric_alarm", name)
        namespaces = {monitoring.value(n, f"{name} namespace") for n in _namespaces(body)}
        if namespaces != {own}:
            skipped[name] = f"reads {', '.join(sorted(namespaces - {own}))}, not in the nodes' logs"
            continue
        definitions.append(alarm_definition(monitoring, name, body))
    return definitions, skipped


def _namespaces(body: Mapping[str, Any]) -> list[Any]:
    found = [body["namespace"]] if "namespace" in body else []
    queries = list(body.get("metric_query", []))
    for dynamic in body.get("dynamic", []):
        queries += list(dynamic.get("metric_query", {}).get("content", []))
    for query in queries:
        found += [metric["namespace"] for metric in query.get("metric", [])]
    return found


def alarm_definition(module: Module, name: str, body: Mapping[str, Any]) -> AlarmDefinition:
    """One ``aws_cloudwatch_metric_alarm`` as an ``alarms.AlarmDefinition``."""
    where = f"aws_cloudwatch_metric_alarm.{name}"
    if "metric_name" in body:
        stat = body.get("statistic") or body.get("extended_statistic")
        queries: tuple[Query, ...] = (
            Query("m1", _metric(module, where, body, stat, body["period"]), return_data=True),
        )
    else:
        blocks = list(body.get("metric_query", []))
        for dynamic in body.get("dynamic", []):
            blocks += _expand(module, where, dynamic["metric_query"])
        queries = tuple(_query(module, where, block) for block in blocks)
    evaluation_periods = int(
        module.value(body["evaluation_periods"], f"{where}.evaluation_periods")
    )
    return AlarmDefinition(
        name=name,
        queries=queries,
        comparison=body["comparison_operator"],
        threshold=float(module.value(body["threshold"], f"{where}.threshold")),
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=int(body.get("datapoints_to_alarm", evaluation_periods)),
        treat_missing_data=body.get("treat_missing_data", "missing"),
    )


def _expand(module: Module, where: str, generator: Mapping[str, Any]) -> list[Any]:
    """A ``dynamic "metric_query"`` block over a literal map, as plain blocks."""
    each = generator["for_each"]
    if not isinstance(each, dict):
        raise TerraformValueError(f"{module.where()}: {where}: for_each = {each!r} is not literal")
    blocks = []
    for key, value in each.items():
        for content in generator["content"]:
            blocks.append(_substitute(content, {"key": key, "value": value}))
    return blocks


def _substitute(node: Any, iterator: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _substitute(v, iterator) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, iterator) for v in node]
    if isinstance(node, str):
        for attribute, value in iterator.items():
            node = node.replace(f"${{metric_query.{attribute}}}", value)
    return node


def _query(module: Module, where: str, block: Mapping[str, Any]) -> Query:
    if "metric" in block:
        metric = _one(block["metric"])
        stat = _metric(module, where, metric, metric["stat"], metric["period"])
        return Query(block["id"], stat, return_data=bool(block.get("return_data", False)))
    return Query(
        block["id"], expression=block["expression"], return_data=bool(block.get("return_data"))
    )


def _metric(
    module: Module, where: str, block: Mapping[str, Any], stat: str, period: Any
) -> MetricStat:
    dimensions = {
        key: str(module.value(value, f"{where} dimension {key}"))
        for key, value in (block.get("dimensions") or {}).items()
    }
    return MetricStat(
        namespace=module.value(block["namespace"], f"{where}.namespace"),
        metric=block["metric_name"],
        dimensions=tuple(sorted(dimensions.items())),
        stat=stat,
        period=float(module.value(period, f"{where}.period")),
    )
