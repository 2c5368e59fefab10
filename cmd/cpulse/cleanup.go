package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// runCleanup destroys every workspace an interrupted run left in the state
// directory (a SIGKILL'ed run, a failed destroy), then checks that nothing
// tagged with those run ids remains.
func runCleanup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cpulse cleanup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cloudName := fs.String("cloud", "", "cloud name in clouds.yaml (default $OS_CLOUD)")
	stateDir := fs.String("state-dir", "", "where runs keep their state (default $CLOUDPULSE_STATE_DIR or <repo>/state/runs)")
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	dir := *stateDir
	if dir == "" {
		dir = os.Getenv("CLOUDPULSE_STATE_DIR")
	}
	if dir == "" {
		root, err := tf.RepoRoot()
		if err != nil {
			return usagef("%v", err)
		}
		dir = filepath.Join(root, "state", "runs")
	}
	cfg, err := cloud.Load(*cloudName)
	if err != nil {
		return usagef("%v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if len(entries) == 0 {
		fmt.Fprintf(stdout, "cleanup: nothing left in %s\n", dir)
		return nil
	}
	tools, err := tf.FindTools()
	if err != nil {
		return usagef("%v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	c, err := cfg.Connect(cctx)
	cancel()
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		ws, err := tf.OpenWorkspace(filepath.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// The run's own cloud (recorded in its variables) destroys it; operator-mode
		// runs need OS_CLOUD emptied, as when they were applied.
		runCfg, runCloud := cfg, c
		vars, err := ws.Vars()
		if err == nil {
			if name, _ := vars["cloud"].(string); name != "" && name != cfg.Name {
				if runCfg, err = cloud.Load(name); err == nil {
					cctx, cancel := context.WithTimeout(ctx, time.Minute)
					runCloud, err = runCfg.Connect(cctx)
					cancel()
				}
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", ws.RunID, err))
			continue
		}
		env := runCfg.TerraformEnv()
		if op, _ := vars["create_project"].(bool); op {
			env["OS_CLOUD"] = ""
		}
		// Servers the state may not hold go first: OpenTofu would otherwise delete
		// their ports under them, and nova then spends minutes detaching an
		// interface from a guest that is still booting.
		if servers, serr := scenario.Sweep(ctx, runCloud, ws.RunID, "server"); serr != nil {
			fmt.Fprintf(stdout, "cleanup: run %s: deleting its servers first failed (destroy goes on): %v\n", ws.RunID, serr)
		} else if len(servers) > 0 {
			fmt.Fprintf(stdout, "cleanup: run %s: deleted its %d servers first\n", ws.RunID, len(servers))
		}
		r, err := tf.NewExec(ws, tools, env, nil)
		if err == nil {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Minute)
			start := time.Now()
			if err = r.Init(dctx); err == nil {
				err = tf.DestroyWithRetry(dctx, r, 0)
			}
			cancel()
			result := "ok"
			if err != nil {
				result = "FAILED (state kept; see below)"
			}
			fmt.Fprintf(stdout, "cleanup: run %s: destroy %.1fs %s\n", ws.RunID, time.Since(start).Seconds(), result)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", ws.RunID, err))
			continue
		}
		// What OpenTofu did not know about (a run SIGKILL'ed before its state was
		// written) is found by the run's tag and deleted through the APIs.
		// Sweep lists them itself, so a clean run costs one listing here.
		swept, serr := scenario.Sweep(ctx, runCloud, ws.RunID)
		if len(swept) > 0 {
			fmt.Fprintf(stdout, "cleanup: run %s: deleted %d resources the state did not hold (tagged %s or named for the run)\n",
				ws.RunID, len(swept), scenario.RunTag(ws.RunID))
		}
		left, err := scenario.TaggedOrNamed(ctx, runCloud, ws.RunID)
		if err == nil && len(left) > 0 {
			err = fmt.Errorf("run %s: still tagged after destroy and sweep: %v (%v)", ws.RunID, left, serr)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := ws.Remove(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
