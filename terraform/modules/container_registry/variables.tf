variable "name" {
  description = "Name of the ECR repository (for example `sculpture-store/api`)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.name))
    error_message = "name must be a valid ECR repository name: lowercase letters, digits, and . _ - / separators."
  }
}

variable "keep_images" {
  description = "How many tagged images to keep; older ones expire. Rollback needs the previous image, so keep well above one."
  type        = number
  default     = 30

  validation {
    condition     = var.keep_images >= 5
    error_message = "keep_images must be at least 5 so recent releases stay available for rollback."
  }
}

variable "untagged_expiry_days" {
  description = "Days after which untagged images (leftovers of failed pushes) expire."
  type        = number
  default     = 7

  validation {
    condition     = var.untagged_expiry_days >= 1
    error_message = "untagged_expiry_days must be at least 1."
  }
}
