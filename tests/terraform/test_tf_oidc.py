"""GitHub OIDC: two narrowly scoped roles trusted by one repository's protected
environment, with StringEquals on audience and subject."""

from __future__ import annotations

import pytest
from terraform.tfestate import Config, Estate, one


@pytest.fixture(scope="module")
def oidc(modules) -> Config:
    return modules["github_oidc"]


def test_trust_uses_string_equals_on_audience_and_subject(oidc: Config) -> None:
    trust = oidc.data("aws_iam_policy_document")["trust"]
    statement = one(trust["statement"])
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    conditions = {c["variable"]: c for c in statement["condition"]}
    aud = conditions["token.actions.githubusercontent.com:aud"]
    sub = conditions["token.actions.githubusercontent.com:sub"]
    assert aud["test"] == "StringEquals" and aud["values"] == ["sts.amazonaws.com"]
    assert sub["test"] == "StringEquals"
    assert sub["values"] == ["repo:${var.github_repository}:environment:${each.value}"]
    assert set(conditions) == {c for c in conditions if c.startswith("token.actions")}


def test_subject_parts_cannot_be_wildcards(oidc: Config) -> None:
    for variable in ("github_repository", "publish_environment", "deploy_environment"):
        conditions = oidc.validations(variable)
        assert conditions, variable
        assert all("*" not in c for c in conditions), variable


def test_both_roles_trust_their_environment(oidc: Config) -> None:
    roles = oidc.resources("aws_iam_role")
    assert set(roles) == {"publish", "deploy"}
    for name, role in roles.items():
        assert role["assume_role_policy"] == (
            f'${{data.aws_iam_policy_document.trust["{name}"].json}}'
        )


def test_no_wildcard_actions_allowed_in_any_policy(estate: Estate) -> None:
    for config in estate.configs:
        for name, document in config.data("aws_iam_policy_document").items():
            for statement in document.get("statement", []):
                if name == "state_key" or statement.get("effect") == "Deny":
                    continue  # the KMS default key policy; denying everything is fine
                wild = [a for a in statement.get("actions", []) if "*" in a]
                assert not wild, f"{config.path.name}: {name} allows {wild}"


# Actions AWS offers no resource-level permission for.
UNSCOPABLE = {
    "ecr:GetAuthorizationToken",
    "ecs:RegisterTaskDefinition",
    "ecs:DescribeTaskDefinition",
}


def test_wildcard_resources_only_where_aws_allows_nothing_narrower(estate: Estate) -> None:
    for config in estate.configs:
        for name, document in config.data("aws_iam_policy_document").items():
            for statement in document.get("statement", []):
                if "*" in statement.get("resources", []) and name != "state_key":
                    assert set(statement["actions"]) <= UNSCOPABLE, f"{name}: {statement}"


def test_publish_role_reaches_this_bucket_and_distribution_only(oidc: Config) -> None:
    document = oidc.data("aws_iam_policy_document")["publish"]
    resources = {r for s in document["statement"] for r in s["resources"]}
    assert resources == {
        "${var.site_bucket_arn}",
        "${var.site_bucket_arn}/releases/*",
        "${var.site_bucket_arn}/previews/*",
        "${var.distribution_arn}",
    }
    actions = {a for s in document["statement"] for a in s["actions"]}
    assert {"cloudfront:UpdateDistribution", "cloudfront:CreateInvalidation"} <= actions
    assert {"s3:PutObject", "s3:DeleteObject", "s3:ListBucket"} <= actions


def test_deploy_role_passes_only_the_task_roles_to_ecs(oidc: Config) -> None:
    document = oidc.data("aws_iam_policy_document")["deploy"]
    passing = [s for s in document["statement"] if "iam:PassRole" in s["actions"]]
    statement = one(passing)
    assert statement["resources"] == "${var.task_role_arns}"
    condition = one(statement["condition"])
    assert condition["variable"] == "iam:PassedToService"
    assert condition["values"] == ["ecs-tasks.amazonaws.com"]
    deploys = [s for s in document["statement"] if "codedeploy:CreateDeployment" in s["actions"]]
    assert one(deploys)["resources"][0].endswith(
        ":deploymentgroup:${var.codedeploy_application_name}/${var.codedeploy_deployment_group_name}"
    )
    pushes = [s for s in document["statement"] if "ecr:PutImage" in s["actions"]]
    assert one(pushes)["resources"] == ["${var.ecr_repository_arn}"]
