"""Module conventions: the files every module has, described inputs and outputs,
a root that only composes, pinned providers and justified checkov skips."""

from __future__ import annotations

import re

import pytest
from terraform.tfestate import MODULES, TERRAFORM, Config, Estate, tf_files

EXPECTED_MODULES = {
    "network",
    "static_site",
    "container_registry",
    "availability_table",
    "api_service",
    "load_balancer",
    "deployment",
    "monitoring",
    "github_oidc",
}
MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")


def test_every_concern_has_a_module(estate: Estate) -> None:
    assert set(estate.modules) == EXPECTED_MODULES


@pytest.mark.parametrize("module", sorted(EXPECTED_MODULES))
def test_module_has_the_standard_files(module: str) -> None:
    missing = [f for f in MODULE_FILES if not (MODULES / module / f).is_file()]
    assert not missing, f"{module} lacks {missing}"


def _configs(estate: Estate) -> list[Config]:
    return estate.configs


def test_every_variable_has_a_description_and_a_type(estate: Estate) -> None:
    bad = [
        f"{c.path.relative_to(TERRAFORM)}: var.{name}"
        for c in _configs(estate)
        for name, body in c.variables.items()
        if not str(body.get("description", "")).strip() or "type" not in body
    ]
    assert not bad, bad


def test_every_output_has_a_description(estate: Estate) -> None:
    bad = [
        f"{c.path.relative_to(TERRAFORM)}: output.{name}"
        for c in _configs(estate)
        for name, body in c.outputs.items()
        if not str(body.get("description", "")).strip()
    ]
    assert not bad, bad


@pytest.mark.parametrize("module", sorted(EXPECTED_MODULES))
def test_module_readme_documents_every_input_and_output(modules, module: str) -> None:
    readme = (MODULES / module / "README.md").read_text()
    config = modules[module]
    undocumented = [
        name
        for name in [*config.variables, *config.outputs]
        if not re.search(rf"`{re.escape(name)}`", readme)
    ]
    assert not undocumented, f"{module}/README.md does not mention {undocumented}"


def test_production_root_creates_nothing_itself(production: Config) -> None:
    assert production.all_resources() == []
    assert not any(parsed.get("data") for parsed in production.files.values())
    assert production.module_calls, "the root composes modules"


def test_production_root_uses_every_module(production: Config) -> None:
    sources = {call["source"] for call in production.module_calls.values()}
    assert sources == {f"../../modules/{m}" for m in EXPECTED_MODULES}


def test_production_state_is_remote_with_locking(production: Config) -> None:
    backends = [b for t in production.terraform_blocks for b in t.get("backend", [])]
    assert len(backends) == 1 and "s3" in backends[0]
    s3 = backends[0]["s3"]
    assert s3["use_lockfile"] is True
    assert s3["encrypt"] is True


def test_bootstrap_state_bucket_is_versioned_and_never_destroyed(estate: Estate) -> None:
    bootstrap = estate.bootstrap
    bucket = bootstrap.resource("aws_s3_bucket", "state")
    assert bucket["lifecycle"][0]["prevent_destroy"] is True
    versioning = bootstrap.resource("aws_s3_bucket_versioning", "state")
    assert versioning["versioning_configuration"][0]["status"] == "Enabled"
    block = bootstrap.resource("aws_s3_bucket_public_access_block", "state")
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy"))


def test_every_config_pins_terraform_and_the_aws_provider(estate: Estate) -> None:
    for config in _configs(estate):
        blocks = config.terraform_blocks
        assert blocks, f"{config.path} has no terraform block"
        providers = blocks[0]["required_providers"][0]
        assert providers["aws"]["source"] == "hashicorp/aws", config.path
        assert providers["aws"]["version"].startswith("~> 6."), config.path
        assert blocks[0]["required_version"] == ">= 1.11", config.path


SKIP = re.compile(r"#checkov:skip=([A-Z0-9_]+)(?::(.*))?")


@pytest.mark.parametrize("path", tf_files(), ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_checkov_skips_are_inline_and_justified(path) -> None:
    lines = path.read_text().splitlines()
    for n, line in enumerate(lines, start=1):
        if "checkov:skip" not in line:
            continue
        match = SKIP.search(line)
        assert match, f"line {n}: malformed skip"
        reason = (match.group(2) or "").strip()
        assert len(reason.split()) >= 8, f"line {n}: {match.group(1)} needs a reason"
        # Inline means inside the resource it silences, not a file-wide config.
        assert line.startswith("  #checkov:skip="), f"line {n}: skip is not inside a block"
