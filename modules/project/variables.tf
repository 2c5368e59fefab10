variable "name" {
  description = "Name of the project (and of the user, unless user_name is set)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", var.name))
    error_message = "name must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit."
  }
}

variable "description" {
  description = "Description of the project and the user."
  type        = string
  default     = "managed by cloudpulse"
}

variable "domain_id" {
  description = "ID of the Keystone domain that holds the project and the user."
  type        = string
  default     = "default"
}

variable "user_name" {
  description = "Name of the user. Null: the project name."
  type        = string
  default     = null

  validation {
    condition     = var.user_name == null || can(regex("^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$", coalesce(var.user_name, "-")))
    error_message = "user_name must be 1-64 characters of letters, digits, '.', '_', '@' or '-', or null."
  }
}

variable "password" {
  description = "Password of the user. Null: generate one (122 random bits from uuid(), kept stable in state) and return it in the password output."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.password == null || try(length(var.password) >= 12, false)
    error_message = "password must be at least 12 characters, or null to generate one."
  }
}

variable "roles" {
  description = "Names of the roles the user gets on the project."
  type        = list(string)
  default     = ["member"]

  validation {
    condition     = length(var.roles) > 0 && alltrue([for r in var.roles : length(r) > 0])
    error_message = "roles must name at least one role, for example [\"member\"]."
  }
}

variable "tags" {
  description = "Keystone tags on the project, for example [\"cloudpulse-run=abc123\"]."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for t in var.tags : length(t) > 0 && length(t) <= 255 && !strcontains(t, ",") && !strcontains(t, "/")])
    error_message = "each tag must be 1-255 characters without ',' or '/'."
  }
}

variable "auth_url" {
  description = "Keystone URL the new user authenticates against. Null: the public identity endpoint of the caller's service catalog."
  type        = string
  default     = null

  validation {
    condition     = var.auth_url == null || can(regex("^https?://", coalesce(var.auth_url, "-")))
    error_message = "auth_url must start with http:// or https://, or be null."
  }
}

variable "region" {
  description = "Region whose identity endpoint is used when auth_url is null, and returned in credentials. Null: the first public identity endpoint and its region."
  type        = string
  default     = null
}
