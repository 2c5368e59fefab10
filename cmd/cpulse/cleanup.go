package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
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
	workspaces, live, errs := openWorkspaces(dir, stdout)
	defer func() {
		for _, ws := range workspaces {
			_ = ws.Release()
		}
	}()
	if len(workspaces) == 0 && *olderThan == 0 {
		if len(live) == 0 && len(errs) == 0 {
			fmt.Fprintf(stdout, "cleanup: nothing left in %s\n", dir)
		}
		return errors.Join(errs...)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	c, err := cfg.Connect(cctx)
	cancel()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, ws := range workspaces {
		if err := cleanWorkspace(ctx, cfg, c, ws, *dryRun, stdout); err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", ws.RunID, err))
		}
	}
	if *olderThan > 0 {
		// Runs alive here are left alone, whatever their age; the workspaces
		// handled above were swept by their own run id.
		skip := map[string]bool{}
		for _, id := range live {
			skip[id] = true
		}
		if err := sweepStale(ctx, c, *olderThan, func(id string) bool { return skip[id] || keepSnapshot(id, *snapshots) }, *dryRun, stdout); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// openWorkspaces opens (and so locks) every workspace in dir; those of live
// runs are skipped, saying so, and their run ids returned.
func openWorkspaces(dir string, stdout io.Writer) (opened []*tf.Workspace, live []string, errs []error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, nil, []error{err}
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		root := filepath.Join(dir, e.Name())
		ws, err := tf.OpenWorkspace(root)
		switch {
		case errors.Is(err, tf.ErrWorkspaceInUse):
			fmt.Fprintf(stdout, "cleanup: %s: skipped, in use by a live run (its process holds %s)\n", root, filepath.Join(root, tf.LiveFile))
			live = append(live, runIDOfDir(root))
		case errors.Is(err, os.ErrNotExist): // its run removed it meanwhile
		case err != nil:
			errs = append(errs, err)
		default:
			opened = append(opened, ws)
		}
	}
	return opened, live, errs
}

// runIDOfDir is the run id a workspace directory is named for (<fixture>-<run id>).
func runIDOfDir(root string) string {
	_, id, _ := strings.Cut(filepath.Base(root), "-")
	return id
}

// cleanWorkspace sweeps a run's resources through the APIs, destroys what its
// state still holds, checks that nothing of the run is left, and removes the
// workspace.
func cleanWorkspace(ctx context.Context, cfg *cloud.Config, c *cloud.Cloud, ws *tf.Workspace, dryRun bool, stdout io.Writer) error {
	start := time.Now()
	// The run's own cloud (recorded in its variables) destroys it; operator-mode
	// runs need OS_CLOUD emptied, as when they were applied.
	runCfg, runCloud := cfg, c
	vars, err := ws.Vars()
	if err != nil {
		return err
	}
	if name, _ := vars["cloud"].(string); name != "" && name != cfg.Name {
		if runCfg, err = cloud.Load(name); err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		runCloud, err = runCfg.Connect(cctx)
		cancel()
		if err != nil {
			return err
		}
	}
	valid := tf.ValidRunID(ws.RunID) == nil
	if !valid {
		fmt.Fprintf(stdout, "cleanup: run %s: its id is not of the generated form: only what its state holds is destroyed, nothing is looked for by name\n", ws.RunID)
	}
	if dryRun {
		fmt.Fprintf(stdout, "cleanup: run %s: would destroy its state (%s)\n", ws.RunID, ws.Root)
		if valid {
			found, err := scenario.Find(ctx, runCloud, ws.RunID)
			for _, r := range found {
				fmt.Fprintf(stdout, "cleanup: run %s: would delete %s\n", ws.RunID, r)
			}
			return err
		}
		return nil
	}
	if valid {
		swept, serr := scenario.Sweep(ctx, runCloud, ws.RunID)
		fmt.Fprintf(stdout, "cleanup: run %s: deleted %d resources through the APIs (%.1fs)\n", ws.RunID, len(swept), time.Since(start).Seconds())
		for _, r := range swept {
			fmt.Fprintf(stdout, "cleanup: run %s:   %s gone at %.1fs\n", ws.RunID, r, r.Took.Seconds())
		}
		if serr != nil { // destroy goes on: it may delete what the sweep could not
			fmt.Fprintf(stdout, "cleanup: run %s: the sweep left errors (destroy goes on): %v\n", ws.RunID, serr)
		}
	}
	tools, err := tf.FindTools()
	if err != nil {
		return err
	}
	env := runCfg.TerraformEnv()
	if op, _ := vars["create_project"].(bool); op {
		env["OS_CLOUD"] = ""
	}
	r, err := tf.NewExec(ws, tools, env, nil)
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Minute)
	t0 := time.Now()
	if err = r.Init(dctx); err == nil {
		err = tf.DestroyWithRetry(dctx, r, 0)
	}
	cancel()
	result := "ok"
	if err != nil {
		result = "FAILED (state kept; see below)"
	}
	fmt.Fprintf(stdout, "cleanup: run %s: destroy %.1fs %s\n", ws.RunID, time.Since(t0).Seconds(), result)
	if err != nil {
		return err
	}
	if valid {
		// Nothing of the run may be left. A create the killed run had sent may
		// have landed after the first sweep listed: it goes now, and then the
		// run is looked for once more.
		swept, err := scenario.Sweep(ctx, runCloud, ws.RunID)
		if err != nil {
			return fmt.Errorf("after destroy: %w", err)
		}
		if len(swept) > 0 {
			fmt.Fprintf(stdout, "cleanup: run %s: after destroy, deleted %d more resources through the APIs: %v\n", ws.RunID, len(swept), swept)
			left, err := scenario.Leftovers(ctx, runCloud, ws.RunID)
			if err != nil {
				return err
			}
			if len(left) > 0 {
				return fmt.Errorf("still there after sweep and destroy: %v", left)
			}
		}
	}
	if err := ws.Remove(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "cleanup: run %s: clean in %.1fs\n", ws.RunID, time.Since(start).Seconds())
	return nil
}

// sweepStale deletes (or with dryRun lists) cloudpulse's resources older than
// olderThan in the caller's project.
func sweepStale(ctx context.Context, c *cloud.Cloud, olderThan time.Duration, skip func(string) bool, dryRun bool, stdout io.Writer) error {
	now := time.Now()
	stale, err := scenario.Stale(ctx, c, now.Add(-olderThan), skip)
	if err != nil {
		// a partial listing would delete a part and leave the rest looking clean
		return fmt.Errorf("older than %s: %w", olderThan, err)
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
		return nil
	}
	deleted, err := scenario.Delete(ctx, c, stale)
	fmt.Fprintf(stdout, "cleanup: deleted %d of %d resources older than %s\n", len(deleted), len(stale), olderThan)
	return err
}

// keepSnapshot: an upgrade snapshot's resources outlive their process on
// purpose (pre job → upgrade → post job, maybe hours): an age sweep leaves them
// unless asked to include them.
func keepSnapshot(runID string, include bool) bool {
	return !include && strings.HasPrefix(runID, scenario.UpgradeRunPrefix) && tf.ValidRunID(runID) == nil
}
