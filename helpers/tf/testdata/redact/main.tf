# A fixture that prints its secrets every way OpenTofu can, for redact_test.go:
# a local-exec that echoes OS_PASSWORD from its environment, a sensitive
# output (`tofu output -json` prints it in clear), and an apply error that
# quotes the tenant password.

terraform {
  required_version = ">= 1.6.0"
}

variable "run_id" {
  type        = string
  description = "Run id."
}

variable "tenant_password" {
  type        = string
  description = "A password the run generated."
  sensitive   = true
}

variable "fail_apply" {
  type        = bool
  description = "Fail the apply with an error that quotes tenant_password."
  default     = false
}

resource "terraform_data" "echo" {
  input = var.run_id

  provisioner "local-exec" {
    command = "echo \"env says $OS_PASSWORD\""
  }
}

resource "terraform_data" "fail" {
  count      = var.fail_apply ? 1 : 0
  depends_on = [terraform_data.echo]

  provisioner "local-exec" {
    command = "echo 'bad password ${nonsensitive(var.tenant_password)}' >&2; exit 1"
  }
}

output "password" {
  description = "The tenant password (sensitive)."
  value       = var.tenant_password
  sensitive   = true
}
