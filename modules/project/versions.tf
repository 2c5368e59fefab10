terraform {
  required_version = ">= 1.6.0"

  # terraform_data (built in) generates the password when none is given: no random provider is needed.
  required_providers {
    openstack = {
      source  = "terraform-provider-openstack/openstack"
      version = "~> 3.4"
    }
  }
}
