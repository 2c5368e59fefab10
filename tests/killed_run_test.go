package tests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// TestKilledRunCleanup proves that a Functional run killed with SIGKILL in
// the middle of its apply — test binary, OpenTofu and the provider, the whole
// process group, so no deferred destroy runs and the state may lack what was
// being created — leaves nothing behind once `cpulse cleanup` (make
// clean-cloud) has run: it destroys what the state holds and deletes what
// carries the run's tag through the APIs.
//
// Lab only (CLOUDPULSE_LAB=1): it kills a run on purpose.
func TestKilledRunCleanup(t *testing.T) {
	if os.Getenv("CLOUDPULSE_LAB") == "" {
		t.Skip("lab only: kills a Functional run on purpose (CLOUDPULSE_LAB=1, `make cloud-test`)")
	}
	cfg := cloudConfig(t)
	ctx := runContext(t, time.Minute)
	c := connect(t, ctx, cfg)
	stateDir := t.TempDir()
	runID := scenario.NewRunID()
	t.Cleanup(func() { // a safety net only: the assertions below decide
		_, _ = scenario.Sweep(context.Background(), c, runID)
	})

	bin := filepath.Join(t.TempDir(), "cpulse")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "../cmd/cpulse")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/cpulse: %s", out)

	// The victim: TestFunctional in a child process group of its own.
	var victimOut bytes.Buffer
	victim := exec.Command(os.Args[0], "-test.run", "^TestFunctional$", "-test.v", "-test.timeout", "20m")
	victim.Env = append(os.Environ(), "CLOUDPULSE_STATE_DIR="+stateDir, "CLOUDPULSE_RUN_ID="+runID, "CLOUDPULSE_REPORT=")
	victim.Stdout, victim.Stderr = &victimOut, &victimOut
	victim.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, victim.Start())
	exited := make(chan error, 1)
	go func() { exited <- victim.Wait() }()

	// Kill it once the cloud holds a server of the run: the apply is under way.
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	err = probe.WaitFor(wctx, 2*time.Second, func(ctx context.Context) (bool, error) {
		found, err := scenario.Tagged(ctx, c, runID)
		for _, r := range found {
			if r.Kind == "server" {
				return true, nil
			}
		}
		return false, err
	})
	cancel()
	killedAt := time.Now()
	require.NoError(t, syscall.Kill(-victim.Process.Pid, syscall.SIGKILL))
	<-exited
	require.NoError(t, err, "no server of run %s appeared; the victim said:\n%s", runID, victimOut.String())
	left, err := scenario.Leftovers(ctx, c, runID)
	require.NoError(t, err)
	require.NotEmpty(t, left, "the kill must leave resources behind for this test to mean anything")
	t.Logf("run %s killed mid-apply (process group, SIGKILL); %d resources left: %v", runID, len(left), left)

	// What a user runs next: make clean-cloud.
	start := time.Now()
	cleanup := exec.CommandContext(ctx, bin, "cleanup", "--cloud", cfg.Name, "--state-dir", stateDir)
	out, err = cleanup.CombinedOutput()
	t.Logf("cpulse cleanup (%.1fs after the kill, took %.1fs):\n%s", start.Sub(killedAt).Seconds(), time.Since(start).Seconds(), out)
	require.NoError(t, err)

	rest, err := scenario.TaggedOrNamed(ctx, c, runID)
	require.NoError(t, err)
	assert.Empty(t, rest, "tagged with or named for run %s after cleanup", runID)
	entries, err := os.ReadDir(stateDir)
	require.NoError(t, err)
	assert.Empty(t, entries, "cleanup removes the workspaces it destroyed")
}
