variable "name" {
  description = "Name of the CodeDeploy application and deployment group."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,60}$", var.name))
    error_message = "name must be 2-61 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "cluster_name" {
  description = "Name of the ECS cluster of the service to deploy."
  type        = string
}

variable "service_name" {
  description = "Name of the ECS service to deploy (it must use the CODE_DEPLOY deployment controller)."
  type        = string
}

variable "production_listener_arn" {
  description = "ARN of the NLB listener carrying production traffic."
  type        = string
}

variable "test_listener_arn" {
  description = "ARN of the NLB listener carrying test traffic to the replacement tasks."
  type        = string
}

variable "target_group_names" {
  description = "Names of the blue and green target groups, keyed `blue` and `green`."
  type        = map(string)

  validation {
    condition     = length(var.target_group_names) == 2
    error_message = "A blue/green deployment needs exactly two target groups."
  }
}

variable "alarm_names" {
  description = "CloudWatch alarms that stop a deployment and roll it back while they are in ALARM (the API's error rate and latency)."
  type        = list(string)

  validation {
    condition     = length(var.alarm_names) >= 1
    error_message = "Give at least one alarm: rollback on alarms is the point of this deployment group."
  }
}

variable "termination_wait_minutes" {
  description = "Minutes the original (blue) tasks keep running after traffic moved to the replacement, so a rollback is an instant listener switch."
  type        = number
  default     = 60

  validation {
    condition     = var.termination_wait_minutes >= 15 && var.termination_wait_minutes <= 2880
    error_message = "termination_wait_minutes must be between 15 and 2880 (two days)."
  }
}

variable "vpc_id" {
  description = "ID of the VPC the test-traffic hook runs in (to reach the internal NLB)."
  type        = string
}

variable "vpc_cidr_block" {
  description = "CIDR block of the VPC: the hook may reach the test listener and the VPC endpoints inside it, nothing else."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnet IDs for the test-traffic hook (at least two zones)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Give subnets in at least two availability zones."
  }
}

variable "test_listener_dns_name" {
  description = "DNS name of the internal NLB whose test listener the hook probes."
  type        = string
}

variable "test_listener_port" {
  description = "Port of the NLB's test listener (it forwards to the replacement tasks during a deployment)."
  type        = number

  validation {
    condition     = var.test_listener_port > 0 && var.test_listener_port < 65536
    error_message = "test_listener_port must be a TCP port number."
  }
}

variable "hook_log_retention_days" {
  description = "Days to keep the test-traffic hook's logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365], var.hook_log_retention_days)
    error_message = "hook_log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365."
  }
}
