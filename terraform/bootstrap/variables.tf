variable "region" {
  description = "Region of the state bucket (use the estate's region)."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Name prefix; the bucket is `<name>-tfstate-<account id>`."
  type        = string
  default     = "sculpture-store"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 characters of lowercase letters, digits and hyphens."
  }
}

variable "noncurrent_version_days" {
  description = "Days to keep superseded versions of state files (how far back a state can be restored)."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_days >= 7
    error_message = "Keep old state versions at least a week."
  }
}
