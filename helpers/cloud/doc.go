// Package cloud reads OpenStack credentials the way the openstack CLI does —
// clouds.yaml (+ secure.yaml) selected by OS_CLOUD, or plain OS_* variables —
// and gives gophercloud v2 clients for them.
//
// The same selection is handed to OpenTofu through Config.TerraformEnv, so the
// Go side and the Terraform side always talk to one cloud with one set of
// credentials, and no password ever becomes a Terraform variable.
//
//	cfg, err := cloud.Load("")          // "" means $OS_CLOUD
//	if err != nil {
//		return err                      // names the file, the cloud and what is missing
//	}
//	c, err := cfg.Connect(ctx)
//	if err != nil {
//		return err
//	}
//	compute, err := c.Compute()
package cloud
