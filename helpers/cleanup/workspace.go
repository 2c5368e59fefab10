package cleanup

import (
	"context"
	"errors"
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

// OpenWorkspaces opens (and so locks) every workspace in dir; those of live
// runs are skipped, saying so, and their run ids returned.
func OpenWorkspaces(dir string, stdout io.Writer) (opened []*tf.Workspace, live []string, errs []error) {
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
			live = append(live, RunIDOfDir(root))
		case errors.Is(err, os.ErrNotExist): // its run removed it meanwhile
		case err != nil:
			errs = append(errs, err)
		default:
			opened = append(opened, ws)
		}
	}
	return opened, live, errs
}

// RunIDOfDir is the run id a workspace directory is named for (<fixture>-<run id>).
func RunIDOfDir(root string) string {
	_, id, _ := strings.Cut(filepath.Base(root), "-")
	return id
}

// Workspace sweeps a run's resources through the APIs, destroys what its
// state still holds, checks that nothing of the run is left, and removes the
// workspace.
func Workspace(ctx context.Context, cfg *cloud.Config, c *cloud.Cloud, ws *tf.Workspace, dryRun bool, stdout io.Writer) error {
	_, err := WorkspaceFound(ctx, cfg, c, ws, dryRun, stdout)
	return err
}

// WorkspaceFound is Workspace, and also returns what its sweeps found of the
// run in the cloud before deleting it (with dryRun: what they would delete):
// what `cpulse cleanup --push` counts.
func WorkspaceFound(ctx context.Context, cfg *cloud.Config, c *cloud.Cloud, ws *tf.Workspace, dryRun bool, stdout io.Writer) ([]scenario.Resource, error) {
	var all []scenario.Resource
	seen := map[string]bool{} // a resource the first sweep could not delete is found again after destroy
	err := workspace(ctx, cfg, c, ws, dryRun, stdout, func(found []scenario.Resource) {
		for _, r := range found {
			if k := r.Kind + "/" + r.ID; !seen[k] {
				seen[k] = true
				all = append(all, r)
			}
		}
	})
	return all, err
}

func workspace(ctx context.Context, cfg *cloud.Config, c *cloud.Cloud, ws *tf.Workspace, dryRun bool, stdout io.Writer, saw func([]scenario.Resource)) error {
	start := time.Now()
	runCfg, runCloud, vars, err := runCloudOf(ctx, cfg, c, ws)
	if err != nil {
		return err
	}
	valid := tf.ValidRunID(ws.RunID) == nil
	if !valid {
		fmt.Fprintf(stdout, "cleanup: run %s: its id is not of the generated form: only what its state holds is destroyed, nothing is looked for by name\n", ws.RunID)
	}
	if dryRun {
		fmt.Fprintf(stdout, "cleanup: run %s: would destroy its state (%s)\n", ws.RunID, ws.Root)
		if valid {
			found, err := scenario.Find(ctx, runCloud, ws.RunID)
			saw(found)
			for _, r := range found {
				fmt.Fprintf(stdout, "cleanup: run %s: would delete %s\n", ws.RunID, r)
			}
			return err
		}
		return nil
	}
	if valid {
		swept, serr := sweep(ctx, runCloud, ws.RunID, saw)
		fmt.Fprintf(stdout, "cleanup: run %s: deleted %d resources through the APIs (%.1fs)\n", ws.RunID, len(swept), time.Since(start).Seconds())
		for _, r := range swept {
			fmt.Fprintf(stdout, "cleanup: run %s:   %s gone at %.1fs\n", ws.RunID, r, r.Took.Seconds())
		}
		if serr != nil { // destroy goes on: it may delete what the sweep could not
			fmt.Fprintf(stdout, "cleanup: run %s: the sweep left errors (destroy goes on): %v\n", ws.RunID, serr)
		}
	}
	r, err := runnerOf(runCfg, vars, ws, nil)
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
		swept, err := sweep(ctx, runCloud, ws.RunID, saw)
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

// runCloudOf is the cloud that destroys ws's run: its own (recorded in its
// variables), else cfg; and the run's variables.
func runCloudOf(ctx context.Context, cfg *cloud.Config, c *cloud.Cloud, ws *tf.Workspace) (*cloud.Config, *cloud.Cloud, map[string]any, error) {
	vars, err := ws.Vars()
	if err != nil {
		return nil, nil, nil, err
	}
	name, _ := vars["cloud"].(string)
	if name == "" || name == cfg.Name {
		return cfg, c, vars, nil
	}
	runCfg, err := cloud.Load(name)
	if err != nil {
		return nil, nil, nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	runCloud, err := runCfg.Connect(cctx)
	if err != nil {
		return nil, nil, nil, err
	}
	return runCfg, runCloud, vars, nil
}

// runnerOf runs tofu in ws on runCfg (its output, redacted, to log if not
// nil); operator-mode runs need OS_CLOUD emptied, as when they were applied.
func runnerOf(runCfg *cloud.Config, vars map[string]any, ws *tf.Workspace, log io.Writer) (*tf.Exec, error) {
	tools, err := tf.FindTools()
	if err != nil {
		return nil, err
	}
	env := runCfg.TerraformEnv()
	if op, _ := vars["create_project"].(bool); op {
		env["OS_CLOUD"] = ""
	}
	return tf.NewExec(ws, tools, env, log)
}

// sweep is scenario.Sweep, telling saw what it found before deleting.
func sweep(ctx context.Context, c *cloud.Cloud, runID string, saw func([]scenario.Resource)) ([]scenario.Resource, error) {
	found, err := scenario.Find(ctx, c, runID)
	saw(found)
	deleted, derr := scenario.Delete(ctx, c, found)
	return deleted, errors.Join(err, derr)
}
