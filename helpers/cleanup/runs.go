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
	return RunsWithState(ctx, cfg, dir, runIDs, nil, w)
}

// RunsWithState is Runs for runs whose state may be in PostgreSQL (pg, nil:
// local state only): a workspace in dir that keeps its state there is
// attached to it; a run with no workspace in dir (another instance ran it)
// but with its state in PostgreSQL gets its workspace rebuilt in dir and is
// destroyed through tofu from that state (FromState), the sweep by run id
// after it as a safety net.
func RunsWithState(ctx context.Context, cfg *cloud.Config, dir string, runIDs []string, pg *tf.PGState, w io.Writer) error {
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
			if inPG, _ := ws.InPG(); inPG && pg != nil {
				if err := ws.AttachPG(pg); err != nil {
					errs = append(errs, fmt.Errorf("run %s: %w", id, err))
				}
			}
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
		if pg != nil {
			ws, fixture, err := tf.RebuildWorkspace(ctx, pg, dir, id)
			switch {
			case err == nil:
				fmt.Fprintf(w, "cleanup: run %s: no workspace here; rebuilt it from %s and its state in PostgreSQL (schema %s)\n", id, fixture, tf.SchemaName(id))
				err = FromState(ctx, cfg, c, ws, w)
				_ = ws.Release()
				if err != nil {
					errs = append(errs, fmt.Errorf("run %s: %w", id, err))
				}
				continue
			case errors.Is(err, tf.ErrNoPGState):
				fmt.Fprintf(w, "cleanup: run %s: no state in PostgreSQL either (it never got to apply, or its destroy finished)\n", id)
			default:
				errs = append(errs, fmt.Errorf("run %s: %w", id, err))
			}
		}
		swept, err := scenario.Sweep(ctx, c, id)
		fmt.Fprintf(w, "cleanup: run %s: no workspace; deleted %d resources through the APIs\n", id, len(swept))
		if err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}
