package endpoint

import (
	"context"
	"errors"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/hypervisors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// Compute checks Nova by listing the project's servers (first page).
func Compute(c Clients) check.Check {
	return check.Check{Name: "compute", Run: func(ctx context.Context) error {
		cc, err := c.Compute()
		if err != nil {
			return clientError("compute", err)
		}
		if _, err := firstPage(ctx, servers.ListSimple(cc, servers.ListOpts{Limit: 1}), servers.ExtractServers); err != nil {
			return fmt.Errorf("compute: list servers: %w", describe(err))
		}
		return nil
	}}
}

// ComputeHypervisors lists Nova's hypervisors (admin only: skips on HTTP 403)
// and requires at least one. Whether each is up is helpers/operator's
// business; this checks that the API answers.
func ComputeHypervisors(c Clients) check.Check {
	return check.Check{Name: "compute/hypervisors", Run: func(ctx context.Context) error {
		cc, err := c.Compute()
		if err != nil {
			return clientError("compute", err)
		}
		list, err := firstPage(ctx, hypervisors.List(cc, hypervisors.ListOpts{}), hypervisors.ExtractHypervisors)
		if err != nil {
			return failOrSkip("compute: list hypervisors", err)
		}
		if len(list) == 0 {
			return errors.New("compute: list hypervisors: nova knows no hypervisor: is any nova-compute running and registered?")
		}
		return nil
	}}
}
