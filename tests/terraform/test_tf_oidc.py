"""GitHub OIDC: narrowly scoped roles trusted by one repository (its protected environment,
or its pull-request runs for previews), with StringEquals on audience and subject.
The site roles' permissions are the policy templates the IAM-enforced publish tests
run under (tests/publish/test_iam.py); here, their shape and scope."""

from __future__ import annotations

import pytest
from publish.iam_policies import policy, statements
from storefront.publish.layout import LIVE_PREFIX, META_PREFIX, PREVIEWS_PREFIX
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


def test_the_production_roles_trust_their_environment(oidc: Config) -> None:
    roles = oidc.resources("aws_iam_role")
    assert set(roles) == {"publish", "deploy", "preview"}
    for name in ("publish", "deploy"):
        assert roles[name]["assume_role_policy"] == (
            f'${{data.aws_iam_policy_document.trust["{name}"].json}}'
        )


def test_the_preview_role_trusts_only_pull_request_runs_of_this_repository(
    oidc: Config,
) -> None:
    role = oidc.resource("aws_iam_role", "preview")
    assert role["assume_role_policy"] == "${data.aws_iam_policy_document.preview_trust.json}"
    statement = one(oidc.data("aws_iam_policy_document")["preview_trust"]["statement"])
    conditions = {c["variable"]: c for c in statement["condition"]}
    assert set(conditions) == {
        "token.actions.githubusercontent.com:aud",
        "token.actions.githubusercontent.com:sub",
    }
    assert conditions["token.actions.githubusercontent.com:aud"]["values"] == ["sts.amazonaws.com"]
    sub = conditions["token.actions.githubusercontent.com:sub"]
    assert all(c["test"] == "StringEquals" for c in conditions.values())
    assert sub["values"] == ["repo:${var.github_repository}:pull_request"]


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


VALUES = {
    "site_bucket_arn": "arn:aws:s3:::b",
    "distribution_arn": "arn:aws:cloudfront::1:distribution/D",
}


def resources(role: str) -> set[str]:
    found = set()
    for statement in statements(policy(role, VALUES)):
        value = statement["Resource"]
        found.update([value] if isinstance(value, str) else value)
    return found


def test_the_publish_role_reaches_the_live_site_its_records_and_the_distribution_only() -> None:
    bucket = VALUES["site_bucket_arn"]
    assert resources("publish") == {
        bucket,
        f"{bucket}/{LIVE_PREFIX}*",
        f"{bucket}/{META_PREFIX}{LIVE_PREFIX}*",
        VALUES["distribution_arn"],
    }
    actions = {a for s in statements(policy("publish", VALUES)) for a in s["Action"]}
    assert "cloudfront:UpdateDistribution" not in actions  # the release switch is gone


def test_the_preview_role_reaches_previews_only_and_no_cloudfront_at_all() -> None:
    bucket = VALUES["site_bucket_arn"]
    assert resources("preview") == {
        bucket,
        f"{bucket}/{PREVIEWS_PREFIX}*",
        f"{bucket}/{META_PREFIX}{PREVIEWS_PREFIX}*",
    }
    actions = {a for s in statements(policy("preview", VALUES)) for a in s["Action"]}
    assert not any(a.startswith("cloudfront:") for a in actions)


def test_site_policies_grant_no_wildcard_action_and_only_reads_on_the_bucket() -> None:
    for role in ("publish", "preview"):
        for statement in statements(policy(role, VALUES)):
            assert statement["Effect"] == "Allow" and "Condition" not in statement
            assert not any("*" in action for action in statement["Action"]), statement
            if statement["Resource"] == VALUES["site_bucket_arn"]:
                assert set(statement["Action"]) == {"s3:ListBucket", "s3:GetBucketVersioning"}


def test_the_production_root_hands_the_workflows_the_site_roles(production: Config) -> None:
    outputs = production.outputs
    assert outputs["preview_role_arn"]["value"] == "${module.github_oidc.preview_role_arn}"
    assert outputs["publish_role_arn"]["value"] == "${module.github_oidc.publish_role_arn}"
    assert "cloudfront_site_origin_id" not in outputs  # no origin switch any more


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
