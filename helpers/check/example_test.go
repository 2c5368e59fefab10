package check_test

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

func Example() {
	checks := []check.Check{
		{Name: "dns", Run: func(ctx context.Context) error { return nil }},
		{Name: "placement", Run: func(ctx context.Context) error {
			return check.Skip("needs admin credentials")
		}},
		{Name: "compute", Run: func(ctx context.Context) error {
			return errors.New("list servers: got HTTP 503")
		}},
	}
	results := check.Runner{Timeout: 5 * time.Second}.Run(context.Background(), checks...)
	for i := range results {
		results[i].Duration = 0 // keep the example's output stable
	}
	check.WriteTable(os.Stdout, results)
	// Output:
	// NAME       STATUS  DURATION  DETAIL
	// dns        pass    0s
	// placement  skip    0s        needs admin credentials
	// compute    fail    0s        list servers: got HTTP 503
	// 1 passed, 1 failed, 1 skipped
}
