package store

import (
	"context"
	"fmt"
	"time"
)

// interruptedError is the run error Interrupt sets when the run has none.
const interruptedError = "interrupted: the service stopped while this run was in flight"

// Interrupt marks every queued or running run interrupted and finished now,
// and returns them (as stored afterwards). The service calls it at start:
// those runs were in flight when the previous process died, and their
// scenario run ids (Run.RunIDs) still need a cleanup.
func (s *SQLite) Interrupt(ctx context.Context) (runs []Run, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("interrupt runs: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	rows, err := tx.QueryContext(ctx, `SELECT `+columns+` FROM runs WHERE state IN (?, ?)
		ORDER BY queued, handle`, StateQueued, StateRunning)
	if err != nil {
		return nil, fmt.Errorf("interrupt runs: %w", err)
	}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("interrupt runs: %w", err)
		}
		runs = append(runs, r)
	}
	rows.Close()
	if err = rows.Err(); err != nil {
		return nil, fmt.Errorf("interrupt runs: %w", err)
	}
	now := time.Now().UTC()
	for i := range runs {
		r := &runs[i]
		r.State, r.Finished = StateInterrupted, now
		if r.Error == "" {
			r.Error = interruptedError
		}
		if _, err = tx.ExecContext(ctx, `UPDATE runs SET state = ?, finished = ?, error = ? WHERE handle = ?`,
			r.State, nanos(r.Finished), r.Error, r.Handle); err != nil {
			return nil, fmt.Errorf("interrupt run %s: %w", r.Handle, err)
		}
	}
	if err = tx.Commit(); err != nil {
		return nil, fmt.Errorf("interrupt runs: %w", err)
	}
	return runs, nil
}

// Prune deletes the finished runs (not queued or running) queued before
// before, and returns how many it deleted.
func (s *SQLite) Prune(ctx context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.db.ExecContext(ctx, `DELETE FROM runs WHERE queued < ? AND state NOT IN (?, ?)`,
		nanos(before), StateQueued, StateRunning)
	if err != nil {
		return 0, fmt.Errorf("prune runs: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune runs: %w", err)
	}
	return int(n), nil
}
