package tests

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/metrics"
)

// testClouds maps a test's name to the cloud it connected to (connect,
// connectRecorded), so that a push names the cloud the results are of.
var testClouds sync.Map

// noteCloud records that t (and its subtests) check cloudName.
func noteCloud(t testing.TB, cloudName string) { testClouds.Store(t.Name(), cloudName) }

// cloudOf is the cloud t or its closest parent connected to, else $OS_CLOUD.
func cloudOf(t testing.TB) string {
	for name := t.Name(); name != ""; {
		if c, ok := testClouds.Load(name); ok {
			return c.(string)
		}
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			break
		}
		name = name[:i]
	}
	return os.Getenv("OS_CLOUD")
}

// pushResults pushes results to the Pushgateway at $CLOUDPULSE_PUSHGATEWAY
// (nothing when unset), as `cpulse check --push` does: group job=cloudpulse,
// cloud (the one the test connected to), family = the top-level test's name
// without "Test", in lower case (TestEndpoint → endpoint) — stable across
// runs, never a timestamp.
func pushResults(t *testing.T, results []check.Result) {
	t.Helper()
	url := os.Getenv("CLOUDPULSE_PUSHGATEWAY")
	if url == "" || len(results) == 0 {
		return
	}
	top, _, _ := strings.Cut(t.Name(), "/")
	family := strings.ToLower(strings.TrimPrefix(top, "Test"))
	started := results[0].StartedAt
	for _, r := range results {
		if !r.StartedAt.IsZero() && (started.IsZero() || r.StartedAt.Before(started)) {
			started = r.StartedAt
		}
	}
	if started.IsZero() {
		started = time.Now()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cloudName := cloudOf(t)
	if err := metrics.PushRun(ctx, url, cloudName, family, results, nil, started, pushEvery(t)); err != nil {
		t.Errorf("CLOUDPULSE_PUSHGATEWAY: %v", err)
		return
	}
	t.Logf("pushed %d results to %s as cloud %q, family %q", len(results), url, cloudName, family)
}

// pushEvery is $CLOUDPULSE_PUSH_INTERVAL, how often CI runs the tests (e.g.
// 1h): pushed as cloudpulse_run_interval_seconds, which the alert on missed
// runs needs; unset: not pushed. A bad value is the test's error.
func pushEvery(t *testing.T) time.Duration {
	t.Helper()
	env := os.Getenv("CLOUDPULSE_PUSH_INTERVAL")
	if env == "" {
		return 0
	}
	d, err := time.ParseDuration(env)
	if err != nil || d <= 0 {
		t.Errorf("CLOUDPULSE_PUSH_INTERVAL=%q: want how often the tests run, a duration such as 1h", env)
		return 0
	}
	return d
}
