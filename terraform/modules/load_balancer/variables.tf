variable "name" {
  description = "Name prefix for the load balancer, its target groups and security group. Keep it short: target group names are limited to 32 characters."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "ID of the VPC the load balancer lives in."
  type        = string
}

variable "vpc_cidr_block" {
  description = "CIDR block of the VPC: only addresses inside it may reach the test listener."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnet IDs for the internal NLB, one per availability zone (at least two)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "The NLB needs subnets in at least two availability zones."
  }
}

variable "container_port" {
  description = "Port the API container listens on; the target groups forward to it."
  type        = number
  default     = 8000
}

variable "production_port" {
  description = "Port of the production listener (the one CloudFront's VPC origin calls)."
  type        = number
  default     = 80
}

variable "test_port" {
  description = "Port of the test listener CodeDeploy routes to the replacement tasks before the switch."
  type        = number
  default     = 8080

  validation {
    condition     = var.test_port > 0 && var.test_port < 65536
    error_message = "test_port must be a TCP port number."
  }
}

variable "health_check_path" {
  description = "HTTP path the target groups probe. `/readyz` fails when the store is unreachable and from SIGTERM on, so a draining task leaves rotation."
  type        = string
  default     = "/readyz"

  validation {
    condition     = startswith(var.health_check_path, "/")
    error_message = "health_check_path must start with a slash."
  }
}

variable "deregistration_delay_seconds" {
  description = "Seconds a deregistered target keeps its open connections. Matches the API's graceful shutdown (gunicorn graceful timeout, 30 s)."
  type        = number
  default     = 30

  validation {
    condition     = var.deregistration_delay_seconds >= 0 && var.deregistration_delay_seconds <= 3600
    error_message = "deregistration_delay_seconds must be between 0 and 3600."
  }
}
