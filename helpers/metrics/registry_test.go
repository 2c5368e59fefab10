package metrics_test

import (
	"errors"
	"fmt"
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
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

var t0 = time.Unix(1700000000, 0)

func results(failing bool) []check.Result {
	rs := []check.Result{
		{Name: "compute", OK: true, Duration: 250 * time.Millisecond},
		{Name: "placement", Skipped: true, Reason: "needs admin"},
		{Name: "network", OK: !failing, Duration: 2 * time.Second},
	}
	if failing {
		rs[2].Err = errors.New("HTTP 503")
		rs[2].Error = "HTTP 503"
	}
	return rs
}

func TestObserveRunExposition(t *testing.T) {
	r := metrics.New()
	r.ObserveRun("lab", "endpoint", results(false), nil, t0, true)
	// the next run fails: success 0, last run moves, last success stays
	r.ObserveRun("lab", "endpoint", results(true), []report.Step{{Name: "apply", Duration: 1500 * time.Millisecond}}, t0.Add(time.Minute), false)
	want := `
# HELP cloudpulse_check_success 1 when the check passed in its family's last run, 0 when it failed (skipped checks have no sample).
# TYPE cloudpulse_check_success gauge
cloudpulse_check_success{check="compute",cloud="lab",family="endpoint"} 1
cloudpulse_check_success{check="network",cloud="lab",family="endpoint"} 0
# HELP cloudpulse_check_duration_seconds How long the check took in its family's last run.
# TYPE cloudpulse_check_duration_seconds gauge
cloudpulse_check_duration_seconds{check="compute",cloud="lab",family="endpoint"} 0.25
cloudpulse_check_duration_seconds{check="network",cloud="lab",family="endpoint"} 2
# HELP cloudpulse_run_last_timestamp_seconds Unix time the family's last run started.
# TYPE cloudpulse_run_last_timestamp_seconds gauge
cloudpulse_run_last_timestamp_seconds{cloud="lab",family="endpoint"} 1.70000006e+09
# HELP cloudpulse_run_last_success_timestamp_seconds Unix time the family's last passed run started (kept when a run fails).
# TYPE cloudpulse_run_last_success_timestamp_seconds gauge
cloudpulse_run_last_success_timestamp_seconds{cloud="lab",family="endpoint"} 1.7e+09
# HELP cloudpulse_run_success 1 when the family's last run passed, 0 when it failed.
# TYPE cloudpulse_run_success gauge
cloudpulse_run_success{cloud="lab",family="endpoint"} 0
# HELP cloudpulse_step_duration_seconds How long each step of the family's last run took (scenario steps).
# TYPE cloudpulse_step_duration_seconds gauge
cloudpulse_step_duration_seconds{cloud="lab",family="endpoint",step="apply"} 1.5
`
	require.NoError(t, testutil.GatherAndCompare(r.Gatherer(), strings.NewReader(want),
		metrics.CheckSuccess, metrics.CheckDuration, metrics.RunLast, metrics.RunLastSuccess, metrics.RunSuccess, metrics.StepDuration))
}

func TestAPIUpgradeCleanupExposition(t *testing.T) {
	r := metrics.New()
	rec := cloud.NewLatencyRecorder(nil)
	rec.OnRequest = r.OnRequest("lab")
	r.ObserveAPIRequest("lab", cloud.APIRequest{Service: cloud.ServiceCompute, Method: "GET", Status: 200, Duration: 30 * time.Millisecond})
	r.ObserveAPIRequest("lab", cloud.APIRequest{Service: cloud.ServiceCompute, Method: "GET", Status: 0, Duration: 3 * time.Second})
	r.ObserveWatch("lab", probe.WatchReport{Paths: []probe.PathReport{
		{Name: "ping/vm-1", Downtime: 1200 * time.Millisecond, Threshold: time.Second},
		{Name: "ssh/vm-1"},
	}})
	r.ObserveCleanup("lab", []scenario.Resource{{Kind: "keypair", ID: "cp-x-key"}, {Kind: "keypair"}, {Kind: "zone"}})
	want := `
# HELP cloudpulse_upgrade_downtime_seconds Total downtime of each watched path in the last upgrade watch.
# TYPE cloudpulse_upgrade_downtime_seconds gauge
cloudpulse_upgrade_downtime_seconds{cloud="lab",path="ping/vm-1"} 1.2
cloudpulse_upgrade_downtime_seconds{cloud="lab",path="ssh/vm-1"} 0
# HELP cloudpulse_upgrade_downtime_threshold_seconds The downtime allowed on each watched path (paths with a threshold only).
# TYPE cloudpulse_upgrade_downtime_threshold_seconds gauge
cloudpulse_upgrade_downtime_threshold_seconds{cloud="lab",path="ping/vm-1"} 1
# HELP openstack_api_request_duration_seconds OpenStack API requests the checks sent, until the response headers (status: 2xx..5xx, or error when none came back).
# TYPE openstack_api_request_duration_seconds histogram
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="2xx",le="0.005"} 0
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="2xx",le="0.01"} 0
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="2xx",le="0.025"} 0
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="2xx",le="0.05"} 1
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="2xx",le="0.1"} 1
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="2xx",le="0.25"} 1
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="2xx",le="0.5"} 1
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="2xx",le="1"} 1
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="2xx",le="2.5"} 1
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="2xx",le="5"} 1
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="2xx",le="10"} 1
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="2xx",le="30"} 1
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="2xx",le="+Inf"} 1
openstack_api_request_duration_seconds_sum{cloud="lab",method="GET",service="compute",status="2xx"} 0.03
openstack_api_request_duration_seconds_count{cloud="lab",method="GET",service="compute",status="2xx"} 1
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="error",le="0.005"} 0
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="error",le="0.01"} 0
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="error",le="0.025"} 0
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="error",le="0.05"} 0
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="error",le="0.1"} 0
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="error",le="0.25"} 0
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="error",le="0.5"} 0
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="error",le="1"} 0
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="error",le="2.5"} 0
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="error",le="5"} 1
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="error",le="10"} 1
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="error",le="30"} 1
openstack_api_request_duration_seconds_bucket{cloud="lab",method="GET",service="compute",status="error",le="+Inf"} 1
openstack_api_request_duration_seconds_sum{cloud="lab",method="GET",service="compute",status="error"} 3
openstack_api_request_duration_seconds_count{cloud="lab",method="GET",service="compute",status="error"} 1
`
	require.NoError(t, testutil.GatherAndCompare(r.Gatherer(), strings.NewReader(want),
		metrics.UpgradeDowntime, metrics.UpgradeThreshold, metrics.APIRequestDuration))
	assert.Equal(t, 2.0, testutil.ToFloat64(r.CleanupLeftovers("lab", "keypair")))
	assert.Equal(t, 1.0, testutil.ToFloat64(r.CleanupLeftovers("lab", "other")))
	assert.Equal(t, 0.0, testutil.ToFloat64(r.CleanupLeftovers("lab", "server")))
}

// TestCardinalityBounded: 1000 runs whose check names carry run ids, server
// ids and addresses (as a careless check might) and whose requests come back
// with every status leave as many series as one run does.
func TestCardinalityBounded(t *testing.T) {
	r := metrics.New()
	run := func(i int) {
		id := fmt.Sprintf("%016x", 0xabc0000000000000+uint64(i))
		rs := []check.Result{
			{Name: "ping/vm-1", OK: i%3 != 1},
			{Name: fmt.Sprintf("server/%08x-1234-4abc-8def-%012x", i, i), OK: true},
			{Name: fmt.Sprintf("http/10.0.%d.%d:80", i/250, i%250), OK: true},
			{Name: "run/" + id, OK: true},
		}
		r.ObserveRun("lab", "functional", rs, []report.Step{{Name: "apply " + id}}, t0.Add(time.Duration(i)*time.Minute), i%3 != 1)
		r.ObserveAPIRequest("lab", cloud.APIRequest{Service: cloud.ServiceNetwork, Method: "POST", Status: 200 + i%400})
		r.ObserveWatch("lab", probe.WatchReport{Paths: []probe.PathReport{{Name: "east-west/vm-1→vm-2"}}})
		r.ObserveCleanup("lab", nil)
	}
	run(0)
	one, err := testutil.GatherAndCount(r.Gatherer())
	require.NoError(t, err)
	for i := 1; i < 1000; i++ {
		run(i)
	}
	n, err := testutil.GatherAndCount(r.Gatherer())
	require.NoError(t, err)
	// one run sees only status 2xx; the others add 3xx, 4xx, 5xx (one histogram each)
	assert.Equal(t, one+3, n, "series after 1000 runs")
	checks, err := testutil.GatherAndCount(r.Gatherer(), metrics.CheckSuccess)
	require.NoError(t, err)
	assert.Equal(t, 4, checks)
}

func TestCheckName(t *testing.T) {
	for in, want := range map[string]string{
		"ping/compute-1":                              "ping/compute-1",
		"functional/ssh/vm-2":                         "functional/ssh/vm-2",
		"server/0d4c6a9e-6c1a-4a5e-9d55-3b3c52a1e0f1": "server/<id>",
		"http/172.24.4.17:80":                         "http/<ip>",
		"run/3f9a0c21b7d84e65":                        "run/<id>",
		"east-west/vm-1→vm-2":                         "east-west/vm-1→vm-2",
		"ping6/fd00:1::5":                             "ping6/<ip>",
		"cinder/deadbeef":                             "cinder/deadbeef",
	} {
		assert.Equal(t, want, metrics.CheckName(in), in)
	}
}

func TestStatusClass(t *testing.T) {
	for code, want := range map[int]string{0: "error", 200: "2xx", 204: "2xx", 301: "3xx", 404: "4xx", 503: "5xx", 999: "error"} {
		assert.Equal(t, want, metrics.StatusClass(code), code)
	}
}
