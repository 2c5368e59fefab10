package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// killPoint is a moment of a Functional apply, seen from the cloud: reached
// says whether the run got there.
type killPoint struct {
	name    string
	reached func(ctx context.Context, c *cloud.Cloud, runID string) (bool, error)
}

// killPoints are spread over the apply: its first resource, its floating IPs
// (created right after the ports, while the servers boot: a kill here leaves
// floating IPs OpenTofu never recorded nor tagged, which kept the router
// interface in use and made destroy retry for 15 minutes), its volume
// (created once the first server is up) and its end (the volume attached).
var killPoints = []killPoint{
	{"early", func(ctx context.Context, c *cloud.Cloud, runID string) (bool, error) {
		nc, err := c.Network()
		if err != nil {
			return false, err
		}
		p, err := networks.List(nc, networks.ListOpts{Tags: scenario.RunTag(runID)}).AllPages(ctx)
		if err != nil {
			return false, err
		}
		all, err := networks.ExtractNetworks(p)
		return len(all) > 0, err
	}},
	{"floating-ip", func(ctx context.Context, c *cloud.Cloud, runID string) (bool, error) {
		nc, err := c.Network()
		if err != nil {
			return false, err
		}
		p, err := floatingips.List(nc, floatingips.ListOpts{Description: scenario.NamePrefix(runID) + "vm-1-fip"}).AllPages(ctx)
		if err != nil {
			return false, err
		}
		all, err := floatingips.ExtractFloatingIPs(p)
		return len(all) > 0, err
	}},
	{"volume", func(ctx context.Context, c *cloud.Cloud, runID string) (bool, error) {
		vs, err := runVolumes(ctx, c, runID)
		return len(vs) > 0, err
	}},
	{"late", func(ctx context.Context, c *cloud.Cloud, runID string) (bool, error) {
		vs, err := runVolumes(ctx, c, runID)
		return len(vs) > 0 && vs[0].Status == "in-use", err
	}},
}

func runVolumes(ctx context.Context, c *cloud.Cloud, runID string) ([]volumes.Volume, error) {
	bs, err := c.BlockStorage()
	if err != nil {
		return nil, err
	}
	p, err := volumes.List(bs, volumes.ListOpts{Metadata: map[string]string{"cloudpulse-run": runID}}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	return volumes.ExtractVolumes(p)
}

// killedRunCleanupBudget is how long `cpulse cleanup` may take after a kill, wherever the kill lands.
const killedRunCleanupBudget = 2 * time.Minute

// TestKilledRunCleanup proves that a Functional run killed with SIGKILL —
// test binary, OpenTofu and the provider, the whole process group, so no
// deferred destroy runs and the state may lack what was being created — at
// any point of its apply leaves nothing behind once `cpulse cleanup` (make
// clean-cloud) has run, and that the cleanup takes at most 2 minutes: it
// deletes the run's resources through the APIs (its tag, or its name prefix)
// before OpenTofu destroys what the state still holds.
//
// The kill points run two at a time (each run boots two servers).
// Lab only (CLOUDPULSE_LAB=1): it kills runs on purpose.
func TestKilledRunCleanup(t *testing.T) {
	cfg, ctx, c := labCloud(t, "kills")
	bin := buildCpulse(t, ctx)
	slots := make(chan struct{}, 2)
	var mu sync.Mutex
	var summary []string
	t.Cleanup(func() { t.Logf("cleanup after a kill, per kill point:\n%s", strings.Join(summary, "\n")) })

	for _, kp := range killPoints {
		t.Run(kp.name, func(t *testing.T) {
			t.Parallel()
			slots <- struct{}{}
			defer func() { <-slots }()
			stateDir, runID := victimRun(t, c)

			victim := startVictim(t, stateDir, runID)
			started := time.Now()
			victim.waitFor(t, ctx, kp.name, 300*time.Millisecond, func(ctx context.Context) (bool, error) { return kp.reached(ctx, c, runID) })
			require.NoError(t, syscall.Kill(-victim.cmd.Process.Pid, syscall.SIGKILL))
			<-victim.exited
			killedAt := time.Now()
			left, err := scenario.Leftovers(ctx, c, runID)
			require.NoError(t, err)
			require.NotEmpty(t, left, "the kill must leave resources behind for this test to mean anything")
			t.Logf("run %s killed at %q, %.1fs into the run (process group, SIGKILL); %d resources left: %v",
				runID, kp.name, killedAt.Sub(started).Seconds(), len(left), left)

			// What a user runs next: make clean-cloud.
			cctx, cancel := context.WithTimeout(ctx, killedRunCleanupBudget+time.Minute)
			defer cancel()
			start := time.Now()
			out, err := exec.CommandContext(cctx, bin, "cleanup", "--cloud", cfg.Name, "--state-dir", stateDir).CombinedOutput()
			took := time.Since(start)
			t.Logf("cpulse cleanup took %.1fs:\n%s", took.Seconds(), out)
			mu.Lock()
			summary = append(summary, fmt.Sprintf("  %-12s killed %5.1fs into the run, %2d resources left, cleanup %5.1fs", kp.name,
				killedAt.Sub(started).Seconds(), len(left), took.Seconds()))
			mu.Unlock()
			require.NoError(t, err)
			assert.LessOrEqual(t, took, killedRunCleanupBudget, "cleanup after a kill at %q", kp.name)

			rest, err := scenario.Leftovers(ctx, c, runID)
			require.NoError(t, err)
			assert.Empty(t, rest, "resources of run %s after cleanup", runID)
			entries, err := os.ReadDir(stateDir)
			require.NoError(t, err)
			assert.Empty(t, entries, "cleanup removes the workspaces it destroyed")
		})
	}
}

// TestInterruptedRunDestroys proves that a Functional run interrupted in the
// middle of its apply as Ctrl-C does it — SIGINT to the whole process group:
// the test binary, OpenTofu and the provider — destroys what it created by
// itself, with no cleanup command: destroy was armed before apply and runs with
// its own context.
//
// Lab only (CLOUDPULSE_LAB=1): it interrupts a run on purpose.
func TestInterruptedRunDestroys(t *testing.T) {
	_, ctx, c := labCloud(t, "interrupts")
	t.Parallel() // its victim's run id, network and state directory are its own; out of the lab's upgrade
	holdLabSteady(t)
	stateDir, runID := victimRun(t, c)

	victim := startVictim(t, stateDir, runID)
	victim.waitFor(t, ctx, "a server", 2*time.Second, func(ctx context.Context) (bool, error) {
		found, err := scenario.Find(ctx, c, runID)
		for _, r := range found {
			if r.Kind == "server" {
				return true, nil
			}
		}
		return false, err
	})
	interruptedAt := time.Now()
	require.NoError(t, syscall.Kill(-victim.cmd.Process.Pid, syscall.SIGINT))
	var exitErr error
	select {
	case exitErr = <-victim.exited:
	case <-time.After(15 * time.Minute):
		_ = syscall.Kill(-victim.cmd.Process.Pid, syscall.SIGKILL)
		<-victim.exited
		t.Fatalf("the interrupted run did not end within 15 minutes; it said:\n%s", victim.output())
	}
	t.Logf("run %s interrupted mid-apply (process group, SIGINT); it ended %.1fs later (%v)",
		runID, time.Since(interruptedAt).Seconds(), exitErr)
	require.Error(t, exitErr, "an interrupted run must not report success")
	for _, line := range strings.Split(victim.output(), "\n") {
		if strings.Contains(line, "destroy: ") || strings.Contains(line, "remain after destroy") || strings.Contains(line, "leaked") {
			t.Logf("victim: %s", strings.TrimSpace(line))
		}
	}

	rest, err := scenario.Leftovers(ctx, c, runID)
	require.NoError(t, err)
	assert.Empty(t, rest, "resources of run %s after the interrupted run ended; it said:\n%s", runID, victim.output())
	entries, err := os.ReadDir(stateDir)
	require.NoError(t, err)
	assert.Empty(t, entries, "a run that destroyed everything keeps no workspace; it said:\n%s", victim.output())
}

// labCloud is the cloud, a context and a connection for a test that breaks
// runs on purpose. Lab only (CLOUDPULSE_LAB=1).
func labCloud(t *testing.T, does string) (*cloud.Config, context.Context, *cloud.Cloud) {
	t.Helper()
	if os.Getenv("CLOUDPULSE_LAB") == "" {
		t.Skipf("lab only: %s a Functional run on purpose (CLOUDPULSE_LAB=1, `make cloud-test`)", does)
	}
	cfg := cloudConfig(t)
	ctx := runContext(t, time.Minute)
	return cfg, ctx, connect(t, ctx, cfg)
}

// victimRun is a state directory and a run id for a run broken on purpose,
// with an API sweep of that run as a safety net (the test's assertions decide).
func victimRun(t *testing.T, c *cloud.Cloud) (string, string) {
	t.Helper()
	runID := scenario.NewRunID()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if swept, err := scenario.Sweep(ctx, c, runID); len(swept) > 0 || err != nil {
			t.Logf("safety net: swept %d resources of run %s (%v)", len(swept), runID, err)
		}
	})
	return t.TempDir(), runID
}

// buildCpulse builds cmd/cpulse into a temporary directory.
func buildCpulse(t *testing.T, ctx context.Context) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cpulse")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "../cmd/cpulse").CombinedOutput()
	require.NoError(t, err, "go build ./cmd/cpulse: %s", out)
	return bin
}

// victim is TestFunctional run in a child process group of its own, with its
// state in a given directory and a given run id.
type victim struct {
	cmd    *exec.Cmd
	out    syncBuffer
	exited chan error
	runID  string
}

// syncBuffer is a bytes.Buffer that the child's output and the test may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (v *victim) output() string {
	v.out.mu.Lock()
	defer v.out.mu.Unlock()
	return v.out.b.String()
}

func startVictim(t *testing.T, stateDir, runID string) *victim {
	t.Helper()
	v := &victim{exited: make(chan error, 1), runID: runID}
	v.cmd = exec.Command(os.Args[0], "-test.run", "^TestFunctional$", "-test.v", "-test.timeout", "20m")
	// CLOUDPULSE_FUNCTIONAL_AFTER_UPGRADE= : the victim is TestFunctional itself, run at once
	v.cmd.Env = append(os.Environ(), "CLOUDPULSE_STATE_DIR="+stateDir, "CLOUDPULSE_RUN_ID="+runID, "CLOUDPULSE_RUN_PREFIX=", "CLOUDPULSE_REPORT=", "CLOUDPULSE_FUNCTIONAL_AFTER_UPGRADE=")
	v.cmd.Stdout, v.cmd.Stderr = &v.out, &v.out
	v.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, v.cmd.Start())
	go func() { v.exited <- v.cmd.Wait() }()
	return v
}

// waitFor returns once reached says the run got to the point named what. It
// fails the test (killing the victim) when the run ends or 10 minutes pass first.
func (v *victim) waitFor(t *testing.T, ctx context.Context, what string, every time.Duration, reached func(ctx context.Context) (bool, error)) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	err := probe.WaitFor(wctx, every, func(ctx context.Context) (bool, error) {
		select {
		case err := <-v.exited:
			v.exited <- err
			return false, probe.Permanent(fmt.Errorf("the run ended before %s: %v", what, err))
		default:
		}
		ok, err := reached(ctx)
		return ok, err
	})
	if err != nil {
		_ = syscall.Kill(-v.cmd.Process.Pid, syscall.SIGKILL)
		<-v.exited
		t.Fatalf("run %s did not reach %s (%v); the victim said:\n%s", v.runID, what, err, v.output())
	}
}
