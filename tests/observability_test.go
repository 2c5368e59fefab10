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
	"net/url"
	"os"
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
	"gopkg.in/yaml.v3"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/metrics"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// TestObservability proves observability/ against Debian's Prometheus and
// Pushgateway (scripts/obs-deps.sh), started on loopback ports in temporary
// directories with observability/prometheus.yml (targets and intervals
// replaced) and its alert rules. Prometheus scrapes the real `cpulse serve`
// (job cpulse-serve) and the Pushgateway; every sample comes from a real run
// on the lab: the service's scheduled endpoint and operator runs (API latency
// from their requests), a functional run posted to it (scenario steps), an
// operator run posted to it during a fault injected with scripts/lab/ctl (the
// Pacemaker resource banned: the pacemaker check fails), and the binary's
// `cpulse check operator|endpoint --push` (before and during the fault),
// `cpulse upgrade watch --http … --push` of a loopback HTTP path with a 2 s
// outage, and `cpulse cleanup --push` that finds a planted keypair named for a
// killed run and deletes it. Then every dashboard panel's query, the cloud
// variable's values and every alert rule's expression (and both sides of its
// comparison) must return data through /api/v1/query; the failing-check and
// downtime alerts must be active; the Pushgateway group of the operator run
// keeps the last success of the run before the fault; promtool check rules
// and test rules pass.
func TestObservability(t *testing.T) {
	cfg := cloudConfig(t)
	smap := serviceMapPath(t)
	loadServiceMap(t, smap)
	for _, bin := range []string{"prometheus", "promtool", "prometheus-pushgateway"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s not installed: run scripts/obs-deps.sh (make obs-deps)", bin)
		}
	}
	ctx := runContext(t, 5*time.Minute)
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	obs := filepath.Join(root, "observability")
	bin := buildCpulse(t, ctx)
	cloudName := cfg.Name
	c := connect(t, ctx, cfg)

	gw := startDaemon(t, ctx, "prometheus-pushgateway", "/-/ready", func(addr, dir string) []string {
		return []string{"--web.listen-address=" + addr, "--persistence.file="}
	})
	s := startObservedServe(t, ctx, c, bin, cloudName, smap)
	promCfg := prometheusConfig(t, obs, strings.TrimPrefix(s.url, "http://"), strings.TrimPrefix(gw, "http://"))
	prom := startDaemon(t, ctx, "prometheus", "/-/ready", func(addr, dir string) []string {
		return []string{"--config.file=" + promCfg, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr, "--log.level=warn"}
	})
	t.Logf("pushgateway %s, prometheus %s, cpulse serve at %s", gw, prom, s.url)
	began := time.Now()
	at := func() string { return fmt.Sprintf("t+%.0fs", time.Since(began).Seconds()) }

	// a functional run through the service (its steps), while the rest goes on
	var posted struct{ Handle string }
	require.Equal(t, 202, s.call(t, "POST", "/cpulse/check", `{"type":"functional"}`, &posted))
	functional := posted.Handle
	s.cancelAtCleanup(t, ctx, functional)

	// the scheduled endpoint and operator runs pass
	var firstEndpoint time.Time
	waitUntil(t, ctx, 3*time.Minute, "passing scheduled endpoint and operator runs", s.served, func() bool {
		ok := map[string]bool{}
		for _, r := range s.results(t, "limit=20") {
			if r.Trigger == "schedule" && r.State == "passed" {
				ok[r.Type] = true
				if r.Type == "endpoint" && (firstEndpoint.IsZero() || r.Timestamp.Before(firstEndpoint)) {
					firstEndpoint = r.Timestamp
				}
			}
		}
		return ok["endpoint"] && ok["operator"]
	})
	t.Logf("%s: the scheduled endpoint and operator runs passed", at())

	// the binary, pushing
	checkRun := func(family string, wantExit int) []check.Result {
		out, code := runCpulseJSON(t, ctx, bin, "check", family, "--cloud", cloudName, "--service-map", smap, "--push", gw, "--json")
		var results []check.Result
		require.NoError(t, json.Unmarshal(out, &results), "cpulse check %s --json: %s", family, out)
		require.Equal(t, wantExit, code, "cpulse check %s exit code", family)
		return results
	}
	checkRun("operator", 0)
	checkRun("endpoint", 0)

	// the fault: the service's operator run (posted) and the binary's fail on the pacemaker check
	_, text, err := labCtl(ctx, "stop", "pacemaker-resource")
	require.NoError(t, err)
	faultAt := time.Now()
	t.Logf("fault: %s", text)
	restored := false
	restore := func() {
		if restored {
			return
		}
		restored = true
		if _, text, err := labCtl(context.WithoutCancel(ctx), "start", "pacemaker-resource"); err != nil {
			t.Errorf("restore the fault: %v", err)
		} else {
			t.Logf("fault undone: %s", text)
		}
	}
	t.Cleanup(restore)
	require.Equal(t, 202, s.call(t, "POST", "/cpulse/check", `{"type":"operator"}`, &posted))
	var failedOp apiResult
	waitUntil(t, ctx, 2*time.Minute, "an operator run of the service after the fault", s.served, func() bool {
		for _, r := range s.results(t, "type=operator&limit=5") {
			if r.Timestamp.After(faultAt) && (r.State == "passed" || r.State == "failed") {
				failedOp = r
				return true
			}
		}
		return false
	})
	t.Logf("%s: the service's operator run %s after the fault: %s %v", at(), failedOp.Handle, failedOp.State, failedOp.TestsFailed)
	require.Equal(t, "failed", failedOp.State)
	require.Len(t, failedOp.TestsFailed, 1, "only the pacemaker check fails in the service's run")
	require.Contains(t, failedOp.TestsFailed[0], "pacemaker")
	// the service's own series: its failed run makes the failing-check alert pending
	pending := fmt.Sprintf(`ALERTS{alertname="CloudpulseCheckFailing",alertstate="pending",job="cpulse-serve",cloud=%q,family="operator",check="pacemaker"}`, cloudName)
	require.Eventually(t, func() bool { return len(promValues(t, prom, pending)) == 1 }, 15*time.Second, 500*time.Millisecond,
		"the service's failed operator run makes %s", pending)
	failed := check.Failures(checkRun("operator", 1))
	restore()
	require.Len(t, failed, 1, "only the pacemaker check fails in the binary's run")
	assert.Contains(t, failed[0].Name, "pacemaker")
	failingCheck := metrics.CheckName(failed[0].Name)

	upgradeWatch(t, ctx, bin, cloudName, gw)
	cleanupRun(t, ctx, bin, cloudName, gw)
	t.Logf("%s: the upgrade watch and the cleanup pushed", at())

	// the functional run's end; a second scheduled endpoint run (the API histogram increases between scrapes)
	waitUntil(t, ctx, 9*time.Minute, "the functional run to end", s.served, func() bool {
		st := s.result(t, functional).State
		return st == "passed" || st == "failed"
	})
	fres := s.result(t, functional)
	assert.Equal(t, "passed", fres.State, "functional: %+v", fres)
	t.Logf("%s: functional %s %s: %d checks, %d steps", at(), functional, fres.State, len(fres.Checks), len(fres.Steps))
	waitUntil(t, ctx, 2*time.Minute, "a second passing scheduled endpoint run", s.served, func() bool {
		for _, r := range s.results(t, "type=endpoint&limit=5") {
			if r.Trigger == "schedule" && r.State == "passed" && r.Timestamp.After(firstEndpoint) {
				return true
			}
		}
		return false
	})

	t.Logf("%s: a second scheduled endpoint run passed", at())
	// every target scraped at least twice since the last run
	time.Sleep(3 * time.Second)
	for _, q := range []string{`up{job="cpulse-serve"}`, `up{job="pushgateway"}`} {
		v := promValues(t, prom, q)
		require.Equal(t, []float64{1}, v, q)
	}

	t.Run("dashboard queries", func(t *testing.T) {
		dash := readDashboard(t, filepath.Join(obs, "grafana-dashboard.json"))
		vals := promLabelValues(t, prom, "cloud", dash.cloudMatch)
		assert.Contains(t, vals, cloudName, "cloud variable: label_values(%s, cloud)", dash.cloudMatch)
		require.NotEmpty(t, dash.exprs)
		for _, e := range dash.exprs {
			q := strings.NewReplacer(`$cloud`, regexp.QuoteMeta(cloudName), `$__rate_interval`, "5m").Replace(e.expr)
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
		rules := readRules(t, filepath.Join(obs, "cloudpulse-rules.yml"))
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
		sel := fmt.Sprintf(`{job="cloudpulse",cloud=%q,family="operator"}`, cloudName)
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
			cmd.Dir = obs
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

func first(v []float64) float64 {
	if len(v) == 0 {
		return -1
	}
	return v[0]
}

// startObservedServe starts the real `cpulse serve` on cloudName with short
// endpoint and operator intervals (20 s), no scheduled scenario, and
// /metrics, /healthz and the status page open (the TestServe style).
func startObservedServe(t *testing.T, ctx context.Context, c *cloud.Cloud, bin, cloudName, smap string) *observedServe {
	t.Helper()
	dir := t.TempDir()
	token := "observability-" + scenario.NewRunID()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
	config := filepath.Join(dir, "serve.yaml")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`listen: 127.0.0.1:0
token_file: %s
open_reads: [healthz, metrics, status]
clouds: [%s]
intervals: {endpoint: 20s, operator: 20s, functional: 0, comprehensive: 0}
timeouts: {check: 60s, scenario: 15m}
jitter: 10%%
history: {path: %s, retention: 24h}
state_dir: %s
service_map: %s
`, tokenFile, cloudName, filepath.Join(dir, "history.db"), filepath.Join(dir, "runs"), smap)), 0o600))
	s := &observedServe{}
	s.sweepAtCleanup(t, c) // registered before the service's kill, so run after it (cleanups run last-in first-out)
	s.served = startServe(t, bin, config, token)
	return s
}

// observedServe is a running `cpulse serve` and the run ids of its scenario runs.
type observedServe struct {
	*served
	runIDs []string
}

// cancelAtCleanup cancels the run h if it is still going when the test ends
// (before the service is killed) and notes its run ids for sweepAtCleanup.
func (s *observedServe) cancelAtCleanup(t *testing.T, ctx context.Context, h string) {
	t.Cleanup(func() {
		r := s.result(t, h)
		if r.State == "queued" || r.State == "running" {
			t.Logf("cancel %s (%s) at the test's end: HTTP %d", h, r.State, s.call(t, "DELETE", "/cpulse/check/"+h, "", nil))
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
			defer cancel()
			_ = probe.WaitFor(wctx, 2*time.Second, func(context.Context) (bool, error) {
				st := s.result(t, h).State
				return st != "queued" && st != "running", nil
			})
			r = s.result(t, h)
		}
		s.runIDs = append(s.runIDs, r.RunIDs...)
	})
}

// sweepAtCleanup sweeps, after the service is gone, what the runs noted by
// cancelAtCleanup may have left in the cloud.
func (s *observedServe) sweepAtCleanup(t *testing.T, c *cloud.Cloud) {
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		for _, id := range s.runIDs {
			if swept, err := scenario.Sweep(sctx, c, id); len(swept) > 0 || err != nil {
				t.Logf("safety net: swept %d resources of run %s (%v)", len(swept), id, err)
			}
		}
	})
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
	t.Setenv("CLOUDPULSE_STATE_DIR", stateDir)
	f, err := scenario.NewFunctional(o)
	require.NoError(t, err)
	ws, err := f.Workspace()
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

// startDaemon starts bin on a free loopback port in a temporary directory and
// waits for ready; it returns its URL. The process is killed at cleanup.
func startDaemon(t *testing.T, ctx context.Context, bin, ready string, args func(addr, dir string) []string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	dir := t.TempDir()
	var log bytes.Buffer
	cmd := exec.Command(bin, args(addr, dir)...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("%s log:\n%s", bin, lastLines(log.String(), 30))
		}
	})
	u := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(u + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return u
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("%s exited: %v\n%s", bin, err, log.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s%s after 30s:\n%s", bin, u, ready, log.String())
		}
	}
}

// prometheusConfig writes observability/prometheus.yml with the service's and
// the gateway's addresses as targets, 1 s intervals and the rules by path.
func prometheusConfig(t *testing.T, obs, svc, gw string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(obs, "prometheus.yml"))
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, yaml.Unmarshal(b, &c))
	c["global"] = map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"}
	c["rule_files"] = []string{filepath.Join(obs, "cloudpulse-rules.yml")}
	jobs := c["scrape_configs"].([]any)
	require.Len(t, jobs, 2)
	for _, j := range jobs {
		job := j.(map[string]any)
		target := map[string]string{"cpulse-serve": svc, "pushgateway": gw}[job["job_name"].(string)]
		require.NotEmpty(t, target, "unknown job %v in prometheus.yml", job["job_name"])
		job["static_configs"] = []any{map[string]any{"targets": []string{target}}}
	}
	out, err := yaml.Marshal(c)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "prometheus.yml")
	require.NoError(t, os.WriteFile(p, out, 0o600))
	return p
}

type panelExpr struct{ panel, expr string }

type dashboard struct {
	exprs      []panelExpr
	cloudMatch string // the metric of label_values(METRIC, cloud)
}

func readDashboard(t *testing.T, path string) dashboard {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(b, &d))
	var out dashboard
	for _, p := range d.Panels {
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, tg := range p.Targets {
			out.exprs = append(out.exprs, panelExpr{p.Title, tg.Expr})
		}
	}
	for _, v := range d.Templating.List {
		if v.Name == "cloud" {
			m := regexp.MustCompile(`^label_values\((\w+), cloud\)$`).FindStringSubmatch(v.Definition)
			require.NotNil(t, m, "cloud variable: %q", v.Definition)
			out.cloudMatch = m[1]
		}
	}
	require.NotEmpty(t, out.cloudMatch, "the dashboard has no cloud variable")
	return out
}

type alertRule struct {
	Alert string `yaml:"alert"`
	Expr  string `yaml:"expr"`
}

func readRules(t *testing.T, path string) []alertRule {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var f struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(b, &f))
	var out []alertRule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// splitComparison splits "A > B" or "A == B" at its top-level comparison.
func splitComparison(expr string) (string, string, bool) {
	depth := 0
	for i := 0; i < len(expr); i++ {
		switch expr[i] {
		case '(', '{', '[':
			depth++
		case ')', '}', ']':
			depth--
		case ' ':
			if depth > 0 {
				continue
			}
			for _, op := range []string{" == ", " > ", " < ", " >= ", " <= ", " != "} {
				if strings.HasPrefix(expr[i:], op) {
					return strings.TrimSpace(expr[:i]), strings.TrimSpace(expr[i+len(op):]), true
				}
			}
		}
	}
	return "", "", false
}

// promValues runs an instant query and returns the value of each series
// (a scalar: one value); an error of Prometheus fails the test.
func promValues(t *testing.T, prom, query string) []float64 {
	t.Helper()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	promGet(t, prom+"/api/v1/query?query="+url.QueryEscape(query), &r)
	require.Equal(t, "success", r.Status, "query %s: %s", query, r.Error)
	var out []float64
	parse := func(v []any) {
		var f float64
		_, err := fmt.Sscanf(v[1].(string), "%g", &f)
		if err != nil { // NaN, +Inf
			f = -1
		}
		out = append(out, f)
	}
	switch r.Data.ResultType {
	case "vector":
		var vec []struct {
			Value []any `json:"value"`
		}
		require.NoError(t, json.Unmarshal(r.Data.Result, &vec))
		for _, s := range vec {
			parse(s.Value)
		}
	case "scalar":
		var v []any
		require.NoError(t, json.Unmarshal(r.Data.Result, &v))
		parse(v)
	default:
		t.Fatalf("query %s: result type %s", query, r.Data.ResultType)
	}
	return out
}

func promLabelValues(t *testing.T, prom, label, match string) []string {
	t.Helper()
	var r struct {
		Status string   `json:"status"`
		Data   []string `json:"data"`
	}
	promGet(t, prom+"/api/v1/label/"+label+"/values?match[]="+url.QueryEscape(match), &r)
	require.Equal(t, "success", r.Status)
	return r.Data
}

// rulesHealthy is the number of rules Prometheus evaluated with health "ok".
func rulesHealthy(t *testing.T, prom string) int {
	var r struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	promGet(t, prom+"/api/v1/rules", &r)
	n := 0
	for _, g := range r.Data.Groups {
		for _, rule := range g.Rules {
			if rule.Health == "ok" {
				n++
			} else if rule.LastError != "" {
				t.Errorf("rule %s: %s", rule.Name, rule.LastError)
			}
		}
	}
	return n
}

// promAlerts lists the active alerts as "name/state/check" (check label, if any).
func promAlerts(t *testing.T, prom string) []string {
	var r struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	promGet(t, prom+"/api/v1/alerts", &r)
	var out []string
	for _, a := range r.Data.Alerts {
		out = append(out, a.Labels["alertname"]+"/"+a.State+"/"+a.Labels["check"])
	}
	t.Logf("active alerts: %v", out)
	return out
}

func promGet(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v), "%s: %s", u, b)
}
