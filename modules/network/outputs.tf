output "network_id" {
  description = "ID of the network."
  value       = openstack_networking_network_v2.this.id
}

output "network_name" {
  description = "Name of the network."
  value       = openstack_networking_network_v2.this.name
}

output "subnet_id" {
  description = "ID of the subnet. With a router it is read through the router interface, so anything using it (ports that get floating IPs) waits until the subnet is routed."
  value       = var.create_router ? openstack_networking_router_interface_v2.this[0].subnet_id : openstack_networking_subnet_v2.this.id
}

output "cidr" {
  description = "CIDR of the subnet."
  value       = openstack_networking_subnet_v2.this.cidr
}

output "mtu" {
  description = "MTU of the network as Neutron reports it."
  value       = openstack_networking_network_v2.this.mtu
}

output "gateway_ip" {
  description = "Gateway IP of the subnet (the router's address on it when a router is created)."
  value       = openstack_networking_subnet_v2.this.gateway_ip
}

output "router_id" {
  description = "ID of the router, or null when create_router is false."
  value       = var.create_router ? openstack_networking_router_v2.this[0].id : null
}

output "router_external_ip" {
  description = "The router's address on the external network (its SNAT source), or null without a router."
  value       = var.create_router ? try(openstack_networking_router_v2.this[0].external_fixed_ip[0].ip_address, null) : null
}

output "external_network_id" {
  description = "ID of the external network the router uses, or null without a router."
  value       = local.external_network_id
}
