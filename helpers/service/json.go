package service

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/service/status"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// Result is a run as the API shows it (GET /cpulse/result).
type Result struct {
	Timestamp   string              `json:"timestamp"` // when it was queued
	Handle      string              `json:"handle"`
	Type        string              `json:"type"`
	Cloud       string              `json:"cloud"`
	State       string              `json:"state"`
	Trigger     string              `json:"trigger,omitempty"`
	TestsFailed []map[string]string `json:"tests_failed"`
	TestsPassed []string            `json:"tests_passed"`
	Checks      []CheckJSON         `json:"checks"`
	Steps       []StepJSON          `json:"steps"`
	RunIDs      []string            `json:"run_ids,omitempty"`
	Started     string              `json:"started,omitempty"`
	Finished    string              `json:"finished,omitempty"`
	Error       string              `json:"error,omitempty"`
	// Watch is an upgrade run's watch: the downtime per path with its gaps
	// over the watch window (from its downtime/<path> checks).
	Watch *status.Watch `json:"watch,omitempty"`
	// Watching is a passed snapshot's watch while it runs (GET /cpulse/result).
	Watching *Watching `json:"watching,omitempty"`
}

// Watching says a snapshot's paths are being watched, until the check of type
// upgrade on it.
type Watching struct {
	Since string `json:"since"`
	Paths int    `json:"paths"`
}

// CheckJSON is one check of a run.
type CheckJSON struct {
	Name    string  `json:"name"`
	Status  string  `json:"status"` // ok | FAIL | skip
	Seconds float64 `json:"seconds"`
	Error   string  `json:"error,omitempty"`
}

// StepJSON is one timed step of a scenario.
type StepJSON struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// ResultOf is the API's view of a run.
func ResultOf(r store.Run) Result {
	out := Result{Timestamp: rfc3339(r.Queued), Handle: r.Handle, Type: r.Type, Cloud: r.Cloud, State: r.State,
		Trigger: r.Trigger, TestsFailed: []map[string]string{}, TestsPassed: append([]string{}, r.Passed...),
		Checks: []CheckJSON{}, Steps: []StepJSON{}, RunIDs: r.RunIDs, Started: rfc3339(r.Started),
		Finished: rfc3339(r.Finished), Error: r.Error}
	for _, f := range r.Failed {
		out.TestsFailed = append(out.TestsFailed, map[string]string{f.Name: f.Details})
	}
	for _, c := range r.Checks {
		if isDowntime(c.Name) { // the window and gaps are in watch
			c.Error = status.DowntimeSummary(c.Error)
		}
		out.Checks = append(out.Checks, CheckJSON(c))
	}
	out.Watch = status.WatchOf(r.Checks)
	for _, s := range r.Steps {
		out.Steps = append(out.Steps, StepJSON(s))
	}
	return out
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

type errorJSON struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorJSON{Error: msg})
}
