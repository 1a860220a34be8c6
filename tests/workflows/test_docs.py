"""The runbook keeps up with the alarms: one section per alarm the Terraform defines."""

from __future__ import annotations

import re

from support.paths import PROJECT
from terraform.tfestate import load_estate

RUNBOOK = PROJECT / "docs" / "runbook.md"


def _alarm_names() -> set[str]:
    estate = load_estate()
    name = estate.production.variables["name"]["default"]  # the root passes var.name down
    alarms = estate.modules["monitoring"].resources("aws_cloudwatch_metric_alarm")
    return {str(body["alarm_name"]).replace("${var.name}", name) for body in alarms.values()}


def test_every_alarm_has_a_runbook_section_and_no_section_is_stale() -> None:
    sections = set(re.findall(r"^### (\S+)$", RUNBOOK.read_text(encoding="utf-8"), re.MULTILINE))
    alarms = _alarm_names()
    assert len(alarms) >= 10
    assert sections == alarms
