package tests

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

// cloudConfig loads the cloud named by OS_CLOUD (or the OS_* variables). With
// neither the test fails: a pipeline whose cloud secret did not arrive must
// not pass with every test skipped. `go test -short` skips the cloud tests on
// purpose.
func cloudConfig(t testing.TB) *cloud.Config {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: cloud tests skipped")
	}
	if os.Getenv("OS_CLOUD") == "" && os.Getenv("OS_AUTH_URL") == "" {
		t.Fatal(errNoCloud)
	}
	cfg, err := cloud.Load("")
	require.NoError(t, err)
	return cfg
}

const errNoCloud = "no cloud: set OS_CLOUD (clouds.yaml) or the OS_* variables of an openrc to run the cloud tests " +
	"(`make test` uses the lab), or pass -short to skip them"

// runContext ends at SIGINT/SIGTERM, and reserve before go test's own
// -timeout: a go test timeout panics and skips deferred cleanups (terratest
// #759), so what must run after the context ends (a destroy, undoing a fault)
// is kept out of it. The Functional scenario fits its own destroy inside the
// context's deadline (scenario.FitBudget). When -timeout leaves no time beyond
// the reserve, the test fails at once in one line that says so.
func runContext(t *testing.T, reserve time.Duration) context.Context {
	t.Helper()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	t.Cleanup(stop)
	if dl, ok := t.Deadline(); ok {
		if left := time.Until(dl); left <= reserve+minRunTime {
			t.Fatalf("go test -timeout leaves this test %s; it needs more than %s (%s kept for cleanup after its run): raise -timeout, e.g. -timeout 30m",
				left.Round(time.Second), (reserve + minRunTime).Round(time.Second), reserve)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-reserve))
		t.Cleanup(cancel)
	}
	return ctx
}

// minRunTime is the least a cloud test can do anything useful in.
const minRunTime = 30 * time.Second

func connect(t *testing.T, ctx context.Context, cfg *cloud.Config) *cloud.Cloud {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	c, err := cfg.Connect(cctx)
	require.NoError(t, err)
	noteCloud(t, cfg.Name)
	return c
}
