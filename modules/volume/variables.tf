variable "name_prefix" {
  description = "Volumes are named <name_prefix>-<key>."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,50}$", var.name_prefix))
    error_message = "name_prefix must be 1-51 characters of letters, digits, '.', '_' or '-', starting with a letter or digit."
  }
}

variable "run_id" {
  description = "Run id: every volume gets metadata cloudpulse-run=<run_id>."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,40}$", var.run_id))
    error_message = "run_id must be 1-40 characters of letters, digits, '.', '_' or '-'."
  }
}

variable "volumes" {
  description = <<-EOT
    Volumes keyed by a short name: size in GiB; server_id of the server to attach it to; attach = false to leave
    it detached (then server_id is ignored; it is a separate flag because server_id is usually unknown until
    apply, and what to attach must be known at plan); device to ask for (for example /dev/vdb; null: Nova
    chooses, and hypervisors may ignore it); volume_type and availability_zone (null: the cloud's defaults).
  EOT
  type = map(object({
    size              = number
    server_id         = optional(string)
    attach            = optional(bool, true)
    device            = optional(string)
    volume_type       = optional(string)
    availability_zone = optional(string)
  }))

  validation {
    condition     = alltrue([for v in values(var.volumes) : v.size >= 1 && floor(v.size) == v.size])
    error_message = "volumes[*].size must be a whole number of GiB, at least 1."
  }

  validation {
    condition     = alltrue([for k in keys(var.volumes) : can(regex("^[A-Za-z0-9_.-]{1,40}$", k))])
    error_message = "volumes keys must be 1-40 characters of letters, digits, '.', '_' or '-'."
  }

  validation {
    condition     = alltrue([for v in values(var.volumes) : v.device == null || can(regex("^/dev/[a-z]+$", coalesce(v.device, "-")))])
    error_message = "volumes[*].device must look like /dev/vdb, or be null."
  }
}

variable "metadata" {
  description = "Extra Cinder metadata for every volume; cloudpulse-run is added."
  type        = map(string)
  default     = {}
}
