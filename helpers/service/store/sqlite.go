package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// DB is the Store on an SQLite file or a PostgreSQL database (OpenPostgres).
type DB struct {
	db   *sql.DB
	path string // the file, or the URL without its password
	pg   bool   // PostgreSQL: $n placeholders, BIGINT times, shared by instances
	// mu serialises this process's writers, so they queue in Go instead of
	// spinning on SQLITE_BUSY; busy_timeout covers other processes.
	mu sync.Mutex
}

// dsnParams: WAL lets readers run beside the writer; a transaction takes the
// write lock at BEGIN (immediate) so a reader never has to upgrade and fail.
const dsnParams = "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// SQLite is the former name of DB.
type SQLite = DB

// Open opens (creating it 0600, and its directory 0700, if needed) the
// history database at path and migrates its schema. A postgres:// or
// postgresql:// URL opens a PostgreSQL database instead (OpenPostgres).
func Open(ctx context.Context, path string) (*DB, error) {
	if IsPostgresURL(path) {
		return OpenPostgres(ctx, path)
	}
	if path == "" {
		return nil, fmt.Errorf("open history: empty path")
	}
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open history %s: the path must not contain '?'", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	db, err := sql.Open("sqlite", path+dsnParams)
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	return &DB{db: db, path: path}, nil
}

// createPrivate creates path 0600 when missing and takes group/other access
// away from an existing one (the history holds error texts from the cloud).
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return f.Chmod(0o600)
	}
	return nil
}

// Path is the database file, or the PostgreSQL URL without its password.
func (s *DB) Path() string { return s.path }

// Close closes the database.
func (s *DB) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close history %s: %w", s.path, err)
	}
	return nil
}
