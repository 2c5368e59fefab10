package main

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// check --push --interval D (default $CLOUDPULSE_PUSH_INTERVAL) pushes
// cloudpulse_run_interval_seconds with the run, so that the alert on missed
// runs (CloudpulseNoSuccessfulRun) works for the pushed group; without it no
// interval is pushed. (The flags as runCheck parses them, the push it makes.)
func TestCheckPushInterval(t *testing.T) {
	t.Setenv("CLOUDPULSE_PUSHGATEWAY", "")
	results := []check.Result{{Name: "compute", OK: true, Duration: time.Second}}
	push := func(env string, args ...string) []string {
		t.Helper()
		t.Setenv("CLOUDPULSE_PUSH_INTERVAL", env)
		g := newFakeGateway(t)
		var f checkFlags
		fs := checkFlagSet(io.Discard, &f)
		require.NoError(t, fs.Parse(append([]string{"--push", g.url}, args...)))
		require.NoError(t, pushInterval(fs, &f))
		require.NoError(t, pushCheck(context.Background(), f, "a", "endpoint", results, nil, time.Now()))
		samples := requireOnePush(t, g, "cloud=a,family=endpoint,job=cloudpulse")
		require.True(t, slices.Contains(samples, "cloudpulse_run_success{} 1"), "%v", samples)
		var out []string
		for _, s := range samples {
			if strings.HasPrefix(s, "cloudpulse_run_interval_seconds") {
				out = append(out, s)
			}
		}
		return out
	}
	assert.Equal(t, []string{"cloudpulse_run_interval_seconds{} 600"}, push("", "--interval", "10m"))
	assert.Equal(t, []string{"cloudpulse_run_interval_seconds{} 3600"}, push("1h"), "$CLOUDPULSE_PUSH_INTERVAL is the default")
	assert.Equal(t, []string{"cloudpulse_run_interval_seconds{} 300"}, push("1h", "--interval", "5m"), "the flag wins")
	assert.Empty(t, push(""), "no interval given: none pushed")
}

func TestCheckPushIntervalErrors(t *testing.T) {
	t.Setenv("CLOUDPULSE_PUSH_INTERVAL", "")
	_, stderr, code := runCLI(t, "check", "endpoint", "--interval", "0s")
	assert.Equal(t, 2, code)
	assert.Equal(t, "cpulse: check: --interval 0s: want how often the check runs, a duration above zero such as 10m\n", stderr)
	t.Setenv("CLOUDPULSE_PUSH_INTERVAL", "hourly")
	_, stderr, code = runCLI(t, "check", "endpoint")
	assert.Equal(t, 2, code)
	assert.Equal(t, `cpulse: check: CLOUDPULSE_PUSH_INTERVAL="hourly": want how often the check runs, a duration such as 10m`+"\n", stderr)
}
