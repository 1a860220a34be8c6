variable "name" {
  description = "Name of the ECS cluster, service and task family (for example `sculpture-store-api`)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.name))
    error_message = "name must be 2-41 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "ID of the VPC the tasks run in."
  type        = string
}

variable "vpc_cidr_block" {
  description = "CIDR block of the VPC (the interface endpoints the tasks call live in it)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnet IDs for the tasks, in at least two availability zones; Fargate spreads the tasks over them."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Give subnets in at least two availability zones."
  }
}

variable "gateway_endpoint_prefix_list_ids" {
  description = "Prefix list IDs of the S3 and DynamoDB gateway endpoints (image layers and the table are reached through them)."
  type        = map(string)
}

variable "load_balancer_security_group_id" {
  description = "Security group of the NLB: the only source admitted on the container port."
  type        = string
}

variable "target_group_arn" {
  description = "ARN of the target group the service starts behind (the blue one); CodeDeploy moves it afterwards."
  type        = string
}

variable "image_repository_url" {
  description = "URL of the ECR repository holding the API image."
  type        = string
}

variable "image_repository_arn" {
  description = "ARN of the ECR repository; the execution role may pull from it only."
  type        = string
}

variable "image_tag" {
  description = "Image tag of the first task definition. Later revisions come from the deploy workflow, which ignores this."
  type        = string
  default     = "bootstrap"
}

variable "table_name" {
  description = "Name of the DynamoDB availability table (passed as `API_STORE_URL=dynamodb://<name>`)."
  type        = string
}

variable "table_arn" {
  description = "ARN of the DynamoDB availability table; the task role may use this table only."
  type        = string
}

variable "container_port" {
  description = "Port the API container listens on."
  type        = number
  default     = 8000
}

variable "cpu" {
  description = "Fargate task CPU units (256 = 0.25 vCPU)."
  type        = number
  default     = 256

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.cpu)
    error_message = "cpu must be one of 256, 512, 1024, 2048, 4096."
  }
}

variable "memory" {
  description = "Fargate task memory in MiB; must be a valid pairing with `cpu`."
  type        = number
  default     = 512

  validation {
    condition     = var.memory >= 512 && var.memory <= 30720
    error_message = "memory must be between 512 and 30720 MiB."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the image: X86_64 or ARM64 (ARM64 is about 20% cheaper on Fargate but needs an arm64 image)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "desired_count" {
  description = "Tasks to run when the service is created; autoscaling moves it between min_count and max_count afterwards."
  type        = number
  default     = 2

  validation {
    condition     = var.desired_count >= 2
    error_message = "Run at least two tasks, so one zone can fail."
  }
}

variable "min_count" {
  description = "Fewest tasks autoscaling may leave running (at least two, one per zone)."
  type        = number
  default     = 2

  validation {
    condition     = var.min_count >= 2
    error_message = "min_count must be at least 2."
  }
}

variable "max_count" {
  description = "Most tasks autoscaling may run."
  type        = number
  default     = 6

  validation {
    condition     = var.max_count >= 2 && var.max_count <= 50
    error_message = "max_count must be between 2 and 50."
  }
}

variable "cpu_target_percent" {
  description = "Average service CPU utilisation the CPU scaling policy keeps the service at."
  type        = number
  default     = 60

  validation {
    condition     = var.cpu_target_percent > 10 && var.cpu_target_percent < 95
    error_message = "cpu_target_percent must be between 10 and 95."
  }
}

variable "requests_per_task_target" {
  description = "Requests per task per minute the load scaling policy aims for (from the API's EMF status counters)."
  type        = number
  default     = 3000

  validation {
    condition     = var.requests_per_task_target > 0
    error_message = "requests_per_task_target must be positive."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the API's Embedded Metric Format metrics."
  type        = string
  default     = "SculptureStore/API"
}

variable "metrics_service_dimension" {
  description = "Value of the `Service` dimension the API puts on its EMF metrics (the task's `API_SERVICE_NAME`); the alarms and the scaling policy must watch the same value."
  type        = string

  validation {
    condition     = length(trimspace(var.metrics_service_dimension)) > 0
    error_message = "metrics_service_dimension must not be empty: the API refuses to start without it."
  }
}

variable "trusted_proxy_hops" {
  description = "Proxies in front of the API that append to X-Forwarded-For (`API_TRUSTED_PROXY_HOPS`): 1 for CloudFront, whose appended address is the visitor the hold policy counts."
  type        = number
  default     = 1

  validation {
    condition     = var.trusted_proxy_hops >= 0 && var.trusted_proxy_hops <= 5 && floor(var.trusted_proxy_hops) == var.trusted_proxy_hops
    error_message = "trusted_proxy_hops must be a whole number from 0 to 5."
  }
}

variable "log_retention_days" {
  description = "Days to keep the API's logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "drain_seconds" {
  description = "Seconds a task keeps accepting after SIGTERM with /readyz failing (GUNICORN_DRAIN_SECONDS), so the NLB's health checks take it out of rotation before it stops listening. Give the load balancer module's unready_drain_seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.drain_seconds >= 0 && var.drain_seconds <= 60
    error_message = "drain_seconds must be between 0 and 60."
  }
}

variable "stop_timeout_seconds" {
  description = "Seconds between SIGTERM and SIGKILL. Longer than the drain plus gunicorn's 30 s graceful timeout, so in-flight requests finish."
  type        = number
  default     = 65

  validation {
    condition     = var.stop_timeout_seconds > var.drain_seconds + 30 && var.stop_timeout_seconds <= 120
    error_message = "stop_timeout_seconds must exceed drain_seconds plus the 30 s graceful timeout and be at most 120 (the Fargate limit)."
  }
}
