package families

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/report"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// The upgrade gate's phases (`cpulse upgrade snapshot|verify|finish`), run
// the same way by the CLI and by the service (POST /cpulse/snapshot, a check
// of type upgrade, DELETE of a snapshot).

// UpgradeRequest is one phase of the upgrade gate on one cloud.
type UpgradeRequest struct {
	Cloud    *cloud.Config
	StateDir string // the snapshot's state directory (secret: files 0600, directories 0700)
	// Logf receives progress lines (steps, tofu output on failure); nil: none.
	Logf func(format string, args ...any)
	// OnResult receives each check's result as it ends.
	OnResult func(check.Result)
	// OnRunID receives the run id of what is built (a created snapshot, the
	// fresh functional run of verify) before anything is applied.
	OnRunID func(runID string)
	// ReportPath is CLOUDPULSE_REPORT for the scenarios run (snapshot
	// create, verify's fresh functional run); "": none.
	ReportPath string
}

// SnapshotSpec is what a snapshot reads or builds: a parsed resources file.
type SnapshotSpec struct {
	Create    bool                       // build fixtures/upgrade; false: read existing resources
	Resources scenario.Resources         // Create
	Existing  scenario.ExistingSelection // !Create
}

// ParseSnapshot reads a resources file (raw nil or empty: none) for a
// snapshot that builds (create) or reads existing resources. Its errors are
// the resources' (scenario.ParseResources, scenario.ParseExisting).
func ParseSnapshot(create bool, raw []byte) (SnapshotSpec, error) {
	spec := SnapshotSpec{Create: create}
	var err error
	switch {
	case create && len(raw) == 0:
		spec.Resources, err = scenario.ParseResources([]byte("{}"))
	case create:
		spec.Resources, err = scenario.ParseResources(raw)
	case len(raw) == 0:
		err = errors.New(`--create=false: say which resources: {"project": "<name or id>", "vm": ["<name or id>", ...]}`)
	default:
		spec.Existing, err = scenario.ParseExisting(raw)
	}
	return spec, err
}

func (r UpgradeRequest) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

// phaseOptions: OpenTofu of this machine, its output in log.
func (r UpgradeRequest) phaseOptions(log *bytes.Buffer, name string) (scenario.PhaseOptions, error) {
	tools, err := tf.FindTools()
	if err != nil {
		return scenario.PhaseOptions{}, err
	}
	logf := func(format string, args ...any) { r.logf(name+": "+format, args...) }
	return scenario.PhaseOptions{Tools: tools, Env: r.Cloud.TerraformEnv(), Log: log, Logf: logf, OnResult: func(res check.Result) {
		logf("%-36s %s %s", res.Name, res.Status(), OneLineDetail(res))
		if r.OnResult != nil {
			r.OnResult(res)
		}
	}}, nil
}

func connect(ctx context.Context, cfg *cloud.Config) (*cloud.Cloud, error) {
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return cfg.Connect(cctx)
}

func stepsOf(tl *report.Timeline, prefix string) []report.Step {
	if tl == nil {
		return nil
	}
	var out []report.Step
	for _, st := range tl.Steps() {
		st.Name = prefix + st.Name
		out = append(out, st)
	}
	return out
}

// UpgradeSnapshot is the pre phase: with spec.Create it applies
// fixtures/upgrade, validates and observes, and keeps the state in
// req.StateDir; else it reads the existing resources (data sources only) and
// keeps their outputs. Bad options are InputErrors; the error is the run's
// (failed checks are in the outcome).
func UpgradeSnapshot(ctx context.Context, req UpgradeRequest, spec SnapshotSpec) (Outcome, error) {
	if req.StateDir == "" {
		return Outcome{}, inputf("upgrade snapshot: no state directory: set CLOUDPULSE_UPGRADE_STATE or --state to a private directory for the snapshot")
	}
	if !spec.Create {
		return snapshotExisting(ctx, req, spec.Existing)
	}
	o, err := scenario.FromEnv()
	if err != nil {
		return Outcome{}, inputf("%v", err)
	}
	o.Cloud = req.Cloud
	up, err := scenario.NewUpgrade(scenario.UpgradeOptions{FunctionalOptions: o, Resources: spec.Resources, StateDir: req.StateDir})
	if err != nil {
		return Outcome{}, inputf("%v", err)
	}
	c, err := connect(ctx, req.Cloud)
	if err != nil {
		return Outcome{}, err
	}
	results, sres := RunScenario(ctx, c, up, ScenarioOptions{Logf: req.Logf, OnResult: req.OnResult, OnRunID: req.OnRunID, ReportPath: req.ReportPath})
	out := Outcome{RunIDs: []string{up.RunID()}, Steps: stepsOf(sres.Timeline, "")}
	if whole := &results[len(results)-1]; whole.OK {
		err := saveUpgrade(ctx, req, up)
		if err != nil {
			whole.OK, whole.Err, whole.Error = false, err, err.Error()
		} else {
			req.logf("upgrade: snapshot of run %s kept in %s (secret: the run's ssh key and state; pass it on as a protected artifact)", up.RunID(), up.StateDir())
		}
	}
	out.Results = results
	return out, nil
}

func saveUpgrade(ctx context.Context, req UpgradeRequest, up *scenario.Upgrade) error {
	ws, err := tf.OpenWorkspace(UpgradeWorkspace(up.StateDir(), up.RunID()))
	if err != nil {
		return err
	}
	var tofuLog bytes.Buffer
	po, err := req.phaseOptions(&tofuLog, "snapshot")
	if err == nil {
		err = up.Save(ctx, req.Cloud.Name, ws, po)
	}
	err = errors.Join(err, ws.Release())
	if err != nil {
		req.logf("tofu output (last 40 lines):\n%s", LastLines(tofuLog.String(), 40))
	}
	return err
}

// UpgradeWorkspace is a created snapshot's workspace directory (upgrade-<run id>).
func UpgradeWorkspace(dir, runID string) string {
	return filepath.Join(dir, "upgrade-"+runID)
}

// snapshotExisting is the pre phase with --create=false: a tenant's existing
// resources, read only (fixtures/upgrade-existing has data sources only).
func snapshotExisting(ctx context.Context, req UpgradeRequest, sel scenario.ExistingSelection) (Outcome, error) {
	c, err := connect(ctx, req.Cloud)
	if err != nil {
		return Outcome{}, err
	}
	var tofuLog bytes.Buffer
	po, err := req.phaseOptions(&tofuLog, "snapshot")
	if err != nil {
		return Outcome{}, err
	}
	res, err := scenario.SnapshotExisting(ctx, c, req.StateDir, sel, po)
	if err != nil {
		req.logf("tofu output (last 40 lines):\n%s", LastLines(tofuLog.String(), 40))
		return Outcome{Steps: stepsOf(res.Timeline, "")}, err
	}
	req.logf("upgrade: read-only snapshot %s of existing servers %v kept in %s", res.RunID, res.Snapshot.ExistingVars["server_ids"], req.StateDir)
	return Outcome{Results: res.Checks, Steps: stepsOf(res.Timeline, "")}, nil
}

// VerifyOptions say what verify does besides its checks.
type VerifyOptions struct {
	Functional bool // then a fresh functional run (the control plane still takes new work)
	Destroy    bool // then finish: destroy what the snapshot built (also when verify fails)
}

// UpgradeVerify is the post phase: scenario.Verify on the snapshot in
// req.StateDir, then (o.Functional) a fresh functional run and (o.Destroy)
// finish, as results "functional…" and "finish". No snapshot there is an
// InputError.
func UpgradeVerify(ctx context.Context, req UpgradeRequest, o VerifyOptions) (Outcome, error) {
	if _, err := scenario.LoadSnapshot(req.StateDir, ""); err != nil {
		return Outcome{}, inputf("%v", err)
	}
	var fresh scenario.Scenario
	if o.Functional {
		d, err := scenario.Lookup("functional")
		if err != nil {
			return Outcome{}, err
		}
		if fresh, err = d.New(req.Cloud); err != nil {
			return Outcome{}, inputf("%v", err)
		}
	}
	c, err := connect(ctx, req.Cloud)
	if err != nil {
		return Outcome{}, err
	}
	var tofuLog bytes.Buffer
	po, err := req.phaseOptions(&tofuLog, "verify")
	if err != nil {
		return Outcome{}, err
	}
	res, err := scenario.Verify(ctx, c, req.StateDir, po)
	if err != nil {
		req.logf("tofu output (last 40 lines):\n%s", LastLines(tofuLog.String(), 40))
		return Outcome{Steps: stepsOf(res.Timeline, "")}, err
	}
	req.logf("verify steps:\n%s", res.Timeline.Table())
	out := Outcome{Results: res.Checks, Steps: stepsOf(res.Timeline, "verify/")}
	if fresh != nil {
		out.RunIDs = append(out.RunIDs, fresh.RunID())
		results, sres := RunScenario(ctx, c, fresh, ScenarioOptions{Logf: req.Logf, OnResult: req.OnResult, OnRunID: req.OnRunID, ReportPath: req.ReportPath})
		out.Results = append(out.Results, results...)
		out.Steps = append(out.Steps, stepsOf(sres.Timeline, "functional/")...)
	}
	if o.Destroy {
		fr := check.Result{Name: "finish", StartedAt: time.Now()}
		ferr := scenario.Finish(ctx, c, req.StateDir, po)
		fr.Duration, fr.OK = time.Since(fr.StartedAt), ferr == nil
		if ferr != nil {
			fr.Err, fr.Error = ferr, ferr.Error()
		}
		if req.OnResult != nil {
			req.OnResult(fr)
		}
		out.Results = append(out.Results, fr)
	}
	return out, nil
}

// UpgradeFinish destroys what the snapshot in req.StateDir built (a read-only
// snapshot is only forgotten) and empties the directory. No snapshot there
// is an InputError.
func UpgradeFinish(ctx context.Context, req UpgradeRequest) error {
	if _, err := scenario.LoadSnapshot(req.StateDir, ""); err != nil {
		return inputf("%v", err)
	}
	c, err := connect(ctx, req.Cloud)
	if err != nil {
		return err
	}
	var tofuLog bytes.Buffer
	po, err := req.phaseOptions(&tofuLog, "finish")
	if err != nil {
		return err
	}
	if err := scenario.Finish(ctx, c, req.StateDir, po); err != nil {
		req.logf("tofu output (last 40 lines):\n%s", LastLines(tofuLog.String(), 40))
		return err
	}
	return nil
}
