# The caller (an admin) reads its own token scope to find the identity endpoint the new user will log in to.
data "openstack_identity_auth_scope_v3" "caller" {
  name = "cloudpulse-project-${var.name}"
}

data "openstack_identity_role_v3" "this" {
  for_each = toset(var.roles)

  name = each.key
}

locals {
  identity_endpoints = flatten([
    for s in data.openstack_identity_auth_scope_v3.caller.service_catalog : [
      for e in s.endpoints : e if e.interface == "public" && (var.region == null || e.region == var.region)
    ] if s.type == "identity"
  ])
  auth_url = var.auth_url != null ? var.auth_url : try(local.identity_endpoints[0].url, null)
  region   = var.region != null ? var.region : try(local.identity_endpoints[0].region, null)
}

# A password generated once and kept: uuid() changes on every plan, ignore_changes pins the first value.
resource "terraform_data" "password" {
  count = var.password == null ? 1 : 0

  input = "Cp!${uuid()}"

  lifecycle {
    ignore_changes = [input]
  }
}

locals {
  password = var.password != null ? var.password : terraform_data.password[0].output
}

resource "openstack_identity_project_v3" "this" {
  name        = var.name
  description = var.description
  domain_id   = var.domain_id
  enabled     = true
  tags        = var.tags
}

resource "openstack_identity_user_v3" "this" {
  name               = var.user_name != null ? var.user_name : var.name
  description        = var.description
  domain_id          = var.domain_id
  default_project_id = openstack_identity_project_v3.this.id
  password           = local.password
  enabled            = true

  ignore_change_password_upon_first_use = true
  ignore_password_expiry                = true
}

resource "openstack_identity_role_assignment_v3" "this" {
  for_each = data.openstack_identity_role_v3.this

  project_id = openstack_identity_project_v3.this.id
  user_id    = openstack_identity_user_v3.this.id
  role_id    = each.value.id
}
