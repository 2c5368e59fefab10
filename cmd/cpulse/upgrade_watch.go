package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/metrics"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// upgradeWatch probes the snapshot's data-plane paths (and any --http path)
// until SIGINT/SIGTERM (ctx) or --duration, then reports downtime per path; a
// path over its threshold fails (exit 1). It needs no cloud credentials: only
// the state directory (addresses, the ssh key, pinned host keys). With --push
// the downtime per path goes to a Pushgateway.
func upgradeWatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newUpgradeFlags("watch", stderr)
	state := fs.String("state", os.Getenv("CLOUDPULSE_UPGRADE_STATE"), "the snapshot's state directory (default $CLOUDPULSE_UPGRADE_STATE); optional with --http")
	var extra httpFlags
	fs.Var(&extra, "http", "also watch this HTTP path, NAME=URL (a 2xx answer is up; network threshold); repeatable; with it --state is optional")
	cloudName := fs.String("cloud", "", "the cloud label of the pushed metrics (default the snapshot's cloud, else $OS_CLOUD)")
	push := fs.String("push", os.Getenv("CLOUDPULSE_PUSHGATEWAY"), "push the downtime per path to this Pushgateway URL, group job=cloudpulse,cloud,family=upgrade (default $CLOUDPULSE_PUSHGATEWAY)")
	interval := fs.Duration("interval", 200*time.Millisecond, "time between probes of a path")
	duration := fs.Duration("duration", 0, "stop after this long (default: at SIGINT/SIGTERM)")
	network := fs.Duration("network-threshold", scenario.NetworkDowntimeThreshold, "total downtime allowed per network path (ping, ssh, http, VM↔VM)")
	metadata := fs.Duration("metadata-threshold", scenario.MetadataDowntimeThreshold, "total downtime allowed for metadata from inside a VM")
	reportPath := fs.String("report", "", "write the report as JSON to this file")
	svgPath := fs.String("svg", "", "write the timeline per path as SVG to this file")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of a table")
	if err := parseUpgradeFlags(fs, args); err != nil {
		return err
	}
	if *interval < 10*time.Millisecond {
		return usagef("upgrade watch: --interval %s: give at least 10ms", *interval)
	}
	if *state == "" && len(extra) == 0 {
		return usagef("upgrade watch: nothing to watch: give --state (or $CLOUDPULSE_UPGRADE_STATE) for a snapshot's paths, or --http NAME=URL")
	}
	httpPaths, err := parseHTTPPaths(extra, *network)
	if err != nil {
		return usagef("%v", err)
	}
	var paths []probe.WatchPath
	metricsCloud := *cloudName
	if *state != "" {
		if paths, err = scenario.WatchPaths(*state, *network, *metadata); err != nil {
			return usagef("%v", err)
		}
		if snap, err := scenario.LoadSnapshot(*state, ""); err == nil && metricsCloud == "" {
			metricsCloud = snap.Cloud
		}
	}
	paths = append(paths, httpPaths...)
	if metricsCloud == "" {
		metricsCloud = os.Getenv("OS_CLOUD")
	}
	if *push != "" && metricsCloud == "" {
		return usagef("upgrade watch: --push: no cloud to label the metrics with: give --cloud or set OS_CLOUD")
	}
	for _, p := range []string{*reportPath, *svgPath} {
		if p == "" {
			continue
		}
		if f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644); err != nil {
			return usagef("upgrade watch: %v", err)
		} else {
			f.Close()
		}
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	pushCtx := context.WithoutCancel(ctx) // the push comes after --duration's end
	w := probe.StartWatch(context.WithoutCancel(ctx), paths, probe.WatchOptions{Interval: *interval, Timeout: scenario.WatchProbeTimeout})
	// every path up first (the kept ssh sessions log in): a path down before the upgrade is not its downtime
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = w.WaitUp(wctx)
	cancel()
	if err != nil {
		w.Stop()
		return fmt.Errorf("upgrade watch: %w", err)
	}
	fmt.Fprintf(stderr, "watch: all %d paths up; probing every %s until stopped\n", len(paths), *interval)
	<-ctx.Done()
	rep := w.Stop()
	if *reportPath != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = os.WriteFile(*reportPath, append(b, '\n'), 0o644)
		}
		if err != nil {
			return fmt.Errorf("upgrade watch: --report: %w", err)
		}
	}
	if *svgPath != "" {
		f, err := os.Create(*svgPath)
		if err != nil {
			return fmt.Errorf("upgrade watch: --svg: %w", err)
		}
		if err := rep.WriteSVG(f); err != nil {
			f.Close()
			return fmt.Errorf("upgrade watch: --svg: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("upgrade watch: --svg: %w", err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		writeDowntime(stdout, rep)
	}
	if *push != "" { // after the report: a push that fails is an error of its own
		pctx, cancel := context.WithTimeout(pushCtx, time.Minute)
		err := metrics.PushWatch(pctx, *push, metricsCloud, rep)
		cancel()
		if err != nil {
			return fmt.Errorf("upgrade watch: %w", err)
		}
	}
	if ex := rep.Exceeded(); len(ex) > 0 {
		for _, e := range ex {
			fmt.Fprintln(stderr, "watch:", e)
		}
		return errChecksFailed
	}
	return nil
}

// writeDowntime prints one line per path: probes, failures, total downtime, longest gap, outages.
func writeDowntime(w io.Writer, rep probe.WatchReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "PATH\tPROBES\tFAILED\tDOWNTIME\tLONGEST\tOUTAGES\tTHRESHOLD\n")
	for _, p := range rep.Paths {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1fs\t%.1fs\t%d\t%s\n", p.Name, p.Probes, p.Failed, p.Downtime.Seconds(), p.LongestGap.Seconds(), len(p.Outages), p.Threshold)
	}
	tw.Flush()
	fmt.Fprintf(w, "watched %.1fs, a probe every %s\n", rep.Ended.Sub(rep.Started).Seconds(), rep.Interval)
}

// httpFlags are the --http NAME=URL flags, checked after parsing (parseHTTPPaths)
// so that a bad one is a one-line error, not the flag package's usage dump.
type httpFlags []string

func (h *httpFlags) String() string     { return strings.Join(*h, ",") }
func (h *httpFlags) Set(v string) error { *h = append(*h, v); return nil }

// parseHTTPPaths makes the --http flags watch paths named http/NAME, with the
// network threshold.
func parseHTTPPaths(flags []string, threshold time.Duration) ([]probe.WatchPath, error) {
	var paths []probe.WatchPath
	seen := map[string]bool{}
	for _, v := range flags {
		name, raw, ok := strings.Cut(v, "=")
		if !ok || name == "" || strings.Contains(name, "/") {
			return nil, fmt.Errorf("upgrade watch: --http %q: want NAME=URL, e.g. web=http://192.0.2.10/", v)
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("upgrade watch: --http %q: want an http:// or https:// URL with a host after %s=", v, name)
		}
		if seen[name] {
			return nil, fmt.Errorf("upgrade watch: --http %q: %s is given twice", v, name)
		}
		seen[name] = true
		p := probe.HTTPPath("http/"+name, raw)
		p.Threshold = threshold
		paths = append(paths, p)
	}
	return paths, nil
}
