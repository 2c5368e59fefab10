package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/families"
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

// upgradeRequest is a phase on cfg in u's state directory, its progress on stderr.
func upgradeRequest(cfg *cloud.Config, u upgradeCommon, stderr io.Writer) families.UpgradeRequest {
	return families.UpgradeRequest{Cloud: cfg, StateDir: u.state, ReportPath: os.Getenv("CLOUDPULSE_REPORT"),
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }}
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
	if !*create && raw == nil {
		return usagef(`upgrade snapshot --create=false: say which resources with --resources FILE: {"project": "<name or id>", "vm": ["<name or id>", ...]}`)
	}
	spec, err := families.ParseSnapshot(*create, raw)
	switch {
	case err != nil && *create:
		return usagef("upgrade snapshot: %s: %v", *resources, err)
	case err != nil:
		return usagef("upgrade snapshot: %v", err)
	}
	out, err := families.UpgradeSnapshot(ctx, upgradeRequest(cfg, u, stderr), spec)
	if err != nil {
		return inputErr(err)
	}
	return printResults(stdout, out.Results, u.json)
}

func upgradeVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newUpgradeFlags("verify", stderr)
	var u upgradeCommon
	u.register(fs)
	var o families.VerifyOptions
	fs.BoolVar(&o.Destroy, "destroy", false, "finish after verifying: destroy what the snapshot built (also when verify fails)")
	fs.BoolVar(&o.Functional, "functional", true, "after verify, run a fresh functional scenario (the control plane still takes new work)")
	if err := parseUpgradeFlags(fs, args); err != nil {
		return err
	}
	cfg, err := cloud.Load(u.cloud)
	if err != nil {
		return usagef("%v", err)
	}
	out, err := families.UpgradeVerify(ctx, upgradeRequest(cfg, u, stderr), o)
	if err != nil {
		return inputErr(err)
	}
	return printResults(stdout, out.Results, u.json)
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
	if err := families.UpgradeFinish(ctx, upgradeRequest(cfg, u, stderr)); err != nil {
		return inputErr(err)
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
