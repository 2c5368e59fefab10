variable "name" {
  description = "Name of the security group."
  type        = string

  validation {
    condition     = length(var.name) > 0 && length(var.name) <= 255
    error_message = "name must be 1-255 characters."
  }
}

variable "description" {
  description = "Description of the security group."
  type        = string
  default     = "managed by cloudpulse"
}

variable "delete_default_rules" {
  description = "Delete the egress-allow-all rules Neutron adds to every new group (then add egress rules yourself)."
  type        = bool
  default     = false
}

variable "rules" {
  description = <<-EOT
    Rules keyed by a stable name, for example { ssh = { protocol = "tcp", port_range_min = 22, port_range_max = 22 } }.
    direction: ingress (default) or egress. ethertype: IPv4 (default) or IPv6. protocol: tcp, udp, icmp, ... or a
    protocol number; null means any. port_range_min/max: 1-65535, only for tcp/udp/sctp (null: all ports; max
    defaults to min). remote_ip_prefix: a CIDR (default 0.0.0.0/0 for IPv4, ::/0 for IPv6, unless remote_group_id is set).
    remote_group_id: allow traffic from members of another group instead of a CIDR.
  EOT
  type = map(object({
    direction        = optional(string, "ingress")
    ethertype        = optional(string, "IPv4")
    protocol         = optional(string)
    port_range_min   = optional(number)
    port_range_max   = optional(number)
    remote_ip_prefix = optional(string)
    remote_group_id  = optional(string)
    description      = optional(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for r in values(var.rules) : contains(["ingress", "egress"], r.direction)])
    error_message = "rules[*].direction must be \"ingress\" or \"egress\"."
  }

  validation {
    condition     = alltrue([for r in values(var.rules) : contains(["IPv4", "IPv6"], r.ethertype)])
    error_message = "rules[*].ethertype must be \"IPv4\" or \"IPv6\"."
  }

  validation {
    condition     = alltrue([for r in values(var.rules) : r.protocol == null || can(regex("^(tcp|udp|icmp|icmpv6|ipv6-icmp|sctp|gre|esp|ah|vrrp|any|[0-9]{1,3})$", r.protocol))])
    error_message = "rules[*].protocol must be tcp, udp, icmp, icmpv6, ipv6-icmp, sctp, gre, esp, ah, vrrp, any, a protocol number, or null."
  }

  validation {
    condition = alltrue([for r in values(var.rules) : alltrue([
      for p in [r.port_range_min, r.port_range_max] : p == null || try(p >= 0 && p <= 65535 && floor(p) == p, false)
    ])])
    error_message = "rules[*].port_range_min and port_range_max must be whole numbers from 0 to 65535."
  }

  validation {
    condition     = alltrue([for r in values(var.rules) : r.port_range_min == null || r.port_range_max == null || try(r.port_range_min <= r.port_range_max, false)])
    error_message = "rules[*].port_range_min must not be greater than port_range_max."
  }

  validation {
    condition     = alltrue([for r in values(var.rules) : (r.port_range_min == null && r.port_range_max == null) || contains(["tcp", "udp", "sctp", "icmp", "icmpv6", "ipv6-icmp"], coalesce(r.protocol, "any"))])
    error_message = "rules[*]: ports need protocol tcp, udp or sctp (or icmp type/code); set protocol or drop the ports."
  }

  validation {
    condition     = alltrue([for r in values(var.rules) : r.remote_ip_prefix == null || can(cidrhost(r.remote_ip_prefix, 0))])
    error_message = "rules[*].remote_ip_prefix must be a CIDR such as 0.0.0.0/0 or 10.0.0.0/8."
  }

  validation {
    condition     = alltrue([for r in values(var.rules) : r.remote_ip_prefix == null || r.remote_group_id == null])
    error_message = "rules[*]: set remote_ip_prefix or remote_group_id, not both."
  }
}

variable "tags" {
  description = "Neutron tags put on the security group, for example [\"cloudpulse-run=abc123\"]."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for t in var.tags : length(t) > 0 && length(t) <= 255 && !strcontains(t, ",")])
    error_message = "each tag must be 1-255 characters without a comma."
  }
}
