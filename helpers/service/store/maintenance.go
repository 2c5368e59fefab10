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
// scenario run ids (Run.RunIDs) still need a cleanup. On PostgreSQL, where
// other instances may be running, only the runs of dead instances are
// interrupted (InterruptDead with DeadAfter).
func (s *DB) Interrupt(ctx context.Context) (runs []Run, err error) {
	if s.pg {
		return s.InterruptDead(ctx, DeadAfter)
	}
	return s.interrupt(ctx, 0)
}

// InterruptDead marks interrupted the queued or running runs whose owner has
// no heartbeat (Heartbeat) newer than deadAfter, and returns them.
func (s *DB) InterruptDead(ctx context.Context, deadAfter time.Duration) ([]Run, error) {
	return s.interrupt(ctx, deadAfter)
}

// interrupt: every queued or running run when deadAfter is 0, else those of
// dead owners.
func (s *DB) interrupt(ctx context.Context, deadAfter time.Duration) (runs []Run, err error) {
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
	q, qargs := `SELECT `+columns+` FROM runs WHERE state IN (?, ?)`, []any{StateQueued, StateRunning}
	if deadAfter > 0 {
		q += ` AND owner NOT IN (SELECT id FROM instances WHERE seen >= ?)`
		qargs = append(qargs, time.Now().Add(-deadAfter).UnixNano())
	}
	q += ` ORDER BY queued, handle`
	if s.pg {
		q += ` FOR UPDATE` // a second instance taking over waits, then skips them
	}
	rows, err := tx.QueryContext(ctx, s.q(q), qargs...)
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
		if _, err = tx.ExecContext(ctx, s.q(`UPDATE runs SET state = ?, finished = ?, error = ? WHERE handle = ?`),
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
func (s *DB) Prune(ctx context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM runs WHERE queued < ? AND state NOT IN (?, ?)`),
		nanos(before), StateQueued, StateRunning)
	if err != nil {
		return 0, fmt.Errorf("prune runs: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune runs: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM claims WHERE slot < ?`), nanos(before)); err != nil {
		return int(n), fmt.Errorf("prune claims: %w", err)
	}
	return int(n), nil
}
