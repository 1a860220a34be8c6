variable "name" {
  description = "Name prefix of the alarms, the SNS topics, the event rule and the dashboard."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.name))
    error_message = "name must be 2-41 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "alarm_email" {
  description = "Email address subscribed to the alarm topics. AWS sends a confirmation mail that must be accepted once."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an email address."
  }
}

variable "cluster_name" {
  description = "Name of the ECS cluster running the API."
  type        = string
}

variable "cluster_arn" {
  description = "ARN of the ECS cluster (the task-stop event rule matches on it)."
  type        = string
}

variable "service_name" {
  description = "Name of the ECS service of the API."
  type        = string
}

variable "load_balancer_arn_suffix" {
  description = "ARN suffix of the internal NLB (its metrics' `LoadBalancer` dimension)."
  type        = string
}

variable "target_group_arn_suffixes" {
  description = "ARN suffixes of the blue and green target groups, keyed `blue` and `green`."
  type        = map(string)

  validation {
    condition     = length(var.target_group_arn_suffixes) == 2
    error_message = "Give exactly the two target groups of the blue/green pair."
  }
}

variable "table_name" {
  description = "Name of the DynamoDB availability table."
  type        = string
}

variable "distribution_id" {
  description = "ID of the CloudFront distribution."
  type        = string
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the API's Embedded Metric Format metrics."
  type        = string
  default     = "SculptureStore/API"
}

variable "metrics_service_dimension" {
  description = "Value of the `Service` dimension on the API's EMF metrics."
  type        = string
}

variable "thresholds" {
  description = "Alarm thresholds. cpu_percent and memory_percent: task utilisation; api_5xx_percent: share of API responses that are 5xx; api_p99_latency_ms: p99 latency; cdn_5xx_percent: CloudFront 5xx error rate; min_healthy_targets: healthy API targets below which redundancy is lost."
  type = object({
    cpu_percent         = optional(number, 80)
    memory_percent      = optional(number, 80)
    api_5xx_percent     = optional(number, 2)
    api_p99_latency_ms  = optional(number, 1000)
    cdn_5xx_percent     = optional(number, 5)
    min_healthy_targets = optional(number, 2)
  })
  default = {}

  validation {
    condition     = var.thresholds.api_5xx_percent > 0 && var.thresholds.api_5xx_percent < 100 && var.thresholds.cdn_5xx_percent > 0 && var.thresholds.cdn_5xx_percent < 100
    error_message = "Percent thresholds must be between 0 and 100."
  }
}
