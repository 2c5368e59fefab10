package apiclient_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/apiclient"
	"github.com/cloudpulse/cloudpulse/helpers/apiclient/apitest"
)

// Start a functional check on the service, follow it to its end, and list
// the failed runs of the last hour.
func Example() {
	fake := &apitest.Server{Token: "s3cret", Progress: func(r *apiclient.Result) { r.State = apiclient.Passed }}
	srv := httptest.NewServer(fake) // in real use: the URL of `cpulse serve`
	defer srv.Close()

	ctx := context.Background()
	c, err := apiclient.New(srv.URL, "s3cret")
	if err != nil {
		panic(err)
	}
	a, err := c.Check(ctx, apiclient.CheckRequest{Type: "functional", Cloud: "lab-member"})
	if err != nil {
		panic(err)
	}
	r, err := c.Wait(ctx, a.Handle, 10*time.Millisecond, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Type, r.State)
	for run, err := range c.Results(ctx, apiclient.Query{Failed: true, Since: time.Hour}) {
		if err != nil {
			panic(err)
		}
		fmt.Println("failed:", run.Handle)
	}
	// Output: functional passed
}
