package store

import (
	"context"
	"fmt"
	"time"
)

// DeadAfter is how old an instance's last heartbeat is when Interrupt (on
// PostgreSQL) takes it for dead and interrupts its runs.
var DeadAfter = 30 * time.Second

// Shared is the part of the store that lets several service instances share
// one database: claims of scheduled slots, heartbeats and named leases. The
// service uses it when Shared reports true (PostgreSQL); on SQLite (one
// instance) it works too but nothing needs it.
type Shared interface {
	// Shared reports whether other instances may use this database.
	Shared() bool
	// Claim records that owner runs family on cloud for the scheduled slot;
	// false when another instance claimed it first.
	Claim(ctx context.Context, cloud, family string, slot time.Time, owner string) (bool, error)
	// Heartbeat records that instance id is alive now.
	Heartbeat(ctx context.Context, id string) error
	// Lease takes or renews the named lease for holder until ttl from now;
	// false while another holder has it unexpired.
	Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// Release gives the lease up (when holder has it).
	Release(ctx context.Context, name, holder string) error
	// InterruptDead interrupts the runs of instances silent for deadAfter.
	InterruptDead(ctx context.Context, deadAfter time.Duration) ([]Run, error)
	// Leave removes instance id (a clean stop: it is not dead, it is gone).
	Leave(ctx context.Context, id string) error
}

var _ Shared = (*DB)(nil)

// Shared is true on PostgreSQL.
func (s *DB) Shared() bool { return s.pg }

// Claim inserts (cloud, family, slot); the instance whose insert wins runs it.
func (s *DB) Claim(ctx context.Context, cloud, family string, slot time.Time, owner string) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO claims (cloud, family, slot, owner) VALUES (?, ?, ?, ?)
		ON CONFLICT DO NOTHING`), cloud, family, slot.UnixNano(), owner)
	if err != nil {
		return false, fmt.Errorf("claim %s on %s at %s: %w", family, cloud, slot.UTC().Format(time.RFC3339), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim %s on %s: %w", family, cloud, err)
	}
	return n == 1, nil
}

// Heartbeat upserts the instance's last-seen time.
func (s *DB) Heartbeat(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO instances (id, seen) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET seen = excluded.seen`), id, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("heartbeat of %s: %w", id, err)
	}
	return nil
}

// Leave deletes the instance's heartbeat row.
func (s *DB) Leave(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM instances WHERE id = ?`), id); err != nil {
		return fmt.Errorf("instance %s leaves: %w", id, err)
	}
	return nil
}

// Lease is one upsert: it takes a missing or expired lease, renews holder's
// own, and changes nothing (0 rows) while another holder's is unexpired.
func (s *DB) Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := time.Now()
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
		WHERE leases.holder = excluded.holder OR leases.expires < ?`), name, holder, now.Add(ttl).UnixNano(), now.UnixNano())
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	return n == 1, nil
}

// Release deletes holder's lease.
func (s *DB) Release(ctx context.Context, name, holder string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM leases WHERE name = ? AND holder = ?`), name, holder); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}
