package endpoint_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/endpoint"
)

// emptyCatalog stands for a cloud whose token has no catalog; a real program
// passes a *cloud.Cloud from helpers/cloud (cloud.Load + Config.Connect).
type emptyCatalog struct{}

func none(service string) (*gophercloud.ServiceClient, error) {
	return nil, errors.New("no " + service + " endpoint in the catalog")
}

func (emptyCatalog) Identity() (*gophercloud.ServiceClient, error)     { return none("identity") }
func (emptyCatalog) Compute() (*gophercloud.ServiceClient, error)      { return none("compute") }
func (emptyCatalog) Image() (*gophercloud.ServiceClient, error)        { return none("image") }
func (emptyCatalog) Network() (*gophercloud.ServiceClient, error)      { return none("network") }
func (emptyCatalog) BlockStorage() (*gophercloud.ServiceClient, error) { return none("block-storage") }
func (emptyCatalog) Placement() (*gophercloud.ServiceClient, error)    { return none("placement") }

func Example() {
	results := check.Runner{}.Run(context.Background(), endpoint.Checks(emptyCatalog{})...)
	for _, r := range results {
		fmt.Printf("%-20s %s  %s\n", r.Name, r.Status(), r.Detail())
	}
	// Output:
	// identity             fail  identity: no identity endpoint in the catalog
	// compute              fail  compute: no compute endpoint in the catalog
	// image                fail  image: no image endpoint in the catalog
	// network              fail  network: no network endpoint in the catalog
	// block-storage        fail  block-storage: no block-storage endpoint in the catalog
	// identity/services    fail  identity: no identity endpoint in the catalog
	// compute/hypervisors  fail  compute: no compute endpoint in the catalog
	// network/agents       fail  network: no network endpoint in the catalog
	// placement            fail  placement: no placement endpoint in the catalog
}
