package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

// ExistingVerifyVars are the snapshot's variables (ExistingVars' result, as
// the state directory kept them) brought up to date for verify, with
// read-only calls: floating IPs and volumes that no longer exist are left out
// (their data sources fail the whole apply when they find nothing; left out,
// ExistingChecks names each one as gone), and each security group's rules are
// read again (the provider has no data source for them). A deleted server
// needs nothing: the fixture leaves it out of its output by itself.
func ExistingVerifyVars(ctx context.Context, c *cloud.Cloud, snapshot map[string]any) (map[string]any, error) {
	b, err := json.Marshal(snapshot)
	if err != nil {
		return nil, fmt.Errorf("snapshot variables: %w", err)
	}
	var v existingVars
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("snapshot variables: %w", err)
	}
	network, err := c.Network()
	if err != nil {
		return nil, err
	}
	bs, err := c.BlockStorage()
	if err != nil {
		return nil, err
	}
	exists := func(what string, err error) (bool, error) {
		if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read %s: %w", what, err)
		}
		return true, nil
	}
	for addr := range v.FloatingIPs {
		pages, err := floatingips.List(network, floatingips.ListOpts{FloatingIP: addr}).AllPages(ctx)
		if err != nil {
			return nil, fmt.Errorf("find floating IP %s: %w", addr, err)
		}
		fips, err := floatingips.ExtractFloatingIPs(pages)
		if err != nil {
			return nil, fmt.Errorf("find floating IP %s: %w", addr, err)
		}
		if len(fips) != 1 {
			delete(v.FloatingIPs, addr)
		}
	}
	vols := []existingVolumeVar{} // never null: the fixture iterates over it
	for _, vol := range v.Volumes {
		ok, err := exists("volume "+vol.ID, volumes.Get(ctx, bs, vol.ID).Err)
		if err != nil {
			return nil, err
		}
		if ok {
			vols = append(vols, vol)
		}
	}
	v.Volumes = vols
	for g := range v.SecurityGroupRules {
		ok, err := exists("security group "+g, groups.Get(ctx, network, g).Err)
		if err != nil {
			return nil, err
		}
		if !ok {
			delete(v.SecurityGroupRules, g)
			continue
		}
		if v.SecurityGroupRules[g], err = groupRules(ctx, c, g); err != nil {
			return nil, err
		}
	}
	return v.toMap()
}
