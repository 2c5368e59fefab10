package service_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/metrics"
	"github.com/cloudpulse/cloudpulse/helpers/service"
)

// TestMetricsAndStatusPage: a run's end feeds /metrics (opened by open_reads:
// metrics) and the status page at / (needs the token: status is not opened);
// unknown API paths keep their JSON 404.
func TestMetricsAndStatusPage(t *testing.T) {
	e := newEnv(t, service.Options{OpenReads: []string{"metrics"}, Metrics: metrics.New(), StatusPage: true,
		Intervals: map[string]time.Duration{"operator": time.Hour}})
	e.runner.fail["operator"] = true
	e.runner.open("operator")
	code, v := e.do(t, "POST", "/cpulse/check", `{"type":"operator"}`)
	require.Equal(t, 202, code, "%v", v)
	e.waitState(t, v["handle"].(string), "failed")

	code, body := e.raw(t, "GET", "/metrics", "", "")
	require.Equal(t, 200, code, "metrics opened")
	m := string(body)
	assert.Contains(t, m, `cloudpulse_check_success{check="operator-second",cloud="lab-member",family="operator"} 0`)
	assert.Contains(t, m, `cloudpulse_run_success{cloud="lab-member",family="operator"} 0`)
	assert.Contains(t, m, `cloudpulse_run_interval_seconds{cloud="lab-member",family="operator"} 3600`)

	code, _ = e.raw(t, "GET", "/", "", "")
	assert.Equal(t, 401, code, "status not opened")
	code, body = e.raw(t, "GET", "/", "")
	require.Equal(t, 200, code)
	assert.Contains(t, string(body), "router: HTTP 503", "the failing check's message on the page")
	code, body = e.raw(t, "GET", "/runs/"+v["handle"].(string), "")
	require.Equal(t, 200, code)
	assert.Contains(t, string(body), "operator-second")

	code, v = e.do(t, "GET", "/cpulse/nope", "")
	assert.Equal(t, 404, code)
	assert.Contains(t, v["error"], "no route GET /cpulse/nope")
}
