package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/operator"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// checkTimeout bounds each check; the slowest of the lab's (galera's mysql,
// an API behind a busy uwsgi) take a few seconds.
const checkTimeout = 30 * time.Second

// runChecks runs checks concurrently (as cpulse does), logs the results as a
// table, and returns them with the wall time of the whole set.
func runChecks(t *testing.T, ctx context.Context, checks []check.Check) ([]check.Result, time.Duration) {
	t.Helper()
	require.NotEmpty(t, checks, "no check to run")
	start := time.Now()
	results := check.Runner{Timeout: checkTimeout}.Run(ctx, checks...)
	wall := time.Since(start)
	var table bytes.Buffer
	require.NoError(t, check.WriteTable(&table, results))
	s := check.Summarize(results)
	t.Logf("%d checks in %s: %d passed, %d failed, %d skipped\n%s",
		len(results), wall.Round(time.Millisecond), s.Passed, s.Failed, s.Skipped, table.String())
	return results, wall
}

// reportResults pushes the results (CLOUDPULSE_PUSHGATEWAY) and gives each result its own subtest (one JUnit test case per
// check): a failure fails it, a skip skips it when maySkip allows that check
// to skip, and fails it otherwise.
func reportResults(t *testing.T, results []check.Result, maySkip func(name string) bool) {
	t.Helper()
	pushResults(t, results) // when CLOUDPULSE_PUSHGATEWAY is set
	for _, r := range results {
		t.Run(r.Name, func(t *testing.T) {
			switch r.Status() {
			case check.Passed:
				t.Logf("passed in %s", r.Duration.Round(time.Millisecond))
			case check.Skipped:
				if maySkip == nil || !maySkip(r.Name) {
					t.Fatalf("skipped, but it must run to a verdict here: %s", r.Reason)
				}
				t.Skipf("skipped in %s: %s", r.Duration.Round(time.Millisecond), r.Reason)
			default:
				t.Fatalf("failed in %s: %s", r.Duration.Round(time.Millisecond), r.Error)
			}
		})
	}
}

// logResult logs each check's verdict as it ends (a scenario's checks run long).
func logResult(t *testing.T) func(check.Result) {
	return func(r check.Result) {
		t.Logf("%-40s %s %s %s", r.Name, r.Status(), r.Duration.Round(time.Millisecond), r.Detail())
	}
}

// connectRecorded connects to cfg through a latency recorder that knows the
// cloud's catalog, and returns the time the token issue took.
func connectRecorded(t testing.TB, ctx context.Context, cfg *cloud.Config) (*cloud.Cloud, *cloud.LatencyRecorder, time.Duration) {
	t.Helper()
	rec := cloud.NewLatencyRecorder(cfg.BaseTransport())
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	start := time.Now()
	c, err := cfg.Connect(cctx, cloud.WithTransport(rec))
	require.NoError(t, err)
	noteCloud(t, cfg.Name)
	took := time.Since(start)
	require.True(t, rec.LearnCatalogFrom(c.Provider), "cloud %q: the token carries no service catalog to attribute requests by", cfg.Name)
	return c, rec, took
}

// logLatency logs count, errors, p50, p95 and max of the recorded requests per service.
func logLatency(t *testing.T, stats []cloud.ServiceLatency) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%-14s %5s %6s %9s %9s %9s\n", "service", "reqs", "errors", "p50", "p95", "max")
	for _, s := range stats {
		fmt.Fprintf(&b, "%-14s %5d %6d %9s %9s %9s\n", s.Service, s.Count, s.Errors,
			s.P50.Round(100*time.Microsecond), s.P95.Round(100*time.Microsecond), s.Max.Round(100*time.Microsecond))
	}
	t.Logf("API latency per service:\n%s", b.String())
}

// serviceMapPath is CLOUDPULSE_SERVICE_MAP, or skips.
func serviceMapPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("CLOUDPULSE_SERVICE_MAP")
	if p == "" {
		t.Skip("set CLOUDPULSE_SERVICE_MAP to the cloud's service map (the lab's: fixtures/service-map/lab.yaml)")
	}
	return p
}

// loadServiceMap loads the service map at path and fails, naming every one
// at once, when a secret it reads from the environment is unset.
func loadServiceMap(t *testing.T, path string) *operator.ServiceMap {
	t.Helper()
	m, err := operator.Load(path)
	require.NoError(t, err)
	var missing []string
	for _, env := range secretEnvs(m) {
		if os.Getenv(env) == "" && !slices.Contains(missing, env) {
			missing = append(missing, env)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("service map %s reads secrets from the environment, unset: %s (the lab's are in .lab/secrets.env: set -a; . .lab/secrets.env; set +a)",
			path, strings.Join(missing, ", "))
	}
	return m
}

// secretEnvs are the environment variables m reads passwords from.
func secretEnvs(m *operator.ServiceMap) []string {
	var envs []string
	if m.RabbitMQ != nil && m.RabbitMQ.PasswordEnv != "" {
		envs = append(envs, m.RabbitMQ.PasswordEnv)
	}
	if m.Galera != nil && m.Galera.PasswordEnv != "" {
		envs = append(envs, m.Galera.PasswordEnv)
	}
	if m.HAProxy != nil && m.HAProxy.PasswordEnv != "" && m.HAProxy.User != "" {
		envs = append(envs, m.HAProxy.PasswordEnv)
	}
	return envs
}

// labCtl runs scripts/lab/ctl ACTION SERVICE from the repository root; ctl
// returns only when the change took effect (see the script). It returns how
// long that took and ctl's output.
func labCtl(ctx context.Context, action, service string) (time.Duration, string, error) {
	root, err := tf.RepoRoot()
	if err != nil {
		return 0, "", fmt.Errorf("lab ctl %s %s: %w", action, service, err)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "lab", "ctl"), action, service)
	cmd.Dir = root
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	text := strings.TrimSpace(string(out))
	if err != nil {
		return took, text, fmt.Errorf("scripts/lab/ctl %s %s after %s: %w: %s", action, service, took.Round(time.Millisecond), err, text)
	}
	return took, text, nil
}
