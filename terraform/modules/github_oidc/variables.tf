variable "name" {
  description = "Name prefix of the three roles (`<name>-publish-site`, `<name>-preview-site`, `<name>-deploy-api`)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9+=,.@_-]{1,40}$", var.name))
    error_message = "name must be 2-41 characters valid in an IAM role name."
  }
}

variable "github_repository" {
  description = "GitHub repository allowed to assume the roles, as `owner/name`."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$", var.github_repository))
    error_message = "github_repository must look like owner/name, without wildcards."
  }
}

variable "publish_environment" {
  description = "Protected GitHub environment whose jobs may assume the publish role (the token's `sub` is `repo:<repository>:environment:<this>`)."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+$", var.publish_environment))
    error_message = "publish_environment must be a plain environment name, without wildcards."
  }
}

variable "deploy_environment" {
  description = "Protected GitHub environment whose jobs may assume the deploy role."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+$", var.deploy_environment))
    error_message = "deploy_environment must be a plain environment name, without wildcards."
  }
}

variable "create_oidc_provider" {
  description = "Create GitHub's OIDC identity provider. An account holds one per URL: set false and pass existing_oidc_provider_arn if it already exists."
  type        = bool
  default     = true
}

variable "existing_oidc_provider_arn" {
  description = "ARN of an existing GitHub OIDC provider, used when create_oidc_provider is false."
  type        = string
  default     = null
}

variable "site_bucket_arn" {
  description = "ARN of the site bucket: the publish role changes its live site (site/), the preview role its previews (previews/)."
  type        = string
}

variable "distribution_arn" {
  description = "ARN of the CloudFront distribution the publish role invalidates changed paths in."
  type        = string
}

variable "availability_table_arn" {
  description = "ARN of the availability table the deploy workflows update from the published inventory.json (flask --app api sync-inventory)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/.+$", var.availability_table_arn))
    error_message = "availability_table_arn must be a DynamoDB table ARN."
  }
}

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository the deploy role pushes the API image to."
  type        = string
}

variable "ecs_cluster_name" {
  description = "Name of the ECS cluster of the API service."
  type        = string
}

variable "ecs_service_name" {
  description = "Name of the ECS service the deploy role deploys."
  type        = string
}

variable "task_role_arns" {
  description = "ARNs of the roles the deploy role may pass to ECS in a task definition (the task role and the execution role)."
  type        = list(string)

  validation {
    condition     = length(var.task_role_arns) == 2
    error_message = "Give exactly the task role and the execution role."
  }
}

variable "codedeploy_application_name" {
  description = "Name of the CodeDeploy application of the API."
  type        = string
}

variable "codedeploy_deployment_group_name" {
  description = "Name of the CodeDeploy deployment group the deploy role creates deployments in."
  type        = string
}
