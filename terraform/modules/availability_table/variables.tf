variable "name" {
  description = "Name of the DynamoDB table."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.name))
    error_message = "name must be 3-255 characters of letters, digits, underscore, hyphen and dot."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the table (holds and sales live only here). Turn off only to tear the estate down on purpose."
  type        = bool
  default     = true
}
