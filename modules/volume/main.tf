resource "openstack_blockstorage_volume_v3" "this" {
  for_each = var.volumes

  name              = "${var.name_prefix}-${each.key}"
  size              = each.value.size
  volume_type       = each.value.volume_type
  availability_zone = each.value.availability_zone
  metadata          = merge(var.metadata, { "cloudpulse-run" = var.run_id })
}

resource "openstack_compute_volume_attach_v2" "this" {
  # The known attach flag, not server_id (often unknown until apply), decides what is attached.
  for_each = { for k, v in var.volumes : k => v if v.attach }

  instance_id = each.value.server_id
  volume_id   = openstack_blockstorage_volume_v3.this[each.key].id
  device      = each.value.device

  lifecycle {
    precondition {
      condition     = each.value.server_id != null
      error_message = "volumes.${each.key} has no server_id: give one, or set attach = false to leave it detached."
    }
  }
}
