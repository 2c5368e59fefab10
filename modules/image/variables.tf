variable "name" {
  description = "Name of the image."
  type        = string

  validation {
    condition     = length(var.name) > 0 && length(var.name) <= 255
    error_message = "name must be 1-255 characters."
  }
}

variable "file" {
  description = "Path of the local image file to upload (relative paths are relative to the root module)."
  type        = string

  validation {
    # fileexists("") is an error in Terraform (the module directory), false in OpenTofu.
    condition     = var.file == "" ? false : fileexists(var.file)
    error_message = "file does not exist: build the test image first (see fixtures/image) or pass an existing path."
  }
}

variable "disk_format" {
  description = "Disk format of the file: qcow2, raw, vmdk, vdi, vhd, vhdx, iso, ploop, aki, ari or ami."
  type        = string
  default     = "qcow2"

  validation {
    condition     = contains(["qcow2", "raw", "vmdk", "vdi", "vhd", "vhdx", "iso", "ploop", "aki", "ari", "ami"], var.disk_format)
    error_message = "disk_format must be one of qcow2, raw, vmdk, vdi, vhd, vhdx, iso, ploop, aki, ari, ami."
  }
}

variable "container_format" {
  description = "Container format: bare (almost always), ovf, ova, docker, compressed, aki, ari or ami."
  type        = string
  default     = "bare"

  validation {
    condition     = contains(["bare", "ovf", "ova", "docker", "compressed", "aki", "ari", "ami"], var.container_format)
    error_message = "container_format must be one of bare, ovf, ova, docker, compressed, aki, ari, ami."
  }
}

variable "visibility" {
  description = "Who can see the image: private (default), shared, community, or public (public needs the admin role)."
  type        = string
  default     = "private"

  validation {
    condition     = contains(["private", "shared", "community", "public"], var.visibility)
    error_message = "visibility must be private, shared, community or public."
  }
}

variable "min_disk_gb" {
  description = "Smallest root disk, in GiB, a flavor needs to boot the image."
  type        = number
  default     = 0

  validation {
    condition     = var.min_disk_gb >= 0 && floor(var.min_disk_gb) == var.min_disk_gb
    error_message = "min_disk_gb must be a whole number, 0 or more."
  }
}

variable "min_ram_mb" {
  description = "Smallest RAM, in MiB, a flavor needs to boot the image."
  type        = number
  default     = 0

  validation {
    condition     = var.min_ram_mb >= 0 && floor(var.min_ram_mb) == var.min_ram_mb
    error_message = "min_ram_mb must be a whole number, 0 or more."
  }
}

variable "properties" {
  description = "Image properties, for example { hw_disk_bus = \"virtio\", os_distro = \"debian\" }."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Glance tags, for example [\"cloudpulse-run=abc123\"]."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for t in var.tags : length(t) > 0 && length(t) <= 255])
    error_message = "each tag must be 1-255 characters."
  }
}
