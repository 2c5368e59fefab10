package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// IsPostgresURL reports whether the history setting names a PostgreSQL
// database (postgres:// or postgresql://) rather than an SQLite file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact is the URL without its password (for logs and errors).
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}

// CheckPostgresURL returns why url is not a usable PostgreSQL URL, or nil.
func CheckPostgresURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Host == "" {
		return fmt.Errorf("%s has no host", u.Redacted())
	}
	if strings.Trim(u.Path, "/") == "" {
		return fmt.Errorf("%s names no database", u.Redacted())
	}
	if _, err := pgx.ParseConfig(raw); err != nil {
		return fmt.Errorf("%s: %w", u.Redacted(), err)
	}
	return nil
}

// OpenPostgres opens the history in the PostgreSQL database at url (pgx) and
// migrates its schema; several cpulse serve instances may share it (Lease).
func OpenPostgres(ctx context.Context, raw string) (*DB, error) {
	name := Redact(raw)
	if err := CheckPostgresURL(raw); err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	cfg, _ := pgx.ParseConfig(raw)
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open history %s: %w", name, err)
	}
	s := &DB{db: db, path: name, pg: true}
	if err := migratePostgres(pctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open history %s: %w", name, err)
	}
	return s, nil
}
