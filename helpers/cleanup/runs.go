package cleanup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// Runs cleans up the runs runIDs of cloud cfg (runs found interrupted): each
// one's workspace in dir is swept and destroyed; a run whose workspace is
// gone (it never got to apply, or its destroy finished) is still swept
// through the APIs by its run id. A live run's workspace is left alone.
func Runs(ctx context.Context, cfg *cloud.Config, dir string, runIDs []string, w io.Writer) error {
	if len(runIDs) == 0 {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var errs []error
	var workspaces []*tf.Workspace
	found := map[string]bool{}
	for _, e := range entries {
		id := RunIDOfDir(e.Name())
		if !e.IsDir() || !slices.Contains(runIDs, id) {
			continue
		}
		ws, err := tf.OpenWorkspace(filepath.Join(dir, e.Name()))
		switch {
		case errors.Is(err, tf.ErrWorkspaceInUse):
			fmt.Fprintf(w, "cleanup: run %s: skipped, in use by a live run\n", id)
			found[id] = true
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			errs = append(errs, err)
		default:
			workspaces = append(workspaces, ws)
			found[id] = true
		}
	}
	defer func() {
		for _, ws := range workspaces {
			_ = ws.Release()
		}
	}()
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	c, err := cfg.Connect(cctx)
	cancel()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, ws := range workspaces {
		if err := Workspace(ctx, cfg, c, ws, false, w); err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", ws.RunID, err))
		}
	}
	for _, id := range runIDs {
		if found[id] || tf.ValidRunID(id) != nil {
			continue
		}
		swept, err := scenario.Sweep(ctx, c, id)
		fmt.Fprintf(w, "cleanup: run %s: no workspace; deleted %d resources through the APIs\n", id, len(swept))
		if err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}
