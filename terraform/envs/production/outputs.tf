# What the GitHub workflows need (publish: bucket, distribution, role;
# deploy: repository, cluster, service, task family, CodeDeploy, role).

output "aws_region" {
  description = "Region of the estate (the workflows' aws-region)."
  value       = var.region
}

output "site_bucket_name" {
  description = "Bucket the publish command writes the live site (site/) and the previews (previews/pr-N/) to: PUBLISH_BUCKET."
  value       = module.static_site.bucket_name
}

output "cloudfront_distribution_id" {
  description = "CloudFront distribution the publish command invalidates changed paths in: PUBLISH_DISTRIBUTION_ID (production publishes and rollbacks only)."
  value       = module.static_site.distribution_id
}

output "availability_table_name" {
  description = "DynamoDB table the deploy workflows sync from the published inventory.json: API_STORE_URL=dynamodb://<name>."
  value       = module.availability_table.name
}

output "cloudfront_domain_name" {
  description = "CloudFront domain name to point the site's DNS records at."
  value       = module.static_site.distribution_domain_name
}

output "ecr_repository_url" {
  description = "ECR repository the deploy workflow pushes the API image to."
  value       = module.container_registry.repository_url
}

output "ecs_cluster_name" {
  description = "ECS cluster of the API."
  value       = module.api_service.cluster_name
}

output "ecs_service_name" {
  description = "ECS service of the API."
  value       = module.api_service.service_name
}

output "ecs_task_definition_family" {
  description = "Task definition family the deploy workflow registers revisions in."
  value       = module.api_service.task_definition_family
}

output "ecs_container_name" {
  description = "Container name for the AppSpec and the task definition render step."
  value       = module.api_service.container_name
}

output "ecs_container_port" {
  description = "Container port for the AppSpec."
  value       = module.api_service.container_port
}

output "codedeploy_application_name" {
  description = "CodeDeploy application of the API."
  value       = module.deployment.application_name
}

output "codedeploy_deployment_group_name" {
  description = "CodeDeploy deployment group of the API."
  value       = module.deployment.deployment_group_name
}

output "test_traffic_hook_function_name" {
  description = "Lambda to name in the AppSpec under `Hooks: - AfterAllowTestTraffic:` (it probes the replacement tasks through the test listener)."
  value       = module.deployment.test_traffic_hook_function_name
}

output "publish_role_arn" {
  description = "Role the publish workflow assumes through GitHub OIDC (publish and rollback of the live site)."
  value       = module.github_oidc.publish_role_arn
}

output "preview_role_arn" {
  description = "Role the pull-request preview workflow assumes through GitHub OIDC (publish and unpublish of previews/pr-N only)."
  value       = module.github_oidc.preview_role_arn
}

output "deploy_role_arn" {
  description = "Role the deploy workflow assumes through GitHub OIDC."
  value       = module.github_oidc.deploy_role_arn
}

output "staff_token_secret_arn" {
  description = "Secret an operator fills with the staff bearer token before the first deployment."
  value       = module.api_service.staff_token_secret_arn
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms (subscribe more people or a chat integration to it)."
  value       = module.monitoring.topic_arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the cluster, API and CDN."
  value       = module.monitoring.dashboard_name
}
