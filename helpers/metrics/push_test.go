package metrics_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/metrics"
)

// pushgateway starts Debian's prometheus-pushgateway (scripts/obs-deps.sh
// installs it) on a free loopback port and returns its URL.
func pushgateway(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus-pushgateway")
	if err != nil {
		t.Skip("prometheus-pushgateway not installed (scripts/obs-deps.sh installs it)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	cmd := exec.Command(bin, "--web.listen-address="+addr, "--persistence.file=")
	cmd.Dir = t.TempDir()
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(url + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond, "pushgateway at %s not ready", url)
	return url
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "cloudpulse_") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestPushKeepsLastSuccess pushes a passing run and then a failing one of the
// same family to a real Pushgateway: one group (job, cloud, family) holds the
// failing run's checks, its last run time, and the passing run's last success.
// A check the second run no longer has is gone (the group is replaced).
func TestPushKeepsLastSuccess(t *testing.T) {
	url := pushgateway(t)
	ctx := context.Background()
	pass := []check.Result{{Name: "compute", OK: true, Duration: time.Second}, {Name: "image", OK: true}}
	fail := []check.Result{{Name: "compute", Error: "HTTP 503", Duration: 2 * time.Second}}
	require.NoError(t, metrics.PushRun(ctx, url, "lab", "endpoint", pass, nil, t0, 0))
	require.NoError(t, metrics.PushRun(ctx, url, "lab", "endpoint", fail, nil, t0.Add(time.Minute), 10*time.Minute))
	// another family of the same cloud is a group of its own
	require.NoError(t, metrics.PushRun(ctx, url, "lab", "operator", fail, nil, t0.Add(time.Minute), 0))
	got := scrape(t, url)
	for _, want := range []string{
		`cloudpulse_check_success{check="compute",cloud="lab",family="endpoint",instance="",job="cloudpulse"} 0`,
		`cloudpulse_check_duration_seconds{check="compute",cloud="lab",family="endpoint",instance="",job="cloudpulse"} 2`,
		`cloudpulse_run_last_timestamp_seconds{cloud="lab",family="endpoint",instance="",job="cloudpulse"} 1.70000006e+09`,
		`cloudpulse_run_last_success_timestamp_seconds{cloud="lab",family="endpoint",instance="",job="cloudpulse"} 1.7e+09`,
		`cloudpulse_run_success{cloud="lab",family="endpoint",instance="",job="cloudpulse"} 0`,
		`cloudpulse_run_success{cloud="lab",family="operator",instance="",job="cloudpulse"} 0`,
		// --interval: the alert on missed runs works for the pushed group
		`cloudpulse_run_interval_seconds{cloud="lab",family="endpoint",instance="",job="cloudpulse"} 600`,
	} {
		assert.Contains(t, got, want)
	}
	assert.NotContains(t, got, `check="image"`)
	assert.NotContains(t, got, `cloudpulse_run_interval_seconds{cloud="lab",family="operator"`, "no interval given: none pushed")
	assert.NotContains(t, got, `cloudpulse_run_last_success_timestamp_seconds{cloud="lab",family="operator"`, "operator never passed")
	// a later pass moves the last success
	require.NoError(t, metrics.PushRun(ctx, url, "lab", "endpoint", pass, nil, t0.Add(2*time.Minute), 0))
	assert.Contains(t, scrape(t, url), `cloudpulse_run_last_success_timestamp_seconds{cloud="lab",family="endpoint",instance="",job="cloudpulse"} 1.70000012e+09`)
}

func TestPushUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	err = metrics.PushRun(context.Background(), url, "lab", "endpoint", nil, nil, t0, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "read the last success back from the pushgateway: Get \""+url+"/api/v1/metrics\": dial tcp")
}
