locals {
  run_tag = "cloudpulse-run=${var.run_id}"
  tags    = distinct(concat([local.run_tag], var.tags))

  server_names = length(var.names) > 0 ? var.names : [for i in range(var.server_count) : format("%s-%d", var.name_prefix, i + 1)]

  # Server name => its index, the host it is forced onto when pinning, the zone it asks for (the forced-host form's
  # zone when pinned, else availability_zones round robin, else availability_zone) and its extra security groups.
  servers = {
    for i, name in local.server_names : name => {
      index = i
      host  = length(var.hosts) > 0 ? var.hosts[i % length(var.hosts)] : null
      zone = length(var.hosts) > 0 ? var.host_availability_zone : (
        length(var.availability_zones) > 0 ? var.availability_zones[i % length(var.availability_zones)] : var.availability_zone
      )
      security_group_ids = concat(var.security_group_ids, lookup(var.extra_security_group_ids, tostring(i), []))
    }
  }

  # In a server group the first server is created before the others. Nova's scheduler does not see
  # parallel requests of one group: both can land on the same host, fail nova-compute's late
  # anti-affinity check, be rescheduled together, and on a small cloud run out of hosts (seen on the
  # two-host lab: "Exhausted all hosts available for retrying build failures"). Once the first server
  # has its host, the others are scheduled knowing it.
  first_name  = local.server_names[0]
  first_wave  = var.server_group_policy != null ? { (local.first_name) = local.servers[local.first_name] } : local.servers
  second_wave = var.server_group_policy != null ? { for n, s in local.servers : n => s if n != local.first_name } : {}
  instances   = merge(openstack_compute_instance_v2.this, openstack_compute_instance_v2.after_first)
}

resource "openstack_compute_servergroup_v2" "this" {
  count = var.server_group_policy != null ? 1 : 0

  name     = "${var.name_prefix}-group"
  policies = [var.server_group_policy]
}

resource "openstack_networking_port_v2" "this" {
  for_each = local.servers

  name               = "${each.key}-port"
  network_id         = var.network_id
  admin_state_up     = true
  security_group_ids = each.value.security_group_ids
  tags               = local.tags

  fixed_ip {
    subnet_id = var.subnet_id
  }
}

resource "openstack_compute_instance_v2" "this" {
  for_each = local.first_wave

  name         = each.key
  image_id     = var.image_id
  flavor_id    = var.flavor_id
  key_pair     = var.key_pair
  config_drive = var.config_drive
  user_data    = var.user_data
  tags         = local.tags
  metadata     = merge(var.metadata, { "cloudpulse-run" = var.run_id })

  availability_zone = each.value.host != null ? "${var.host_availability_zone}:${each.value.host}" : each.value.zone

  network {
    port = openstack_networking_port_v2.this[each.key].id
  }

  dynamic "scheduler_hints" {
    for_each = openstack_compute_servergroup_v2.this
    content {
      group = scheduler_hints.value.id
    }
  }
}

# The rest of a server group's servers, after the first (see local.first_wave).
resource "openstack_compute_instance_v2" "after_first" {
  for_each = local.second_wave

  name         = each.key
  image_id     = var.image_id
  flavor_id    = var.flavor_id
  key_pair     = var.key_pair
  config_drive = var.config_drive
  user_data    = var.user_data
  tags         = local.tags
  metadata     = merge(var.metadata, { "cloudpulse-run" = var.run_id })

  availability_zone = each.value.host != null ? "${var.host_availability_zone}:${each.value.host}" : each.value.zone

  network {
    port = openstack_networking_port_v2.this[each.key].id
  }

  dynamic "scheduler_hints" {
    for_each = openstack_compute_servergroup_v2.this
    content {
      group = scheduler_hints.value.id
    }
  }

  depends_on = [openstack_compute_instance_v2.this]
}

resource "openstack_networking_floatingip_v2" "this" {
  for_each = var.floating_ip_pool != null ? local.servers : {}

  pool        = var.floating_ip_pool
  port_id     = openstack_networking_port_v2.this[each.key].id
  description = "${each.key}-fip"
  tags        = local.tags
}
