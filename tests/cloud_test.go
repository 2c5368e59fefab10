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

// runContext ends at SIGINT/SIGTERM, and early enough before go test's own
// -timeout that destroy (reserve) still fits: a go test timeout panics and
// skips deferred cleanups (terratest #759).
func runContext(t *testing.T, reserve time.Duration) context.Context {
	t.Helper()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	t.Cleanup(stop)
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-reserve))
		t.Cleanup(cancel)
	}
	return ctx
}

func connect(t *testing.T, ctx context.Context, cfg *cloud.Config) *cloud.Cloud {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	c, err := cfg.Connect(cctx)
	require.NoError(t, err)
	return c
}
