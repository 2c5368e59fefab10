package cloud_test

import (
	"context"
	"fmt"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

// The package example (doc.go), compiled so that it cannot go stale. It needs
// a cloud, so it has no output to check.
func Example() {
	ctx := context.Background()
	cfg, err := cloud.Load("") // "" means $OS_CLOUD, else the OS_* variables of an openrc
	if err != nil {
		fmt.Println(err) // names the file, the cloud and what is missing
		return
	}
	c, err := cfg.Connect(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	compute, err := c.Compute()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(compute.Endpoint, cfg.TerraformEnv()["OS_CLOUD"])
}
