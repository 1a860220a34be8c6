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
