"""The drill reads its times, health check and alarms from Terraform, and refuses to guess.

Scratch Terraform trees (a root calling one module) pin the resolution rules;
the real tree is checked against the API's own code where the two meet.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from api import metrics
from bench.cluster import terraform_values
from bench.cluster.terraform_values import Module, TerraformValueError


def tree(tmp_path: Path, module: str, root: str) -> Path:
    """A root folder calling ``modules/thing``; returns the root."""
    (tmp_path / "modules" / "thing").mkdir(parents=True)
    (tmp_path / "modules" / "thing" / "main.tf").write_text(textwrap.dedent(module))
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "main.tf").write_text(textwrap.dedent(root))
    return tmp_path / "root"


MODULE = """
    variable "delay" {
      type    = number
      default = 30
    }
    variable "service" {
      type = string
    }
    variable "limits" {
      type = object({
        rate    = optional(number, 2)
        latency = optional(number, 1000)
      })
      default = {}
    }
    variable "no_default" {
      type = number
    }
"""


@pytest.mark.parametrize(
    ("root_arguments", "expression", "value"),
    [
        ("", "${var.delay}", 30),  # the module's default
        ("delay = 45", "${var.delay}", 45),  # a literal the root passes
        ("service = var.svc", "${var.service}", "from-the-root"),  # the root's own default
        ("", "${var.limits.rate}", 2),  # an attribute left out: optional()'s default
        ("limits = { rate = 5 }", "${var.limits.rate}", 5),
        ("limits = { rate = 5 }", "${var.limits.latency}", 1000),
        ("", 7, 7),  # not an expression at all
    ],
)
def test_a_value_resolves_through_the_root_to_a_literal(
    tmp_path: Path, root_arguments: str, expression: object, value: object
) -> None:
    root = tree(
        tmp_path,
        MODULE,
        f"""
        variable "svc" {{
          default = "from-the-root"
        }}
        module "thing" {{
          source = "../modules/thing"
          {root_arguments}
        }}
        """,
    )
    assert Module.called("thing", root).value(expression, "what") == value


@pytest.mark.parametrize(
    ("root_arguments", "expression", "message"),
    [
        ("delay = module.other.delay", "${var.delay}", r"root: delay = .*module\.other"),
        ("", "${var.no_default}", r"modules/thing: var\.no_default .* has no default"),
        ("", "${local.x}", r"modules/thing: what = .*local\.x.* is not a literal"),
        ("", "${var.limits.nope}", r"var\.limits\.nope .* unset"),
    ],
)
def test_a_value_it_cannot_resolve_is_refused_with_its_place(
    tmp_path: Path, root_arguments: str, expression: str, message: str
) -> None:
    root = tree(
        tmp_path,
        MODULE,
        f"""
        module "thing" {{
          source = "../modules/thing"
          {root_arguments}
        }}
        """,
    )
    with pytest.raises(TerraformValueError, match=message):
        Module.called("thing", root).value(expression, "what")


def test_the_alarms_the_drill_evaluates_read_what_the_api_emits() -> None:
    """Metric names, namespace and dimension, compared with the API's own constants."""
    alarms, skipped = terraform_values.deployment_alarms()
    assert alarms, "no deployment alarm reads the API's own metrics"
    emitted = {metrics.LATENCY, *metrics.STATUS_METRICS}
    for alarm in alarms:
        for namespace, metric, dimensions in alarm.metrics:
            assert namespace == metrics.NAMESPACE
            assert metric in emitted, (alarm.name, metric)
            assert [name for name, _value in dimensions] == [metrics.DIMENSION]
    # Every deployment alarm is either evaluated or named with the reason it is not.
    assert {a.name for a in alarms} | set(skipped) == set(terraform_values.deployment().alarm_names)


def test_the_balancer_checks_a_path_the_api_answers_with_the_expected_status(
    tmp_path: Path,
) -> None:
    from api import create_app

    check = terraform_values.target_group().health_check
    app = create_app({"STORE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}"})
    assert app.test_client().get(check.path).status_code == check.status
