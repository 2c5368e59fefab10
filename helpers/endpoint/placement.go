package endpoint

import (
	"context"
	"errors"

	"github.com/gophercloud/gophercloud/v2/openstack/placement/v1/resourceproviders"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// Placement lists resource providers. Placement's default policy allows this
// to admins only, so on HTTP 403 the check skips with that reason. It
// requires at least one provider (every nova-compute registers one).
func Placement(c Clients) check.Check {
	return check.Check{Name: "placement", Run: func(ctx context.Context) error {
		pc, err := c.Placement()
		if err != nil {
			return clientError("placement", err)
		}
		list, err := firstPage(ctx, resourceproviders.List(pc, resourceproviders.ListOpts{}), resourceproviders.ExtractResourceProviders)
		if err != nil {
			return failOrSkip("placement: list resource providers", err)
		}
		if len(list) == 0 {
			return errors.New("placement: list resource providers: none registered: nova-compute registers one per hypervisor")
		}
		return nil
	}}
}
