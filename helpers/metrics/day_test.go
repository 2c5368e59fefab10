package metrics_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/metrics"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/report"
)

// TestDayOfRuns feeds a day of the service's default schedule on two clouds
// (operator every 60 s, endpoint every 120 s, functional every 30 min,
// comprehensive every 2 h; each run with its checks, steps and API requests)
// and measures a scrape of /metrics: the series count after the day equals
// the count after six hours, and the scrape stays small and fast.
func TestDayOfRuns(t *testing.T) {
	type family struct {
		name         string
		every        time.Duration
		checks, reqs int
		steps        int
	}
	families := []family{
		{"operator", time.Minute, 20, 10, 0},
		{"endpoint", 2 * time.Minute, 12, 30, 0},
		{"functional", 30 * time.Minute, 15, 120, 12},
		{"comprehensive", 2 * time.Hour, 40, 400, 25},
	}
	services := []string{cloud.ServiceIdentity, cloud.ServiceCompute, cloud.ServiceNetwork, cloud.ServiceImage, cloud.ServiceBlockStorage, cloud.ServicePlacement}
	methods := []string{"GET", "POST", "DELETE", "PUT"}
	r := metrics.New()
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	start := time.Unix(1700000000, 0)
	var afterSixHours int
	for minute := 0; minute < 24*60; minute++ {
		now := start.Add(time.Duration(minute) * time.Minute)
		for ci, cl := range []string{"lab-member", "lab-admin"} {
			for _, f := range families {
				if minute%int(f.every/time.Minute) != 0 {
					continue
				}
				var rs []check.Result
				for i := 0; i < f.checks; i++ {
					rs = append(rs, check.Result{Name: fmt.Sprintf("%s/check-%d", f.name, i), OK: (minute+i+ci)%97 != 0, Duration: time.Duration(i+1) * 10 * time.Millisecond})
				}
				var steps []report.Step
				for i := 0; i < f.steps; i++ {
					steps = append(steps, report.Step{Name: fmt.Sprintf("step-%d", i), Duration: time.Second})
				}
				r.ObserveRun(cl, f.name, rs, steps, now, check.Summarize(rs).OK())
				for i := 0; i < f.reqs; i++ {
					status := []int{200, 201, 204, 404, 409, 503, 0}[(minute+i)%7]
					r.ObserveAPIRequest(cl, cloud.APIRequest{Service: services[i%len(services)], Method: methods[i%len(methods)], Status: status, Duration: time.Duration(i%50) * 7 * time.Millisecond})
				}
			}
			if minute%120 == 0 {
				r.ObserveWatch(cl, probe.WatchReport{Paths: []probe.PathReport{{Name: "ping/vm-1", Threshold: time.Second}, {Name: "ssh/vm-1"}, {Name: "http/vm-1"}, {Name: "east-west/vm-1→vm-2"}}})
				r.ObserveCleanup(cl, nil)
			}
		}
		if minute == 6*60 {
			n, err := testutil.GatherAndCount(r.Gatherer())
			require.NoError(t, err)
			afterSixHours = n
		}
	}
	n, err := testutil.GatherAndCount(r.Gatherer())
	require.NoError(t, err)
	assert.Equal(t, afterSixHours, n, "metrics after a day vs after six hours")
	var best time.Duration
	var size, samples int
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		resp, err := srv.Client().Get(srv.URL)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		if d := time.Since(t0); best == 0 || d < best {
			best = d
		}
		size = len(b)
		samples = 0
		for _, l := range strings.Split(string(b), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				samples++
			}
		}
	}
	lines, err := testutil.GatherAndCount(r.Gatherer())
	require.NoError(t, err)
	t.Logf("after a day of runs on 2 clouds: %d metrics (histograms count once), %d samples, exposition %d bytes, scrape %s (best of 5)", lines, samples, size, best)
}
