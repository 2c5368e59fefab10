package tests

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// TestUpgrade is the upgrade gate: pre (apply fixtures/upgrade, validate,
// observe, keep the state directory), the upgrade (on the lab: a real package
// upgrade with the downtime watcher running), post (verify), and finish
// (destroy). A pipeline runs the phases as separate jobs, handing the state
// directory on as a protected artifact:
//
//	CLOUDPULSE_UPGRADE_STATE=/secure/dir go test -run 'Upgrade/pre' ./tests/
//	… upgrade the cloud …
//	CLOUDPULSE_UPGRADE_STATE=/secure/dir go test -run 'Upgrade/(post|finish)' ./tests/
//
// Without CLOUDPULSE_UPGRADE_STATE every phase runs in this process on a
// temporary directory, and whatever was built is destroyed at the end.
func TestUpgrade(t *testing.T) {
	// Serial: the upgrade restarts every service and the breakage stops the l3 agent. Its pre phase beside
	// the parallel tests was tried: four applies at once overloaded the lab's nova-api (HAProxy answered 503).
	// labSteady still keeps any parallel test out of the lab's upgrade when someone makes this one parallel.
	cfg := upgradeCloud(t)
	dir := os.Getenv("CLOUDPULSE_UPGRADE_STATE")
	ownDir := dir == ""
	if ownDir {
		dir = filepath.Join(t.TempDir(), "upgrade-state")
	}
	ctx := runContext(t, 5*time.Minute)
	c := connect(t, ctx, cfg)
	tools, err := tf.FindTools()
	require.NoError(t, err)
	phase := scenario.PhaseOptions{Tools: tools, Env: cfg.TerraformEnv(), Logf: t.Logf, OnResult: logResult(t)}
	if ownDir {
		// whatever happens below, nothing stays in the cloud
		t.Cleanup(func() {
			if _, err := os.Stat(filepath.Join(dir, scenario.SnapshotFile)); err != nil {
				return
			}
			fctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			assert.NoError(t, scenario.Finish(fctx, c, dir, phase), "finish in cleanup")
		})
	}

	lab := os.Getenv("CLOUDPULSE_LAB") == "1"
	noUpgrade := ""
	if lab && ownDir { // the whole gate in this process (phases run one by one with a state directory do their own)
		// the lab starts from the point release's packages: up.sh installs them, so this is usually nothing; when
		// it is not (a lab upgraded by an earlier run), going back restarts services: with the lab to itself
		onOld, err := labOnOld(ctx)
		require.NoError(t, err)
		if !onOld {
			labSteady.Lock()
			out, err := labUpgrade(ctx, "prepare")
			labSteady.Unlock()
			if errors.Is(err, errNoUpgrade) {
				noUpgrade = err.Error()
			} else {
				require.NoError(t, err, out)
			}
		}
	}

	t.Run("pre", func(t *testing.T) {
		o, err := scenario.FromEnv()
		require.NoError(t, err)
		o.Cloud = cfg
		o.CIDR = "10.44.0.0/24" // its own range: it lives while other tests run
		u, err := scenario.NewUpgrade(scenario.UpgradeOptions{FunctionalOptions: o, StateDir: dir})
		require.NoError(t, err)
		require.NoError(t, u.Precheck(ctx, c))
		ws, err := scenario.Workspace(u)
		require.NoError(t, err)
		t.Logf("upgrade snapshot run %s on cloud %q, state in %s", u.RunID(), cfg.Name, dir)
		res := scenario.Run(ctx, c, u, tf.NewTerratest(t, ws, tools, u.TerraformEnv()), scenario.Hooks{OnResult: logResult(t), Logf: t.Logf})
		reportResults(t, res.Checks, func(string) bool { return len(res.Failed()) > 0 })
		t.Logf("pre phase steps:\n%s", res.Timeline.Table())
		require.NoError(t, res.Err)
		// the runner's lock is given back on success: reopen the workspace to settle and save
		kept, err := tf.OpenWorkspace(ws.Root)
		require.NoError(t, err)
		require.NoError(t, u.Save(ctx, cfg.Name, kept, phase))
		require.NoError(t, kept.Release())
		assertPrivate(t, dir)
		t.Logf("pre phase wall %.1fs", res.Wall.Seconds())
	})

	if lab {
		labSteady.Lock()
		t.Cleanup(labSteady.Unlock)
	}

	t.Run("calibrate", func(t *testing.T) {
		onLab(t, "stops a web server inside the snapshot's vm-1")
		testCalibrate(t, ctx, dir)
	})

	t.Run("upgrade", func(t *testing.T) {
		onLab(t, "the upgrade is the pipeline's job between pre and post")
		if os.Getenv("CLOUDPULSE_LAB_UPGRADE") == "0" {
			t.Skip("CLOUDPULSE_LAB_UPGRADE=0: the lab's real package upgrade is left out")
		}
		if noUpgrade != "" {
			t.Skip(noUpgrade)
		}
		testLabUpgrade(t, ctx, dir)
	})

	t.Run("post", func(t *testing.T) {
		res, err := scenario.Verify(ctx, c, dir, phase)
		require.NoError(t, err)
		reportResults(t, res.Checks, func(string) bool { return false })
		t.Logf("post phase steps:\n%s", res.Timeline.Table())
		require.NoError(t, res.Err())
		t.Logf("post phase wall %.1fs", res.Wall.Seconds())
	})

	// the control plane still takes new work: a fresh Functional run, as a member, with every assertion of
	// TestFunctional (make test runs TestFunctional itself after this test instead: CLOUDPULSE_FUNCTIONAL_AFTER_UPGRADE=1)
	t.Run("functional", func(t *testing.T) {
		if os.Getenv("CLOUDPULSE_FUNCTIONAL_AFTER_UPGRADE") == "1" {
			t.Skip("TestFunctional runs after this test, among the parallel cloud tests, on the upgraded lab (CLOUDPULSE_FUNCTIONAL_AFTER_UPGRADE=1, set by make cloud-test)")
		}
		if os.Getenv("CLOUDPULSE_UPGRADE_FUNCTIONAL") == "0" {
			t.Skip("CLOUDPULSE_UPGRADE_FUNCTIONAL=0")
		}
		runFunctional(t, cloudConfig(t), nil, nil)
	})

	t.Run("breakage", func(t *testing.T) {
		if os.Getenv("CLOUDPULSE_LAB") != "1" || os.Getenv("CLOUDPULSE_ADMIN_CLOUD") == "" {
			t.Skip("breaks the snapshot and stops the l3 agent: only on the lab (CLOUDPULSE_LAB=1), as its admin")
		}
		testBreakage(t, ctx, c, dir, phase)
	})

	t.Run("finish", func(t *testing.T) {
		require.NoError(t, scenario.Finish(ctx, c, dir, phase))
		_, err := os.Stat(filepath.Join(dir, scenario.SnapshotFile))
		assert.True(t, os.IsNotExist(err), "snapshot removed after finish")
	})
}

// upgradeCloud is the admin cloud when there is one (the snapshot then
// records each VM's host, and verify checks the agents), else OS_CLOUD.
func upgradeCloud(t *testing.T) *cloud.Config {
	if os.Getenv("CLOUDPULSE_ADMIN_CLOUD") != "" {
		cloudConfig(t) // -short and "no cloud" handling
		return adminCloud(t)
	}
	return cloudConfig(t)
}

// assertPrivate: every file of the state directory is 0600 and every directory 0700.
func assertPrivate(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 || strings.Contains(p, string(filepath.Separator)+".terraform"+string(filepath.Separator)) {
			return nil
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s is %v: the state directory must be private", p, perm)
		}
		return nil
	}))
}
