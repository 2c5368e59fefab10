package endpoint

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// BlockStorage checks Cinder by listing the project's volumes (first page).
func BlockStorage(c Clients) check.Check {
	return check.Check{Name: "block-storage", Run: func(ctx context.Context) error {
		bc, err := c.BlockStorage()
		if err != nil {
			return clientError("block-storage", err)
		}
		if _, err := firstPage(ctx, volumes.List(bc, volumes.ListOpts{Limit: 1}), volumes.ExtractVolumes); err != nil {
			return fmt.Errorf("block-storage: list volumes: %w", describe(err))
		}
		return nil
	}}
}
