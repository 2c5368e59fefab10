variable "name_prefix" {
  description = "Servers are named <name_prefix>-1 .. <name_prefix>-N; their ports <server>-port, floating IPs <server>-fip."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,50}$", var.name_prefix))
    error_message = "name_prefix must be 1-51 characters of letters, digits, '.', '_' or '-', starting with a letter or digit."
  }
}

variable "names" {
  description = "Names of the servers, in index order; they replace <name_prefix>-1..N and server_count. Empty: <name_prefix>-1 .. <name_prefix>-<server_count>."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.names) <= 100 && length(distinct(var.names)) == length(var.names) && alltrue([for n in var.names : can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,52}$", n))])
    error_message = "names must be at most 100 distinct names of 1-53 characters of letters, digits, '.', '_' or '-', starting with a letter or digit."
  }
}

variable "server_count" {
  description = "How many servers to create (ignored when names is given)."
  type        = number
  default     = 1

  validation {
    condition     = var.server_count >= 1 && var.server_count <= 100 && floor(var.server_count) == var.server_count
    error_message = "server_count must be a whole number from 1 to 100."
  }
}

variable "run_id" {
  description = "Run id: every server gets metadata cloudpulse-run=<run_id> and a tag of the same text, every port and floating IP that tag."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,40}$", var.run_id))
    error_message = "run_id must be 1-40 characters of letters, digits, '.', '_' or '-' (the tag cloudpulse-run=<run_id> must fit Nova's 60)."
  }
}

variable "image_id" {
  description = "ID of the image to boot."
  type        = string

  validation {
    condition     = length(var.image_id) > 0
    error_message = "image_id must not be empty."
  }
}

variable "flavor_id" {
  description = "ID of the flavor (look a name up with the openstack_compute_flavor_v2 data source)."
  type        = string

  validation {
    condition     = length(var.flavor_id) > 0
    error_message = "flavor_id must not be empty."
  }
}

variable "key_pair" {
  description = "Name of an existing Nova keypair to inject. Null: none."
  type        = string
  default     = null

  validation {
    condition     = var.key_pair == null || length(trimspace(coalesce(var.key_pair, "-"))) > 0
    error_message = "key_pair must be a keypair name, or null for none."
  }
}

variable "network_id" {
  description = "ID of the network the servers' ports are created on."
  type        = string

  validation {
    condition     = length(trimspace(var.network_id)) > 0
    error_message = "network_id must be the ID of a network."
  }
}

variable "subnet_id" {
  description = "ID of the subnet the ports take their fixed IP from. Pass the network module's subnet_id so floating IPs wait for the router interface."
  type        = string

  validation {
    condition     = length(trimspace(var.subnet_id)) > 0
    error_message = "subnet_id must be the ID of a subnet on network_id."
  }
}

variable "security_group_ids" {
  description = "IDs of the security groups put on every port. Empty: the project's default group."
  type        = list(string)
  default     = []
}

variable "extra_security_group_ids" {
  description = "More security groups for some servers' ports, keyed by server index (\"0\" is server 1), added to security_group_ids."
  type        = map(list(string))
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_security_group_ids) : can(regex("^(0|[1-9][0-9]*)$", k))])
    error_message = "extra_security_group_ids must be keyed by server index: \"0\", \"1\", ..."
  }
}

variable "floating_ip_pool" {
  description = "Name of the external network to take floating IPs from, one per server. Null: no floating IPs."
  type        = string
  default     = null

  validation {
    condition     = var.floating_ip_pool == null || try(length(var.floating_ip_pool) > 0, false)
    error_message = "floating_ip_pool must be a network name, or null for no floating IPs."
  }
}

variable "hosts" {
  description = <<-EOT
    Compute hosts to pin servers to, as Nova's service host names (openstack compute service list). Server i goes to
    hosts[i % length(hosts)] through availability_zone "<host_availability_zone>:<host>", which forces the host and
    needs the admin role. Empty: the scheduler chooses.
  EOT
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for h in var.hosts : length(h) > 0 && !strcontains(h, ":")])
    error_message = "hosts must be non-empty host names without ':'."
  }
}

variable "host_availability_zone" {
  description = "Availability zone named in the forced-host form <zone>:<host> when hosts are given."
  type        = string
  default     = "nova"
}

variable "availability_zone" {
  description = "Availability zone for servers when hosts and availability_zones are empty. Null: Nova's default."
  type        = string
  default     = null
}

variable "availability_zones" {
  description = "Availability zones to spread servers over when hosts is empty: server i asks for availability_zones[i % n]. Empty: availability_zone."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for z in var.availability_zones : length(z) > 0 && !strcontains(z, ":")])
    error_message = "availability_zones must be non-empty zone names without ':'."
  }
}

variable "server_group_policy" {
  description = "Create a server group with this policy and boot every server in it: anti-affinity, soft-anti-affinity, affinity or soft-affinity. Null: no group."
  type        = string
  default     = null

  validation {
    condition     = var.server_group_policy == null || contains(["anti-affinity", "soft-anti-affinity", "affinity", "soft-affinity"], coalesce(var.server_group_policy, "-"))
    error_message = "server_group_policy must be anti-affinity, soft-anti-affinity, affinity, soft-affinity or null."
  }
}

variable "config_drive" {
  description = "Attach a config drive (metadata and keys on a disk) to every server."
  type        = bool
  default     = false
}

variable "user_data" {
  description = "User data (cloud-init or a script) for every server. Null: none."
  type        = string
  default     = null
}

variable "metadata" {
  description = "Extra Nova metadata for every server; cloudpulse-run is added."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Extra tags for servers, ports and floating IPs; cloudpulse-run=<run_id> is added."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for t in var.tags : length(t) > 0 && length(t) <= 60 && !strcontains(t, ",") && !strcontains(t, "/")])
    error_message = "each tag must be 1-60 characters without ',' or '/' (Nova's limits)."
  }
}
