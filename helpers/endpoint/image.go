package endpoint

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// Image checks Glance by listing images (first page).
func Image(c Clients) check.Check {
	return check.Check{Name: "image", Run: func(ctx context.Context) error {
		ic, err := c.Image()
		if err != nil {
			return clientError("image", err)
		}
		if _, err := firstPage(ctx, images.List(ic, images.ListOpts{Limit: 1}), images.ExtractImages); err != nil {
			return fmt.Errorf("image: list images: %w", describe(err))
		}
		return nil
	}}
}
