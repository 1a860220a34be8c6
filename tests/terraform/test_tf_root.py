"""The production root hands the workflows what they need."""

from __future__ import annotations

from terraform.tfestate import Config

WORKFLOW_OUTPUTS = {
    "site_bucket_name": "${module.static_site.bucket_name}",
    "cloudfront_distribution_id": "${module.static_site.distribution_id}",
    "ecr_repository_url": "${module.container_registry.repository_url}",
    "ecs_cluster_name": "${module.api_service.cluster_name}",
    "ecs_service_name": "${module.api_service.service_name}",
    "codedeploy_application_name": "${module.deployment.application_name}",
    "codedeploy_deployment_group_name": "${module.deployment.deployment_group_name}",
    "publish_role_arn": "${module.github_oidc.publish_role_arn}",
    "deploy_role_arn": "${module.github_oidc.deploy_role_arn}",
}


def test_root_outputs_what_the_workflows_need(production: Config) -> None:
    outputs = production.outputs
    for name, value in WORKFLOW_OUTPUTS.items():
        assert outputs[name]["value"] == value, name


def test_the_cdn_reaches_the_api_through_the_internal_nlb(production: Config) -> None:
    origin = production.module_calls["static_site"]["api_origin"]
    assert origin["load_balancer_arn"] == "${module.load_balancer.arn}"
    assert production.module_calls["load_balancer"]["subnet_ids"] == (
        "${module.network.private_subnet_ids}"
    )


def test_service_starts_behind_the_blue_target_group(production: Config) -> None:
    call = production.module_calls["api_service"]
    assert call["target_group_arn"] == '${module.load_balancer.target_group_arns["blue"]}'
    assert call["load_balancer_security_group_id"] == "${module.load_balancer.security_group_id}"
