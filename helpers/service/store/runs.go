package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Create stores a new run. It fills r.Handle (NewHandle), r.Queued (now) and
// r.State (queued) when they are empty.
func (s *DB) Create(ctx context.Context, r *Run) error {
	if r.Handle == "" {
		r.Handle = NewHandle()
	}
	if r.Queued.IsZero() {
		r.Queued = time.Now().UTC()
	}
	if r.State == "" {
		r.State = StateQueued
	}
	a, err := args(r)
	if err != nil {
		return fmt.Errorf("create run: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO runs (`+columns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), a...); err != nil {
		return fmt.Errorf("create run %s: %w", r.Handle, err)
	}
	return nil
}

// Update replaces the stored run r.Handle with r; ErrNotFound if there is none.
func (s *DB) Update(ctx context.Context, r *Run) error {
	a, err := args(r)
	if err != nil {
		return fmt.Errorf("update run: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE runs SET cloud = ?, type = ?, state = ?, run_trigger = ?,
		queued = ?, started = ?, finished = ?, failed = ?, owner = ?, error = ?,
		passed = ?, failures = ?, checks = ?, steps = ?, run_ids = ? WHERE handle = ?`),
		append(a[1:], a[0])...)
	if err != nil {
		return fmt.Errorf("update run %s: %w", r.Handle, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update run %s: %w", r.Handle, err)
	}
	if n == 0 {
		return fmt.Errorf("update run %s: %w", r.Handle, ErrNotFound)
	}
	return nil
}

// Get returns the run with that handle; ErrNotFound if there is none.
func (s *DB) Get(ctx context.Context, handle string) (*Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, s.q(`SELECT `+columns+` FROM runs WHERE handle = ?`), handle))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("run %s: %w", handle, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", handle, err)
	}
	return &r, nil
}
