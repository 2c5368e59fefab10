package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/families"
	"github.com/cloudpulse/cloudpulse/helpers/report"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// families are what cpulse check runs: the API and operator check sets, every
// registered scenario by name, and all of them.
func familyNames() []string { return families.Names() }

type checkFlags struct {
	cloud      string
	serviceMap string
	json       bool
	timeout    time.Duration
	horizonURL string
	push       string
	interval   time.Duration
}

// checkFlagSet is cpulse check's flags, into f.
func checkFlagSet(stderr io.Writer, f *checkFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("cpulse check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.cloud, "cloud", "", "cloud name in clouds.yaml (default $OS_CLOUD)")
	fs.StringVar(&f.serviceMap, "service-map", os.Getenv("CLOUDPULSE_SERVICE_MAP"), "service map for the operator checks (default $CLOUDPULSE_SERVICE_MAP)")
	fs.BoolVar(&f.json, "json", false, "print results as JSON")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "timeout of each endpoint/operator check")
	fs.StringVar(&f.horizonURL, "horizon-url", os.Getenv("CLOUDPULSE_HORIZON_URL"), "Horizon login URL for the Horizon check (default $CLOUDPULSE_HORIZON_URL; empty: no Horizon check)")
	fs.StringVar(&f.push, "push", os.Getenv("CLOUDPULSE_PUSHGATEWAY"), "push the run's metrics to this Pushgateway URL, group job=cloudpulse,cloud,family (default $CLOUDPULSE_PUSHGATEWAY)")
	fs.DurationVar(&f.interval, "interval", 0, "with --push: how often this check runs (e.g. 10m), pushed as cloudpulse_run_interval_seconds so that the alert on missed runs works (default $CLOUDPULSE_PUSH_INTERVAL; none: not pushed)")
	return fs
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f checkFlags
	fs := checkFlagSet(stderr, &f)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: cpulse check %s [flags]\n\nFlags:\n", strings.Join(familyNames(), "|"))
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
	if err := pushInterval(fs, &f); err != nil {
		return err
	}
	if family == "" && fs.NArg() > 0 {
		family = fs.Arg(0)
	}
	if !slices.Contains(familyNames(), family) {
		fs.Usage()
		return usagef("check what? want one of %s, got %q", strings.Join(familyNames(), ", "), family)
	}

	cfg, err := cloud.Load(f.cloud)
	if err != nil {
		return usagef("%v", err)
	}
	// Bad input (service map, scenario options) is found before anything runs.
	plan, err := families.Prepare(families.Request{Cloud: cfg, Family: family, Timeout: f.timeout,
		ServiceMap: f.serviceMap, HorizonURL: f.horizonURL, ReportPath: os.Getenv("CLOUDPULSE_REPORT"),
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }})
	if err != nil {
		return inputErr(err)
	}
	started := time.Now()
	out, err := plan.Run(ctx)
	if err != nil {
		return err
	}
	results := out.Results

	if f.json {
		err = check.WriteJSON(stdout, results)
	} else {
		err = check.WriteTable(stdout, results)
		if err == nil && out.Checks > 0 {
			fmt.Fprintln(stdout)
			writeLatency(stdout, out.Latency)
		}
	}
	if err != nil {
		return err
	}
	if f.push != "" { // after the results are printed: a push that fails is an error of its own
		if err := pushCheck(ctx, f, cfg.Name, family, results, out.Requests, started); err != nil {
			return err
		}
	}
	if !check.Summarize(results).OK() {
		return errChecksFailed
	}
	return nil
}

// runScenario runs one scenario (the upgrade gate's phases): see families.RunScenario.
func runScenario(ctx context.Context, c *cloud.Cloud, s scenario.Scenario, several bool, stderr io.Writer) []check.Result {
	path := os.Getenv("CLOUDPULSE_REPORT")
	if several && path != "" && s.Name() != "functional" {
		path = strings.TrimSuffix(path, ".json") + "-" + s.Name() + ".json"
	}
	results, _ := families.RunScenario(ctx, c, s, families.ScenarioOptions{ReportPath: path,
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }})
	return results
}

// inputErr makes the families' bad-input errors usage errors (exit 2).
func inputErr(err error) error {
	if families.IsInput(err) {
		return usagef("%v", err)
	}
	return err
}

func oneLineDetail(r check.Result) string { return families.OneLineDetail(r) }

// writeReport writes the run's summary to path (CLOUDPULSE_REPORT); "" writes none.
func writeReport(path string, s report.Summary) error { return families.WriteReport(path, s) }

func lastLines(s string, n int) string { return families.LastLines(s, n) }
