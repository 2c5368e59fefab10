package scenario

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

// Leftovers lists every resource the caller can see that carries the run's tag
// (neutron tags, server and volume metadata, image tags) or, for keypairs,
// the run id in its name — as "kind name (id)". An empty list after destroy
// proves the run cleaned up. An admin sees every project.
func Leftovers(ctx context.Context, c *cloud.Cloud, runID string) ([]string, error) {
	found, err := Tagged(ctx, c, runID)
	out := make([]string, 0, len(found))
	for _, r := range found {
		out = append(out, r.String())
	}
	return out, err
}

// Resource is one cloud resource a run created.
type Resource struct {
	Kind string // server, keypair, volume, image, floating-ip, port, router, subnet, network, security-group, server-group
	Name string
	ID   string
}

func (r Resource) String() string { return fmt.Sprintf("%s %s (%s)", r.Kind, r.Name, r.ID) }

// Tagged lists what Leftovers describes, as resources.
func Tagged(ctx context.Context, c *cloud.Cloud, runID string) ([]Resource, error) {
	return tagged(ctx, c, runID, false)
}

// TaggedOrNamed is Tagged, and also finds the run's networking resources that carry no tag
// yet (a run killed between a create and its tag update) by the run id in
// their name or description. It lists every resource of each kind the caller
// sees, so only cleanup uses it.
func TaggedOrNamed(ctx context.Context, c *cloud.Cloud, runID string) ([]Resource, error) {
	return tagged(ctx, c, runID, true)
}

func tagged(ctx context.Context, c *cloud.Cloud, runID string, deep bool) ([]Resource, error) {
	tag := RunTag(runID)
	admin, _ := c.IsAdmin(ctx)
	var found []Resource
	var errs []error
	add := func(kind, name, id string) { found = append(found, Resource{Kind: kind, Name: name, ID: id}) }

	if nc, err := c.Network(); err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, neutronTagged(ctx, nc, tag, runID, deep, add)...)
	}
	if cc, err := c.Compute(); err != nil {
		errs = append(errs, err)
	} else {
		pages, err := servers.List(cc, servers.ListOpts{AllTenants: admin}).AllPages(ctx)
		if err == nil {
			var all []servers.Server
			if all, err = servers.ExtractServers(pages); err == nil {
				for _, s := range all {
					if s.Metadata["cloudpulse-run"] == runID || strings.Contains(s.Name, runID) {
						add("server", s.Name, s.ID)
					}
				}
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("list servers: %w", err))
		}
		sg, err := servergroups.List(cc, servergroups.ListOpts{AllProjects: admin}).AllPages(ctx)
		if err == nil {
			var all []servergroups.ServerGroup
			if all, err = servergroups.ExtractServerGroups(sg); err == nil {
				for _, g := range all {
					if strings.Contains(g.Name, runID) {
						add("server-group", g.Name, g.ID)
					}
				}
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("list server groups: %w", err))
		}
		kp, err := keypairs.List(cc, nil).AllPages(ctx)
		if err == nil {
			var all []keypairs.KeyPair
			if all, err = keypairs.ExtractKeyPairs(kp); err == nil {
				for _, k := range all {
					if strings.Contains(k.Name, runID) {
						add("keypair", k.Name, k.Name)
					}
				}
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("list keypairs: %w", err))
		}
	}
	if bs, err := c.BlockStorage(); err != nil {
		errs = append(errs, err)
	} else {
		pages, err := volumes.List(bs, volumes.ListOpts{AllTenants: admin, Metadata: map[string]string{"cloudpulse-run": runID}}).AllPages(ctx)
		if err == nil {
			var all []volumes.Volume
			if all, err = volumes.ExtractVolumes(pages); err == nil {
				for _, v := range all {
					add("volume", v.Name, v.ID)
				}
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("list volumes: %w", err))
		}
	}
	if ic, err := c.Image(); err != nil {
		errs = append(errs, err)
	} else {
		pages, err := images.List(ic, images.ListOpts{Tags: []string{tag}}).AllPages(ctx)
		if err == nil {
			var all []images.Image
			if all, err = images.ExtractImages(pages); err == nil {
				for _, im := range all {
					add("image", im.Name, im.ID)
				}
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("list images: %w", err))
		}
	}
	return found, errors.Join(errs...)
}

func neutronTagged(ctx context.Context, nc *gophercloud.ServiceClient, tag, runID string, deep bool,
	add func(kind, name, id string)) []error {
	var errs []error
	filter := tag
	if deep {
		filter = ""
	}
	match := func(tags []string, texts ...string) bool {
		if slices.Contains(tags, tag) {
			return true
		}
		for _, t := range texts {
			if deep && strings.Contains(t, runID) {
				return true
			}
		}
		return false
	}
	list := func(kind string, f func() error) {
		if err := f(); err != nil {
			errs = append(errs, fmt.Errorf("list %s: %w", kind, err))
		}
	}
	list("floating IPs", func() error {
		p, err := floatingips.List(nc, floatingips.ListOpts{Tags: filter}).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := floatingips.ExtractFloatingIPs(p)
		for _, x := range all {
			if match(x.Tags, x.Description) {
				add("floating-ip", x.FloatingIP, x.ID)
			}
		}
		return err
	})
	list("ports", func() error {
		p, err := ports.List(nc, ports.ListOpts{Tags: filter}).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := ports.ExtractPorts(p)
		for _, x := range all {
			if match(x.Tags, x.Name, x.Description) {
				add("port", x.Name, x.ID)
			}
		}
		return err
	})
	list("routers", func() error {
		p, err := routers.List(nc, routers.ListOpts{Tags: filter}).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := routers.ExtractRouters(p)
		for _, x := range all {
			if match(x.Tags, x.Name, x.Description) {
				add("router", x.Name, x.ID)
			}
		}
		return err
	})
	list("subnets", func() error {
		p, err := subnets.List(nc, subnets.ListOpts{Tags: filter}).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := subnets.ExtractSubnets(p)
		for _, x := range all {
			if match(x.Tags, x.Name, x.Description) {
				add("subnet", x.Name, x.ID)
			}
		}
		return err
	})
	list("networks", func() error {
		p, err := networks.List(nc, networks.ListOpts{Tags: filter}).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := networks.ExtractNetworks(p)
		for _, x := range all {
			if match(x.Tags, x.Name, x.Description) {
				add("network", x.Name, x.ID)
			}
		}
		return err
	})
	list("security groups", func() error {
		p, err := groups.List(nc, groups.ListOpts{Tags: filter}).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := groups.ExtractGroups(p)
		for _, x := range all {
			if match(x.Tags, x.Name, x.Description) {
				add("security-group", x.Name, x.ID)
			}
		}
		return err
	})
	return errs
}
