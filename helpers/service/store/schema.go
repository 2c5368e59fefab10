package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations[i] brings the schema from version i to version i+1. Append only:
// a released step never changes, a new column or index is a new step.
var migrations = [][]string{
	// 1: the runs table; the columns List filters and sorts on are columns,
	// the lists are JSON text. Times are Unix nanoseconds, 0 when not yet.
	{
		`CREATE TABLE runs (
			handle      TEXT PRIMARY KEY,
			cloud       TEXT NOT NULL,
			type        TEXT NOT NULL,
			state       TEXT NOT NULL,
			run_trigger TEXT NOT NULL DEFAULT '',
			queued      INTEGER NOT NULL,
			started     INTEGER NOT NULL DEFAULT 0,
			finished    INTEGER NOT NULL DEFAULT 0,
			failed      INTEGER NOT NULL DEFAULT 0,
			owner       TEXT NOT NULL DEFAULT '',
			error       TEXT NOT NULL DEFAULT '',
			passed      TEXT NOT NULL DEFAULT '',
			failures    TEXT NOT NULL DEFAULT '',
			checks      TEXT NOT NULL DEFAULT '',
			steps       TEXT NOT NULL DEFAULT '',
			run_ids     TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX runs_queued ON runs (queued, handle)`,
	},
	// 2: indexes for the List filters and for Interrupt.
	{
		`CREATE INDEX runs_type ON runs (type, queued, handle)`,
		`CREATE INDEX runs_cloud ON runs (cloud, queued, handle)`,
		`CREATE INDEX runs_failed ON runs (failed, queued, handle)`,
		`CREATE INDEX runs_state ON runs (state)`,
	},
	// 3: several instances on one database (PostgreSQL): who claimed each
	// scheduled slot, which instances are alive, and named leases.
	{
		`CREATE TABLE claims (
			cloud  TEXT NOT NULL,
			family TEXT NOT NULL,
			slot   INTEGER NOT NULL,
			owner  TEXT NOT NULL,
			PRIMARY KEY (cloud, family, slot)
		)`,
		`CREATE TABLE instances (id TEXT PRIMARY KEY, seen INTEGER NOT NULL)`,
		`CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires INTEGER NOT NULL)`,
	},
}

// SchemaVersion is the schema version this package writes.
var SchemaVersion = len(migrations)

// migrate brings the database to SchemaVersion, one step per transaction
// (BEGIN IMMEDIATE, so two processes opening the same file do not race).
func migrate(ctx context.Context, db *sql.DB) error {
	return migrateTo(ctx, db, SchemaVersion, false)
}

// migratePostgres migrates under a session advisory lock, so instances
// starting together take turns.
func migratePostgres(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7242100)`); err != nil {
		return fmt.Errorf("lock the history schema: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7242100)`)
	return migrateTo(ctx, conn, SchemaVersion, true)
}

// migrator is a *sql.DB or a *sql.Conn.
type migrator interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

func migrateTo(ctx context.Context, db migrator, target int, pg bool) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	for {
		done, err := migrateStep(ctx, db, target, pg)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next migration; done when the schema is at target.
func migrateStep(ctx context.Context, db migrator, target int, pg bool) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin migration: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var v int
	switch err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		if _, err = tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return false, fmt.Errorf("init schema_version: %w", err)
		}
	case err != nil:
		return false, fmt.Errorf("read schema_version: %w", err)
	}
	if v > len(migrations) {
		return false, fmt.Errorf("history schema version %d is newer than this cpulse knows (%d): use a newer cpulse or another history path", v, len(migrations))
	}
	if v >= target {
		return true, tx.Rollback()
	}
	for _, stmt := range migrations[v] {
		if _, err = tx.ExecContext(ctx, ddl(stmt, pg)); err != nil {
			return false, fmt.Errorf("migrate history schema %d→%d: %w", v, v+1, err)
		}
	}
	if _, err = tx.ExecContext(ctx, (&DB{pg: pg}).q(`UPDATE schema_version SET version = ?`), v+1); err != nil {
		return false, fmt.Errorf("migrate history schema %d→%d: %w", v, v+1, err)
	}
	if err = tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate history schema %d→%d: commit: %w", v, v+1, err)
	}
	return false, nil
}
