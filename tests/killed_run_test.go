package tests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
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
	cfg, ctx, c, stateDir, runID := victimRun(t, "kills")

	bin := filepath.Join(t.TempDir(), "cpulse")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "../cmd/cpulse")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/cpulse: %s", out)

	victim := startVictim(t, stateDir, runID)
	victim.waitForServer(t, ctx, c)
	killedAt := time.Now()
	require.NoError(t, syscall.Kill(-victim.cmd.Process.Pid, syscall.SIGKILL))
	<-victim.exited
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

// TestInterruptedRunDestroys proves that a Functional run interrupted in the
// middle of its apply as Ctrl-C does it — SIGINT to the whole process group:
// the test binary, OpenTofu and the provider — destroys what it created by
// itself, with no cleanup command: destroy was armed before apply and runs with
// its own context.
//
// Lab only (CLOUDPULSE_LAB=1): it interrupts a run on purpose.
func TestInterruptedRunDestroys(t *testing.T) {
	_, ctx, c, stateDir, runID := victimRun(t, "interrupts")

	victim := startVictim(t, stateDir, runID)
	victim.waitForServer(t, ctx, c)
	interruptedAt := time.Now()
	require.NoError(t, syscall.Kill(-victim.cmd.Process.Pid, syscall.SIGINT))
	var exitErr error
	select {
	case exitErr = <-victim.exited:
	case <-time.After(15 * time.Minute):
		_ = syscall.Kill(-victim.cmd.Process.Pid, syscall.SIGKILL)
		<-victim.exited
		t.Fatalf("the interrupted run did not end within 15 minutes; it said:\n%s", victim.out.String())
	}
	t.Logf("run %s interrupted mid-apply (process group, SIGINT); it ended %.1fs later (%v)",
		runID, time.Since(interruptedAt).Seconds(), exitErr)
	require.Error(t, exitErr, "an interrupted run must not report success")
	for _, line := range strings.Split(victim.out.String(), "\n") {
		if strings.Contains(line, "destroy: ") || strings.Contains(line, "remain after destroy") || strings.Contains(line, "leaked") {
			t.Logf("victim: %s", strings.TrimSpace(line))
		}
	}

	rest, err := scenario.TaggedOrNamed(ctx, c, runID)
	require.NoError(t, err)
	assert.Empty(t, rest, "tagged with or named for run %s after the interrupted run ended; it said:\n%s", runID, victim.out.String())
	entries, err := os.ReadDir(stateDir)
	require.NoError(t, err)
	assert.Empty(t, entries, "a run that destroyed everything keeps no workspace; it said:\n%s", victim.out.String())
}

// victimRun is what a test that breaks a Functional run on purpose needs: the
// cloud, a context, a connection, a state directory and the victim's run id,
// with an API sweep of that run as a safety net (the test's assertions decide).
// Lab only (CLOUDPULSE_LAB=1).
func victimRun(t *testing.T, does string) (*cloud.Config, context.Context, *cloud.Cloud, string, string) {
	t.Helper()
	if os.Getenv("CLOUDPULSE_LAB") == "" {
		t.Skipf("lab only: %s a Functional run on purpose (CLOUDPULSE_LAB=1, `make cloud-test`)", does)
	}
	cfg := cloudConfig(t)
	ctx := runContext(t, time.Minute)
	c := connect(t, ctx, cfg)
	runID := scenario.NewRunID()
	t.Cleanup(func() { _, _ = scenario.Sweep(context.Background(), c, runID) })
	return cfg, ctx, c, t.TempDir(), runID
}

// victim is TestFunctional run in a child process group of its own, with its
// state in a given directory and a given run id.
type victim struct {
	cmd    *exec.Cmd
	out    *bytes.Buffer
	exited chan error
	runID  string
}

func startVictim(t *testing.T, stateDir, runID string) *victim {
	t.Helper()
	v := &victim{out: &bytes.Buffer{}, exited: make(chan error, 1), runID: runID}
	v.cmd = exec.Command(os.Args[0], "-test.run", "^TestFunctional$", "-test.v", "-test.timeout", "20m")
	v.cmd.Env = append(os.Environ(), "CLOUDPULSE_STATE_DIR="+stateDir, "CLOUDPULSE_RUN_ID="+runID, "CLOUDPULSE_REPORT=")
	v.cmd.Stdout, v.cmd.Stderr = v.out, v.out
	v.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, v.cmd.Start())
	go func() { v.exited <- v.cmd.Wait() }()
	return v
}

// waitForServer returns once the cloud holds a server of the run: the apply is
// under way. It fails the test (killing the victim) when none appears.
func (v *victim) waitForServer(t *testing.T, ctx context.Context, c *cloud.Cloud) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	err := probe.WaitFor(wctx, 2*time.Second, func(ctx context.Context) (bool, error) {
		found, err := scenario.Tagged(ctx, c, v.runID)
		for _, r := range found {
			if r.Kind == "server" {
				return true, nil
			}
		}
		return false, err
	})
	if err != nil {
		_ = syscall.Kill(-v.cmd.Process.Pid, syscall.SIGKILL)
		<-v.exited
		t.Fatalf("no server of run %s appeared (%v); the victim said:\n%s", v.runID, err, v.out.String())
	}
}
