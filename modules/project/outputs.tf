output "project_id" {
  description = "ID of the project."
  value       = openstack_identity_project_v3.this.id
}

output "project_name" {
  description = "Name of the project."
  value       = openstack_identity_project_v3.this.name
}

output "domain_id" {
  description = "ID of the domain of the project and the user."
  value       = openstack_identity_project_v3.this.domain_id
}

output "user_id" {
  description = "ID of the user."
  value       = openstack_identity_user_v3.this.id
}

output "user_name" {
  description = "Name of the user."
  value       = openstack_identity_user_v3.this.name
}

output "password" {
  description = "Password of the user (sensitive)."
  value       = local.password
  sensitive   = true
}

output "auth_url" {
  description = "Keystone URL the user authenticates against."
  value       = local.auth_url

  precondition {
    condition     = local.auth_url != null
    error_message = "no public identity endpoint in the service catalog (for the region asked): set auth_url."
  }
}

output "region" {
  description = "Region of the identity endpoint (null when auth_url was given and region was not)."
  value       = local.region
}

output "credentials" {
  description = "What a client needs to act as the user in the project (sensitive): auth_url, region, user_id, user_name, user_domain_id, password, project_id, project_name, project_domain_id. Everything waits for the role assignments, so a client configured from it can act at once."
  sensitive   = true
  value = {
    auth_url          = local.auth_url
    region            = local.region
    user_id           = openstack_identity_user_v3.this.id
    user_name         = openstack_identity_user_v3.this.name
    user_domain_id    = openstack_identity_user_v3.this.domain_id
    password          = local.password
    project_id        = openstack_identity_project_v3.this.id
    project_name      = openstack_identity_project_v3.this.name
    project_domain_id = openstack_identity_project_v3.this.domain_id
    roles             = sort([for k, a in openstack_identity_role_assignment_v3.this : k])
  }
}
