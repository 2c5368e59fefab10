package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// observability is Debian's Prometheus and Pushgateway (scripts/obs-deps.sh),
// started on loopback ports in temporary directories with
// observability/prometheus.yml (targets and intervals replaced) and its alert
// rules. Prometheus scrapes a real `cpulse serve` (job cpulse-serve) and the
// Pushgateway, which only the real binary feeds (`cpulse … --push`). TestServe
// drives it, so every sample comes from a real run on the lab; its subtest
// observability is prove.
type observability struct {
	dir        string // observability/
	prom, gw   string // Prometheus' and the Pushgateway's URLs
	bin, cloud string
	serviceMap string
}

// startObservability starts the Pushgateway, and Prometheus scraping it and
// the service at svc (its URL).
func startObservability(t *testing.T, ctx context.Context, bin, cloudName, serviceMap, svc string) *observability {
	t.Helper()
	for _, b := range []string{"prometheus", "promtool", "prometheus-pushgateway"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Fatalf("%s not installed: run scripts/obs-deps.sh (make obs-deps)", b)
		}
	}
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	o := &observability{dir: filepath.Join(root, "observability"), bin: bin, cloud: cloudName, serviceMap: serviceMap}
	o.gw = startDaemon(t, ctx, "prometheus-pushgateway", "/-/ready", func(addr, dir string) []string {
		return []string{"--web.listen-address=" + addr, "--persistence.file="}
	})
	promCfg := prometheusConfig(t, o.dir, strings.TrimPrefix(svc, "http://"), strings.TrimPrefix(o.gw, "http://"))
	o.prom = startDaemon(t, ctx, "prometheus", "/-/ready", func(addr, dir string) []string {
		return []string{"--config.file=" + promCfg, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr, "--log.level=warn"}
	})
	t.Logf("pushgateway %s, prometheus %s scraping it and cpulse serve at %s", o.gw, o.prom, svc)
	return o
}

// check runs the real `cpulse check FAMILY --push` to the Pushgateway and
// wants its exit code; it returns the results.
func (o *observability) check(t *testing.T, ctx context.Context, family string, wantExit int) []check.Result {
	t.Helper()
	out, code := runCpulseJSON(t, ctx, o.bin, "check", family, "--cloud", o.cloud, "--service-map", o.serviceMap, "--push", o.gw, "--json")
	var results []check.Result
	require.NoError(t, json.Unmarshal(out, &results), "cpulse check %s --json: %s", family, out)
	require.Equal(t, wantExit, code, "cpulse check %s exit code", family)
	return results
}

// pushWatchAndCleanup runs the real `cpulse upgrade watch --http … --push`
// (upgradeWatch) and `cpulse cleanup --push` (cleanupRun).
func (o *observability) pushWatchAndCleanup(t *testing.T, ctx context.Context) {
	t.Helper()
	upgradeWatch(t, ctx, o.bin, o.cloud, o.gw)
	cleanupRun(t, ctx, o.bin, o.cloud, o.gw)
}

// servicePending waits for the service's own series (job cpulse-serve), after
// its failed operator run, to make CloudpulseCheckFailing pending for the
// pacemaker check.
func (o *observability) servicePending(t *testing.T) {
	t.Helper()
	pending := fmt.Sprintf(`ALERTS{alertname="CloudpulseCheckFailing",alertstate="pending",job="cpulse-serve",cloud=%q,family="operator",check="pacemaker"}`, o.cloud)
	require.Eventually(t, func() bool { return len(promValues(t, o.prom, pending)) == 1 }, 15*time.Second, 500*time.Millisecond,
		"the service's failed operator run makes %s", pending)
}

// prove checks observability/ against what Prometheus holds once the service
// ran a functional run and scheduled endpoint and operator runs (one failing
// on a fault), and the binary pushed a passing then a failing operator run
// (failingCheck), an endpoint run, an upgrade watch and a cleanup: every
// dashboard panel's query, the cloud variable's values and every alert rule's
// expression (and both sides of its comparison) return data through
// /api/v1/query; the failing-check and downtime alerts are active; the
// Pushgateway group of the operator run keeps the last success of the run
// before the fault; promtool check rules and test rules pass. It logs what a
// scrape costs and how many series there are.
func (o *observability) prove(t *testing.T, ctx context.Context, failingCheck string) {
	prom := o.prom
	for _, q := range []string{`up{job="cpulse-serve"}`, `up{job="pushgateway"}`} {
		require.Equal(t, []float64{1}, promValues(t, prom, q), q)
	}
	t.Run("dashboard queries", func(t *testing.T) {
		dash := readDashboard(t, filepath.Join(o.dir, "grafana-dashboard.json"))
		vals := promLabelValues(t, prom, "cloud", dash.cloudMatch)
		assert.Contains(t, vals, o.cloud, "cloud variable: label_values(%s, cloud)", dash.cloudMatch)
		require.NotEmpty(t, dash.exprs)
		for _, e := range dash.exprs {
			q := strings.NewReplacer(`$cloud`, regexp.QuoteMeta(o.cloud), `$__rate_interval`, "5m").Replace(e.expr)
			v := promValues(t, prom, q)
			assert.NotEmpty(t, v, "panel %q: %s returns no data", e.panel, q)
			t.Logf("panel %-45q %d series: %s", e.panel, len(v), q)
		}
		// what came from where: the service's API latency and steps, the pushed downtime and leftovers
		for q, want := range map[string]string{
			`count(openstack_api_request_duration_seconds_count{job="cpulse-serve"})`:            "the service's API latency",
			`count(cloudpulse_step_duration_seconds{job="cpulse-serve",family="functional"})`:    "the service's functional steps",
			`cloudpulse_upgrade_downtime_seconds{job="cloudpulse",family="upgrade"}`:             "the pushed upgrade watch",
			`cloudpulse_cleanup_leftovers{job="cloudpulse",family="cleanup",kind="keypair"} > 0`: "the pushed cleanup's planted keypair",
		} {
			assert.NotEmpty(t, promValues(t, prom, q), "%s: %s", want, q)
		}
	})
	t.Run("alert rules", func(t *testing.T) {
		rules := readRules(t, filepath.Join(o.dir, "cloudpulse-rules.yml"))
		require.Len(t, rules, 4)
		mustFire := map[string]bool{"CloudpulseCheckFailing": true, "CloudpulseUpgradeDowntimeAboveThreshold": true}
		for _, r := range rules {
			lhs, rhs, ok := splitComparison(r.Expr)
			require.True(t, ok, "%s: expression is not <quantity> <op> <bound>: %s", r.Alert, r.Expr)
			for _, side := range []string{lhs, rhs} {
				if _, err := strconv.ParseFloat(side, 64); err == nil {
					continue // a number
				}
				assert.NotEmpty(t, promValues(t, prom, side), "%s: %s returns no data", r.Alert, side)
			}
			v := promValues(t, prom, r.Expr)
			if mustFire[r.Alert] {
				assert.NotEmpty(t, v, "%s: %s returns no data after its fault", r.Alert, r.Expr)
			}
			t.Logf("%-40s %d series now: %s", r.Alert, len(v), r.Expr)
		}
		// Prometheus itself evaluated every rule without error, and the alerts are active
		require.Eventually(t, func() bool { return rulesHealthy(t, prom) == 4 }, 10*time.Second, 500*time.Millisecond, "rules evaluated ok")
		alerts := promAlerts(t, prom)
		assert.Contains(t, alerts, "CloudpulseCheckFailing/pending/"+failingCheck, "the fault makes the failing-check alert fire (pending for 10m)")
		assert.Contains(t, alerts, "CloudpulseUpgradeDowntimeAboveThreshold/firing/")
	})
	t.Run("pushgateway keeps the last success", func(t *testing.T) {
		sel := fmt.Sprintf(`{job="cloudpulse",cloud=%q,family="operator"}`, o.cloud)
		last := promValues(t, prom, "cloudpulse_run_last_timestamp_seconds"+sel)
		ok := promValues(t, prom, "cloudpulse_run_last_success_timestamp_seconds"+sel)
		success := promValues(t, prom, "cloudpulse_run_success"+sel)
		require.Len(t, last, 1)
		require.Len(t, ok, 1, "the failed run's push kept the last success")
		assert.Equal(t, []float64{0}, success)
		assert.Less(t, ok[0], last[0], "last success is the run before the fault")
		assert.Greater(t, ok[0], last[0]-600, "last success is this test's first operator run")
		groups := promValues(t, prom, `count by (job, cloud, family) (cloudpulse_run_last_timestamp_seconds{job="cloudpulse"})`)
		assert.Len(t, groups, 2, "one group per family, whatever the number of pushes")
	})
	t.Run("promtool", func(t *testing.T) {
		for _, args := range [][]string{{"check", "rules", "cloudpulse-rules.yml"}, {"test", "rules", "cloudpulse-rules.test.yml"}} {
			cmd := exec.CommandContext(ctx, "promtool", args...)
			cmd.Dir = o.dir
			out, err := cmd.CombinedOutput()
			assert.NoError(t, err, "promtool %s: %s", strings.Join(args, " "), out)
			t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
		}
	})
	// what a scrape of the service costs, as Prometheus measured it
	for _, job := range []string{"cpulse-serve", "pushgateway"} {
		d := promValues(t, prom, fmt.Sprintf(`scrape_duration_seconds{job=%q}`, job))
		n := promValues(t, prom, fmt.Sprintf(`scrape_samples_scraped{job=%q}`, job))
		t.Logf("scrape of %s: %.1f ms, %v samples", job, 1000*first(d), first(n))
	}
	n := promValues(t, prom, `count({__name__=~"cloudpulse_.*|openstack_.*"})`)
	t.Logf("cloudpulse_* and openstack_* series in Prometheus: %v", first(n))
}

// upgradeWatch runs the real `cpulse upgrade watch --http` of a loopback HTTP
// path (threshold 500 ms, --push) while the path is down for 2 s: the
// downtime exceeds the threshold (exit 1) and the push carries it.
func upgradeWatch(t *testing.T, ctx context.Context, bin, cloudName, gw string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	srv := &http.Server{Handler: handler}
	go srv.Serve(l)
	cmd := exec.CommandContext(ctx, bin, "upgrade", "watch", "--http", "loopback=http://"+addr+"/", "--interval", "100ms",
		"--network-threshold", "500ms", "--duration", "6s", "--cloud", cloudName, "--push", gw, "--json")
	var stdout bytes.Buffer
	stderr := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	started := time.Now()
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "watch: all 1 paths up") }, 10*time.Second, 50*time.Millisecond,
		"cpulse upgrade watch said:\n%s", stderr.String())
	time.Sleep(time.Second) // a baseline
	require.NoError(t, srv.Close())
	time.Sleep(2 * time.Second)
	l, err = net.Listen("tcp", addr)
	require.NoError(t, err)
	srv = &http.Server{Handler: handler}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	err = <-exited
	t.Logf("cpulse upgrade watch: %v in %.1fs; stderr:\n%s", err, time.Since(started).Seconds(), stderr.String())
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the downtime above the threshold fails the watch")
	require.Equal(t, 1, exit.ExitCode())
	var rep probe.WatchReport
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep), "cpulse upgrade watch --json: %s", stdout.String())
	require.Len(t, rep.Paths, 1)
	p := rep.Paths[0]
	t.Logf("watch: %s down %s (threshold %s) in %d outages, %d of %d probes failed", p.Name, p.Downtime, p.Threshold, len(p.Outages), p.Failed, p.Probes)
	require.Equal(t, "http/loopback", p.Name)
	require.True(t, p.Exceeded(), "the 2 s outage exceeds the threshold")
}

// cleanupRun plants what a killed run leaves — its workspace in a state
// directory and a keypair named for it in the member's project — and runs the
// real `cpulse cleanup --push`, which finds the keypair, deletes it and
// pushes what it found.
func cleanupRun(t *testing.T, ctx context.Context, bin, cloudName, gw string) {
	t.Helper()
	cfg := cloudConfig(t)
	c := connect(t, ctx, cfg)
	cc, err := c.Compute()
	require.NoError(t, err)
	o, err := scenario.FromEnv()
	require.NoError(t, err)
	o.Cloud = cfg
	o.RunID = scenario.NewRunID()
	stateDir := t.TempDir()
	f, err := scenario.NewFunctional(o)
	require.NoError(t, err)
	// in stateDir, not through CLOUDPULSE_STATE_DIR: the process's environment is shared by the parallel tests
	ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: f.Fixture(), RunID: f.RunID(), Vars: f.Vars(),
		Secrets: f.Secrets(), StateRoot: stateDir})
	require.NoError(t, err)
	require.NoError(t, ws.Release()) // as if its run had been killed
	name := scenario.NamePrefix(o.RunID) + "key"
	key, err := probe.NewKeyPair("cloudpulse-observability-test")
	require.NoError(t, err)
	require.NoError(t, busyRetry(ctx, func() error {
		_, err := keypairs.Create(ctx, cc, keypairs.CreateOpts{Name: name, PublicKey: key.AuthorizedKey}).Extract()
		return err
	}))
	t.Cleanup(func() { _ = keypairs.Delete(context.Background(), cc, name, nil).ExtractErr() })
	out := cpulse(t, ctx, bin, nil, "cleanup", "--cloud", cloudName, "--state-dir", stateDir, "--push", gw)
	assert.Contains(t, out, "cleanup: run "+o.RunID+": deleted 1 resources through the APIs")
	assert.Contains(t, out, "cleanup: run "+o.RunID+": clean in ")
	left, err := scenario.Leftovers(ctx, c, o.RunID)
	require.NoError(t, err)
	require.Empty(t, left)
}

// runCpulseJSON runs the cpulse binary; stdout and the exit code.
func runCpulseJSON(t *testing.T, ctx context.Context, bin string, args ...string) ([]byte, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	t.Logf("cpulse %s: exit %d in %.1fs; stderr:\n%s", strings.Join(args, " "), code, time.Since(start).Seconds(), stderr.String())
	return stdout.Bytes(), code
}
