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
	"github.com/cloudpulse/cloudpulse/helpers/operator"
	"github.com/cloudpulse/cloudpulse/helpers/report"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

var families = []string{"endpoint", "operator", "functional", "all"}

type checkFlags struct {
	cloud      string
	serviceMap string
	json       bool
	timeout    time.Duration
	horizonURL string
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
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: cpulse check %s [flags]\n\nFlags:\n", strings.Join(families, "|"))
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
	if !slices.Contains(families, family) {
		fs.Usage()
		return usagef("check what? want one of %s, got %q", strings.Join(families, ", "), family)
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
	var funcRun *scenario.Functional
	if family == "functional" || family == "all" {
		o, err := scenario.FromEnv()
		if err != nil {
			return usagef("%v", err)
		}
		o.Cloud = cfg
		if funcRun, err = scenario.NewFunctional(o); err != nil {
			return usagef("%v", err)
		}
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
	results := runner.Run(ctx, checks...)
	if funcRun != nil {
		results = append(results, runFunctional(ctx, c, funcRun, stderr))
	}

	if f.json {
		err = check.WriteJSON(stdout, results)
	} else {
		err = check.WriteTable(stdout, results)
		if err == nil && family != "functional" {
			fmt.Fprintln(stdout)
			writeLatency(stdout, rec.Stats())
		}
	}
	if err != nil {
		return err
	}
	if !check.Summarize(results).OK() {
		return errChecksFailed
	}
	return nil
}

// runFunctional runs the Functional scenario through terraform-exec as one
// result; its steps go to stderr as a table, tofu's output only on failure.
func runFunctional(ctx context.Context, c *cloud.Cloud, f *scenario.Functional, stderr io.Writer) check.Result {
	res := check.Result{Name: "functional", StartedAt: time.Now()}
	finish := func(err error) check.Result {
		res.Duration = time.Since(res.StartedAt)
		res.OK = err == nil
		if err != nil {
			res.Err, res.Error = err, err.Error()
		}
		return res
	}
	tools, err := tf.FindTools()
	if err != nil {
		return finish(err)
	}
	if err := f.Precheck(ctx, c); err != nil {
		return finish(err)
	}
	ws, err := f.Workspace()
	if err != nil {
		return finish(err)
	}
	var tofuLog bytes.Buffer
	r, err := tf.NewExec(ws, tools, f.TerraformEnv(), &tofuLog)
	if err != nil {
		return finish(err)
	}
	fmt.Fprintf(stderr, "functional: run %s, state in %s\n", f.RunID(), ws.Root)
	out := f.Run(ctx, c, r, scenario.Hooks{Logf: func(format string, args ...any) {
		fmt.Fprintf(stderr, "functional: "+format+"\n", args...)
	}})
	fmt.Fprintf(stderr, "functional steps:\n%s", out.Timeline.Table())
	if out.Err != nil {
		for id, log := range out.Console {
			fmt.Fprintf(stderr, "console log of server %s:\n%s\n", id, log)
		}
		fmt.Fprintf(stderr, "tofu output (last 40 lines):\n%s\n", lastLines(tofuLog.String(), 40))
	}
	// A report that could not be written fails the check: a pipeline reading it would see a stale one.
	return finish(errors.Join(out.Err, writeReport(os.Getenv("CLOUDPULSE_REPORT"), scenarioSummary(out, c.Name))))
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
