package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/apiclient"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// idleServe is a real `cpulse serve` with nothing scheduled (every interval 0).
type idleServe struct {
	*served
	bin, tokenFile, stateDir string
}

// startIdleServe builds cpulse and starts `cpulse serve` on cloudName with
// every interval 0, so that it runs only what is posted.
func startIdleServe(t *testing.T, ctx context.Context, cloudName string) *idleServe {
	t.Helper()
	dir := t.TempDir()
	start := time.Now()
	bin, token, tokenFile := servedBinary(t, ctx, dir, "upgrade-existing-")
	config := filepath.Join(dir, "serve.yaml")
	stateDir := filepath.Join(dir, "runs")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`listen: 127.0.0.1:0
token_file: %s
clouds: [%s]
intervals: {operator: 0, endpoint: 0, functional: 0, comprehensive: 0, upgrade: 0}
timeouts: {check: 60s, scenario: 15m}
history: {path: %s, retention: 24h}
state_dir: %s
`, tokenFile, cloudName, filepath.Join(dir, "history.db"), stateDir)), 0o600))
	s := startServe(t, bin, config, token)
	t.Logf("cpulse serve at %s (nothing scheduled); build and start in %s", s.url, time.Since(start).Round(100*time.Millisecond))
	return &idleServe{served: s, bin: bin, tokenFile: tokenFile, stateDir: stateDir}
}

// serviceRun is what the read-only flow through the service saw.
type serviceRun struct {
	err                      error
	wall                     time.Duration
	log                      []string
	snapshot, verify, finish apiclient.Result
	stateDir, runID          string
	dirMode, fileMode        os.FileMode
	stateAfter               map[string]string
	// watching is the snapshot's result's "watching" once it passed; watch
	// the upgrade run's "watch" (GET /cpulse/result, read raw).
	watching *serveWatching
	watch    *serveWatch
}

type serveWatching struct {
	Since string `json:"since"`
	Paths int    `json:"paths"`
}

type serveWatch struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Paths []struct {
		Name       string  `json:"name"`
		Status     string  `json:"status"`
		DowntimeS  float64 `json:"downtime_s"`
		ThresholdS float64 `json:"threshold_s"`
		Probes     int     `json:"probes"`
		Gaps       []any   `json:"gaps"`
	} `json:"paths"`
}

// rawResult reads GET /cpulse/result?handle=h into v.
func (s *idleServe) rawResult(ctx context.Context, h string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/cpulse/result?handle="+h, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /cpulse/result?handle=%s: %s", h, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// remote runs the cpulse binary against the service (at most 15 minutes) and
// returns its handle (from "<handle>: waiting" on stderr, also when it failed),
// its stdout, and an error unless it exited 0.
func (s *idleServe) remote(ctx context.Context, run *serviceRun, args ...string) (string, string, error) {
	cctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, s.bin, append([]string{"--server", s.url, "--token-file", s.tokenFile}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	run.log = append(run.log, fmt.Sprintf("cpulse --server … %s: %v in %s\nstdout:\n%sstderr:\n%s", strings.Join(args, " "), err,
		time.Since(start).Round(100*time.Millisecond), out.String(), lastN(errb.String(), 10)))
	h := ""
	if m := regexp.MustCompile(`(?m)^([0-9a-f]{16}): waiting`).FindStringSubmatch(errb.String()); m != nil {
		h = m[1]
	}
	if err != nil {
		return h, out.String(), fmt.Errorf("cpulse %s: %w: %s", strings.Join(args, " "), err, lastN(errb.String(), 5))
	}
	return h, out.String(), nil
}

// snapshotThroughService takes the read-only snapshot of the Functional
// run's two servers (the first by name, the second by id) through the
// service with the remote CLI, verifies it (check upgrade --snapshot), and
// finishes it (cancel: DELETE of the snapshot); then it reads the tenant's
// state again. It never calls FailNow: errors go in the result.
func snapshotThroughService(ctx context.Context, c *cloud.Cloud, s *idleServe, name string, out tf.Outputs) (run serviceRun) {
	start := time.Now()
	defer func() { run.wall = time.Since(start) }()
	var ids []string
	var volumeID string
	if run.err = errors.Join(out.Decode("server_ids", &ids), out.Decode("volume_id", &volumeID)); run.err != nil {
		return run
	}
	res := filepath.Join(filepath.Dir(s.tokenFile), "resources.json")
	b, _ := json.Marshal(map[string]any{"vm": []string{name, ids[1]}})
	if run.err = os.WriteFile(res, b, 0o600); run.err != nil {
		return run
	}
	client, err := apiclient.New(s.url, s.token)
	if err != nil {
		run.err = err
		return run
	}
	result := func(h string) (apiclient.Result, error) {
		r, err := client.Result(ctx, h)
		if err != nil {
			return apiclient.Result{}, err
		}
		return *r, nil
	}

	snap, _, err := s.remote(ctx, &run, "upgrade", "snapshot", "--create=false", "--resources", res, "--wait", "--poll", "1s")
	if err == nil && snap == "" {
		err = errors.New("upgrade snapshot --wait named no handle")
	}
	if err == nil {
		run.snapshot, err = result(snap)
	}
	if err != nil {
		run.err = err
		return run
	}
	run.stateDir = filepath.Join(s.stateDir, "snapshots", snap)
	if st, err := os.Stat(run.stateDir); err == nil {
		run.dirMode = st.Mode().Perm()
	}
	if st, err := os.Stat(filepath.Join(run.stateDir, scenario.SnapshotFile)); err == nil {
		run.fileMode = st.Mode().Perm()
	}
	if kept, err := scenario.LoadSnapshot(run.stateDir, ""); err == nil {
		run.runID = kept.RunID
	}

	// the passed snapshot is watched until the check of type upgrade; a few seconds of probes first
	var watching struct {
		Watching *serveWatching `json:"watching"`
	}
	if err := s.rawResult(ctx, snap, &watching); err != nil {
		run.err = err
		return run
	}
	run.watching = watching.Watching
	time.Sleep(3 * time.Second)

	ver, _, err := s.remote(ctx, &run, "check", "upgrade", "--snapshot", snap, "--wait", "--poll", "1s")
	if err == nil {
		run.verify, err = result(ver)
	}
	if err == nil {
		var w struct {
			Watch *serveWatch `json:"watch"`
		}
		err = s.rawResult(ctx, ver, &w)
		run.watch = w.Watch
	}
	if err != nil {
		run.err = err
		return run
	}

	_, stdout, err := s.remote(ctx, &run, "cancel", snap)
	if err != nil {
		run.err = err
		return run
	}
	f := strings.Fields(stdout)
	if len(f) != 3 || f[0] != snap || f[1] != "finishing" {
		run.err = fmt.Errorf("cpulse cancel %s: %q, want %q", snap, stdout, snap+" finishing <handle>")
		return run
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	fin, err := client.Wait(wctx, f[2], time.Second, nil)
	if err != nil {
		run.err = err
		return run
	}
	run.finish = *fin
	run.stateAfter, run.err = tenantState(ctx, c, ids, volumeID)
	return run
}
