// Package store — TEMPORARY stub of the API12.md contract for the serve branch; replaced by helper store's package.
package store

import (
	"context"
	"errors"
	"time"
)

var ErrNotFound = errors.New("not found")

type Run struct {
	Handle                    string
	Cloud                     string
	Type                      string
	State                     string
	Trigger                   string
	Queued, Started, Finished time.Time
	Passed                    []string
	Failed                    []Failure
	Checks                    []Check
	Steps                     []Step
	RunIDs                    []string
	Owner                     string
	Error                     string
}
type Failure struct{ Name, Details string }
type Check struct {
	Name    string
	Status  string
	Seconds float64
	Error   string
}
type Step struct {
	Name    string
	Seconds float64
}
type Filter struct {
	Type, Cloud string
	Failed      bool
	Since       time.Time
	Limit       int
	Cursor      string
}
type Store interface {
	Create(ctx context.Context, r *Run) error
	Update(ctx context.Context, r *Run) error
	Get(ctx context.Context, handle string) (*Run, error)
	List(ctx context.Context, f Filter) ([]Run, string, error)
	Interrupt(ctx context.Context) ([]Run, error)
	Prune(ctx context.Context, before time.Time) (int, error)
	Close() error
}
