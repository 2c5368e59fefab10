package apiclient

import (
	"encoding/json"
	"time"
)

// Run states. A run is final once it is passed, failed, cancelled or interrupted.
const (
	Queued      = "queued"
	Running     = "running"
	Passed      = "passed"
	Failed      = "failed"
	Cancelled   = "cancelled"
	Interrupted = "interrupted"
	Cancelling  = "cancelling"
)

// Final says whether state is one a run never leaves.
func Final(state string) bool {
	switch state {
	case Passed, Failed, Cancelled, Interrupted:
		return true
	}
	return false
}

// CheckRequest is the body of POST /cpulse/check.
type CheckRequest struct {
	Type  string `json:"type"`            // operator|endpoint|functional|comprehensive|upgrade|all
	Cloud string `json:"cloud,omitempty"` // clouds.yaml name; empty: the one the service has
	// type upgrade: the snapshot's handle (POST /cpulse/snapshot); Handle is
	// API12.md's other name for it
	Snapshot string `json:"snapshot,omitempty"`
	Handle   string `json:"handle,omitempty"`
	// type upgrade: a fresh functional run after verify (nil: the service's
	// default, true for a snapshot that built its resources), and finish after it
	Functional *bool `json:"functional,omitempty"`
	Destroy    bool  `json:"destroy,omitempty"`
}

// Accepted is the answer to POST /cpulse/check: the run's handle, and whether
// the request joined a run of the same type and cloud already queued or running.
type Accepted struct {
	Handle string `json:"handle"`
	Type   string `json:"type"`
	Cloud  string `json:"cloud"`
	State  string `json:"state"`
	Joined bool   `json:"joined"`
}

// Result is one run as GET /cpulse/result answers it.
type Result struct {
	Timestamp   time.Time           `json:"timestamp"` // when it was queued
	Handle      string              `json:"handle"`
	Type        string              `json:"type"`
	Cloud       string              `json:"cloud"`
	State       string              `json:"state"`
	TestsFailed []map[string]string `json:"tests_failed"` // [{name: details}]
	TestsPassed []string            `json:"tests_passed"`
	Checks      []Check             `json:"checks"`
	Steps       []Step              `json:"steps"`
	Started     *time.Time          `json:"started,omitempty"`
	Finished    *time.Time          `json:"finished,omitempty"`
	Error       string              `json:"error,omitempty"`
}

// Check is one check of a run.
type Check struct {
	Name    string  `json:"name"`
	Status  string  `json:"status"` // ok|FAIL|skip
	Seconds float64 `json:"seconds"`
	Error   string  `json:"error,omitempty"`
}

// Step is one timed step of a scenario run.
type Step struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Query filters GET /cpulse/results; zero values filter nothing.
type Query struct {
	Type   string
	Cloud  string
	Failed bool
	Since  time.Duration // runs queued within this long before now
	Limit  int           // per page; 0: the server's default
	Cursor string        // from Page.Next
}

// Page is one page of the history, newest first; Next is "" on the last.
type Page struct {
	Results []Result `json:"results"`
	Next    string   `json:"next"`
}

// Cancellation is the answer to DELETE /cpulse/check/{handle}.
type Cancellation struct {
	Handle string `json:"handle"`
	// cancelling, or the final state the run already had; of a passed
	// snapshot: finishing (Finish is the finish run's handle) or finished
	State  string `json:"state"`
	Finish string `json:"finish,omitempty"`
}

// SnapshotRequest is the body of POST /cpulse/snapshot: the upgrade's
// pre phase, building (Create) what the resources file lists.
type SnapshotRequest struct {
	Create    bool            `json:"create"`
	Cloud     string          `json:"cloud,omitempty"`
	Resources json.RawMessage `json:"resources,omitempty"`
}

// SnapshotAccepted is the answer to POST /cpulse/snapshot.
type SnapshotAccepted struct {
	Handle    string          `json:"handle"`
	Cloud     string          `json:"cloud,omitempty"`
	Create    bool            `json:"create"`
	State     string          `json:"state,omitempty"`
	Resources json.RawMessage `json:"resources,omitempty"`
}
