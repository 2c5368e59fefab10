package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/apiclient"
)

// remoteTypes are the check types the service runs (API12.md).
var remoteTypes = []string{"operator", "endpoint", "functional", "comprehensive", "upgrade", "all"}

const noServer = "needs a server: give --server URL (before the command), set $CPULSE_SERVER, or put server: in ~/.cpulserc"

// runRemote runs the commands that talk to a service: result and results
// always, check and upgrade snapshot|create|verify when a server is named.
// handled is false when the command is local.
func runRemote(ctx context.Context, g globalFlags, args []string, stdout, stderr io.Writer) (handled bool, err error) {
	if len(args) == 0 {
		return false, nil
	}
	cmd := args[0]
	switch cmd {
	case "result", "results", "cancel", "check", "upgrade":
	default:
		if g != (globalFlags{}) {
			return true, usagef("%s does not talk to a server: drop --server/--token-file", cmd)
		}
		return false, nil
	}
	c, err := remoteClient(g)
	if err != nil {
		return true, err
	}
	switch {
	case cmd == "result" || cmd == "results" || cmd == "cancel":
		if c == nil {
			return true, usagef("cpulse %s %s", cmd, noServer)
		}
		switch cmd {
		case "result":
			return true, remoteResult(ctx, c, args[1:], stdout, stderr)
		case "cancel":
			return true, remoteCancel(ctx, c, args[1:], stdout, stderr)
		}
		return true, remoteResults(ctx, c, args[1:], stdout, stderr)
	case c == nil:
		return false, nil
	case cmd == "check":
		return true, remoteCheck(ctx, c, args[1:], stdout, stderr)
	default:
		return true, remoteUpgrade(ctx, c, args[1:], stdout, stderr)
	}
}

func newRemoteFlags(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("cpulse "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: cpulse --server URL %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseWithArg parses flags given before or after one positional argument.
func parseWithArg(fs *flag.FlagSet, args []string) (string, error) {
	var arg string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		arg, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", usagef("%v", err)
	}
	if arg == "" && fs.NArg() > 0 {
		arg = fs.Arg(0)
		if fs.NArg() > 1 {
			return "", usagef("%s: unexpected argument %q", strings.TrimPrefix(fs.Name(), "cpulse "), fs.Arg(1))
		}
	} else if fs.NArg() > 0 {
		return "", usagef("%s: unexpected argument %q", strings.TrimPrefix(fs.Name(), "cpulse "), fs.Arg(0))
	}
	return arg, nil
}

// waitFlags are how --wait follows a run.
type waitFlags struct {
	wait    bool
	poll    time.Duration
	timeout time.Duration
	json    bool
}

func (w *waitFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&w.wait, "wait", false, "follow the run to its end, print its result, exit 0 passed / 1 otherwise")
	fs.DurationVar(&w.poll, "poll", 2*time.Second, "with --wait: how often to ask")
	fs.DurationVar(&w.timeout, "timeout", 3*time.Hour, "with --wait: give up waiting after this long (the run goes on)")
	fs.BoolVar(&w.json, "json", false, "print JSON: the handle's answer, or with --wait the result")
}

func (w *waitFlags) check() error {
	if w.poll <= 0 || w.timeout <= 0 {
		return usagef("--poll and --timeout: give positive durations such as 2s and 1h")
	}
	return nil
}

func remoteCheck(ctx context.Context, c *apiclient.Client, args []string, stdout, stderr io.Writer) error {
	fs := newRemoteFlags("check", stderr, "check "+strings.Join(remoteTypes, "|")+" [flags]")
	var req apiclient.CheckRequest
	var w waitFlags
	fs.StringVar(&req.Cloud, "cloud", "", "cloud name in the service's configuration (default: its only cloud)")
	fs.StringVar(&req.Snapshot, "snapshot", "", "type upgrade: the handle of the snapshot to verify (cpulse upgrade snapshot printed it)")
	fs.StringVar(&req.Snapshot, "handle", "", "type upgrade: the same as --snapshot")
	fs.BoolVar(&req.Destroy, "destroy", false, "type upgrade: finish after verifying: destroy what the snapshot built")
	functional := fs.Bool("functional", true, "type upgrade: after verify, a fresh functional run (default: the service's, true for a snapshot that built its resources)")
	w.register(fs)
	typ, err := parseWithArg(fs, args)
	if err != nil {
		return err
	}
	if !slices.Contains(remoteTypes, typ) {
		fs.Usage()
		return usagef("check what? want one of %s, got %q", strings.Join(remoteTypes, ", "), typ)
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "functional" {
			req.Functional = functional
		}
	})
	if (typ == "upgrade") != (req.Snapshot != "") {
		return usagef("check: --snapshot goes with type upgrade, and type upgrade needs --snapshot (the snapshot's handle)")
	}
	if typ != "upgrade" && (req.Destroy || req.Functional != nil) {
		return usagef("check: --destroy and --functional go with type upgrade")
	}
	if err := w.check(); err != nil {
		return err
	}
	req.Type = typ
	a, err := c.Check(ctx, req)
	if err != nil {
		return err
	}
	return followRun(ctx, c, a.Handle, a, w, stdout, stderr)
}

// followRun prints the handle (or the answer as JSON), or with --wait follows
// the run and prints its result.
func followRun(ctx context.Context, c *apiclient.Client, handle string, answer any, w waitFlags, stdout, stderr io.Writer) error {
	if a, ok := answer.(*apiclient.Accepted); ok && a.Joined {
		fmt.Fprintf(stderr, "joined the %s run on %s already %s\n", a.Type, a.Cloud, a.State)
	}
	if !w.wait {
		if w.json {
			return writeJSON(stdout, answer)
		}
		_, err := fmt.Fprintln(stdout, handle)
		return err
	}
	fmt.Fprintf(stderr, "%s: waiting (cpulse result %s)\n", handle, handle)
	wctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	r, err := c.Wait(wctx, handle, w.poll, func(r *apiclient.Result) { fmt.Fprintf(stderr, "%s: %s\n", handle, r.State) })
	if err != nil {
		if wctx.Err() != nil {
			return fmt.Errorf("%w; the run goes on: cpulse result %s", err, handle)
		}
		return err
	}
	if w.json {
		if err := writeJSON(stdout, r); err != nil {
			return err
		}
	} else if err := writeResult(stdout, stderr, r); err != nil {
		return err
	}
	return runStatus(r)
}

// runStatus is nil for a passed run, errChecksFailed for a failed one (the
// table says why) and an error naming the state otherwise.
func runStatus(r *apiclient.Result) error {
	switch r.State {
	case apiclient.Passed:
		return nil
	case apiclient.Failed:
		return errChecksFailed
	}
	msg := fmt.Sprintf("run %s ended %s", r.Handle, r.State)
	if r.Error != "" {
		msg += ": " + r.Error
	}
	return errors.New(msg)
}

func remoteResult(ctx context.Context, c *apiclient.Client, args []string, stdout, stderr io.Writer) error {
	fs := newRemoteFlags("result", stderr, "result HANDLE [--json]")
	asJSON := fs.Bool("json", false, "print the result as the service's JSON")
	handle, err := parseWithArg(fs, args)
	if err != nil {
		return err
	}
	if handle == "" {
		fs.Usage()
		return usagef("result of what? give the handle that cpulse check printed")
	}
	r, err := c.Result(ctx, handle)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, r)
	}
	return writeResult(stdout, stderr, r)
}

// remoteCancel asks the service to cancel a run; its scenario destroys what
// it built. It prints the handle and the state the service answered.
func remoteCancel(ctx context.Context, c *apiclient.Client, args []string, stdout, stderr io.Writer) error {
	fs := newRemoteFlags("cancel", stderr, "cancel HANDLE")
	handle, err := parseWithArg(fs, args)
	if err != nil {
		return err
	}
	if handle == "" {
		fs.Usage()
		return usagef("cancel what? give the handle that cpulse check printed")
	}
	a, err := c.Cancel(ctx, handle)
	if err != nil {
		return err
	}
	if a.Finish != "" { // a snapshot: its finish run destroys what it built
		_, err = fmt.Fprintf(stdout, "%s %s %s\n", a.Handle, a.State, a.Finish)
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s %s\n", a.Handle, a.State)
	return err
}

func remoteResults(ctx context.Context, c *apiclient.Client, args []string, stdout, stderr io.Writer) error {
	fs := newRemoteFlags("results", stderr, "results [flags]")
	var q apiclient.Query
	fs.BoolVar(&q.Failed, "failed", false, "only failed runs")
	fs.DurationVar(&q.Since, "since", 0, "only runs queued within this long, e.g. 1h (default: all)")
	fs.StringVar(&q.Type, "type", "", "only runs of this type")
	fs.StringVar(&q.Cloud, "cloud", "", "only runs on this cloud")
	limit := fs.Int("limit", 20, "at most this many runs, newest first")
	asJSON := fs.Bool("json", false, `print {"results": [...]} as JSON`)
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("results: unexpected argument %q", fs.Arg(0))
	}
	if *limit < 1 {
		return usagef("--limit %d: give a positive number", *limit)
	}
	if q.Since < 0 {
		return usagef("--since %s: give a positive duration such as 1h", q.Since)
	}
	if q.Type != "" && !slices.Contains(remoteTypes, q.Type) {
		return usagef("--type %q: want one of %s", q.Type, strings.Join(remoteTypes, ", "))
	}
	q.Limit = min(*limit, 100)
	runs := []apiclient.Result{}
	for r, err := range c.Results(ctx, q) {
		if err != nil {
			return err
		}
		runs = append(runs, r)
		if len(runs) == *limit {
			break
		}
	}
	if *asJSON {
		return writeJSON(stdout, map[string]any{"results": runs})
	}
	return writeRuns(stdout, runs)
}

const remoteUpgradeUsage = `Usage: cpulse --server URL upgrade snapshot|create|verify [flags]

  snapshot   the pre phase on the service: build what --resources lists (--create=false: read existing ones)
  create     snapshot with --create=true
  verify     the post phase: a check of type upgrade on the snapshot (--snapshot HANDLE; the same as
             cpulse check upgrade --snapshot HANDLE); --destroy finishes it after
Finish a snapshot (destroy what it built) with cpulse cancel HANDLE.
`

func remoteUpgrade(ctx context.Context, c *apiclient.Client, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || !slices.Contains([]string{"snapshot", "create", "verify"}, args[0]) {
		fmt.Fprint(stderr, remoteUpgradeUsage)
		if len(args) == 0 {
			return usagef("upgrade what? want snapshot, create or verify")
		}
		return usagef("upgrade %s: with a server, want snapshot, create or verify (watch and finish run without --server)", args[0])
	}
	if args[0] == "verify" {
		return remoteCheck(ctx, c, append([]string{"upgrade"}, args[1:]...), stdout, stderr)
	}
	fs := newRemoteFlags("upgrade "+args[0], stderr, "upgrade "+args[0]+" [flags]")
	req := apiclient.SnapshotRequest{Create: true}
	var w waitFlags
	fs.StringVar(&req.Cloud, "cloud", "", "cloud name in the service's configuration (default: its only cloud)")
	resources := fs.String("resources", "", "JSON file of what to build (or with --create=false: which existing resources to read)")
	if args[0] == "snapshot" {
		fs.BoolVar(&req.Create, "create", true, "build the resources; false: snapshot existing ones read-only")
	}
	w.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("upgrade %s: unexpected argument %q", args[0], fs.Arg(0))
	}
	if err := w.check(); err != nil {
		return err
	}
	if !req.Create && *resources == "" {
		return usagef(`upgrade snapshot --create=false: say which resources with --resources FILE: {"project": "<name or id>", "vm": ["<name or id>", ...]}`)
	}
	if *resources != "" {
		b, err := os.ReadFile(*resources)
		if err != nil {
			return usagef("upgrade %s: --resources: %v", args[0], err)
		}
		if !json.Valid(b) {
			return usagef("upgrade %s: --resources %s is not JSON", args[0], *resources)
		}
		req.Resources = b
	}
	a, err := c.Snapshot(ctx, req)
	if err != nil {
		return err
	}
	if !w.wait && !w.json {
		fmt.Fprintf(stderr, "snapshot %s: verify after the upgrade with `cpulse check upgrade --snapshot %s`\n", a.Handle, a.Handle)
	}
	return followRun(ctx, c, a.Handle, a, w, stdout, stderr)
}
