package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// openTemp opens an empty store: an SQLite file, or under TestPostgres a new
// PostgreSQL database. path is what Open takes to reopen it.
func openTemp(t testing.TB) (*SQLite, string) {
	t.Helper()
	if pgMode {
		return openPG(t)
	}
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, path
}

var t0 = time.Date(2026, 12, 2, 20, 0, 0, 123456789, time.UTC)

func fullRun() *Run {
	return &Run{
		Handle:   "0123456789abcdef",
		Cloud:    "lab-member",
		Type:     "functional",
		State:    StateFailed,
		Trigger:  "api",
		Queued:   t0,
		Started:  t0.Add(2 * time.Second),
		Finished: t0.Add(5 * time.Minute),
		Passed:   []string{"ping vm-a", "ssh vm-a"},
		Failed:   []Failure{{Name: "volume checksum", Details: "sha256 mismatch: \"a\" != \"b\"\n"}},
		Checks: []Check{
			{Name: "ping vm-a", Status: "ok", Seconds: 0.25},
			{Name: "volume checksum", Status: "FAIL", Seconds: 1.5, Error: "sha256 mismatch"},
			{Name: "horizon", Status: "skip"},
		},
		Steps:  []Step{{Name: "apply", Seconds: 61.2}, {Name: "destroy", Seconds: 30}},
		RunIDs: []string{"cp-1a2b3c", "cp-4d5e6f"},
		Owner:  "host-1/1234",
		Error:  "1 of 3 checks failed",
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)

	in := fullRun()
	require.NoError(t, s.Create(ctx, in))
	got, err := s.Get(ctx, in.Handle)
	require.NoError(t, err)
	require.Equal(t, in, got)

	up := fullRun()
	up.State, up.Trigger, up.Owner, up.Error = StatePassed, "schedule", "host-2/1", ""
	up.Passed, up.Failed, up.Checks, up.Steps, up.RunIDs = []string{"x"}, nil, nil, nil, nil
	up.Queued, up.Started, up.Finished = t0.Add(time.Hour), time.Time{}, time.Time{}
	require.NoError(t, s.Update(ctx, up))
	got, err = s.Get(ctx, in.Handle)
	require.NoError(t, err)
	require.Equal(t, up, got)

	// Create fills handle, queued time and state; empty lists read back nil.
	r := &Run{Cloud: "c", Type: "operator", Passed: []string{}}
	before := time.Now()
	require.NoError(t, s.Create(ctx, r))
	require.Regexp(t, `^[0-9a-f]{16}$`, r.Handle)
	require.Equal(t, StateQueued, r.State)
	require.False(t, r.Queued.Before(before.Add(-time.Second)))
	got, err = s.Get(ctx, r.Handle)
	require.NoError(t, err)
	require.True(t, got.Queued.Equal(r.Queued))
	require.Nil(t, got.Passed)
	require.True(t, got.Started.IsZero())

	err = s.Create(ctx, fullRun())
	if s.pg {
		require.EqualError(t, err, `create run 0123456789abcdef: ERROR: duplicate key value violates unique constraint "runs_pkey" (SQLSTATE 23505)`)
	} else {
		require.ErrorContains(t, err, "create run 0123456789abcdef: constraint failed: UNIQUE constraint failed: runs.handle")
	}
}

func TestNotFound(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	_, err := s.Get(ctx, "nope")
	require.True(t, errors.Is(err, ErrNotFound))
	require.EqualError(t, err, "run nope: not found")
	err = s.Update(ctx, &Run{Handle: "nope", Queued: t0})
	require.True(t, errors.Is(err, ErrNotFound))
	require.EqualError(t, err, "update run nope: not found")
}

// seedMixed stores runs i = 0..n-1 queued t0+i/3 minutes (so three share a
// queued time and the handle breaks the tie), types and clouds in turn,
// every 4th failed.
func seedMixed(t *testing.T, s *SQLite, n int) []*Run {
	t.Helper()
	types := []string{"operator", "endpoint", "functional"}
	var runs []*Run
	for i := 0; i < n; i++ {
		r := &Run{
			Handle: fmt.Sprintf("%016x", i*7919%101), Type: types[i%3], Cloud: []string{"a", "b"}[i%2],
			State: StatePassed, Queued: t0.Add(time.Duration(i/3) * time.Minute),
		}
		if i%4 == 0 {
			r.State = StateFailed
		}
		require.NoError(t, s.Create(context.Background(), r))
		runs = append(runs, r)
	}
	return runs
}

// want: the runs that keep, newest first (queued desc, handle desc).
func want(runs []*Run, keep func(*Run) bool) []string {
	var out []*Run
	for _, r := range runs {
		if keep(r) {
			out = append(out, r)
		}
	}
	for i := 1; i < len(out); i++ { // insertion sort, newest first
		for j := i; j > 0 && less(out[j-1], out[j]); j-- {
			out[j-1], out[j] = out[j], out[j-1]
		}
	}
	var h []string
	for _, r := range out {
		h = append(h, r.Handle)
	}
	return h
}

func less(a, b *Run) bool {
	if !a.Queued.Equal(b.Queued) {
		return a.Queued.Before(b.Queued)
	}
	return a.Handle < b.Handle
}

// walk pages through List with f and returns every handle in order.
func walk(t *testing.T, s *SQLite, f Filter) (handles []string, pages int) {
	t.Helper()
	for {
		runs, next, err := s.List(context.Background(), f)
		require.NoError(t, err)
		pages++
		for _, r := range runs {
			handles = append(handles, r.Handle)
		}
		if next == "" {
			return handles, pages
		}
		require.Len(t, runs, f.Limit, "a page before the last is full")
		f.Cursor = next
	}
}

func TestListFiltersAndPages(t *testing.T) {
	s, _ := openTemp(t)
	runs := seedMixed(t, s, 47)
	since := t0.Add(5 * time.Minute)
	for _, tc := range []struct {
		name string
		f    Filter
		keep func(*Run) bool
	}{
		{"all", Filter{}, func(*Run) bool { return true }},
		{"type", Filter{Type: "endpoint"}, func(r *Run) bool { return r.Type == "endpoint" }},
		{"cloud", Filter{Cloud: "b"}, func(r *Run) bool { return r.Cloud == "b" }},
		{"failed", Filter{Failed: true}, func(r *Run) bool { return r.State == StateFailed }},
		{"since", Filter{Since: since}, func(r *Run) bool { return !r.Queued.Before(since) }},
		{"all filters", Filter{Type: "operator", Cloud: "a", Failed: true, Since: since}, func(r *Run) bool {
			return r.Type == "operator" && r.Cloud == "a" && r.State == StateFailed && !r.Queued.Before(since)
		}},
		{"no match", Filter{Type: "upgrade"}, func(*Run) bool { return false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := want(runs, tc.keep)
			for _, limit := range []int{1, 4, 5, 47, 100} {
				f := tc.f
				f.Limit = limit
				got, pages := walk(t, s, f)
				require.Equal(t, w, got, "limit %d: every row exactly once, newest first", limit)
				require.Equal(t, max(1, (len(w)+limit-1)/limit), pages, "limit %d: no empty last page", limit)
			}
		})
	}
}

func TestListLimits(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	seedBulk(t, s, 600)
	runs, next, err := s.List(ctx, Filter{})
	require.NoError(t, err)
	require.Len(t, runs, DefaultLimit)
	require.NotEmpty(t, next)
	runs, next, err = s.List(ctx, Filter{Limit: 10000})
	require.NoError(t, err)
	require.Len(t, runs, MaxLimit)
	require.NotEmpty(t, next)
	runs, next, err = s.List(ctx, Filter{Limit: 10000, Cursor: next})
	require.NoError(t, err)
	require.Len(t, runs, 100)
	require.Empty(t, next)
	// exactly a page's worth: the last page says so at once
	runs, next, err = s.List(ctx, Filter{Limit: 600})
	require.NoError(t, err)
	require.Len(t, runs, MaxLimit)
	require.NotEmpty(t, next)
}

func TestListExactPageHasNoNext(t *testing.T) {
	s, _ := openTemp(t)
	seedMixed(t, s, 10)
	runs, next, err := s.List(context.Background(), Filter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, runs, 10)
	require.Empty(t, next, "no empty page after a full last page")
}

func TestListEmptyIsNotNil(t *testing.T) {
	s, _ := openTemp(t)
	runs, next, err := s.List(context.Background(), Filter{})
	require.NoError(t, err)
	require.NotNil(t, runs)
	require.Empty(t, runs)
	require.Empty(t, next)
}

func TestListBadCursor(t *testing.T) {
	s, _ := openTemp(t)
	for _, c := range []string{"!!", "bm9kb3Q", "eC5o"} { // not base64; "nodot"; "x.h"
		_, _, err := s.List(context.Background(), Filter{Cursor: c})
		require.True(t, errors.Is(err, ErrBadCursor), c)
		require.EqualError(t, err, fmt.Sprintf("list runs: invalid cursor %q", c))
	}
}

func TestInterruptAfterReopen(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	queued := &Run{Handle: "000000000000000a", Cloud: "a", Type: "functional", State: StateQueued, Queued: t0}
	running := &Run{Handle: "000000000000000b", Cloud: "a", Type: "comprehensive", State: StateRunning,
		Queued: t0.Add(time.Second), Started: t0.Add(2 * time.Second), RunIDs: []string{"cp-x1", "cp-x2"}, Error: "own"}
	done := &Run{Handle: "000000000000000c", Cloud: "a", Type: "operator", State: StatePassed,
		Queued: t0, Finished: t0.Add(time.Minute)}
	for _, r := range []*Run{queued, running, done} {
		require.NoError(t, s.Create(ctx, r))
	}
	require.NoError(t, s.Close()) // the process dies; a new one starts

	s2, err := Open(ctx, path)
	require.NoError(t, err)
	defer s2.Close()
	before := time.Now()
	got, err := s2.Interrupt(ctx)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, queued.Handle, got[0].Handle)
	require.Equal(t, running.Handle, got[1].Handle)
	require.Equal(t, []string{"cp-x1", "cp-x2"}, got[1].RunIDs)
	for i, want := range []string{interruptedError, "own"} {
		require.Equal(t, StateInterrupted, got[i].State)
		require.False(t, got[i].Finished.Before(before.Add(-time.Second)))
		require.Equal(t, want, got[i].Error)
		stored, err := s2.Get(ctx, got[i].Handle)
		require.NoError(t, err)
		require.Equal(t, got[i], *stored)
	}
	stored, err := s2.Get(ctx, done.Handle)
	require.NoError(t, err)
	require.Equal(t, done, stored, "a finished run is untouched")

	again, err := s2.Interrupt(ctx)
	require.NoError(t, err)
	require.Empty(t, again)
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	mk := func(h, state string, q time.Time) {
		require.NoError(t, s.Create(ctx, &Run{Handle: h, Cloud: "a", Type: "endpoint", State: state, Queued: q}))
	}
	old, cut, recent := t0, t0.Add(time.Hour), t0.Add(2*time.Hour)
	mk("old-passed", StatePassed, old)
	mk("old-failed", StateFailed, old)
	mk("old-cancelled", StateCancelled, old)
	mk("old-interrupted", StateInterrupted, old)
	mk("old-running", StateRunning, old)
	mk("old-queued", StateQueued, old)
	mk("at-cut", StatePassed, cut)
	mk("recent", StateFailed, recent)
	n, err := s.Prune(ctx, cut)
	require.NoError(t, err)
	require.Equal(t, 4, n)
	runs, _, err := s.List(ctx, Filter{})
	require.NoError(t, err)
	var left []string
	for _, r := range runs {
		left = append(left, r.Handle)
	}
	require.ElementsMatch(t, []string{"old-running", "old-queued", "at-cut", "recent"}, left)
}

func TestPermissions(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "var", "lib", "cloudpulse")
	path := filepath.Join(dir, "history.db")
	s, err := Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, s.Create(ctx, fullRun())) // makes the -wal file
	for p, want := range map[string]os.FileMode{
		dir:               0o700 | os.ModeDir,
		filepath.Dir(dir): 0o700 | os.ModeDir,
		path:              0o600,
		path + "-wal":     0o600,
		path + "-shm":     0o600,
	} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, want, fi.Mode(), p)
	}
	var mode string
	require.NoError(t, s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	require.Equal(t, "wal", mode)
	var busy int
	require.NoError(t, s.db.QueryRow(`PRAGMA busy_timeout`).Scan(&busy))
	require.Equal(t, 10000, busy)
	require.NoError(t, s.Close())

	// an existing file readable by others is tightened
	require.NoError(t, os.Chmod(path, 0o644))
	s, err = Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode())

	_, err = Open(ctx, "/tmp/a?b.db")
	require.EqualError(t, err, "open history /tmp/a?b.db: the path must not contain '?'")
}

func TestMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	// a database at schema version 1 (one step behind), with a row
	require.NoError(t, createPrivate(path))
	db, err := sql.Open("sqlite", path+dsnParams)
	require.NoError(t, err)
	require.NoError(t, migrateTo(ctx, db, 1, false))
	_, err = db.Exec(`INSERT INTO runs (handle, cloud, type, state, queued) VALUES ('h1', 'a', 'operator', 'passed', 5)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := Open(ctx, path)
	require.NoError(t, err)
	var v, idx int
	require.NoError(t, s.db.QueryRow(`SELECT version FROM schema_version`).Scan(&v))
	require.Equal(t, SchemaVersion, v)
	require.NoError(t, s.db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'runs_failed'`).Scan(&idx))
	require.Equal(t, 1, idx)
	r, err := s.Get(ctx, "h1")
	require.NoError(t, err)
	require.Equal(t, "operator", r.Type)
	require.Equal(t, int64(5), r.Queued.UnixNano())

	// a database from a newer cpulse is refused
	_, err = s.db.Exec(`UPDATE schema_version SET version = 99`)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = Open(ctx, path)
	require.EqualError(t, err, fmt.Sprintf("open history %s: history schema version 99 is newer than this cpulse knows (3): use a newer cpulse or another history path", path))
}

func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				r := &Run{Cloud: fmt.Sprintf("c%d", w), Type: "endpoint"}
				if err := s.Create(ctx, r); err != nil {
					errs <- err
					return
				}
				r.State, r.Passed = StatePassed, []string{"x"}
				if err := s.Update(ctx, r); err != nil {
					errs <- err
					return
				}
				if _, err := s.Get(ctx, r.Handle); err != nil {
					errs <- err
					return
				}
				if _, _, err := s.List(ctx, Filter{Cloud: r.Cloud, Limit: 5}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	all, _ := walk(t, s, Filter{Limit: MaxLimit})
	require.Len(t, all, writers*each)
	passed, _, err := s.List(ctx, Filter{Limit: MaxLimit})
	require.NoError(t, err)
	for _, r := range passed {
		require.Equal(t, StatePassed, r.State)
	}
}

// Two handles on one file (two processes, or a restart overlapping the old
// one) both write: WAL and busy_timeout make them wait, not fail.
func TestTwoHandlesOneFile(t *testing.T) {
	ctx := context.Background()
	a, path := openTemp(t)
	b, err := Open(ctx, path)
	require.NoError(t, err)
	defer b.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, s := range []*SQLite{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if err := s.Create(ctx, &Run{Cloud: "a", Type: "operator"}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	runs, _, err := b.List(ctx, Filter{Limit: MaxLimit})
	require.NoError(t, err)
	require.Len(t, runs, 100)
}
