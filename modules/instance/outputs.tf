output "ids" {
  description = "Server IDs, in index order (server 1 first)."
  value       = [for n in local.server_names : local.instances[n].id]
}

output "names" {
  description = "Server names, in index order."
  value       = local.server_names
}

output "port_ids" {
  description = "IDs of the servers' ports, in index order."
  value       = [for n in local.server_names : openstack_networking_port_v2.this[n].id]
}

output "fixed_ips" {
  description = "Fixed IPv4 address of each server, in index order."
  value       = [for n in local.server_names : openstack_networking_port_v2.this[n].all_fixed_ips[0]]
}

output "floating_ips" {
  description = "Floating IP of each server, in index order; empty when floating_ip_pool is null."
  value       = var.floating_ip_pool != null ? [for n in local.server_names : openstack_networking_floatingip_v2.this[n].address] : []
}

output "requested_hosts" {
  description = "Host each server was forced onto (from var.hosts), in index order; null entries when not pinned."
  value       = [for n in local.server_names : local.servers[n].host]
}

output "requested_availability_zones" {
  description = "Availability zone each server asked for, in index order: host_availability_zone when pinned, else from availability_zones or availability_zone; null entries when none."
  value       = [for n in local.server_names : local.servers[n].zone]
}

output "hypervisor_hostnames" {
  description = "Hypervisor hostname Nova reports for each server (OS-EXT-SRV-ATTR:hypervisor_hostname), in index order. Empty strings unless the caller has the admin role."
  value       = [for n in local.server_names : local.instances[n].hypervisor_hostname]
}

output "server_group_id" {
  description = "ID of the server group, or null when server_group_policy is null."
  value       = one(openstack_compute_servergroup_v2.this[*].id)
}

output "servers" {
  description = "Everything about each server, keyed by server name: id, index, port_id, fixed_ip, floating_ip (null without a pool), requested_host, availability_zone (requested; null when none), security_group_ids, hypervisor_hostname."
  value = {
    for n, s in local.servers : n => {
      id                  = local.instances[n].id
      index               = s.index
      port_id             = openstack_networking_port_v2.this[n].id
      fixed_ip            = openstack_networking_port_v2.this[n].all_fixed_ips[0]
      floating_ip         = var.floating_ip_pool != null ? openstack_networking_floatingip_v2.this[n].address : null
      requested_host      = s.host
      availability_zone   = s.zone
      security_group_ids  = s.security_group_ids
      hypervisor_hostname = local.instances[n].hypervisor_hostname
    }
  }
}
