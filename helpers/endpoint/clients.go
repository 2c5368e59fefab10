package endpoint

import (
	"github.com/gophercloud/gophercloud/v2"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// Clients gives gophercloud service clients of one authenticated cloud.
// *cloud.Cloud (helpers/cloud) satisfies it.
type Clients interface {
	Identity() (*gophercloud.ServiceClient, error)
	Compute() (*gophercloud.ServiceClient, error)
	Image() (*gophercloud.ServiceClient, error)
	Network() (*gophercloud.ServiceClient, error)
	BlockStorage() (*gophercloud.ServiceClient, error)
	Placement() (*gophercloud.ServiceClient, error)
}

// Checks returns every API endpoint check in a stable order: the member-level
// check of each service, then the admin-only ones (which skip on HTTP 403).
func Checks(c Clients) []check.Check {
	return []check.Check{
		Identity(c),
		Compute(c),
		Image(c),
		Network(c),
		BlockStorage(c),
		IdentityServices(c),
		ComputeHypervisors(c),
		NetworkAgents(c),
		Placement(c),
	}
}
