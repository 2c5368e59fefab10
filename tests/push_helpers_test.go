package tests

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/metrics"
)

// pushResults pushes results to the Pushgateway at $CLOUDPULSE_PUSHGATEWAY
// (nothing when unset), as `cpulse check --push` does: group job=cloudpulse,
// cloud=$OS_CLOUD, family = the top-level test's name without "Test", in lower
// case (TestEndpoint → endpoint) — stable across runs, never a timestamp.
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
	if err := metrics.PushRun(ctx, url, os.Getenv("OS_CLOUD"), family, results, nil, started); err != nil {
		t.Errorf("CLOUDPULSE_PUSHGATEWAY: %v", err)
		return
	}
	t.Logf("pushed %d results to %s as cloud %q, family %q", len(results), url, os.Getenv("OS_CLOUD"), family)
}
