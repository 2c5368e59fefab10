package scenario

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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

// microversion is sc asking for at least version v.
func microversion(sc *gophercloud.ServiceClient, v string) *gophercloud.ServiceClient {
	cp := *sc
	cp.Microversion = v
	return &cp
}

// listScope lists every resource in scope s that is cloudpulse's by its tag or
// name prefix (RunOf), with what Owns and Stale need. Every failed listing is
// in the error; what the others found is returned.
func listScope(ctx context.Context, c *cloud.Cloud, s Scope) ([]Resource, error) {
	// The listings run at once: on a busy cloud each takes seconds, and cleanup
	// after a kill has two minutes.
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		found []Resource
		errs  []error
	)
	add := func(r Resource) {
		r.ProjectID = s.ProjectID
		if r.RunID = RunOf(r.tags, r.match); r.RunID != "" {
			mu.Lock()
			found = append(found, r)
			mu.Unlock()
		}
	}
	list := func(what string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := retryUnavailable(ctx, f); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("list %s in project %s: %w", what, s.ProjectID, err))
				mu.Unlock()
			}
		}()
	}
	// the service clients first: they may discover versions (a request each), and Connect's errors are not listings'
	nc, nerr := c.Network()
	cc, cerr := c.Compute()
	bs, berr := c.BlockStorage()
	ic, ierr := c.Image()
	errs = append(errs, nerr, cerr, berr, ierr)
	if nerr == nil {
		listNeutron(ctx, nc, s.ProjectID, list, add)
	}
	if cerr == nil {
		listCompute(ctx, cc, s, list, add)
	}
	if berr == nil {
		list("volumes", func() error {
			opts := volumes.ListOpts{}
			if !s.own {
				opts.AllTenants, opts.TenantID = true, s.ProjectID // one project, as an admin
			}
			p, err := volumes.List(bs, opts).AllPages(ctx)
			if err != nil {
				return err
			}
			all, err := volumes.ExtractVolumes(p)
			for _, v := range all {
				add(Resource{Kind: "volume", Name: v.Name, ID: v.ID, Created: v.CreatedAt, tags: metaTags(v.Metadata), match: v.Name})
			}
			return err
		})
	}
	if ierr == nil {
		list("images", func() error {
			p, err := images.List(ic, images.ListOpts{Owner: s.ProjectID}).AllPages(ctx)
			if err != nil {
				return err
			}
			all, err := images.ExtractImages(p)
			for _, im := range all {
				if im.Owner == s.ProjectID {
					add(Resource{Kind: "image", Name: im.Name, ID: im.ID, Created: im.CreatedAt, tags: im.Tags, match: im.Name})
				}
			}
			return err
		})
	}
	wg.Wait()
	return found, errors.Join(errs...)
}

func metaTags(m map[string]string) []string {
	var tags []string
	for k, v := range m {
		tags = append(tags, k+"="+v)
	}
	return tags
}

func listCompute(ctx context.Context, cc *gophercloud.ServiceClient, s Scope, list func(string, func() error), add func(Resource)) {
	list("servers", func() error {
		opts := servers.ListOpts{}
		if !s.own {
			opts.AllTenants, opts.TenantID = true, s.ProjectID // one project, as an admin
		}
		p, err := servers.List(cc, opts).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := servers.ExtractServers(p)
		for _, x := range all {
			add(Resource{Kind: "server", Name: x.Name, ID: x.ID, Created: x.Created, tags: metaTags(x.Metadata), match: x.Name})
		}
		return err
	})
	list("server groups", func() error {
		// Nova has no project filter for server groups: an admin lists them with
		// all_projects and keeps the scope's project only (project_id: 2.13).
		opts := servergroups.ListOpts{AllProjects: !s.own}
		p, err := servergroups.List(microversion(cc, "2.13"), opts).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := servergroups.ExtractServerGroups(p)
		for _, g := range all {
			if !s.own && g.ProjectID != s.ProjectID {
				continue
			}
			r := Resource{Kind: "server-group", Name: g.Name, ID: g.ID, match: g.Name}
			if run := RunOf(nil, g.Name); run != "" { // Nova keeps no creation time: the run id's
				r.Created, _ = RunStarted(run, time.Now())
			}
			add(r)
		}
		return err
	})
	if !s.own && s.UserID == "" {
		return // another project's user is unknown: its keypairs cannot be listed
	}
	list("keypairs", func() error {
		kc, opts := cc, keypairs.ListOpts{}
		if !s.own {
			kc, opts.UserID = microversion(cc, "2.10"), s.UserID
		}
		p, err := keypairs.List(kc, opts).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := keypairs.ExtractKeyPairs(p)
		for _, k := range all {
			if RunOf(nil, k.Name) == "" {
				continue
			}
			r := Resource{Kind: "keypair", Name: k.Name, ID: k.Name, match: k.Name}
			if !s.own {
				r.UserID = s.UserID
			}
			r.Created, err = keypairCreated(ctx, kc, k.Name, r.UserID)
			if err != nil {
				return err
			}
			add(r)
		}
		return err
	})
}

// keypairCreated reads a keypair's created_at, which Nova gives only one by one.
func keypairCreated(ctx context.Context, kc *gophercloud.ServiceClient, name, userID string) (time.Time, error) {
	var opts keypairs.GetOptsBuilder
	if userID != "" {
		opts = keypairs.GetOpts{UserID: userID}
	}
	var body struct {
		Keypair struct {
			CreatedAt string `json:"created_at"`
		} `json:"keypair"`
	}
	if err := keypairs.Get(ctx, kc, name, opts).ExtractInto(&body); err != nil {
		if gone(err) {
			return time.Time{}, nil
		}
		return time.Time{}, fmt.Errorf("keypair %s: %w", name, err)
	}
	t, err := time.Parse("2006-01-02T15:04:05.999999", body.Keypair.CreatedAt)
	if err != nil {
		return time.Time{}, fmt.Errorf("keypair %s: created_at %q: %w", name, body.Keypair.CreatedAt, err)
	}
	return t, nil
}

func listNeutron(ctx context.Context, nc *gophercloud.ServiceClient, project string, list func(string, func() error), add func(Resource)) {
	// Neutron shows an admin every project's resources: the project filter is what keeps the listing in scope.
	list("floating IPs", func() error {
		p, err := floatingips.List(nc, floatingips.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := floatingips.ExtractFloatingIPs(p)
		for _, x := range all {
			add(Resource{Kind: "floating-ip", Name: x.FloatingIP, ID: x.ID, Created: x.CreatedAt, tags: x.Tags, match: x.Description})
		}
		return err
	})
	list("ports", func() error {
		p, err := ports.List(nc, ports.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := ports.ExtractPorts(p)
		for _, x := range all {
			add(Resource{Kind: "port", Name: x.Name, ID: x.ID, Created: x.CreatedAt, tags: x.Tags, match: x.Name})
		}
		return err
	})
	list("routers", func() error {
		p, err := routers.List(nc, routers.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := routers.ExtractRouters(p)
		for _, x := range all {
			add(Resource{Kind: "router", Name: x.Name, ID: x.ID, Created: x.CreatedAt, tags: x.Tags, match: x.Name})
		}
		return err
	})
	list("subnets", func() error {
		p, err := subnets.List(nc, subnets.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := subnets.ExtractSubnets(p)
		for _, x := range all {
			add(Resource{Kind: "subnet", Name: x.Name, ID: x.ID, Created: x.CreatedAt, tags: x.Tags, match: x.Name})
		}
		return err
	})
	list("networks", func() error {
		p, err := networks.List(nc, networks.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := networks.ExtractNetworks(p)
		for _, x := range all {
			add(Resource{Kind: "network", Name: x.Name, ID: x.ID, Created: x.CreatedAt, tags: x.Tags, match: x.Name})
		}
		return err
	})
	list("security groups", func() error {
		p, err := groups.List(nc, groups.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := groups.ExtractGroups(p)
		for _, x := range all {
			add(Resource{Kind: "security-group", Name: x.Name, ID: x.ID, Created: x.CreatedAt, tags: x.Tags, match: x.Name})
		}
		return err
	})
}
