package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/families"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// UpgradeRunner runs the upgrade gate's phases in a snapshot's state
// directory (FamilyRunner: helpers/families, as cpulse upgrade does; a fake
// in tests). Errors are run-level; failed checks are in the outcome.
type UpgradeRunner interface {
	Snapshot(ctx context.Context, cloud string, spec families.SnapshotSpec, dir string, p Progress) (families.Outcome, error)
	Verify(ctx context.Context, cloud, dir string, o families.VerifyOptions, p Progress) (families.Outcome, error)
	Finish(ctx context.Context, cloud, dir string, p Progress) (families.Outcome, error)
	// Kept reads the snapshot kept in dir: whether it built its resources
	// (true) or read existing ones; an error when dir holds none.
	Kept(dir string) (create bool, err error)
}

var handleRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

// snapshotDir is the state directory of snapshot h.
func (s *Service) snapshotDir(h string) string { return filepath.Join(s.o.SnapshotDir, h) }

type snapshotRequest struct {
	Cloud     string          `json:"cloud"`
	Create    *bool           `json:"create"`
	Resources json.RawMessage `json:"resources"`
}

const noGate = "this service runs no upgrade gate (no snapshot directory configured)"

// postSnapshot is POST /cpulse/snapshot: the upgrade gate's pre phase in the
// background, in a state directory of the service's own.
func (s *Service) postSnapshot(w http.ResponseWriter, r *http.Request) {
	var req snapshotRequest
	if code, err := s.decodeBody(w, r, &req); err != nil {
		writeError(w, code, err.Error())
		return
	}
	if s.o.Upgrade == nil || s.o.SnapshotDir == "" {
		writeError(w, http.StatusNotImplemented, noGate)
		return
	}
	create := req.Create == nil || *req.Create
	raw := req.Resources
	if string(raw) == "null" {
		raw = nil
	}
	if !create && len(raw) == 0 {
		writeError(w, http.StatusBadRequest, `resources: with "create": false, say which existing resources: {"project": "<name or id>", "vm": ["<name or id>", ...]}`)
		return
	}
	sp, err := families.ParseSnapshot(create, raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	cloud, err := s.cloudOf(req.Cloud)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	h := newHandle()
	dir := s.snapshotDir(h)
	run, _, err := s.submit(r.Context(), spec{typ: TypeSnapshot, cloud: cloud, trigger: "api", target: h, handle: h,
		scenario: create, do: func(ctx context.Context, p Progress) (families.Outcome, error) {
			if err := os.MkdirAll(s.o.SnapshotDir, 0o700); err != nil {
				return families.Outcome{}, fmt.Errorf("snapshot directory: %w", err)
			}
			if !create {
				p.OnRunID = nil // nothing is built: nothing to clean up after a crash
			}
			out, err := s.o.Upgrade.Snapshot(ctx, cloud, sp, dir, p)
			if err == nil && ctx.Err() == nil && check.Summarize(out.Results).OK() {
				s.startWatch(h, cloud, dir) // until the check of type upgrade on it
			}
			return out, err
		}})
	if !s.submitted(w, err) {
		return
	}
	if raw == nil {
		raw = json.RawMessage("{}")
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"handle": run.Handle, "cloud": run.Cloud, "create": create,
		"state": run.State, "resources": raw})
}

// submitted answers a submit's error; true when there was none.
func (s *Service) submitted(w http.ResponseWriter, err error) bool {
	switch {
	case errors.Is(err, ErrStopping):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		return true
	}
	return false
}

// snapshotOf finds a passed snapshot that still holds its state, or answers
// why not (false).
func (s *Service) snapshotOf(w http.ResponseWriter, r *http.Request, h string) (store.Run, bool, bool) {
	if !handleRE.MatchString(h) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no snapshot with handle %q", h))
		return store.Run{}, false, false
	}
	run, err := s.Get(r.Context(), h)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("no snapshot with handle %q", h))
		return run, false, false
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return run, false, false
	case run.Type != TypeSnapshot:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("handle %q is a run of type %s, not a snapshot (POST /cpulse/snapshot)", h, run.Type))
		return run, false, false
	case run.State == Queued || run.State == Running:
		writeError(w, http.StatusConflict, fmt.Sprintf("snapshot %s is still %s: wait until it passed (GET /cpulse/result?handle=%s)", h, run.State, h))
		return run, false, false
	case run.State != Passed:
		writeError(w, http.StatusConflict, fmt.Sprintf("snapshot %s ended %s: nothing to verify; take a new snapshot", h, run.State))
		return run, false, false
	}
	if f, ok := s.activeFor(jobKey{TypeFinish, run.Cloud, h}); ok {
		writeError(w, http.StatusConflict, fmt.Sprintf("snapshot %s is being finished (run %s)", h, f.Handle))
		return run, false, false
	}
	create, err := s.o.Upgrade.Kept(s.snapshotDir(h))
	if err != nil {
		writeError(w, http.StatusConflict, fmt.Sprintf("snapshot %s is finished (its state is gone): take a new snapshot", h))
		return run, false, false
	}
	return run, create, true
}

// postUpgrade is a check of type upgrade: verify on a passed snapshot.
func (s *Service) postUpgrade(w http.ResponseWriter, r *http.Request, req checkRequest) {
	h := req.Snapshot
	switch {
	case h == "" && req.Handle == "":
		writeError(w, http.StatusBadRequest, `snapshot: a check of type upgrade verifies a snapshot: give "snapshot": the handle POST /cpulse/snapshot answered`)
		return
	case h == "":
		h = req.Handle
	case req.Handle != "" && req.Handle != h:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("snapshot %q and handle %q: give the snapshot's handle once", h, req.Handle))
		return
	}
	if s.o.Upgrade == nil || s.o.SnapshotDir == "" {
		writeError(w, http.StatusNotImplemented, noGate)
		return
	}
	snap, create, ok := s.snapshotOf(w, r, h)
	if !ok {
		return
	}
	if req.Cloud != "" && req.Cloud != snap.Cloud {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("cloud %q: snapshot %s is of cloud %q", req.Cloud, h, snap.Cloud))
		return
	}
	o := families.VerifyOptions{Functional: create, Destroy: false}
	if req.Functional != nil {
		o.Functional = *req.Functional
	}
	if req.Destroy != nil {
		o.Destroy = *req.Destroy
	}
	dir, cloud := s.snapshotDir(h), snap.Cloud
	if _, ok := s.activeFor(jobKey{TypeUpgrade, cloud, h}); !ok {
		// the upgrade is over: its watch (if any) stops now, not when the run leaves the queue
		s.stopWatchFor(h, cloud)
	}
	run, joined, err := s.submit(r.Context(), spec{typ: TypeUpgrade, cloud: cloud, trigger: "api", target: h,
		scenario: create || o.Functional, do: func(ctx context.Context, p Progress) (families.Outcome, error) {
			out, err := s.o.Upgrade.Verify(ctx, cloud, dir, o, p)
			if res := s.watchedFor(h); len(res) > 0 {
				for _, r := range res {
					if p.OnResult != nil {
						p.OnResult(r)
					}
				}
				out.Results = append(out.Results, res...)
			}
			return out, err
		}})
	if !s.submitted(w, err) {
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"handle": run.Handle, "type": run.Type, "cloud": run.Cloud,
		"state": run.State, "joined": joined, "snapshot": h})
}

// finishSnapshot is DELETE of a passed snapshot: finish destroys what it
// built (a read-only snapshot is only forgotten), as a run of type finish.
func (s *Service) finishSnapshot(w http.ResponseWriter, r *http.Request, snap store.Run) {
	h := snap.Handle
	if s.o.Upgrade == nil || s.o.SnapshotDir == "" {
		writeError(w, http.StatusNotImplemented, noGate)
		return
	}
	if f, ok := s.activeFor(jobKey{TypeFinish, snap.Cloud, h}); ok {
		writeJSON(w, http.StatusAccepted, map[string]string{"handle": h, "state": "finishing", "finish": f.Handle})
		return
	}
	if v, ok := s.activeFor(jobKey{TypeUpgrade, snap.Cloud, h}); ok {
		writeError(w, http.StatusConflict, fmt.Sprintf("snapshot %s is being verified (run %s): delete it once that ended", h, v.Handle))
		return
	}
	s.discardWatch(h, "the snapshot is deleted")
	create, err := s.o.Upgrade.Kept(s.snapshotDir(h))
	if err != nil {
		writeJSON(w, http.StatusAccepted, map[string]string{"handle": h, "state": "finished"})
		return
	}
	dir, cloud := s.snapshotDir(h), snap.Cloud
	run, _, err := s.submit(r.Context(), spec{typ: TypeFinish, cloud: cloud, trigger: "api", target: h, scenario: create,
		do: func(ctx context.Context, p Progress) (families.Outcome, error) {
			return s.o.Upgrade.Finish(ctx, cloud, dir, p)
		}})
	if !s.submitted(w, err) {
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"handle": h, "state": "finishing", "finish": run.Handle})
}
