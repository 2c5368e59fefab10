package probetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/probe"
)

// KeyPair generates a key pair for the run (probe.NewKeyPair) and fails the test if it cannot.
func KeyPair(t testing.TB, comment string) probe.KeyPair {
	t.Helper()
	keys, err := probe.NewKeyPair(comment)
	require.NoError(t, err, "generate ssh key pair")
	return keys
}

// Ping waits until ip answers ping (probe.Ping) and fails the test if it does not before ctx ends.
func Ping(t testing.TB, ctx context.Context, ip string) {
	t.Helper()
	start := time.Now()
	require.NoError(t, probe.Ping(ctx, ip))
	t.Logf("ping %s: answered after %s", ip, time.Since(start).Round(time.Millisecond))
}

// PingCount sends count echo requests (probe.PingCount), fails the test if none is answered, and returns the
// measurements.
func PingCount(t testing.TB, ctx context.Context, ip string, count int) probe.PingResult {
	t.Helper()
	res, err := probe.PingCount(ctx, ip, count)
	require.NoError(t, err)
	t.Logf("ping %s: %d/%d answered, rtt min/avg/max %s/%s/%s", ip, res.Received, res.Sent, res.Min, res.Avg, res.Max)
	return res
}

// SSH runs cmd on h (probe.SSH) and returns its standard output; it fails the test if that does not work
// before ctx ends.
func SSH(t testing.TB, ctx context.Context, h probe.Host, cmd string) string {
	t.Helper()
	start := time.Now()
	out, err := probe.SSH(ctx, h, cmd)
	require.NoError(t, err)
	t.Logf("ssh %s %q: ok after %s", h, cmd, time.Since(start).Round(time.Millisecond))
	return out
}

// HTTP waits until GET url answers wantStatus with wantBody in the body (probe.HTTP) and fails the test if it
// does not before ctx ends.
func HTTP(t testing.TB, ctx context.Context, url string, wantStatus int, wantBody string) {
	t.Helper()
	start := time.Now()
	require.NoError(t, probe.HTTP(ctx, url, wantStatus, wantBody))
	t.Logf("http GET %s: %d after %s", url, wantStatus, time.Since(start).Round(time.Millisecond))
}

// WaitFor polls cond (probe.WaitFor) and fails the test with what was tried if it does not hold before ctx ends.
func WaitFor(t testing.TB, ctx context.Context, what string, every time.Duration, cond probe.Condition) {
	t.Helper()
	start := time.Now()
	require.NoError(t, probe.WaitFor(ctx, every, cond), "wait for %s", what)
	t.Logf("%s: after %s", what, time.Since(start).Round(time.Millisecond))
}
