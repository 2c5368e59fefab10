output "ids" {
  description = "Volume IDs, keyed like var.volumes."
  value       = { for k, v in openstack_blockstorage_volume_v3.this : k => v.id }
}

output "names" {
  description = "Volume names, keyed like var.volumes."
  value       = { for k, v in openstack_blockstorage_volume_v3.this : k => v.name }
}

output "attachment_ids" {
  description = "IDs of the attachments (<server id>/<volume id>), keyed like var.volumes; only attached volumes appear."
  value       = { for k, a in openstack_compute_volume_attach_v2.this : k => a.id }
}

output "attachment_devices" {
  description = "Device Nova reports for each attachment (for example /dev/vdb), keyed like var.volumes; only attached volumes appear. The guest may name the disk differently: find it by size or serial (the volume id) inside the guest."
  value       = { for k, a in openstack_compute_volume_attach_v2.this : k => a.device }
}
