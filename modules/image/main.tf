resource "openstack_images_image_v2" "this" {
  name             = var.name
  local_file_path  = var.file
  disk_format      = var.disk_format
  container_format = var.container_format
  visibility       = var.visibility
  min_disk_gb      = var.min_disk_gb
  min_ram_mb       = var.min_ram_mb
  properties       = var.properties
  tags             = var.tags
}
