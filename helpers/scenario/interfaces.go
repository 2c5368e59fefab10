package scenario

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

// DetachUnknownInterfaces removes from each router in rs (other kinds are
// ignored) the interfaces whose port id known does not hold: an apply killed
// after Neutron attached an interface but before OpenTofu recorded it leaves
// one, and it keeps the subnet in use, so a destroy from the state stalls on
// the subnet. The gateway stays (it goes with the router). It returns the
// ports detached.
func DetachUnknownInterfaces(ctx context.Context, c *cloud.Cloud, rs []Resource, known map[string]bool) ([]string, error) {
	var detached []string
	for _, r := range rs {
		if r.Kind != "router" {
			continue
		}
		nc, err := c.Network()
		if err != nil {
			return detached, err
		}
		pages, err := ports.List(nc, ports.ListOpts{DeviceID: r.ID}).AllPages(ctx)
		if err != nil {
			return detached, fmt.Errorf("ports of router %s: %w", r.ID, err)
		}
		all, err := ports.ExtractPorts(pages)
		if err != nil {
			return detached, fmt.Errorf("ports of router %s: %w", r.ID, err)
		}
		for _, p := range all {
			if p.DeviceOwner == "network:router_gateway" || known[p.ID] {
				continue
			}
			if _, err := routers.RemoveInterface(ctx, nc, r.ID, routers.RemoveInterfaceOpts{PortID: p.ID}).Extract(); err != nil && !gone(err) {
				return detached, fmt.Errorf("remove interface %s of router %s: %w", p.ID, r.ID, err)
			}
			detached = append(detached, p.ID)
		}
	}
	return detached, nil
}
