package tests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// TestServeUpgradeCreate proves the upgrade gate's create path through a real
// `cpulse serve` and the remote CLI: `upgrade snapshot --resources` (one vm)
// builds fixtures/upgrade and passes, keeping its state in the service's
// snapshot directory; `check upgrade --snapshot H --functional=false
// --destroy` verifies it and finishes it (destroy, no leftovers); a DELETE
// after that answers "finished". One apply: opt-in
// (CLOUDPULSE_SERVE_UPGRADE_CREATE=1), not part of make test.
func TestServeUpgradeCreate(t *testing.T) {
	if os.Getenv("CLOUDPULSE_SERVE_UPGRADE_CREATE") == "" {
		t.Skip("opt-in: one more apply (CLOUDPULSE_SERVE_UPGRADE_CREATE=1)")
	}
	cfg := cloudConfig(t)
	ctx := runContext(t, 10*time.Minute)
	c := connect(t, ctx, cfg)
	srv := startIdleServe(t, ctx, cfg.Name)
	res := filepath.Join(filepath.Dir(srv.tokenFile), "resources.json")
	require.NoError(t, os.WriteFile(res, []byte(`{"vm": ["vm-1"]}`), 0o600))

	var run serviceRun
	defer func() {
		for _, l := range run.log {
			t.Log(l)
		}
	}()
	start := time.Now()
	snap, _, err := srv.remote(ctx, &run, "upgrade", "snapshot", "--resources", res, "--wait", "--poll", "2s")
	require.NotEmpty(t, snap, "the remote CLI names the snapshot's handle: %v", err)
	sr := srv.result(t, snap)
	t.Cleanup(func() { // safety net: what the snapshot built, if verify --destroy did not destroy it
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		for _, id := range sr.RunIDs {
			if swept, err := scenario.Sweep(sctx, c, id); len(swept) > 0 || err != nil {
				t.Logf("safety net: swept %d resources of run %s (%v)", len(swept), id, err)
			}
		}
	})
	require.NoError(t, err, "cpulse serve said (last 40 lines):\n%s", lastN(srv.log.String(), 40))
	t.Logf("snapshot %s (create) passed in %s: %d checks, run %v", snap, time.Since(start).Round(time.Second), len(sr.Checks), sr.RunIDs)
	assert.Equal(t, "snapshot", sr.Type)
	require.Len(t, sr.RunIDs, 1, "the snapshot's run id is recorded (cleanup after a crash)")
	dir := filepath.Join(srv.stateDir, "snapshots", snap)
	st, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), "the snapshot's state directory")
	st, err = os.Stat(filepath.Join(dir, scenario.SnapshotKey))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the run's ssh key")

	start = time.Now()
	ver, _, err := srv.remote(ctx, &run, "check", "upgrade", "--snapshot", snap, "--functional=false", "--destroy", "--wait", "--poll", "2s")
	require.NotEmpty(t, ver)
	vr := srv.result(t, ver)
	require.NoError(t, err, "verify: %+v\ncpulse serve said (last 40 lines):\n%s", vr.TestsFailed, lastN(srv.log.String(), 40))
	t.Logf("verify %s with --destroy passed in %s: %d checks passed", ver, time.Since(start).Round(time.Second), len(vr.TestsPassed))
	assert.Equal(t, "upgrade", vr.Type)
	assert.Contains(t, vr.TestsPassed, "finish", "finish destroyed the snapshot and found nothing left")
	assert.Empty(t, vr.TestsFailed)
	assert.NoFileExists(t, filepath.Join(dir, scenario.SnapshotFile), "finish emptied the state directory")

	_, stdout, err := srv.remote(ctx, &run, "cancel", snap)
	require.NoError(t, err)
	assert.Equal(t, snap+" finished", strings.TrimSpace(stdout))
	found, err := scenario.Find(ctx, c, sr.RunIDs[0])
	require.NoError(t, err)
	assert.Empty(t, found, "nothing of run %s is left", sr.RunIDs[0])
}
