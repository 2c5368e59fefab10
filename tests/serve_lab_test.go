package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/metrics"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// labCtlPath is the lab's fault control (the lab belongs to /work/main's checkout).
func labCtlPath(t *testing.T) string {
	if p := os.Getenv("CLOUDPULSE_LAB_CTL"); p != "" {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", "scripts", "lab", "ctl")) // go test runs in tests/
	require.NoError(t, err)
	return p
}

// served is a running `cpulse serve`.
type served struct {
	cmd    *exec.Cmd
	url    string
	token  string
	log    *syncBuffer
	exited chan error
}

// servedBinary builds cpulse and copies it into dir (outside the checkout: see
// startServe), with a token file dir/token holding a fresh token that starts
// with prefix: the binary, the token and the token file.
func servedBinary(t *testing.T, ctx context.Context, dir, prefix string) (bin, token, tokenFile string) {
	t.Helper()
	built, err := os.ReadFile(buildCpulse(t, ctx))
	require.NoError(t, err)
	bin = filepath.Join(dir, "cpulse")
	require.NoError(t, os.WriteFile(bin, built, 0o755))
	token = prefix + scenario.NewRunID()
	tokenFile = filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
	return bin, token, tokenFile
}

func startServe(t *testing.T, bin, config, token string) *served {
	t.Helper()
	s := &served{token: token, log: &syncBuffer{}, exited: make(chan error, 1)}
	s.cmd = exec.Command(bin, "serve", "--config", config)
	// The binary runs anywhere: from its own directory, without the checkout (CLOUDPULSE_ROOT), so the
	// scenarios it runs come from the fixtures and modules embedded in it (issue 12, item 5).
	s.cmd.Dir = filepath.Dir(bin)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "CLOUDPULSE_ROOT", "CLOUDPULSE_STATE_DIR", "CLOUDPULSE_RUN_PREFIX", "CLOUDPULSE_REPORT", "PWD":
			continue
		}
		s.cmd.Env = append(s.cmd.Env, kv)
	}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its OpenTofu children die with it on SIGKILL
	s.cmd.Stderr = s.log
	out, err := s.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, s.cmd.Start())
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() { s.kill() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "cpulse serve said:\n%s", s.log.String())
	s.url = strings.TrimSpace(strings.TrimPrefix(line, "cpulse serve: listening on "))
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return s
}

func (s *served) kill() {
	if s.cmd.ProcessState == nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	}
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (s *served) call(t *testing.T, method, path, body string, v any) int {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if v != nil {
		require.NoError(t, json.Unmarshal(b, v), "%s %s: %s", method, path, b)
	}
	return resp.StatusCode
}

type apiResult struct {
	Handle      string              `json:"handle"`
	Type        string              `json:"type"`
	State       string              `json:"state"`
	Trigger     string              `json:"trigger"`
	Timestamp   time.Time           `json:"timestamp"`
	TestsFailed []map[string]string `json:"tests_failed"`
	TestsPassed []string            `json:"tests_passed"`
	Checks      []struct{ Name, Status, Error string }
	Steps       []struct{ Name string }
	RunIDs      []string `json:"run_ids"`
	Error       string   `json:"error"`
}

func (s *served) result(t *testing.T, h string) apiResult {
	t.Helper()
	var r apiResult
	require.Equal(t, 200, s.call(t, "GET", "/cpulse/result?handle="+h, "", &r))
	return r
}

func (s *served) results(t *testing.T, query string) []apiResult {
	t.Helper()
	var page struct{ Results []apiResult }
	require.Equal(t, 200, s.call(t, "GET", "/cpulse/results?"+query, "", &page))
	return page.Results
}

// knownRunIDs is, at best effort (the service may be gone), the run ids of
// its last functional runs.
func (s *served) knownRunIDs() []string {
	req, err := http.NewRequest("GET", s.url+"/cpulse/results?type=functional&limit=50", nil)
	if err != nil {
		return nil
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var page struct{ Results []apiResult }
	_ = json.NewDecoder(resp.Body).Decode(&page)
	var ids []string
	for _, r := range page.Results {
		ids = append(ids, r.RunIDs...)
	}
	return ids
}

// waitUntil polls cond every 2 s until it holds or within passes.
func waitUntil(t *testing.T, ctx context.Context, within time.Duration, what string, s *served, cond func() bool) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	err := probe.WaitFor(wctx, 2*time.Second, func(context.Context) (bool, error) { return cond(), nil })
	require.NoError(t, err, "waiting for %s; cpulse serve said (last 40 lines):\n%s", what, lastN(s.log.String(), 40))
}

func lastN(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestServe starts the real `cpulse serve` against the lab with short
// intervals, with Debian's Prometheus scraping it and a Pushgateway the real
// binary pushes to (observability), and proves: the scheduler runs endpoint
// and operator; a functional check posted through the remote CLI (cpulse
// --server … --wait) passes; a fault (Pacemaker's resource banned) shows in
// the next operator result, in the failed history, on the service's status
// page in headless Chromium and, through Prometheus, as CloudpulseCheckFailing
// pending on the service's own series; the subtest observability proves
// observability/ against this instance's series and the binary's pushes (see
// observability.prove); the history survives a restart; a functional run whose
// service is SIGKILLed mid-apply is "interrupted" at the next start and
// nothing of its run id is left in the cloud.
//
// The binary pushes while the functional run goes on — `cpulse check
// operator|endpoint --push`, `cpulse upgrade watch --http … --push` of a
// loopback path with a 2 s outage, `cpulse cleanup --push` of a planted
// keypair — and pushes a failing operator run during the fault; the one
// functional apply serves the remote CLI and the dashboard's step panel.
//
// Lab only (CLOUDPULSE_LAB=1): it injects a fault and kills the service.
func TestServe(t *testing.T) {
	cfg, ctx, c := labCloud(t, "kills the service and its")
	smap := serviceMapPath(t)
	// beside the other parallel cloud tests: its runs, sweeps and kills are its own, and its Pacemaker fault
	// fails only the pacemaker operator check, which none of them asserts
	t.Parallel()
	holdLabSteady(t)
	loadServiceMap(t, smap)
	dir := t.TempDir()
	bin, token, tokenFile := servedBinary(t, ctx, dir, "serve-lab-")
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
`, tokenFile, cfg.Name, filepath.Join(dir, "history.db"), filepath.Join(dir, "runs"), smap)), 0o600))
	var runIDs []string
	t.Cleanup(func() { // safety net: what the test's runs may have left
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		for _, id := range runIDs {
			if swept, err := scenario.Sweep(sctx, c, id); len(swept) > 0 || err != nil {
				t.Logf("safety net: swept %d resources of run %s (%v)", len(swept), id, err)
			}
		}
	})
	start := func() *served {
		s := startServe(t, bin, config, token)
		t.Cleanup(func() { // before its kill (cleanups run last-in first-out): the run ids it knows, for the sweep
			for _, id := range s.knownRunIDs() {
				if !slices.Contains(runIDs, id) {
					runIDs = append(runIDs, id)
				}
			}
		})
		return s
	}

	s := start()
	t.Logf("cpulse serve at %s", s.url)
	o := startObservability(t, ctx, bin, cfg.Name, smap, s.url)
	began := time.Now()
	at := func() string { return fmt.Sprintf("t+%.0fs", time.Since(began).Seconds()) }

	// 2, started now (followed below): a functional check posted through the remote CLI (the same binary,
	// --server) passes: --wait follows it, prints the local table and exits 0.
	wctx, wcancel := context.WithTimeout(ctx, 9*time.Minute)
	t.Cleanup(wcancel)
	remote := exec.CommandContext(wctx, bin, "--server", s.url, "--token-file", tokenFile, "check", "functional", "--wait")
	var rout, rerr bytes.Buffer
	remote.Stdout, remote.Stderr = &rout, &rerr
	require.NoError(t, remote.Start())

	// 1. The scheduler runs endpoint and operator at start; both pass.
	var op apiResult
	var firstEndpoint time.Time
	waitUntil(t, ctx, 3*time.Minute, "passing scheduled endpoint and operator runs", s, func() bool {
		passed := map[string]bool{}
		for _, r := range s.results(t, "limit=20") {
			if r.Trigger != "schedule" {
				continue
			}
			if r.Type == "operator" && op.Handle == "" && (r.State == "passed" || r.State == "failed") {
				op = r
			}
			if r.State == "passed" {
				passed[r.Type] = true
				if r.Type == "endpoint" && (firstEndpoint.IsZero() || r.Timestamp.Before(firstEndpoint)) {
					firstEndpoint = r.Timestamp
				}
			}
		}
		return passed["endpoint"] && passed["operator"]
	})
	i := slices.IndexFunc(op.Checks, func(c struct{ Name, Status, Error string }) bool { return c.Name == "pacemaker" })
	require.GreaterOrEqual(t, i, 0, "the operator run has a pacemaker check: %+v", op)
	require.Equal(t, "ok", op.Checks[i].Status, "before the fault: %+v", op.Checks[i])
	t.Logf("%s: the scheduled endpoint and operator runs passed", at())

	// The binary pushes while the functional run goes on: passing operator and endpoint runs (the last
	// success the fault's push keeps), an upgrade watch and a cleanup.
	o.check(t, ctx, "operator", 0)
	o.check(t, ctx, "endpoint", 0)
	o.pushWatchAndCleanup(t, ctx)
	t.Logf("%s: the binary's checks, upgrade watch and cleanup pushed", at())

	// 2. The functional run ends.
	rerrRun := remote.Wait()
	wcancel()
	t.Logf("%s: cpulse --server %s check functional --wait: %v\nstdout:\n%s\nstderr:\n%s", at(), s.url, rerrRun, rout.String(), lastN(rerr.String(), 15))
	m := regexp.MustCompile(`(?m)^([0-9a-f]{16}): waiting`).FindStringSubmatch(rerr.String())
	require.NotNil(t, m, "the remote CLI names the handle")
	fn := m[1]
	require.NoError(t, rerrRun, "the remote CLI exits 0 for a passed run: %+v; cpulse serve said (last 40 lines):\n%s", s.result(t, fn), lastN(s.log.String(), 40))
	assert.Regexp(t, `(?m)^functional\s+pass\b`, rout.String(), "the local table")
	fres := s.result(t, fn)
	runIDs = append(runIDs, fres.RunIDs...)
	require.Equal(t, "passed", fres.State, "functional: %+v", fres)
	t.Logf("functional %s passed: %d checks, %d steps, run %v", fn, len(fres.Checks), len(fres.Steps), fres.RunIDs)
	assert.NotEmpty(t, fres.Steps, "step timings")
	assert.Len(t, fres.RunIDs, 1)

	// 3. A fault: Pacemaker's resource banned; the binary's operator run (pushed) and the service's next one
	// fail on it.
	ctl := labCtlPath(t)
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			out, err := exec.Command(ctl, "start", "pacemaker-resource").CombinedOutput()
			t.Logf("undo the fault: %s %v", out, err)
		}
	})
	out, err := exec.CommandContext(ctx, ctl, "stop", "pacemaker-resource").CombinedOutput()
	require.NoError(t, err, "%s", out)
	faultAt := time.Now()
	failed := check.Failures(o.check(t, ctx, "operator", 1))
	require.Len(t, failed, 1, "only the pacemaker check fails in the binary's run")
	assert.Contains(t, failed[0].Name, "pacemaker")
	failingCheck := metrics.CheckName(failed[0].Name)
	var failedOp apiResult
	waitUntil(t, ctx, 2*time.Minute, "an operator run after the fault that fails", s, func() bool {
		for _, r := range s.results(t, "type=operator&limit=5") {
			if r.Timestamp.After(faultAt) && (r.State == "passed" || r.State == "failed") {
				failedOp = r
				return true
			}
		}
		return false
	})
	t.Logf("%s: fault injected; operator run %s (queued %.0fs after it) %s: %v", at(), failedOp.Handle, failedOp.Timestamp.Sub(faultAt).Seconds(), failedOp.State, failedOp.TestsFailed)
	require.Equal(t, "failed", failedOp.State)
	require.Len(t, failedOp.TestsFailed, 1, "only the pacemaker check fails in the service's run")
	assert.True(t, slices.ContainsFunc(failedOp.TestsFailed, func(m map[string]string) bool {
		return strings.Contains(m["pacemaker"], "cp-dummy")
	}), "tests_failed: %v", failedOp.TestsFailed)
	o.servicePending(t)
	hist := s.results(t, "failed=true&since=10m")
	assert.True(t, slices.ContainsFunc(hist, func(r apiResult) bool { return r.Handle == failedOp.Handle }), "failed history holds %s", failedOp.Handle)
	// the service's own status page, in headless Chromium, while the fault is on (open_reads: status)
	var pacemakerMsg string
	for _, f := range failedOp.TestsFailed {
		if d, ok := f["pacemaker"]; ok {
			pacemakerMsg = d
		}
	}
	bctx := startBrowser(t, ctx)
	reports := reportsDir(t)
	seeFailingCheck(t, bctx, s.url+"/", failingCheckSeen{
		cloud: cfg.Name, family: "operator", check: "pacemaker", message: pacemakerMsg, run: failedOp.Handle,
		overviewPNG: filepath.Join(reports, "serve-status-page.png"), runPNG: filepath.Join(reports, "serve-status-run.png"),
	})
	out, err = exec.CommandContext(ctx, ctl, "start", "pacemaker-resource").CombinedOutput()
	require.NoError(t, err, "%s", out)
	restarted = true
	t.Logf("%s: fault undone", at())

	// observability/ against this instance (a second scheduled endpoint run: the API histogram increased
	// between scrapes)
	waitUntil(t, ctx, 2*time.Minute, "a second passing scheduled endpoint run", s, func() bool {
		return slices.ContainsFunc(s.results(t, "type=endpoint&limit=5"), func(r apiResult) bool {
			return r.Trigger == "schedule" && r.State == "passed" && r.Timestamp.After(firstEndpoint)
		})
	})
	t.Run("observability", func(t *testing.T) { o.prove(t, ctx, failingCheck) })
	t.Logf("%s: observability proven", at())

	// 4. A restart keeps the history (SIGTERM: a clean stop).
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-s.exited:
		require.NoError(t, err, "cpulse serve after SIGTERM:\n%s", lastN(s.log.String(), 20))
	case <-time.After(2 * time.Minute):
		t.Fatal("cpulse serve did not stop within 2 minutes of SIGTERM")
	}
	s = start()
	assert.Equal(t, "passed", s.result(t, fn).State, "the functional run after a restart")
	assert.Equal(t, "failed", s.result(t, failedOp.Handle).State)

	// 5. SIGKILL mid-apply: interrupted at the next start, and cleaned up.
	var posted struct{ Handle string }
	require.Equal(t, 202, s.call(t, "POST", "/cpulse/check", `{"type":"functional"}`, &posted))
	victim := posted.Handle
	var runID string
	waitUntil(t, ctx, 3*time.Minute, "the run id of the victim", s, func() bool {
		r := s.result(t, victim)
		if len(r.RunIDs) > 0 {
			runID = r.RunIDs[0]
		}
		return runID != ""
	})
	runIDs = append(runIDs, runID)
	waitUntil(t, ctx, 5*time.Minute, "the victim's first resources", s, func() bool {
		ok, err := killPoints[0].reached(ctx, c, runID)
		return err == nil && ok
	})
	time.Sleep(5 * time.Second) // deeper into the apply
	require.NoError(t, syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL))
	<-s.exited
	left, err := scenario.Leftovers(ctx, c, runID)
	require.NoError(t, err)
	require.NotEmpty(t, left, "the kill must leave resources for this step to mean anything")
	t.Logf("killed cpulse serve mid-apply of run %s: %d resources left: %v", runID, len(left), left)

	s = start()
	assert.Equal(t, "interrupted", s.result(t, victim).State)
	waitUntil(t, ctx, 5*time.Minute, "the interrupted run's resources to be gone", s, func() bool {
		rest, err := scenario.Leftovers(ctx, c, runID)
		return err == nil && len(rest) == 0
	})
	waitUntil(t, ctx, time.Minute, "the interrupted run's workspace to be removed", s, func() bool {
		entries, _ := os.ReadDir(filepath.Join(dir, "runs"))
		return !slices.ContainsFunc(entries, func(e os.DirEntry) bool { return strings.HasSuffix(e.Name(), runID) })
	})
	t.Logf("cpulse serve said (last 15 lines):\n%s", lastN(s.log.String(), 15))
}
