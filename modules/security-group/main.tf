resource "openstack_networking_secgroup_v2" "this" {
  name                 = var.name
  description          = var.description
  delete_default_rules = var.delete_default_rules
  tags                 = var.tags
}

locals {
  # The default remote is "anywhere" in the rule's address family, unless a remote group is given.
  any_address = { IPv4 = "0.0.0.0/0", IPv6 = "::/0" }

  rules = {
    for k, r in var.rules : k => {
      description = r.description != null ? r.description : k
      direction   = r.direction
      ethertype   = r.ethertype
      protocol    = r.protocol == "any" ? null : r.protocol
      # For tcp/udp/sctp a single port needs only port_range_min; for icmp min and max are type and code.
      port_range_min = r.port_range_min
      port_range_max = r.port_range_max != null ? r.port_range_max : (
        contains(["tcp", "udp", "sctp"], coalesce(r.protocol, "any")) ? r.port_range_min : null
      )
      remote_group_id  = r.remote_group_id
      remote_ip_prefix = r.remote_group_id != null ? null : coalesce(r.remote_ip_prefix, local.any_address[r.ethertype])
    }
  }
}

resource "openstack_networking_secgroup_rule_v2" "this" {
  for_each = local.rules

  security_group_id = openstack_networking_secgroup_v2.this.id
  description       = each.value.description
  direction         = each.value.direction
  ethertype         = each.value.ethertype
  protocol          = each.value.protocol
  port_range_min    = each.value.port_range_min
  port_range_max    = each.value.port_range_max
  remote_group_id   = each.value.remote_group_id
  remote_ip_prefix  = each.value.remote_ip_prefix
}
