package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/service/store/pgtest"
)

// One throwaway PostgreSQL server per test process (stopped in TestMain).
var (
	pgSrv    *pgtest.Server
	pgSrvErr error
	pgOnce   sync.Once
	pgMode   bool // openTemp opens a new PostgreSQL database
)

func pgServer(t testing.TB) *pgtest.Server {
	t.Helper()
	pgOnce.Do(func() { pgSrv, pgSrvErr = pgtest.Start(context.Background()) })
	if errors.Is(pgSrvErr, pgtest.ErrNoPostgres) {
		t.Skip(pgSrvErr.Error())
	}
	require.NoError(t, pgSrvErr)
	return pgSrv
}

func openPG(t testing.TB) (*SQLite, string) {
	t.Helper()
	url, err := pgServer(t).NewDB(context.Background())
	require.NoError(t, err)
	s, err := Open(context.Background(), url)
	require.NoError(t, err)
	require.True(t, s.Shared())
	t.Cleanup(func() { s.Close() })
	return s, url
}

// TestPostgres runs the store's tests on a real PostgreSQL (the tests that
// are about the SQLite file itself excepted).
func TestPostgres(t *testing.T) {
	pgServer(t)
	pgMode = true
	defer func() { pgMode = false }()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"RoundTrip", TestRoundTrip},
		{"NotFound", TestNotFound},
		{"ListFiltersAndPages", TestListFiltersAndPages},
		{"ListLimits", TestListLimits},
		{"ListExactPageHasNoNext", TestListExactPageHasNoNext},
		{"ListEmptyIsNotNil", TestListEmptyIsNotNil},
		{"ListBadCursor", TestListBadCursor},
		{"InterruptAfterReopen", TestInterruptAfterReopen},
		{"Prune", TestPrune},
		{"ConcurrentWriters", TestConcurrentWriters},
		{"TwoHandlesOneFile", TestTwoHandlesOneFile},
		{"ClaimLeaseHeartbeat", TestClaimLeaseHeartbeat},
	} {
		t.Run(tc.name, tc.fn)
	}
}

func TestPostgresURLs(t *testing.T) {
	for _, tc := range []struct{ url, err string }{
		{"postgres://cp:secret@db.example:5432/history?sslmode=require", ""},
		{"postgresql://db.example/history", ""},
		{"postgres:///history", "postgres:///history has no host"},
		{"postgres://cp:secret@db.example", "postgres://cp:xxxxx@db.example names no database"},
		{"postgres://db.example/h?sslmode=maybe", "postgres://db.example/h?sslmode=maybe: cannot parse `postgres://db.example/h?sslmode=maybe`: failed to configure TLS (sslmode is invalid)"},
	} {
		err := CheckPostgresURL(tc.url)
		if tc.err == "" {
			require.NoError(t, err, tc.url)
		} else {
			require.EqualError(t, err, tc.err, tc.url)
		}
	}
	require.True(t, IsPostgresURL("postgresql://x/y"))
	require.False(t, IsPostgresURL("/var/lib/cloudpulse/history.db"))
	_, err := Open(context.Background(), "postgres://cp:secret@db.example")
	require.EqualError(t, err, "open history: postgres://cp:xxxxx@db.example names no database")
	require.Equal(t, "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)", rebind("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"))
}

// Two instances on one database: one claim per slot, leases exclusive until
// released or expired, the runs of a silent instance interrupted.
func TestClaimLeaseHeartbeat(t *testing.T) {
	ctx := context.Background()
	a, path := openTemp(t)
	b, err := Open(ctx, path)
	require.NoError(t, err)
	defer b.Close()

	slot := t0.Truncate(time.Minute)
	won, err := a.Claim(ctx, "lab", "endpoint", slot, "A")
	require.NoError(t, err)
	require.True(t, won)
	won, err = b.Claim(ctx, "lab", "endpoint", slot, "B")
	require.NoError(t, err)
	require.False(t, won, "the slot is A's")
	won, err = b.Claim(ctx, "lab", "endpoint", slot.Add(time.Minute), "B")
	require.NoError(t, err)
	require.True(t, won, "the next slot is free")

	got, err := a.Lease(ctx, "scenario/lab", "A", time.Minute)
	require.NoError(t, err)
	require.True(t, got)
	got, err = b.Lease(ctx, "scenario/lab", "B", time.Minute)
	require.NoError(t, err)
	require.False(t, got, "A holds it")
	got, err = a.Lease(ctx, "scenario/lab", "A", time.Minute)
	require.NoError(t, err)
	require.True(t, got, "A renews")
	require.NoError(t, b.Release(ctx, "scenario/lab", "B"), "B releasing A's lease changes nothing")
	got, err = b.Lease(ctx, "scenario/lab", "B", time.Minute)
	require.NoError(t, err)
	require.False(t, got)
	require.NoError(t, a.Release(ctx, "scenario/lab", "A"))
	got, err = b.Lease(ctx, "scenario/lab", "B", time.Millisecond)
	require.NoError(t, err)
	require.True(t, got, "released: B takes it")
	time.Sleep(5 * time.Millisecond)
	got, err = a.Lease(ctx, "scenario/lab", "A", time.Minute)
	require.NoError(t, err)
	require.True(t, got, "expired: A takes it")

	// A is alive, B stopped beating long ago: only B's run is interrupted.
	require.NoError(t, a.Heartbeat(ctx, "A"))
	require.NoError(t, a.Create(ctx, &Run{Handle: "run-of-a", Cloud: "lab", Type: "functional", State: StateRunning, Owner: "A"}))
	require.NoError(t, b.Create(ctx, &Run{Handle: "run-of-b", Cloud: "lab", Type: "functional", State: StateRunning, Owner: "B",
		RunIDs: []string{"cp-b"}}))
	runs, err := a.InterruptDead(ctx, time.Minute)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	require.Equal(t, "run-of-b", runs[0].Handle)
	require.Equal(t, []string{"cp-b"}, runs[0].RunIDs)
	require.Equal(t, StateInterrupted, runs[0].State)
	r, err := a.Get(ctx, "run-of-a")
	require.NoError(t, err)
	require.Equal(t, StateRunning, r.State)
	require.NoError(t, a.Leave(ctx, "A"))
	runs, err = b.InterruptDead(ctx, time.Minute)
	require.NoError(t, err)
	require.Len(t, runs, 1, "A left: its run is an orphan")
}

// The read paths on 10 000 runs in PostgreSQL (see TestReadLatency10k).
var (
	pgBig struct {
		s       *SQLite
		handles []string
	}
	pgBigOnce sync.Once
)

func pgBigStore(tb testing.TB) (*SQLite, []string) {
	tb.Helper()
	srv := pgServer(tb)
	pgBigOnce.Do(func() {
		url, err := srv.NewDB(context.Background())
		require.NoError(tb, err)
		s, err := Open(context.Background(), url)
		require.NoError(tb, err)
		pgBig.s, pgBig.handles = s, seedBulk(tb, s, bigRuns)
		_, err = s.db.Exec(`ANALYZE runs`)
		require.NoError(tb, err)
	})
	require.NotNil(tb, pgBig.s)
	return pgBig.s, pgBig.handles
}

func TestReadLatency10kPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 10 000 runs")
	}
	s, handles := pgBigStore(t)
	logReadLatency(t, "postgres", s, handles)
}

func BenchmarkRead10kPostgres(b *testing.B) {
	s, handles := pgBigStore(b)
	ctx := context.Background()
	for _, l := range latencies(s, handles) {
		b.Run(l.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := l.call(ctx, i); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
