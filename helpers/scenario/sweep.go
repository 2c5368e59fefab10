package scenario

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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

// sweepPhases say in what order a run's resources are deleted. Phases go one
// after the other; in a phase the chains go at once; in a chain, kind after
// kind; the resources of one kind at once. Servers go first with what does
// not need them gone (floating IPs, then the router: a floating IP keeps the
// router interface in use); ports only once the servers are gone (nova would
// spend minutes detaching an interface from a guest still booting), then
// subnets, networks and security groups; volumes once no server holds them.
// On a busy cloud every call takes seconds; a cleanup after a kill has two
// minutes.
var sweepPhases = [][][]string{
	{{"server"}, {"floating-ip", "router"}, {"server-group", "keypair"}},
	{{"volume"}, {"port", "subnet", "network", "security-group"}, {"image"}},
}

// Sweep deletes, through the APIs, every resource of the run that Find finds
// (the run's tag, or a name starting with NamePrefix, in the run's scopes) —
// also what OpenTofu does not know about because the run was killed before its
// state was written. It waits for servers to be gone before volumes and ports,
// retries what is still in use, and returns what it deleted. Its error holds
// every listing that failed and every resource it could not delete; a
// resource that is already gone counts as deleted.
func Sweep(ctx context.Context, c *cloud.Cloud, runID string, known ...Scope) ([]Resource, error) {
	found, err := Find(ctx, c, runID, known...)
	deleted, derr := Delete(ctx, c, found)
	return deleted, errors.Join(err, derr)
}

// Delete deletes resources in sweepPhases, waiting for servers to be gone.
// Each deleted resource's Took says when it was gone, from the start.
func Delete(ctx context.Context, c *cloud.Cloud, found []Resource) ([]Resource, error) {
	byKind := map[string][]Resource{}
	for _, r := range found {
		byKind[r.Kind] = append(byKind[r.Kind], r)
	}
	var (
		mu      sync.Mutex
		deleted []Resource
		errs    []error
	)
	start := time.Now()
	deleteAll := func(rs []Resource) {
		var wg sync.WaitGroup
		for _, r := range rs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := sweepOne(ctx, c, r)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Errorf("delete %s: %w", r, err))
					return
				}
				r.Took = time.Since(start)
				deleted = append(deleted, r)
			}()
		}
		wg.Wait()
	}
	for _, phase := range sweepPhases {
		var wg sync.WaitGroup
		for _, chain := range phase {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, kind := range chain {
					deleteAll(byKind[kind])
				}
			}()
		}
		wg.Wait()
	}
	return deleted, errors.Join(errs...)
}

func gone(err error) bool { return gophercloud.ResponseCodeIs(err, http.StatusNotFound) }

// unavailable is a busy or restarting API (a proxy with no backend, a gateway timeout).
func unavailable(err error) bool {
	return gophercloud.ResponseCodeIs(err, http.StatusServiceUnavailable) ||
		gophercloud.ResponseCodeIs(err, http.StatusBadGateway) || gophercloud.ResponseCodeIs(err, http.StatusGatewayTimeout)
}

// retryUnavailable calls f up to 4 times while the API is unavailable, 3 seconds apart.
func retryUnavailable(ctx context.Context, f func() error) error {
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || !unavailable(err) || attempt == 4 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(3 * time.Second):
		}
	}
}

// retryInUse retries del while the cloud answers 409 or 400 (still in use,
// still attached) or is unavailable, until ctx or two minutes end.
func retryInUse(ctx context.Context, del func() error) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		err := del()
		if err == nil || gone(err) {
			return nil
		}
		if !gophercloud.ResponseCodeIs(err, http.StatusConflict) && !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) && !unavailable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still in use: %w", err)
		case <-time.After(2 * time.Second):
		}
	}
}

func sweepOne(ctx context.Context, c *cloud.Cloud, r Resource) error {
	switch r.Kind {
	case "server":
		cc, err := c.Compute()
		if err != nil {
			return err
		}
		if err := retryInUse(ctx, func() error { return servers.Delete(ctx, cc, r.ID).ExtractErr() }); err != nil {
			return err
		}
		// a server still booting can take minutes: nova retries an interface detach
		// (its port deleted under it) for ~3 minutes before it deletes the server
		wctx, cancel := context.WithTimeout(ctx, 8*time.Minute)
		defer cancel()
		for {
			_, err := servers.Get(wctx, cc, r.ID).Extract()
			if gone(err) {
				return nil
			}
			select {
			case <-wctx.Done():
				return fmt.Errorf("server still there after 8m")
			case <-time.After(2 * time.Second):
			}
		}
	case "keypair", "server-group":
		cc, err := c.Compute()
		if err != nil {
			return err
		}
		if r.Kind == "keypair" {
			var opts keypairs.DeleteOptsBuilder
			if r.UserID != "" { // another user's, as an admin
				cc, opts = microversion(cc, "2.10"), keypairs.DeleteOpts{UserID: r.UserID}
			}
			return retryInUse(ctx, func() error { return keypairs.Delete(ctx, cc, r.ID, opts).ExtractErr() })
		}
		return retryInUse(ctx, func() error { return servergroups.Delete(ctx, cc, r.ID).ExtractErr() })
	case "volume":
		bs, err := c.BlockStorage()
		if err != nil {
			return err
		}
		return retryInUse(ctx, func() error { return volumes.Delete(ctx, bs, r.ID, volumes.DeleteOpts{Cascade: true}).ExtractErr() })
	case "image":
		ic, err := c.Image()
		if err != nil {
			return err
		}
		return retryInUse(ctx, func() error { return images.Delete(ctx, ic, r.ID).ExtractErr() })
	}
	nc, err := c.Network()
	if err != nil {
		return err
	}
	switch r.Kind {
	case "floating-ip":
		return retryInUse(ctx, func() error { return floatingips.Delete(ctx, nc, r.ID).ExtractErr() })
	case "router":
		// Its floating IPs went before it (sweepPhases); one that is not the run's
		// keeps an interface in use, and the removal below fails saying so.
		// its interfaces (its ports on the run's subnets)
		pages, err := ports.List(nc, ports.ListOpts{DeviceID: r.ID}).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := ports.ExtractPorts(pages)
		if err != nil {
			return err
		}
		for _, p := range all {
			if p.DeviceOwner == "network:router_gateway" {
				continue // goes with the router
			}
			if _, err := routers.RemoveInterface(ctx, nc, r.ID, routers.RemoveInterfaceOpts{PortID: p.ID}).Extract(); err != nil && !gone(err) {
				return fmt.Errorf("remove interface %s: %w", p.ID, err)
			}
		}
		return retryInUse(ctx, func() error { return routers.Delete(ctx, nc, r.ID).ExtractErr() })
	case "port":
		return retryInUse(ctx, func() error { return ports.Delete(ctx, nc, r.ID).ExtractErr() })
	case "subnet":
		return retryInUse(ctx, func() error { return subnets.Delete(ctx, nc, r.ID).ExtractErr() })
	case "network":
		return retryInUse(ctx, func() error { return networks.Delete(ctx, nc, r.ID).ExtractErr() })
	case "security-group":
		return retryInUse(ctx, func() error { return groups.Delete(ctx, nc, r.ID).ExtractErr() })
	}
	return fmt.Errorf("unknown kind %q", r.Kind)
}
