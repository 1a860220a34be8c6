# Production: composes the modules and creates nothing itself.

locals {
  api_name = "${var.name}-api"
}

module "network" {
  source = "../../modules/network"

  name = var.name
}

module "container_registry" {
  source = "../../modules/container_registry"

  name = "${var.name}/api"
}

module "availability_table" {
  source = "../../modules/availability_table"

  name = "${var.name}-availability"
}

module "load_balancer" {
  source = "../../modules/load_balancer"

  name           = local.api_name
  vpc_id         = module.network.vpc_id
  vpc_cidr_block = module.network.vpc_cidr_block
  subnet_ids     = module.network.private_subnet_ids
}

module "api_service" {
  source = "../../modules/api_service"

  name                             = local.api_name
  vpc_id                           = module.network.vpc_id
  vpc_cidr_block                   = module.network.vpc_cidr_block
  subnet_ids                       = module.network.private_subnet_ids
  gateway_endpoint_prefix_list_ids = module.network.gateway_endpoint_prefix_list_ids
  load_balancer_security_group_id  = module.load_balancer.security_group_id
  target_group_arn                 = module.load_balancer.target_group_arns["blue"]
  drain_seconds                    = module.load_balancer.unready_drain_seconds
  image_repository_url             = module.container_registry.repository_url
  image_repository_arn             = module.container_registry.repository_arn
  image_tag                        = var.api_image_tag
  table_name                       = module.availability_table.name
  table_arn                        = module.availability_table.arn
  metrics_service_dimension        = var.api_metrics_service
}

module "static_site" {
  source = "../../modules/static_site"

  name                = var.name
  domain_names        = var.domain_names
  acm_certificate_arn = var.acm_certificate_arn
  enable_waf          = var.enable_waf

  api_origin = {
    load_balancer_arn = module.load_balancer.arn
    dns_name          = module.load_balancer.dns_name
    port              = module.load_balancer.production_port
  }
}

module "monitoring" {
  source = "../../modules/monitoring"

  name                      = var.name
  alarm_email               = var.alarm_email
  cluster_name              = module.api_service.cluster_name
  cluster_arn               = module.api_service.cluster_arn
  service_name              = module.api_service.service_name
  load_balancer_arn_suffix  = module.load_balancer.arn_suffix
  target_group_arn_suffixes = module.load_balancer.target_group_arn_suffixes
  table_name                = module.availability_table.name
  distribution_id           = module.static_site.distribution_id
  metrics_service_dimension = var.api_metrics_service
}

module "deployment" {
  source = "../../modules/deployment"

  name                    = local.api_name
  cluster_name            = module.api_service.cluster_name
  service_name            = module.api_service.service_name
  production_listener_arn = module.load_balancer.production_listener_arn
  test_listener_arn       = module.load_balancer.test_listener_arn
  target_group_names      = module.load_balancer.target_group_names
  alarm_names             = module.monitoring.deployment_alarm_names
  vpc_id                  = module.network.vpc_id
  vpc_cidr_block          = module.network.vpc_cidr_block
  subnet_ids              = module.network.private_subnet_ids
  test_listener_dns_name  = module.load_balancer.dns_name
  test_listener_port      = module.load_balancer.test_port
}

module "github_oidc" {
  source = "../../modules/github_oidc"

  name                             = var.name
  github_repository                = var.github_repository
  publish_environment              = var.github_environment
  deploy_environment               = var.github_environment
  create_oidc_provider             = var.create_github_oidc_provider
  existing_oidc_provider_arn       = var.existing_github_oidc_provider_arn
  site_bucket_arn                  = module.static_site.bucket_arn
  distribution_arn                 = module.static_site.distribution_arn
  ecr_repository_arn               = module.container_registry.repository_arn
  availability_table_arn           = module.availability_table.arn
  ecs_cluster_name                 = module.api_service.cluster_name
  ecs_service_name                 = module.api_service.service_name
  task_role_arns                   = [module.api_service.task_role_arn, module.api_service.execution_role_arn]
  codedeploy_application_name      = module.deployment.application_name
  codedeploy_deployment_group_name = module.deployment.deployment_group_name
}
