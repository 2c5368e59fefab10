package scenario

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/report"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// Scenario is one run of a named scenario: a fixture, its variables, the
// checks that run before anything is built and the validations that run
// against the fixture's outputs. Functional and Comprehensive are two of them;
// go test (terratest), cpulse check (terraform-exec) and the service run any
// of them through Run.
type Scenario interface {
	Name() string                    // the registry name: "functional", "comprehensive"
	RunID() string                   // cp<MMDDhhmm>-<8 hex>
	Fixture() string                 // the fixture directory, relative to the repository: "fixtures/<name>"
	Vars() map[string]any            // the fixture's variables
	Secrets() []string               // values no log may show
	TerraformEnv() map[string]string // OS_* for OpenTofu's provider
	Timeouts() Timeouts

	// Precheck makes only read calls: everything the run needs and the cloud
	// lacks (image, flavor, network, quota) is reported at once, before
	// anything is created. It may fill in what Vars needs from the cloud (the
	// hypervisors to pin to). A scenario that learns verdicts before apply (a
	// disabled host skipped, a down host failed) also implements
	// PrecheckResults.
	Precheck(ctx context.Context, c *cloud.Cloud) error

	// Validations reads the fixture's outputs and returns what to check.
	Validations(ctx context.Context, c *cloud.Cloud, out tf.Outputs, logf func(string, ...any)) (*Suite, error)
}

// Timeouts bound a run's phases; under a deadline (ctx's) they are upper
// bounds, see FitBudget.
type Timeouts struct {
	Apply    time.Duration // default 20m
	Validate time.Duration // per check; default 5m
	Destroy  time.Duration // default 15m
}

// Suite is what a scenario checks after apply: stages, one after another.
type Suite struct {
	Stages []Stage
	// ServerIDs are the run's servers: their console logs are kept when a
	// check fails.
	ServerIDs []string
	// HostKeys, when set, says afterwards how each server's ssh host key was checked.
	HostKeys *probe.HostKeys
}

// Stage is a set of checks run through one check.Runner.
type Stage struct {
	Name   string
	Checks []check.Check
	// Concurrency is how many checks of the stage run at once (1: in order).
	Concurrency int
	// StopOnFailure: the first failure ends the suite. The stage's checks not
	// yet started and all later stages are reported as skipped, naming the
	// failure (Functional: later steps build on earlier ones, Tempest's
	// order). Without it every check of the stage runs and is reported (an
	// allowed/blocked matrix) and the next stage still runs.
	StopOnFailure bool
}

// Hooks let a caller see progress. All are optional.
type Hooks struct {
	// Logf receives progress lines.
	Logf func(format string, args ...any)
	// OnResult receives each check's result as soon as it ends (concurrently
	// from the stage's goroutines when Concurrency > 1).
	OnResult func(check.Result)
	// Extra adds checks of the caller's as a first stage (stop on failure).
	Extra func(out tf.Outputs) []check.Check
	// AfterChecks runs once the suite has run, before destroy, with the
	// fixture's outputs: a fault test breaks something in the live system
	// (out names it) and calls rerun to run the suite's
	// checks again (only those whose names start with one of prefixes; all
	// without prefixes) on the same apply. Rerun results are not the run's.
	AfterChecks func(ctx context.Context, out tf.Outputs, rerun func(ctx context.Context, prefixes ...string) []check.Result)
}

// Result is what a run measured.
type Result struct {
	Scenario  string
	RunID     string
	Err       error
	Checks    []check.Result // every check's verdict: precheck verdicts, then the suite's, in order
	Stages    []StageRun     // the suite's stages as they ran, one after another
	Timeline  *report.Timeline
	Leftovers []string // resources still tagged with the run id after destroy
	Console   map[string]string
	Faults    []string           // servers not ACTIVE after a failed apply, with Nova's fault
	HostKeys  []probe.HostKeyPin // how each server's ssh host key was checked: from its console, or on first use
	Wall      time.Duration
	Overhead  report.Overhead
}

// StageRun is one stage of a run's suite: when it ran and which of the run's
// results (Result.Checks[First:End]) are its checks.
type StageRun struct {
	Name       string
	Started    time.Time
	Duration   time.Duration
	First, End int
}

// PrecheckResults is implemented by a scenario whose Precheck found verdicts
// before apply; Run reports them first.
type PrecheckResults interface {
	PrecheckResults() []check.Result
}

// Failed returns the failed checks' results.
func (r Result) Failed() []check.Result { return check.Failures(r.Checks) }

// Parallel is implemented by a scenario that caps how many resources OpenTofu
// creates at once (comprehensive: CLOUDPULSE_MAX_PARALLEL VMs boot at a time,
// so a 300-host cloud is covered in batches).
type Parallel interface {
	Parallelism() int
}

// Keeper is implemented by a scenario whose successful run keeps what it
// built (the upgrade's pre phase): no destroy, no leftover check, and the
// workspace is released for the post phase (another process, later).
type Keeper interface {
	KeepOnSuccess() bool
}

// StateRooter is implemented by a scenario whose workspace lives in a
// directory of its own (the upgrade's state directory) instead of state/runs.
type StateRooter interface {
	StateRoot() string
}

// Workspace copies s's fixture into a private state directory with its variables.
func Workspace(s Scenario) (*tf.Workspace, error) {
	o := tf.WorkspaceOptions{Fixture: s.Fixture(), RunID: s.RunID(), Vars: s.Vars(), Secrets: s.Secrets()}
	if p, ok := s.(Parallel); ok {
		o.Parallelism = p.Parallelism()
	}
	if r, ok := s.(StateRooter); ok {
		o.StateRoot = r.StateRoot()
	}
	return tf.NewWorkspace(o)
}

// Run runs a scenario whose Precheck has passed: it applies the fixture
// through r, runs the suite, destroys (armed before apply) and then looks for
// anything left with the run's tag or name.
func Run(ctx context.Context, c *cloud.Cloud, s Scenario, r tf.Runner, h Hooks) Result {
	if h.Logf == nil {
		h.Logf = func(string, ...any) {}
	}
	var pre []check.Result
	if p, ok := s.(PrecheckResults); ok {
		pre = p.PrecheckResults()
		for _, r := range pre {
			if h.OnResult != nil {
				h.OnResult(r)
			}
		}
	}
	res := Result{Scenario: s.Name(), RunID: s.RunID(), Timeline: &report.Timeline{}, Console: map[string]string{}, Checks: append([]check.Result(nil), pre...)}
	// Destroy and the leftover check run after ctx ends: fit all in its deadline.
	budget, err := BudgetFor(ctx, s.Name(), s.Timeouts())
	if err != nil {
		res.Err = err
		// nothing was applied: a workspace without state is not a run to clean up later
		if ws := r.Workspace(); ws != nil && ws.Root != "" && !fileExists(filepath.Join(ws.Dir, "terraform.tfstate")) {
			res.Err = errors.Join(err, ws.Remove())
		}
		return res
	}
	cpu0 := harnessCPU()
	start := time.Now()
	var known []Scope // the project the run built in, once its outputs are read
	ctx, cancel := context.WithTimeout(ctx, budget.Run)
	defer cancel()
	keep := false
	if k, ok := s.(Keeper); ok {
		keep = k.KeepOnSuccess()
	}
	res.Err = tf.Lifecycle(ctx, r, tf.LifecycleOptions{
		KeepOnSuccess:  keep,
		DestroyTimeout: budget.Destroy,
		ApplyGrace:     budget.Grace,
		OnStep: func(step string, d time.Duration, err error) {
			if step != "validate" { // checks are timed one by one below
				res.Timeline.Add("tofu "+step, time.Now().Add(-d), d, err)
			}
			if step == "apply" && err != nil { // before destroy removes the evidence
				res.Faults = serverFaults(context.WithoutCancel(ctx), c, s.RunID())
				for _, fault := range res.Faults {
					h.Logf("%s", fault)
				}
			}
			h.Logf("%s: %.1fs %v", step, d.Seconds(), errOrOK(err))
		},
	}, func(ctx context.Context, out tf.Outputs) error {
		known = outputScope(out)
		suite, err := s.Validations(ctx, c, out, h.Logf)
		if err != nil {
			return err
		}
		if suite.HostKeys != nil {
			defer func() { res.HostKeys = suite.HostKeys.Pins() }()
		}
		if h.Extra != nil {
			if extra := h.Extra(out); len(extra) > 0 {
				suite.Stages = append([]Stage{{Name: "extra", Checks: extra, Concurrency: 1, StopOnFailure: true}}, suite.Stages...)
			}
		}
		results, stages := runSuite(ctx, suite.Stages, s.Timeouts().Validate, res.Timeline, h.OnResult)
		for _, st := range stages {
			st.First, st.End = st.First+len(res.Checks), st.End+len(res.Checks)
			res.Stages = append(res.Stages, st)
		}
		res.Checks = append(res.Checks, results...)
		if h.AfterChecks != nil {
			h.AfterChecks(ctx, out, func(ctx context.Context, prefixes ...string) []check.Result {
				return runStages(ctx, only(suite.Stages, prefixes), s.Timeouts().Validate, &report.Timeline{}, nil)
			})
		}
		failed := check.Failures(results)
		if len(failed) == 0 {
			return nil
		}
		res.Console = consoleLogs(context.WithoutCancel(ctx), c, suite.ServerIDs)
		names := make([]string, len(failed))
		for i, f := range failed {
			names[i] = f.Name
		}
		if len(failed) == 1 {
			return fmt.Errorf("%s: %s", failed[0].Name, failed[0].Error)
		}
		return fmt.Errorf("%d checks failed: %s (first: %s: %s)", len(failed), strings.Join(names, ", "), failed[0].Name, failed[0].Error)
	})
	res.Wall = time.Since(start)
	if keep && res.Err == nil {
		// kept for a later phase: everything built is meant to be there
		res.Err = r.Workspace().Release()
		res.Overhead = overhead(res.Wall, harnessCPU()-cpu0)
		return res
	}
	lctx, lcancel := context.WithTimeout(context.WithoutCancel(ctx), budget.Leftovers)
	defer lcancel()
	done := res.Timeline.Start("no leftovers")
	// A failed or interrupted apply can leave what OpenTofu never recorded: a
	// create whose response was lost when the run was cancelled (a floating IP
	// neutron made, not yet tagged). Find looks for the run's tag and for names
	// (floating IPs: descriptions) that start with the run's prefix, in the
	// run's projects only.
	var left []string
	lerr := probe.WaitFor(lctx, 5*time.Second, func(ctx context.Context) (bool, error) {
		found, err := Find(ctx, c, s.RunID(), known...) // retried only when the cloud does not answer
		left = left[:0]
		for _, r := range found {
			left = append(left, r.String())
		}
		return err == nil, err
	})
	res.Leftovers = left
	if lerr == nil && len(left) > 0 {
		lerr = fmt.Errorf("%d resources of run %s (tagged %s or named %s…) remain after destroy: %v", len(left), s.RunID(), RunTag(s.RunID()), NamePrefix(s.RunID()), left)
		// a leak is reported, and not left in the cloud
		if swept, err := Sweep(lctx, c, s.RunID(), known...); err != nil {
			lerr = fmt.Errorf("%w; deleting them through the APIs failed too: %v", lerr, err)
		} else {
			h.Logf("deleted the %d leaked resources through the APIs", len(swept))
		}
	}
	done(lerr)
	if len(res.Faults) > 0 {
		res.Err = fmt.Errorf("%w\nservers: %s", res.Err, strings.Join(res.Faults, "; "))
	}
	if res.Err == nil {
		// a verdict known before apply (a host that is down) fails the run too
		if failed := check.Failures(pre); len(failed) > 0 {
			res.Err = fmt.Errorf("%s: %s", failed[0].Name, failed[0].Error)
		}
	}
	res.Err = errors.Join(res.Err, lerr)
	res.Overhead = overhead(res.Wall, harnessCPU()-cpu0)
	return res
}

// runStages runs the stages in order, each through a check.Runner, and times
// each check on tl.
func runStages(ctx context.Context, stages []Stage, timeout time.Duration, tl *report.Timeline, onResult func(check.Result)) []check.Result {
	all, _ := runSuite(ctx, stages, timeout, tl, onResult)
	return all
}

// runSuite is runStages that also says when each stage ran and which results
// are its (StageRun, relative to the results returned).
func runSuite(ctx context.Context, stages []Stage, timeout time.Duration, tl *report.Timeline, onResult func(check.Result)) ([]check.Result, []StageRun) {
	var all []check.Result
	var runs []StageRun
	endRun := func() { // the stage before ends where the next begins
		if n := len(runs); n > 0 {
			runs[n-1].Duration, runs[n-1].End = time.Since(runs[n-1].Started), len(all)
		}
	}
	var stop string // the failure that ends the suite
	for _, st := range stages {
		endRun()
		runs = append(runs, StageRun{Name: st.Name, Started: time.Now(), First: len(all)})
		if stop != "" {
			for _, c := range st.Checks {
				all = append(all, skipped(c, stop, onResult))
			}
			continue
		}
		n := st.Concurrency
		if n <= 0 {
			n = len(st.Checks)
		}
		if st.StopOnFailure && n == 1 {
			// in order: the first failure skips the rest
			for _, c := range st.Checks {
				if stop != "" {
					all = append(all, skipped(c, stop, onResult))
					continue
				}
				r := runTimed(ctx, c, timeout, tl, onResult)
				all = append(all, r)
				if r.Status() == check.Failed {
					stop = r.Name + " failed"
				}
			}
			continue
		}
		runner := check.Runner{Timeout: timeout, Concurrency: n, OnResult: func(r check.Result) {
			tl.Add(r.Name, r.StartedAt, r.Duration, resultErr(r))
			if onResult != nil {
				onResult(r)
			}
		}}
		results := runner.Run(ctx, st.Checks...)
		all = append(all, results...)
		if st.StopOnFailure {
			if failed := check.Failures(results); len(failed) > 0 {
				stop = failed[0].Name + " failed"
			}
		}
	}
	endRun()
	return all, runs
}

// only keeps the checks whose names start with one of prefixes (all when none).
func only(stages []Stage, prefixes []string) []Stage {
	if len(prefixes) == 0 {
		return stages
	}
	var out []Stage
	for _, st := range stages {
		var keep []check.Check
		for _, c := range st.Checks {
			for _, p := range prefixes {
				if strings.HasPrefix(c.Name, p) {
					keep = append(keep, c)
					break
				}
			}
		}
		if len(keep) > 0 {
			st.Checks = keep
			out = append(out, st)
		}
	}
	return out
}

func runTimed(ctx context.Context, c check.Check, timeout time.Duration, tl *report.Timeline, onResult func(check.Result)) check.Result {
	r := check.Runner{Timeout: timeout, Concurrency: 1}.RunOne(ctx, c)
	tl.Add(r.Name, r.StartedAt, r.Duration, resultErr(r))
	if onResult != nil {
		onResult(r)
	}
	return r
}

func skipped(c check.Check, why string, onResult func(check.Result)) check.Result {
	r := check.Result{Name: c.Name, Skipped: true, Reason: "not run: " + why, StartedAt: time.Now(), Details: c.Details}
	if onResult != nil {
		onResult(r)
	}
	return r
}

func resultErr(r check.Result) error {
	switch r.Status() {
	case check.Failed:
		return errors.New(r.Error)
	case check.Skipped:
		return check.Skip(r.Reason)
	}
	return nil
}

func errOrOK(err error) any {
	if err == nil {
		return "ok"
	}
	return err
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
