package endpoint

import (
	"context"
	"errors"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/agents"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// Network checks Neutron by listing networks (first page).
func Network(c Clients) check.Check {
	return check.Check{Name: "network", Run: func(ctx context.Context) error {
		nc, err := c.Network()
		if err != nil {
			return clientError("network", err)
		}
		if _, err := firstPage(ctx, networks.List(nc, networks.ListOpts{Limit: 1}), networks.ExtractNetworks); err != nil {
			return fmt.Errorf("network: list networks: %w", describe(err))
		}
		return nil
	}}
}

// NetworkAgents lists Neutron's agents (admin only: skips on HTTP 403) and
// requires at least one. Whether each is alive is helpers/operator's business.
func NetworkAgents(c Clients) check.Check {
	return check.Check{Name: "network/agents", Run: func(ctx context.Context) error {
		nc, err := c.Network()
		if err != nil {
			return clientError("network", err)
		}
		list, err := firstPage(ctx, agents.List(nc, agents.ListOpts{}), agents.ExtractAgents)
		if err != nil {
			return failOrSkip("network: list agents", err)
		}
		if len(list) == 0 {
			if roles, ok := notAdmin(nc); ok {
				return check.Skipf("network: list agents needs admin rights (neutron shows non-admins no agent; these credentials have roles %s)", roles)
			}
			return errors.New("network: list agents: neutron reports no agent")
		}
		return nil
	}}
}
