package cleanup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// FromState cleans up a run whose workspace was rebuilt from its state in
// PostgreSQL (tf.RebuildWorkspace). What the run created but its state does
// not know (a killed apply had sent the create, say a floating IP, which keeps
// the router's interface in use and would stall the destroy) is deleted
// through the APIs first; then destroy through tofu — the state knows the
// rest —; then the sweep by run id as a safety net, and destroy once more if
// the first failed. When nothing of the run is left, the workspace and the
// run's schema are removed; otherwise they stay for the next try.
func FromState(ctx context.Context, cfg *cloud.Config, c *cloud.Cloud, ws *tf.Workspace, w io.Writer) error {
	start := time.Now()
	runCfg, runCloud, vars, err := runCloudOf(ctx, cfg, c, ws)
	if err != nil {
		return err
	}
	var tofuLog bytes.Buffer
	r, err := runnerOf(runCfg, vars, ws, &tofuLog)
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Minute)
	defer cancel()
	if err := r.Init(dctx); err != nil {
		return err
	}
	known, err := r.StateIDs(dctx)
	if err != nil {
		return err
	}
	found, ferr := scenario.Find(ctx, runCloud, ws.RunID)
	var unknown []scenario.Resource
	for _, res := range found {
		if !known[res.ID] {
			unknown = append(unknown, res)
		}
	}
	gone, derr := scenario.Delete(ctx, runCloud, unknown)
	fmt.Fprintf(w, "cleanup: run %s: its state holds %d resources; first deleted %d of the run's that it does not know through the APIs: %v\n", ws.RunID, len(known), len(gone), gone)
	// a router interface attached but never recorded keeps the subnet in use: the destroy would stall on it
	detached, ierr := scenario.DetachUnknownInterfaces(ctx, runCloud, found, known)
	if len(detached) > 0 {
		fmt.Fprintf(w, "cleanup: run %s: detached %d router interfaces its state does not know: %v\n", ws.RunID, len(detached), detached)
	}
	if err := errors.Join(ferr, derr, ierr); err != nil { // destroy goes on
		fmt.Fprintf(w, "cleanup: run %s: deleting what the state does not know left errors (destroy goes on): %v\n", ws.RunID, err)
	}
	t0 := time.Now()
	err = r.Destroy(dctx)
	result := "ok, " + destroyed(tofuLog.String())
	if err != nil {
		result = fmt.Sprintf("FAILED (sweep, then destroy again): %v", err)
	}
	fmt.Fprintf(w, "cleanup: run %s: destroyed through tofu from its state in PostgreSQL in %.1fs: %s\n", ws.RunID, time.Since(t0).Seconds(), result)
	swept, serr := sweep(ctx, runCloud, ws.RunID, func([]scenario.Resource) {})
	fmt.Fprintf(w, "cleanup: run %s: safety net: deleted %d more resources through the APIs\n", ws.RunID, len(swept))
	if err != nil {
		t0 = time.Now()
		err = tf.DestroyWithRetry(dctx, r, 0)
		result = "ok, " + destroyed(tofuLog.String())
		if err != nil {
			result = "FAILED (state kept in PostgreSQL)"
		}
		fmt.Fprintf(w, "cleanup: run %s: destroy again %.1fs %s\n", ws.RunID, time.Since(t0).Seconds(), result)
	}
	if err := errors.Join(err, serr); err != nil {
		return err
	}
	left, err := scenario.Leftovers(ctx, runCloud, ws.RunID)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return fmt.Errorf("still there after destroy and sweep: %v", left)
	}
	if err := ws.Remove(); err != nil {
		return err
	}
	fmt.Fprintf(w, "cleanup: run %s: clean in %.1fs (state and schema %s dropped)\n", ws.RunID, time.Since(start).Seconds(), tf.SchemaName(ws.RunID))
	return nil
}

var destroyComplete = regexp.MustCompile(`Destroy complete! Resources: (\d+) destroyed`)

// destroyed is what tofu's last destroy said it destroyed, from its output.
func destroyed(out string) string {
	m := destroyComplete.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		return "destroyed count unknown"
	}
	return m[len(m)-1][1] + " resources destroyed"
}
