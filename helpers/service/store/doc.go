// Package store keeps the history of the service's check runs in an embedded
// SQLite database (modernc.org/sqlite: pure Go, no cgo, no server).
//
// A run is one row: the columns that List filters and sorts on (handle, cloud,
// type, state, queued time, failed flag) are indexed, the lists (passed and
// failed tests, checks, steps, scenario run ids) are JSON text. List pages
// newest first with an opaque keyset cursor. Interrupt marks the runs that
// were queued or running when the process died, so the service can clean up
// their scenario resources at start; Prune enforces retention.
//
// The database file is created 0600 in a 0700 directory, in WAL mode with a
// busy timeout; a schema_version table drives the migrations.
//
// Open with a postgres:// URL keeps the same history in PostgreSQL (pgx),
// which several service instances can share: the Shared methods claim each
// scheduled slot once, hold per-cloud leases and record heartbeats, so a live
// instance interrupts (InterruptDead) the runs of a dead one. The SQL is
// SQLite's; dialect.go turns placeholders and types into PostgreSQL's.
package store
