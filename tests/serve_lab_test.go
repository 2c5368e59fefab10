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
// intervals and proves: the scheduler runs endpoint and operator; a functional
// check posted through the remote CLI (cpulse --server … --wait) passes; a fault (Pacemaker's resource banned) shows
// in the next operator result, in the failed history and on the service's status page in headless Chromium; the history survives
// a restart; a functional run whose service is SIGKILLed mid-apply is
// "interrupted" at the next start and nothing of its run id is left in the cloud.
//
// Lab only (CLOUDPULSE_LAB=1): it injects a fault and kills the service.
func TestServe(t *testing.T) {
	cfg, ctx, c := labCloud(t, "kills the service and its")
	dir := t.TempDir()
	built, err := os.ReadFile(buildCpulse(t, ctx))
	require.NoError(t, err)
	bin := filepath.Join(dir, "cpulse") // a copy outside the checkout: see startServe
	require.NoError(t, os.WriteFile(bin, built, 0o755))
	token := "serve-lab-" + scenario.NewRunID()
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
`, tokenFile, cfg.Name, filepath.Join(dir, "history.db"), filepath.Join(dir, "runs"), os.Getenv("CLOUDPULSE_SERVICE_MAP"))), 0o600))
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

	s := startServe(t, bin, config, token)
	t.Logf("cpulse serve at %s", s.url)

	// 1. The scheduler runs endpoint and operator at start.
	var op apiResult
	waitUntil(t, ctx, 3*time.Minute, "scheduled endpoint and operator runs", s, func() bool {
		done := map[string]bool{}
		for _, r := range s.results(t, "limit=20") {
			if r.Trigger == "schedule" && (r.State == "passed" || r.State == "failed") {
				done[r.Type] = true
				if r.Type == "operator" && op.Handle == "" {
					op = r
				}
			}
		}
		return done["endpoint"] && done["operator"]
	})
	i := slices.IndexFunc(op.Checks, func(c struct{ Name, Status, Error string }) bool { return c.Name == "pacemaker" })
	require.GreaterOrEqual(t, i, 0, "the operator run has a pacemaker check: %+v", op)
	require.Equal(t, "ok", op.Checks[i].Status, "before the fault: %+v", op.Checks[i])

	// 2. A functional check posted through the remote CLI (the same binary, --server) passes: --wait follows it,
	// prints the local table and exits 0.
	var posted struct {
		Handle, State string
		Joined        bool
	}
	wctx, wcancel := context.WithTimeout(ctx, 9*time.Minute)
	remote := exec.CommandContext(wctx, bin, "--server", s.url, "--token-file", tokenFile, "check", "functional", "--wait")
	var rout, rerr bytes.Buffer
	remote.Stdout, remote.Stderr = &rout, &rerr
	rerrRun := remote.Run()
	wcancel()
	t.Logf("cpulse --server %s check functional --wait: %v\nstdout:\n%s\nstderr:\n%s", s.url, rerrRun, rout.String(), lastN(rerr.String(), 15))
	m := regexp.MustCompile(`(?m)^([0-9a-f]{16}): waiting`).FindStringSubmatch(rerr.String())
	require.NotNil(t, m, "the remote CLI names the handle")
	fn := m[1]
	require.NoError(t, rerrRun, "the remote CLI exits 0 for a passed run")
	assert.Regexp(t, `(?m)^functional\s+pass\b`, rout.String(), "the local table")
	fres := s.result(t, fn)
	runIDs = append(runIDs, fres.RunIDs...)
	require.Equal(t, "passed", fres.State, "functional: %+v", fres)
	t.Logf("functional %s passed: %d checks, %d steps, run %v", fn, len(fres.Checks), len(fres.Steps), fres.RunIDs)
	assert.NotEmpty(t, fres.Steps, "step timings")
	assert.Len(t, fres.RunIDs, 1)

	// 3. A fault: Pacemaker's resource banned; the next operator run fails on it.
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
	t.Logf("fault injected; operator run %s (queued %.0fs after it) %s: %v", failedOp.Handle, failedOp.Timestamp.Sub(faultAt).Seconds(), failedOp.State, failedOp.TestsFailed)
	assert.Equal(t, "failed", failedOp.State)
	assert.True(t, slices.ContainsFunc(failedOp.TestsFailed, func(m map[string]string) bool {
		return strings.Contains(m["pacemaker"], "cp-dummy")
	}), "tests_failed: %v", failedOp.TestsFailed)
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

	// 4. A restart keeps the history (SIGTERM: a clean stop).
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-s.exited:
		require.NoError(t, err, "cpulse serve after SIGTERM:\n%s", lastN(s.log.String(), 20))
	case <-time.After(2 * time.Minute):
		t.Fatal("cpulse serve did not stop within 2 minutes of SIGTERM")
	}
	s = startServe(t, bin, config, token)
	assert.Equal(t, "passed", s.result(t, fn).State, "the functional run after a restart")
	assert.Equal(t, "failed", s.result(t, failedOp.Handle).State)

	// 5. SIGKILL mid-apply: interrupted at the next start, and cleaned up.
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

	s = startServe(t, bin, config, token)
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
