package scenario

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/report"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// SnapshotExisting is the pre phase with --create=false: it resolves the
// selection with read-only calls, applies fixtures/upgrade-existing (data
// sources only: nothing is created, changed or deleted), runs the checks that
// need no keys (status, ports, attachments, floating IP, ping/TCP where the
// security groups allow) and keeps the outputs as the snapshot in dir.
func SnapshotExisting(ctx context.Context, c *cloud.Cloud, dir string, sel ExistingSelection, o PhaseOptions) (VerifyResult, error) {
	o.defaults()
	start := time.Now()
	res := VerifyResult{Timeline: &report.Timeline{}}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return res, err
	}
	if err := NewStateDir(abs); err != nil {
		return res, err
	}
	vars, err := ExistingVars(ctx, c, sel)
	if err != nil {
		return res, err
	}
	runID, err := tf.NewRunID(UpgradeRunPrefix)
	if err != nil {
		return res, err
	}
	res.RunID = runID
	src, err := tf.FindSources()
	if err != nil {
		return res, err
	}
	h, err := fixtureHash(src.FS, ExistingFixture)
	if err != nil {
		return res, err
	}
	ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: ExistingFixture, RunID: runID, Vars: vars, StateRoot: abs})
	if err != nil {
		return res, err
	}
	defer ws.Release()
	ex, err := tf.NewExec(ws, o.Tools, o.Env, o.Log)
	if err != nil {
		return res, err
	}
	var out tf.Outputs
	done := res.Timeline.Start("tofu init+apply (reads only)")
	err = ex.Init(ctx)
	if err == nil {
		err = ex.Apply(ctx)
	}
	if err == nil {
		out, err = ex.Outputs(ctx)
	}
	done(err)
	if err != nil {
		return res, errors.Join(err, ws.Remove())
	}
	checks, err := ExistingChecks(out, out)
	if err != nil {
		return res, errors.Join(err, ws.Remove())
	}
	res.Checks, res.Stages = runSuite(ctx, []Stage{{Name: "existing", Checks: checks, Concurrency: 4}}, o.Timeout, res.Timeline, o.OnResult)
	snap := &Snapshot{Format: snapshotFormat, Mode: ModeExisting, Fixture: ExistingFixture, FixtureSHA256: h, RunID: runID,
		Workspace: filepath.Base(ws.Root), Created: time.Now().UTC(), ExistingVars: vars, Before: out, Cloud: c.Name}
	res.Snapshot = snap
	if err := SaveSnapshot(abs, snap); err != nil {
		return res, fmt.Errorf("upgrade: save the snapshot: %w", err)
	}
	res.Wall = time.Since(start)
	return res, nil
}

// verifyExisting is Verify for a snapshot of existing resources: the same
// reads again (ExistingVerifyVars leaves out what is gone, so the fixture's
// data sources do not fail), compared with the snapshot's.
func verifyExisting(ctx context.Context, c *cloud.Cloud, snap *Snapshot, ex *tf.Exec, o PhaseOptions, res *VerifyResult) error {
	vars, err := ExistingVerifyVars(ctx, c, snap.ExistingVars)
	if err != nil {
		return err
	}
	if err := ex.Workspace().WriteVars(vars); err != nil {
		return err
	}
	done := res.Timeline.Start("tofu apply (reads only)")
	err = ex.Apply(ctx)
	var after tf.Outputs
	if err == nil {
		after, err = ex.Outputs(ctx)
	}
	done(err)
	if err != nil {
		return err
	}
	checks, err := ExistingChecks(snap.Before, after)
	if err != nil {
		return err
	}
	res.Checks, res.Stages = runSuite(ctx, []Stage{{Name: "existing", Checks: checks, Concurrency: 4}}, o.Timeout, res.Timeline, o.OnResult)
	return nil
}
