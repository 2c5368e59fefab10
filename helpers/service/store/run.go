package store

import (
	"context"
	"errors"
	"time"
)

// Run states.
const (
	StateQueued      = "queued"
	StateRunning     = "running"
	StatePassed      = "passed"
	StateFailed      = "failed"
	StateCancelled   = "cancelled"
	StateInterrupted = "interrupted" // found in flight at start (the process died)
)

// ErrNotFound is returned (wrapped) by Get and Update for an unknown handle.
var ErrNotFound = errors.New("not found")

// ErrBadCursor is returned (wrapped) by List for a cursor it did not issue.
var ErrBadCursor = errors.New("invalid cursor")

// Run is one check run: a family (or "all") on one cloud.
type Run struct {
	Handle   string    `json:"handle"`  // random, 16 hex chars; Create fills it when empty
	Cloud    string    `json:"cloud"`   // clouds.yaml name
	Type     string    `json:"type"`    // operator|endpoint|functional|comprehensive|upgrade|all
	State    string    `json:"state"`   // queued|running|passed|failed|cancelled|interrupted
	Trigger  string    `json:"trigger"` // schedule|api
	Queued   time.Time `json:"queued"`  // Create fills it (now) when zero
	Started  time.Time `json:"started"` // zero when not yet
	Finished time.Time `json:"finished"`
	Passed   []string  `json:"passed,omitempty"`
	Failed   []Failure `json:"failed,omitempty"`
	Checks   []Check   `json:"checks,omitempty"`
	Steps    []Step    `json:"steps,omitempty"`   // scenario step timings
	RunIDs   []string  `json:"run_ids,omitempty"` // scenario run ids (cleanup after a crash)
	Owner    string    `json:"owner,omitempty"`   // service instance id that ran it
	Error    string    `json:"error,omitempty"`   // run-level error
}

// Failure is one failed test and why.
type Failure struct {
	Name    string `json:"name"`
	Details string `json:"details"`
}

// Check is one check's result.
type Check struct {
	Name    string  `json:"name"`
	Status  string  `json:"status"` // ok|FAIL|skip
	Seconds float64 `json:"seconds"`
	Error   string  `json:"error,omitempty"`
}

// Step is one timed scenario step.
type Step struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// IsFailed reports whether the run counts as failed for Filter.Failed:
// its state is failed or it has at least one failed test.
func (r *Run) IsFailed() bool { return r.State == StateFailed || len(r.Failed) > 0 }

// Filter selects runs for List. Zero fields do not filter.
type Filter struct {
	Type   string
	Cloud  string
	Failed bool      // only failed runs (Run.IsFailed)
	Since  time.Time // queued at or after
	Limit  int       // default DefaultLimit, at most MaxLimit
	Cursor string    // the next value of the previous page
}

// List limits.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Store is the run history.
type Store interface {
	Create(ctx context.Context, r *Run) error
	Update(ctx context.Context, r *Run) error // whole row by Handle
	Get(ctx context.Context, handle string) (*Run, error)
	List(ctx context.Context, f Filter) (runs []Run, next string, err error) // newest first
	Interrupt(ctx context.Context) ([]Run, error)                            // queued/running → interrupted
	Prune(ctx context.Context, before time.Time) (int, error)
	Close() error
}

var _ Store = (*SQLite)(nil)
