package families

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/report"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// ScenarioOptions say how RunScenario reports.
type ScenarioOptions struct {
	// Logf receives progress lines (without the trailing newline); nil: none.
	Logf func(format string, args ...any)
	// OnResult receives each check's result, named <scenario>/<check>, as it ends.
	OnResult func(check.Result)
	// OnRunID is called with the run id once the workspace exists, before
	// anything is applied: a caller that records it can clean up after a crash.
	OnRunID func(runID string)
	// ReportPath, when set, gets the run's summary as JSON (CLOUDPULSE_REPORT).
	ReportPath string
	// State, when set, keeps the run's state in PostgreSQL (tf.Workspace.UsePG).
	State *tf.PGState
}

// RunScenario runs one scenario through terraform-exec: its checks, named
// <scenario>/<check>, and one result <scenario> for the run as a whole
// (precheck, apply, destroy, leftovers). Its steps go to Logf as a table,
// tofu's output only on failure. It also returns the scenario's own result
// (zero when the run did not get to apply).
func RunScenario(ctx context.Context, c *cloud.Cloud, s scenario.Scenario, o ScenarioOptions) ([]check.Result, scenario.Result) {
	name := s.Name()
	whole := check.Result{Name: name, StartedAt: time.Now(), Details: map[string]string{"run_id": s.RunID()}}
	var sres scenario.Result
	finish := func(checks []check.Result, err error) []check.Result {
		whole.Duration = time.Since(whole.StartedAt)
		whole.OK = err == nil
		if err != nil {
			whole.Err, whole.Error = err, err.Error()
		}
		out := make([]check.Result, 0, len(checks)+1)
		for _, r := range checks {
			r.Name = name + "/" + r.Name
			out = append(out, r)
		}
		if o.OnResult != nil {
			o.OnResult(whole)
		}
		return append(out, whole)
	}
	say := o.Logf
	if say == nil {
		say = func(string, ...any) {}
	}
	logf := func(format string, args ...any) { say(name+": "+format, args...) }
	tools, err := tf.FindTools()
	if err != nil {
		return finish(nil, err), sres
	}
	if err := s.Precheck(ctx, c); err != nil {
		return finish(nil, err), sres
	}
	ws, err := scenario.Workspace(s)
	if err != nil {
		return finish(nil, err), sres
	}
	if o.State != nil {
		if err := ws.UsePG(ctx, o.State, s.Fixture()); err != nil {
			return finish(nil, errors.Join(err, ws.Remove())), sres
		}
	}
	if o.OnRunID != nil {
		o.OnRunID(s.RunID())
	}
	var tofuLog bytes.Buffer
	r, err := tf.NewExec(ws, tools, s.TerraformEnv(), &tofuLog)
	if err != nil {
		return finish(nil, err), sres
	}
	if o.State != nil {
		logf("run %s, workspace in %s, state in PostgreSQL (schema %s)", s.RunID(), ws.Root, tf.SchemaName(s.RunID()))
	} else {
		logf("run %s, state in %s", s.RunID(), ws.Root)
	}
	sres = scenario.Run(ctx, c, s, r, scenario.Hooks{Logf: logf, OnResult: func(r check.Result) {
		logf("%-36s %s %s", r.Name, r.Status(), OneLineDetail(r))
		if o.OnResult != nil {
			r.Name = name + "/" + r.Name
			o.OnResult(r)
		}
	}})
	say("%s steps:\n%s", name, strings.TrimRight(sres.Timeline.Table(), "\n"))
	if sres.Err != nil {
		for id, log := range sres.Console {
			say("console log of server %s:\n%s", id, log)
		}
		say("tofu output (last 40 lines):\n%s", LastLines(tofuLog.String(), 40))
	}
	// A report that could not be written fails the run: a pipeline reading it would see a stale one.
	return finish(sres.Checks, errors.Join(sres.Err, WriteReport(o.ReportPath, Summary(sres, c.Name)))), sres
}

// OneLineDetail is r's detail cut at its first line break.
func OneLineDetail(r check.Result) string {
	d := r.Detail()
	if i := strings.IndexByte(d, '\n'); i >= 0 {
		d = d[:i] + " …"
	}
	return d
}

// WriteReport writes the run's summary to path (CLOUDPULSE_REPORT); "" writes none.
func WriteReport(path string, s report.Summary) error {
	if path == "" {
		return nil
	}
	if err := s.WriteJSON(path); err != nil {
		return fmt.Errorf("CLOUDPULSE_REPORT: %w", err)
	}
	return nil
}

// Summary is the report of a scenario run.
func Summary(r scenario.Result, cloudName string) report.Summary {
	var steps []report.Step
	if r.Timeline != nil {
		steps = r.Timeline.Steps()
	}
	return report.Summary{Name: r.Scenario, RunID: r.RunID, Cloud: cloudName, Started: time.Now().Add(-r.Wall),
		Seconds: r.Wall.Seconds(), OK: r.Err == nil, Steps: steps, Overhead: &r.Overhead, Checks: r.Checks, Hosts: scenario.ByHost(r)}
}

// LastLines is s's last n lines.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
