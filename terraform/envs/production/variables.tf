variable "region" {
  description = "AWS region of the estate (VPC, ECS, DynamoDB, ECR). CloudFront-scoped pieces (WAF, the CDN alarm) go to us-east-1 regardless."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "name" {
  description = "Name prefix of every resource."
  type        = string
  default     = "sculpture-store"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,16}$", var.name))
    error_message = "name must be 2-17 characters of lowercase letters, digits and hyphens (target group names derived from it are limited to 32)."
  }
}

variable "domain_names" {
  description = "Host names of the site, for example [\"www.example-gallery.com\"]."
  type        = list(string)
}

variable "acm_certificate_arn" {
  description = "ARN of the ACM certificate (in us-east-1) covering domain_names."
  type        = string
}

variable "alarm_email" {
  description = "Email address that receives alarm notifications."
  type        = string
}

variable "github_repository" {
  description = "GitHub repository (`owner/name`) whose workflows publish the site and deploy the API."
  type        = string
}

variable "github_environment" {
  description = "Protected GitHub environment the publish and deploy jobs run in."
  type        = string
  default     = "production"
}

variable "create_github_oidc_provider" {
  description = "Create GitHub's OIDC provider; false if the account already has one (then pass its ARN in existing_github_oidc_provider_arn)."
  type        = bool
  default     = true
}

variable "existing_github_oidc_provider_arn" {
  description = "ARN of the account's existing GitHub OIDC provider when create_github_oidc_provider is false."
  type        = string
  default     = null
}

variable "enable_waf" {
  description = "Put a WAF web ACL (rate limit on hold creation) in front of CloudFront."
  type        = bool
  default     = true
}

variable "api_metrics_service" {
  description = "Value of the `Service` dimension the API puts on its EMF metrics (SculptureStore/API)."
  type        = string
  default     = "availability-api"
}

variable "api_image_tag" {
  description = "Image tag of the first task definition revision (push it before the first apply of the service; later deploys register their own)."
  type        = string
  default     = "bootstrap"
}
