variable "name" {
  description = "Name prefix: the network is <name>-net, the subnet <name>-subnet, the router <name>-router."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", var.name))
    error_message = "name must be 1-63 characters of letters, digits, '.', '_' or '-', starting with a letter or digit."
  }
}

variable "cidr" {
  description = "IPv4 CIDR of the subnet, for example 10.10.0.0/24."
  type        = string
  default     = "10.10.0.0/24"

  validation {
    condition     = can(cidrhost(var.cidr, 0)) && can(regex("^[0-9.]+/[0-9]+$", var.cidr))
    error_message = "cidr must be an IPv4 CIDR such as 10.10.0.0/24."
  }
}

variable "dns_nameservers" {
  description = "DNS servers handed out by DHCP on the subnet (IPv4 addresses). Empty: none."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for ip in var.dns_nameservers : can(cidrhost("${ip}/32", 0))])
    error_message = "dns_nameservers must be IPv4 addresses such as 192.168.1.53."
  }
}

variable "enable_dhcp" {
  description = "Whether Neutron runs DHCP on the subnet."
  type        = bool
  default     = true
}

variable "mtu" {
  description = "MTU to request for the network. Null: let Neutron choose (read it back from the mtu output)."
  type        = number
  default     = null

  validation {
    condition     = var.mtu == null || try(var.mtu >= 68 && var.mtu <= 9216, false)
    error_message = "mtu must be between 68 and 9216, or null."
  }
}

variable "create_router" {
  description = "Create a router with an external gateway and plug the subnet into it (needed for floating IPs)."
  type        = bool
  default     = true
}

variable "external_network_id" {
  description = "ID of the external network for the router gateway. Null: look it up by external_network_name."
  type        = string
  default     = null
}

variable "external_network_name" {
  description = "Name of the external network for the router gateway, used when external_network_id is null."
  type        = string
  default     = "public"

  validation {
    condition     = var.external_network_name != null && var.external_network_name != ""
    error_message = "external_network_name must not be empty (set external_network_id instead if the network has no unique name)."
  }
}

variable "tags" {
  description = "Neutron tags put on the network, subnet and router, for example [\"cloudpulse-run=abc123\"]."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for t in var.tags : length(t) > 0 && length(t) <= 255 && !strcontains(t, ",")])
    error_message = "each tag must be 1-255 characters without a comma."
  }
}
