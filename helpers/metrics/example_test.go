package metrics_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/metrics"
)

// The service keeps one Registry, serves it at /metrics and feeds it each
// run's results (and, through LatencyRecorder.OnRequest, the API requests).
func Example() {
	reg := metrics.New()
	srv := httptest.NewServer(reg.Handler()) // cpulse serve: mux.Handle("GET /metrics", reg.Handler())
	defer srv.Close()

	started := time.Unix(1700000000, 0)
	results := []check.Result{
		{Name: "compute", OK: true, Duration: 300 * time.Millisecond},
		{Name: "network", Error: "list networks: HTTP 503", Duration: 2 * time.Second},
	}
	reg.ObserveRun("lab-member", "endpoint", results, nil, started, check.Summarize(results).OK())

	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "cloudpulse_check_success") || strings.HasPrefix(l, "cloudpulse_run_last") {
			fmt.Println(l)
		}
	}
	// Output:
	// cloudpulse_check_success{check="compute",cloud="lab-member",family="endpoint"} 1
	// cloudpulse_check_success{check="network",cloud="lab-member",family="endpoint"} 0
	// cloudpulse_run_last_timestamp_seconds{cloud="lab-member",family="endpoint"} 1.7e+09
}
