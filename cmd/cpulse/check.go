package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/endpoint"
	"github.com/cloudpulse/cloudpulse/helpers/metrics"
	"github.com/cloudpulse/cloudpulse/helpers/operator"
	"github.com/cloudpulse/cloudpulse/helpers/report"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// families are what cpulse check runs: the API and operator check sets, every
// registered scenario by name, and all of them.
func families() []string {
	return append(append([]string{"endpoint", "operator"}, scenario.Names()...), "all")
}

type checkFlags struct {
	cloud      string
	serviceMap string
	json       bool
	timeout    time.Duration
	horizonURL string
	push       string
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cpulse check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f checkFlags
	fs.StringVar(&f.cloud, "cloud", "", "cloud name in clouds.yaml (default $OS_CLOUD)")
	fs.StringVar(&f.serviceMap, "service-map", os.Getenv("CLOUDPULSE_SERVICE_MAP"), "service map for the operator checks (default $CLOUDPULSE_SERVICE_MAP)")
	fs.BoolVar(&f.json, "json", false, "print results as JSON")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "timeout of each endpoint/operator check")
	fs.StringVar(&f.horizonURL, "horizon-url", os.Getenv("CLOUDPULSE_HORIZON_URL"), "Horizon login URL for the Horizon check (default $CLOUDPULSE_HORIZON_URL; empty: no Horizon check)")
	fs.StringVar(&f.push, "push", os.Getenv("CLOUDPULSE_PUSHGATEWAY"), "push the run's metrics to this Pushgateway URL, group job=cloudpulse,cloud,family (default $CLOUDPULSE_PUSHGATEWAY)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: cpulse check %s [flags]\n\nFlags:\n", strings.Join(families(), "|"))
		fs.PrintDefaults()
	}
	// Accept the family before or after the flags.
	var family string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		family, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	if family == "" && fs.NArg() > 0 {
		family = fs.Arg(0)
	}
	if !slices.Contains(families(), family) {
		fs.Usage()
		return usagef("check what? want one of %s, got %q", strings.Join(families(), ", "), family)
	}

	cfg, err := cloud.Load(f.cloud)
	if err != nil {
		return usagef("%v", err)
	}
	// Bad input is found before anything runs: the service map is read up front.
	var smap *operator.ServiceMap
	if family == "operator" || family == "all" {
		if smap, err = loadServiceMap(f.serviceMap); err != nil {
			return err
		}
	}
	// Every scenario's options are checked before anything runs.
	var runs []scenario.Scenario
	for _, name := range scenario.Names() {
		if family != name && family != "all" {
			continue
		}
		d, err := scenario.Lookup(name)
		if err != nil {
			return usagef("%v", err)
		}
		s, err := d.New(cfg)
		if err != nil {
			return usagef("%v", err)
		}
		runs = append(runs, s)
	}

	rec := cloud.NewLatencyRecorder(cfg.BaseTransport())
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	c, err := cfg.Connect(cctx, cloud.WithTransport(rec))
	cancel()
	if err != nil {
		return err
	}
	rec.LearnCatalogFrom(c.Provider)

	var checks []check.Check
	if family == "endpoint" || family == "all" {
		checks = append(checks, endpoint.Checks(c)...)
		if f.horizonURL != "" {
			checks = append(checks, horizonCheck(f.horizonURL, cfg))
		}
	}
	if smap != nil {
		hosts := operator.NewHosts(smap)
		defer hosts.Close()
		checks = append(checks, operatorChecks(ctx, smap, hosts, c, c.Name)...)
	}
	runner := check.Runner{Timeout: f.timeout}
	started := time.Now()
	results := runner.Run(ctx, checks...)
	for _, s := range runs {
		results = append(results, runScenario(ctx, c, s, len(runs) > 1, stderr)...)
	}

	if f.json {
		err = check.WriteJSON(stdout, results)
	} else {
		err = check.WriteTable(stdout, results)
		if err == nil && len(checks) > 0 {
			fmt.Fprintln(stdout)
			writeLatency(stdout, rec.Stats())
		}
	}
	if err != nil {
		return err
	}
	if f.push != "" { // after the results are printed: a push that fails is an error of its own
		if err := metrics.PushRun(ctx, f.push, cfg.Name, family, results, rec.Requests(), started); err != nil {
			return err
		}
	}
	if !check.Summarize(results).OK() {
		return errChecksFailed
	}
	return nil
}

// runScenario runs one scenario through terraform-exec: its checks, named
// <scenario>/<check>, and one result <scenario> for the run as a whole
// (precheck, apply, destroy, leftovers). Its steps go to stderr as a table,
// tofu's output only on failure.
func runScenario(ctx context.Context, c *cloud.Cloud, s scenario.Scenario, several bool, stderr io.Writer) []check.Result {
	name := s.Name()
	whole := check.Result{Name: name, StartedAt: time.Now(), Details: map[string]string{"run_id": s.RunID()}}
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
		return append(out, whole)
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, name+": "+format+"\n", args...) }
	tools, err := tf.FindTools()
	if err != nil {
		return finish(nil, err)
	}
	if err := s.Precheck(ctx, c); err != nil {
		return finish(nil, err)
	}
	ws, err := scenario.Workspace(s)
	if err != nil {
		return finish(nil, err)
	}
	var tofuLog bytes.Buffer
	r, err := tf.NewExec(ws, tools, s.TerraformEnv(), &tofuLog)
	if err != nil {
		return finish(nil, err)
	}
	logf("run %s, state in %s", s.RunID(), ws.Root)
	out := scenario.Run(ctx, c, s, r, scenario.Hooks{Logf: logf, OnResult: func(r check.Result) {
		logf("%-36s %s %s", r.Name, r.Status(), oneLineDetail(r))
	}})
	fmt.Fprintf(stderr, "%s steps:\n%s", name, out.Timeline.Table())
	if out.Err != nil {
		for id, log := range out.Console {
			fmt.Fprintf(stderr, "console log of server %s:\n%s\n", id, log)
		}
		fmt.Fprintf(stderr, "tofu output (last 40 lines):\n%s\n", lastLines(tofuLog.String(), 40))
	}
	path := os.Getenv("CLOUDPULSE_REPORT")
	if several && path != "" && name != "functional" {
		// one report per scenario: functional's at the path, the others' next to it (x.json → x-comprehensive.json)
		path = strings.TrimSuffix(path, ".json") + "-" + name + ".json"
	}
	// A report that could not be written fails the run: a pipeline reading it would see a stale one.
	return finish(out.Checks, errors.Join(out.Err, writeReport(path, scenarioSummary(out, c.Name))))
}

func oneLineDetail(r check.Result) string {
	d := r.Detail()
	if i := strings.IndexByte(d, '\n'); i >= 0 {
		d = d[:i] + " …"
	}
	return d
}

// writeReport writes the run's summary to path (CLOUDPULSE_REPORT); "" writes none.
func writeReport(path string, s report.Summary) error {
	if path == "" {
		return nil
	}
	if err := s.WriteJSON(path); err != nil {
		return fmt.Errorf("CLOUDPULSE_REPORT: %w", err)
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
