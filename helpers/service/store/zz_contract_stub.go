// Package store — TEMPORARY stub of the API12.md contract for the serve branch; replaced by helper store's package.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
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

// --- TEMPORARY file-backed store (JSON), only until the real SQLite store lands ---

// SQLite is the stub's store: runs in memory, saved as JSON to path on each write.
type SQLite struct {
	mu   sync.Mutex
	path string
	runs []Run
}

func Open(_ context.Context, path string) (*SQLite, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	s := &SQLite{path: path}
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &s.runs)
	} else if os.IsNotExist(err) {
		err = nil
	}
	return s, err
}

func (s *SQLite) save() error {
	b, err := json.Marshal(s.runs)
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

func (s *SQLite) Create(_ context.Context, r *Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs = append(s.runs, *r)
	return s.save()
}

func (s *SQLite) Update(_ context.Context, r *Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.runs {
		if s.runs[i].Handle == r.Handle {
			s.runs[i] = *r
			return s.save()
		}
	}
	return ErrNotFound
}

func (s *SQLite) Get(_ context.Context, h string) (*Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.runs {
		if r.Handle == h {
			return &r, nil
		}
	}
	return nil, ErrNotFound
}

func (s *SQLite) List(_ context.Context, f Filter) ([]Run, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Run
	for i := len(s.runs) - 1; i >= 0; i-- {
		r := s.runs[i]
		if (f.Type != "" && r.Type != f.Type) || (f.Cloud != "" && r.Cloud != f.Cloud) || (f.Failed && r.State != "failed") || r.Queued.Before(f.Since) {
			continue
		}
		out = append(out, r)
	}
	off, _ := strconv.Atoi(f.Cursor)
	out = out[min(off, len(out)):]
	next := ""
	if f.Limit > 0 && len(out) > f.Limit {
		out, next = out[:f.Limit], strconv.Itoa(off+f.Limit)
	}
	return out, next, nil
}

func (s *SQLite) Interrupt(context.Context) ([]Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Run
	for i, r := range s.runs {
		if r.State == "queued" || r.State == "running" {
			s.runs[i].State = "interrupted"
			out = append(out, s.runs[i])
		}
	}
	return out, s.save()
}

func (s *SQLite) Prune(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.runs)
	s.runs = slices.DeleteFunc(s.runs, func(r Run) bool { return !r.Finished.IsZero() && r.Finished.Before(before) })
	return n - len(s.runs), s.save()
}

func (s *SQLite) Close() error { return nil }
