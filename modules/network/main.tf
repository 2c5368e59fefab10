# The external network is looked up only when its id is not given and a router is wanted.
data "openstack_networking_network_v2" "external" {
  count = var.create_router && var.external_network_id == null ? 1 : 0

  name     = var.external_network_name
  external = true
}

locals {
  external_network_id = !var.create_router ? null : (
    var.external_network_id != null ? var.external_network_id : data.openstack_networking_network_v2.external[0].id
  )
}

resource "openstack_networking_network_v2" "this" {
  name           = "${var.name}-net"
  admin_state_up = true
  mtu            = var.mtu
  tags           = var.tags
}

resource "openstack_networking_subnet_v2" "this" {
  name            = "${var.name}-subnet"
  network_id      = openstack_networking_network_v2.this.id
  cidr            = var.cidr
  ip_version      = 4
  enable_dhcp     = var.enable_dhcp
  dns_nameservers = var.dns_nameservers
  tags            = var.tags
}

resource "openstack_networking_router_v2" "this" {
  count = var.create_router ? 1 : 0

  name                = "${var.name}-router"
  admin_state_up      = true
  external_network_id = local.external_network_id
  tags                = var.tags
}

resource "openstack_networking_router_interface_v2" "this" {
  count = var.create_router ? 1 : 0

  router_id = openstack_networking_router_v2.this[0].id
  subnet_id = openstack_networking_subnet_v2.this.id
}
