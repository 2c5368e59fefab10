package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

const upgradeUsage = `Usage: cpulse upgrade snapshot|verify|watch|finish [flags]

The upgrade gate, as three jobs of a release pipeline:
  cpulse upgrade snapshot   pre job: build fixtures/upgrade (or --create=false: read existing resources),
                            validate, observe, keep everything in the state directory
  cpulse upgrade watch      during the upgrade: probe every data-plane path every 200 ms until stopped
                            (SIGINT/SIGTERM or --duration); downtime per path as JSON and SVG
  cpulse upgrade verify     post job: the same validations, no drift, same ids/hosts/boots, data intact,
                            then a fresh functional run; --destroy tears down after
  cpulse upgrade finish     destroy what the snapshot built and empty the state directory

The state directory ($CLOUDPULSE_UPGRADE_STATE or --state) holds the run's ssh key and OpenTofu state:
hand it on as a protected artifact. Run "cpulse upgrade <command> -h" for flags.
`

func runUpgrade(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" {
		fmt.Fprint(stderr, upgradeUsage)
		return usagef("upgrade what? want snapshot, verify, watch or finish")
	}
	switch args[0] {
	case "snapshot":
		return upgradeSnapshot(ctx, args[1:], stdout, stderr)
	case "verify":
		return upgradeVerify(ctx, args[1:], stdout, stderr)
	case "watch":
		return upgradeWatch(ctx, args[1:], stdout, stderr)
	case "finish":
		return upgradeFinish(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, upgradeUsage)
		return nil
	}
	fmt.Fprint(stderr, upgradeUsage)
	return usagef("unknown upgrade command %q: want snapshot, verify, watch or finish", args[0])
}

// upgradeCommon are the flags every upgrade command has.
type upgradeCommon struct {
	cloud string
	state string
	json  bool
}

func (u *upgradeCommon) register(fs *flag.FlagSet) {
	fs.StringVar(&u.cloud, "cloud", "", "cloud name in clouds.yaml (default $OS_CLOUD)")
	fs.StringVar(&u.state, "state", os.Getenv("CLOUDPULSE_UPGRADE_STATE"), "the snapshot's state directory (default $CLOUDPULSE_UPGRADE_STATE); secret: keep it private")
	fs.BoolVar(&u.json, "json", false, "print results as JSON")
}

func newUpgradeFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("cpulse upgrade "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseUpgradeFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", strings.TrimPrefix(fs.Name(), "cpulse "), fs.Arg(0))
	}
	return nil
}

// phaseOptions: OpenTofu of this machine, its output kept for errors.
func phaseOptions(cfg *cloud.Config, log io.Writer, stderr io.Writer, name string) (scenario.PhaseOptions, error) {
	tools, err := tf.FindTools()
	if err != nil {
		return scenario.PhaseOptions{}, err
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, name+": "+format+"\n", args...) }
	return scenario.PhaseOptions{Tools: tools, Env: cfg.TerraformEnv(), Log: log, Logf: logf, OnResult: func(r check.Result) {
		logf("%-36s %s %s", r.Name, r.Status(), oneLineDetail(r))
	}}, nil
}

func connectCloud(ctx context.Context, cfg *cloud.Config) (*cloud.Cloud, error) {
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return cfg.Connect(cctx)
}

func upgradeSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newUpgradeFlags("snapshot", stderr)
	var u upgradeCommon
	u.register(fs)
	resources := fs.String("resources", "", `what to build, as JSON: {"image": [...], "vm": [...], "net": [...], "router": [...], "connections": [["vm1","vm2"]]}; with --create=false: {"project": ..., "vm": [names or ids]}`)
	create := fs.Bool("create", true, "build the resources; false: snapshot existing ones read-only (never modified or destroyed)")
	if err := parseUpgradeFlags(fs, args); err != nil {
		return err
	}
	if u.state == "" {
		return usagef("upgrade snapshot: no state directory: set CLOUDPULSE_UPGRADE_STATE or --state to a private directory for the snapshot")
	}
	var raw []byte
	if *resources != "" {
		b, err := os.ReadFile(*resources)
		if err != nil {
			return usagef("upgrade snapshot: --resources: %v", err)
		}
		raw = b
	}
	cfg, err := cloud.Load(u.cloud)
	if err != nil {
		return usagef("%v", err)
	}
	if !*create {
		return snapshotExisting(ctx, cfg, u, raw, stdout, stderr)
	}
	var res scenario.Resources
	if raw != nil {
		if res, err = scenario.ParseResources(raw); err != nil {
			return usagef("upgrade snapshot: %s: %v", *resources, err)
		}
	}
	o, err := scenario.FromEnv()
	if err != nil {
		return usagef("%v", err)
	}
	o.Cloud = cfg
	up, err := scenario.NewUpgrade(scenario.UpgradeOptions{FunctionalOptions: o, Resources: res, StateDir: u.state})
	if err != nil {
		return usagef("%v", err)
	}
	c, err := connectCloud(ctx, cfg)
	if err != nil {
		return err
	}
	results := runScenario(ctx, c, up, false, stderr)
	if whole := results[len(results)-1]; whole.OK {
		ws, err := tf.OpenWorkspace(findWorkspace(up.StateDir(), up.RunID()))
		if err == nil {
			var po scenario.PhaseOptions
			var tofuLog bytes.Buffer
			if po, err = phaseOptions(cfg, &tofuLog, stderr, "snapshot"); err == nil {
				err = up.Save(ctx, cfg.Name, ws, po)
			}
			err = errors.Join(err, ws.Release())
			if err != nil {
				fmt.Fprintf(stderr, "tofu output (last 40 lines):\n%s\n", lastLines(tofuLog.String(), 40))
			}
		}
		if err != nil {
			results[len(results)-1].OK, results[len(results)-1].Err, results[len(results)-1].Error = false, err, err.Error()
		} else {
			fmt.Fprintf(stderr, "upgrade: snapshot of run %s kept in %s (secret: the run's ssh key and state; pass it on as a protected artifact)\n", up.RunID(), up.StateDir())
		}
	}
	return printResults(stdout, results, u.json)
}

// findWorkspace is the snapshot's workspace directory (upgrade-<run id>).
func findWorkspace(dir, runID string) string {
	return strings.TrimRight(dir, "/") + "/upgrade-" + runID
}

func upgradeVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newUpgradeFlags("verify", stderr)
	var u upgradeCommon
	u.register(fs)
	destroy := fs.Bool("destroy", false, "finish after verifying: destroy what the snapshot built (also when verify fails)")
	functional := fs.Bool("functional", true, "after verify, run a fresh functional scenario (the control plane still takes new work)")
	if err := parseUpgradeFlags(fs, args); err != nil {
		return err
	}
	cfg, err := cloud.Load(u.cloud)
	if err != nil {
		return usagef("%v", err)
	}
	if _, err := scenario.LoadSnapshot(u.state, ""); err != nil {
		return usagef("%v", err)
	}
	var fresh scenario.Scenario
	if *functional {
		d, err := scenario.Lookup("functional")
		if err != nil {
			return err
		}
		if fresh, err = d.New(cfg); err != nil {
			return usagef("%v", err)
		}
	}
	c, err := connectCloud(ctx, cfg)
	if err != nil {
		return err
	}
	var tofuLog bytes.Buffer
	po, err := phaseOptions(cfg, &tofuLog, stderr, "verify")
	if err != nil {
		return err
	}
	res, err := scenario.Verify(ctx, c, u.state, po)
	if err != nil {
		fmt.Fprintf(stderr, "tofu output (last 40 lines):\n%s\n", lastLines(tofuLog.String(), 40))
		return err
	}
	fmt.Fprintf(stderr, "verify steps:\n%s", res.Timeline.Table())
	results := res.Checks
	if fresh != nil {
		results = append(results, runScenario(ctx, c, fresh, false, stderr)...)
	}
	if *destroy {
		fr := check.Result{Name: "finish", StartedAt: time.Now()}
		ferr := scenario.Finish(ctx, c, u.state, po)
		fr.Duration, fr.OK = time.Since(fr.StartedAt), ferr == nil
		if ferr != nil {
			fr.Err, fr.Error = ferr, ferr.Error()
		}
		results = append(results, fr)
	}
	return printResults(stdout, results, u.json)
}

func upgradeFinish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newUpgradeFlags("finish", stderr)
	var u upgradeCommon
	u.register(fs)
	if err := parseUpgradeFlags(fs, args); err != nil {
		return err
	}
	cfg, err := cloud.Load(u.cloud)
	if err != nil {
		return usagef("%v", err)
	}
	if _, err := scenario.LoadSnapshot(u.state, ""); err != nil {
		return usagef("%v", err)
	}
	c, err := connectCloud(ctx, cfg)
	if err != nil {
		return err
	}
	var tofuLog bytes.Buffer
	po, err := phaseOptions(cfg, &tofuLog, stderr, "finish")
	if err != nil {
		return err
	}
	if err := scenario.Finish(ctx, c, u.state, po); err != nil {
		fmt.Fprintf(stderr, "tofu output (last 40 lines):\n%s\n", lastLines(tofuLog.String(), 40))
		return err
	}
	fmt.Fprintf(stdout, "upgrade: finished: everything the snapshot built is destroyed and %s is empty\n", u.state)
	return nil
}

func printResults(stdout io.Writer, results []check.Result, asJSON bool) error {
	var err error
	if asJSON {
		err = check.WriteJSON(stdout, results)
	} else {
		err = check.WriteTable(stdout, results)
	}
	if err != nil {
		return err
	}
	if !check.Summarize(results).OK() {
		return errChecksFailed
	}
	return nil
}
