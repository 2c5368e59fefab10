output "id" {
  description = "ID of the image."
  value       = openstack_images_image_v2.this.id
}

output "name" {
  description = "Name of the image."
  value       = openstack_images_image_v2.this.name
}

output "checksum" {
  description = "Checksum Glance computed for the uploaded data."
  value       = openstack_images_image_v2.this.checksum
}

output "size_bytes" {
  description = "Size of the uploaded data, in bytes."
  value       = openstack_images_image_v2.this.size_bytes
}
