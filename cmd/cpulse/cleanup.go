package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/cleanup"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/metrics"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// runCleanup destroys the workspaces that runs left in the state directory (a
// SIGKILL'ed run, a failed destroy) — not those of runs still alive, which
// hold their workspace's lock — and with --older-than also deletes what runs
// whose state was lost left in the caller's project. It never asks anything.
//
// For each workspace it first deletes through the APIs what is the run's (its
// tag, or a name starting with the run's prefix, in the run's projects), then
// lets OpenTofu destroy what remains of its state (project, user, rules): a
// killed run's untracked floating IPs would otherwise keep the router
// interface in use and make destroy retry for its whole budget.
func runCleanup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cpulse cleanup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cloudName := fs.String("cloud", "", "cloud name in clouds.yaml (default $OS_CLOUD)")
	stateDir := fs.String("state-dir", "", "where runs keep their state (default $CLOUDPULSE_STATE_DIR or <repo>/state/runs)")
	olderThan := fs.Duration("older-than", 0, "also delete cloudpulse's resources (tagged or named for any run) created longer ago than this in the cloud's project, e.g. 2h: for runs whose state was lost")
	dryRun := fs.Bool("dry-run", false, "print what would be destroyed and deleted; change nothing")
	push := fs.String("push", os.Getenv("CLOUDPULSE_PUSHGATEWAY"), "push what the cleanup found (cloudpulse_cleanup_leftovers per kind) to this Pushgateway URL, group job=cloudpulse,cloud,family=cleanup (default $CLOUDPULSE_PUSHGATEWAY)")
	snapshots := fs.Bool("include-snapshots", false, "with --older-than, also delete the resources of upgrade snapshots (run ids "+scenario.UpgradeRunPrefix+"…), which live from the pre to the post job; `cpulse upgrade finish` is their normal end")
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("cleanup takes no arguments, got %q", fs.Args())
	}
	if *olderThan < 0 {
		return usagef("--older-than %s: give a positive duration such as 2h", *olderThan)
	}
	dir := *stateDir
	if dir == "" {
		dir = os.Getenv("CLOUDPULSE_STATE_DIR")
	}
	if dir == "" {
		d, err := tf.DefaultStateRoot() // <checkout>/state/runs, or without one $XDG_STATE_HOME/cloudpulse/runs
		if err != nil {
			return usagef("%v", err)
		}
		dir = d
	}
	cfg, err := cloud.Load(*cloudName)
	if err != nil {
		return usagef("%v", err)
	}
	found, err := cleanupRuns(ctx, cfg, dir, *olderThan, *snapshots, *dryRun, stdout)
	// After the output: a push that fails is an error of its own. A cleanup
	// that failed and found nothing (the cloud did not answer) pushes nothing:
	// zeros would read as clean.
	if *push != "" && (err == nil || len(found) > 0) {
		if perr := metrics.PushCleanup(ctx, *push, cfg.Name, found); perr != nil {
			return errors.Join(err, perr)
		}
	}
	return err
}

// cleanupRuns is the cleanup; it returns what it found of cloudpulse's runs
// in the cloud before deleting it.
func cleanupRuns(ctx context.Context, cfg *cloud.Config, dir string, olderThan time.Duration, snapshots, dryRun bool, stdout io.Writer) ([]scenario.Resource, error) {
	workspaces, live, errs := cleanup.OpenWorkspaces(dir, stdout)
	defer func() {
		for _, ws := range workspaces {
			_ = ws.Release()
		}
	}()
	if len(workspaces) == 0 && olderThan == 0 {
		if len(live) == 0 && len(errs) == 0 {
			fmt.Fprintf(stdout, "cleanup: nothing left in %s\n", dir)
		}
		return nil, errors.Join(errs...)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	c, err := cfg.Connect(cctx)
	cancel()
	if err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	var found []scenario.Resource
	for _, ws := range workspaces {
		f, err := cleanup.WorkspaceFound(ctx, cfg, c, ws, dryRun, stdout)
		found = append(found, f...)
		if err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", ws.RunID, err))
		}
	}
	if olderThan > 0 {
		// Runs alive here are left alone, whatever their age; the workspaces
		// handled above were swept by their own run id.
		skip := map[string]bool{}
		for _, id := range live {
			skip[id] = true
		}
		stale, err := sweepStale(ctx, c, olderThan, func(id string) bool { return skip[id] || keepSnapshot(id, snapshots) }, dryRun, stdout)
		found = append(found, stale...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return found, errors.Join(errs...)
}

// sweepStale deletes (or with dryRun lists) cloudpulse's resources older than
// olderThan in the caller's project; it returns what it found.
func sweepStale(ctx context.Context, c *cloud.Cloud, olderThan time.Duration, skip func(string) bool, dryRun bool, stdout io.Writer) ([]scenario.Resource, error) {
	now := time.Now()
	stale, err := scenario.Stale(ctx, c, now.Add(-olderThan), skip)
	if err != nil {
		// a partial listing would delete a part and leave the rest looking clean
		return nil, fmt.Errorf("older than %s: %w", olderThan, err)
	}
	verb := "deleting"
	if dryRun {
		verb = "would delete"
	}
	for _, r := range stale {
		fmt.Fprintf(stdout, "cleanup: %s %s of run %s, created %s (%s ago)\n", verb, r, r.RunID,
			r.Created.UTC().Format(time.RFC3339), now.Sub(r.Created).Round(time.Second))
	}
	if len(stale) == 0 {
		fmt.Fprintf(stdout, "cleanup: nothing of cloudpulse's older than %s in project of cloud %q\n", olderThan, c.Name)
	}
	if dryRun || len(stale) == 0 {
		return stale, nil
	}
	deleted, err := scenario.Delete(ctx, c, stale)
	fmt.Fprintf(stdout, "cleanup: deleted %d of %d resources older than %s\n", len(deleted), len(stale), olderThan)
	return stale, err
}

// keepSnapshot: an upgrade snapshot's resources outlive their process on
// purpose (pre job → upgrade → post job, maybe hours): an age sweep leaves them
// unless asked to include them.
func keepSnapshot(runID string, include bool) bool {
	return !include && strings.HasPrefix(runID, scenario.UpgradeRunPrefix) && tf.ValidRunID(runID) == nil
}
